//! One module per subcommand, each with `Args` and `run`.
pub mod classify;
pub mod eval;
pub mod export;
pub mod predict;
pub mod quantize;
pub mod train;

use std::path::{Path, PathBuf};

use host::model_file::{self, Model};

/// Loads `--model` (or the default) and says which file it is.
pub fn load_model(explicit: Option<PathBuf>) -> anyhow::Result<(PathBuf, Model)> {
    let path = host::paths::model_or_default(explicit);
    let model = model_file::load(&path)?;
    Ok((path, model))
}

/// One line describing a model file.
pub fn describe(path: &Path, model: &Model) -> String {
    format!(
        "model {} ({}, {}, crc {:08x}, seed {}, {} epochs, test accuracy {:.2} %)",
        path.display(),
        model.network.kind().name(),
        model.info.classes,
        model.checksum,
        model.info.seed,
        model.info.epochs,
        model.info.test_accuracy * 100.0
    )
}

/// Warns when a model trained on one class set is run on a dataset of another.
pub fn warn_if_classes_differ(model: &Model, data: &host::mnist::Dataset) {
    if model.info.classes != data.classes {
        eprintln!(
            "warning: the model was trained on {} but the data looks like {}; pass the matching --model or --data",
            model.info.classes, data.classes
        );
    }
}
