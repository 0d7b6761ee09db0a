//! Building the firmware for a board with a chosen weight file.
//!
//! The firmware is its own cargo package for Cortex-M targets; this runs
//! `cargo build --release` in `firmware/` the way a user would.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

use crate::device::{Board, EmulatedBoard};

/// Builds the release firmware for `board` as its emulator runs it, embedding
/// `weights` (or the default choice of `firmware/build.rs` if `None`), and
/// returns the ELF path.
///
/// The image is copied to `copy_to`, or else to the board's own path
/// ([`EmulatedBoard::default_firmware`]), so boards that share a target never
/// boot each other's image, and builds with different weights can coexist.
/// `quiet` hides cargo's own progress (for logs and tests; a terminal can show it).
pub fn build(board: &Board, weights: Option<&Path>, copy_to: Option<&Path>, quiet: bool) -> Result<PathBuf> {
    // Builds share one output path per target: hold the lock until the copy is made.
    static BUILD: Mutex<()> = Mutex::new(());
    let _guard = BUILD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = crate::paths::checkout()?.join("firmware");
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // The board is a cargo feature; emulated builds add semihosting where the emulator has it.
    let features =
        if board.emulator_has_semihosting() { format!("{},semihosting", board.name) } else { board.name.to_owned() };
    cmd.current_dir(&dir).args(["build", "--release", "--target", board.target, "--features", &features]);
    if quiet {
        cmd.arg("--quiet");
    }
    // Variables cargo sets for the outer build would leak into this one.
    for var in ["RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "CARGO_ENCODED_RUSTFLAGS"] {
        cmd.env_remove(var);
    }
    match weights {
        Some(w) => {
            let w = std::path::absolute(w).with_context(|| format!("bad path {}", w.display()))?;
            cmd.env("TINY_MNIST_WEIGHTS", w)
        }
        None => cmd.env_remove("TINY_MNIST_WEIGHTS"),
    };
    let status = cmd.status().context("cannot run cargo to build the firmware")?;
    if !status.success() {
        bail!(
            "firmware build for {} failed (is the target installed? `rustup target add {}`)",
            board.name,
            board.target
        );
    }
    // Boards that share a target share cargo's output path: keep each board's image apart.
    let built = dir.join("target").join(board.target).join("release/firmware");
    let dest = match copy_to {
        Some(path) => path.to_owned(),
        None => board.default_firmware()?,
    };
    // Replaced whole, never rewritten in place: an emulator still loading the
    // previous image (another test, another `serve`) must not read half of this one.
    let image = std::fs::read(&built).with_context(|| format!("cannot read {}", built.display()))?;
    trainer::model_file::write_atomically(&dest, &image)
        .with_context(|| format!("cannot copy firmware to {}", dest.display()))?;
    Ok(dest)
}
