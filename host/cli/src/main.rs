//! `tiny-mnist`: train the digit classifier, evaluate it, export it for the
//! firmware and talk to a board.
use clap::{Parser, Subcommand};

mod cmd;
mod plots;
mod progress;
mod render;

/// Train a 784-10-10 digit classifier and run it on a microcontroller.
#[derive(Parser)]
#[command(
    name = "tiny-mnist",
    version,
    about,
    propagate_version = true,
    after_help = "Exit status: 0 success, 1 error (a message on stderr says why), 2 bad command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars or per-step lines (for scripts).
    #[arg(short, long, global = true, visible_alias = "no-progress")]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Train on MNIST's 60,000 training images and write a weight file.
    Train(cmd::train::Args),
    /// Accuracy and confusion matrix of a weight file on the test set.
    Eval(cmd::eval::Args),
    /// Classify one image on the host and draw it.
    Predict(cmd::predict::Args),
    /// Copy a weight file to where the firmware build reads it.
    Export(cmd::export::Args),
    /// Quantize an f32 model to int8 and compare their test accuracy.
    Quantize(cmd::quantize::Args),
    /// Send images to a device and compare its answers with the host's.
    Classify(cmd::classify::Args),
    /// A local page to draw a digit or drop a photo on, answered by the host (and a board).
    Serve(cmd::serve::Args),
}

/// Set when Ctrl-C or `kill` arrives, before the emulators are stopped.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Ctrl-C, `kill` or a closed terminal: emulators this process started go
    // with it (no destructor runs), and the exit status says it was stopped.
    let stopped = ctrlc::set_handler(|| {
        STOPPING.store(true, std::sync::atomic::Ordering::SeqCst);
        board::device::stop_emulators();
        std::process::exit(130);
    });
    if let Err(e) = stopped {
        eprintln!("warning: cannot catch Ctrl-C or kill ({e}); an emulator may outlive this process");
    }
    crate::progress::set_quiet(cli.quiet);
    let result = match cli.command {
        Command::Train(args) => cmd::train::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Predict(args) => cmd::predict::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Quantize(args) => cmd::quantize::run(args),
        Command::Classify(args) => cmd::classify::run(args),
        Command::Serve(args) => cmd::serve::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The work failed because the handler is stopping its emulator: it exits once that is done.
        Err(_) if STOPPING.load(std::sync::atomic::Ordering::SeqCst) => loop {
            std::thread::park();
        },
        Err(e) => {
            // A reader that stopped reading (`| head`) ends the command quietly.
            let closed_pipe = e.chain().any(|cause| {
                cause.downcast_ref::<cmd::StdoutError>().is_some_and(|w| w.0.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if closed_pipe {
                return std::process::ExitCode::SUCCESS;
            }
            eprintln!("error: {}", error_text(&e));
            // A command-line mistake exits as clap's own do.
            let usage = e.chain().any(|cause| cause.is::<cmd::UsageError>());
            std::process::ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// The error and its causes joined by ": ", each said once (some errors
/// repeat their cause's text in their own, which `{:#}` would print twice).
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}
