//! Helpers for the end-to-end tests in `tests/`: build the firmware with a
//! given model, boot it in QEMU, and talk to it through the real protocol.
//!
//! The tests need `qemu-system-arm` and the thumb targets, so they are
//! `#[ignore]`d in a plain `cargo test`; `cargo xtask ci` runs them.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use host::device::{Board, Device, Endpoint, Options};
use host::mnist::{Dataset, Source, Split};

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
    host::firmware::build(board, Some(weights), Some(&elf)).expect("firmware build")
}

/// Boots `elf` in QEMU and connects to its UART.
pub fn boot(board: &Board, elf: &Path) -> Device {
    let options = Options { firmware: Some(elf.to_owned()), ..Options::default() };
    Device::open(&Endpoint::Emulated(*board), &options).expect("boot QEMU")
}

/// Both emulated boards.
pub fn boards() -> [Board; 2] {
    host::device::BOARDS
}
