//! Where things are when the user does not say.
//!
//! The CLI needs no checkout for MNIST or the default model (both are compiled
//! in, see `trainer::bundled`) and writes relative to the current directory.
//! Only what builds or boots firmware needs the repository: [`checkout`] finds
//! it from the current directory, as `git` finds its repository.
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The repository this binary was built from. For the development tools
/// (`xtask`, the tests) only, which always run inside it; the CLI uses [`checkout`].
pub fn repo_root() -> PathBuf {
    // This crate is `host/board` in the checkout.
    let board = Path::new(env!("CARGO_MANIFEST_DIR"));
    board.ancestors().nth(2).unwrap_or(board).to_owned()
}

/// The committed default model, as a file (for the development tools).
pub fn default_model() -> PathBuf {
    repo_root().join("models/default.bin")
}

/// True if `dir` is the root of a tiny-mnist checkout.
fn is_checkout(dir: &Path) -> bool {
    dir.join("firmware/Cargo.toml").is_file() && dir.join("shared/src/boards.rs").is_file()
}

/// The tiny-mnist checkout holding the current directory: the firmware
/// sources and the RP2040 emulator live there.
pub fn checkout() -> Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    match cwd.ancestors().find(|dir| is_checkout(dir)) {
        Some(root) => Ok(root.to_owned()),
        None => bail!(
            "{} is not inside a tiny-mnist checkout; firmware builds, `export`'s default destination and \
             the emulated Pico need one (cd into it, or pass the file: --firmware, --output)",
            cwd.display()
        ),
    }
}

/// Where `export` writes and the firmware build reads.
pub fn firmware_model() -> Result<PathBuf> {
    Ok(checkout()?.join("firmware/model/exported.bin"))
}
