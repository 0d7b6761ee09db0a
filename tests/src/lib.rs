//! Helpers for the end-to-end tests in `tests/`: build the firmware with a
//! given model, boot it in its emulator (QEMU, rp2040js), and talk to it
//! through the real protocol.
//!
//! The tests need `qemu-system-arm`, Node with `tools/rp2040-emu`'s packages
//! and the thumb targets, so they are `#[ignore]`d in a plain `cargo test`;
//! `cargo xtask ci` installs all that and runs them.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use board::device::{Board, Device, Endpoint, Options};
use trainer::mnist::{Dataset, Source, Split};

/// MNIST's 10,000 test images, loaded once.
pub fn test_set() -> &'static Dataset {
    static TEST: OnceLock<Dataset> = OnceLock::new();
    TEST.get_or_init(|| Source::bundled().load(Split::Test).expect("bundled MNIST test set"))
}

/// A scratch directory that lives as long as the test binary.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temporary directory")).path()
}

/// Builds the firmware for `board` embedding `weights`, under a unique name.
pub fn firmware_with(board: &Board, weights: &Path, tag: &str) -> PathBuf {
    let elf = scratch().join(format!("firmware-{}-{tag}.elf", board.name));
    board::firmware::build(board, Some(weights), Some(&elf), true).expect("firmware build")
}

/// Boots `elf` in the board's emulator and connects to its serial link.
pub fn boot(board: &Board, elf: &Path) -> Device {
    let options = Options { firmware: Some(elf.to_owned()), ..Options::default() };
    Device::open(&Endpoint::Emulated(*board), &options).expect("boot the emulator")
}

/// A board of the table, by name.
pub fn board(name: &str) -> Board {
    board::device::board(name).expect("a board of the table")
}
