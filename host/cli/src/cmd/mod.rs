//! One module per subcommand, each with `Args` and `run`.
pub mod classify;
pub mod eval;
pub mod export;
pub mod images;
pub mod predict;
pub mod quantize;
pub mod serve;
pub mod train;

use std::path::PathBuf;

use trainer::model_file::{self, Model};

/// A mistake on the command line that clap cannot see (a value out of range, a
/// missing choice): `main` exits with 2 for it, as clap does for its own.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// [`model_file::check_distinct`] as a command-line mistake (exit 2): two of
/// the flags name one file.
pub fn check_distinct(
    inputs: &[(&str, Option<&std::path::Path>)],
    outputs: &[(&str, &std::path::Path)],
) -> anyhow::Result<()> {
    model_file::check_distinct(inputs, outputs).map_err(|e| usage(format!("{e:#}")))
}

/// Standard output could not take a line: a closed pipe (`| head`), a full
/// disk. `main` ends quietly on the first and says why on the second.
#[derive(Debug)]
pub struct StdoutError(pub std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// `println!` that returns a [`StdoutError`] from the calling function
/// instead of panicking when standard output fails.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err($crate::cmd::StdoutError)?
    }};
}

/// `print!` likewise.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($arg)*).map_err($crate::cmd::StdoutError)?
    }};
}

pub(crate) use {out, outln};

/// Loads `--model`, or the built-in default (never a file found lying
/// around), and returns how messages name it.
pub fn load_model(explicit: Option<PathBuf>) -> anyhow::Result<(String, Model)> {
    match explicit {
        Some(path) => Ok((path.display().to_string(), model_file::load(&path)?)),
        None => Ok((trainer::bundled::DEFAULT_MODEL_NAME.to_owned(), model_file::default_model()?)),
    }
}

/// Warns when a model trained on one class set is run on a dataset of another.
pub fn warn_if_classes_differ(model: &Model, data: &trainer::mnist::Dataset) {
    if model.info.classes != data.classes {
        eprintln!(
            "warning: the model was trained on {} but the data looks like {}; pass the matching --model or --data",
            model.info.classes, data.classes
        );
    }
}
