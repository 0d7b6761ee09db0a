//! Default locations inside the repository, so the CLI works from any directory.
use std::path::{Path, PathBuf};

/// The repository root (the parent of `host/`).
pub fn repo_root() -> PathBuf {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    host.parent().unwrap_or(host).to_owned()
}

/// The bundled MNIST files.
pub fn mnist_dir() -> PathBuf {
    repo_root().join("data/mnist")
}

/// The committed default model.
pub fn default_model() -> PathBuf {
    repo_root().join("models/default.bin")
}

/// Where `train` writes unless told otherwise.
pub fn trained_model() -> PathBuf {
    repo_root().join("models/trained.bin")
}

/// Where `export` writes and the firmware build reads.
pub fn firmware_model() -> PathBuf {
    repo_root().join("firmware/model/exported.bin")
}

/// The model commands use when `--model` is not given: the last trained
/// one if there is one, else the committed default.
pub fn model_or_default(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| {
        let trained = trained_model();
        if trained.exists() {
            trained
        } else {
            default_model()
        }
    })
}
