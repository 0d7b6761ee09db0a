//! `tiny-mnist`: train the digit classifier, evaluate it, export it for the
//! firmware and talk to a board.
use clap::{Parser, Subcommand};

mod cmd;

/// Train a 784-10-10 digit classifier and run it on a microcontroller.
#[derive(Parser)]
#[command(name = "tiny-mnist", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => cmd::train::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Predict(args) => cmd::predict::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Quantize(args) => cmd::quantize::run(args),
        Command::Classify(args) => cmd::classify::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
