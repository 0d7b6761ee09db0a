//! The project's promise: on every one of MNIST's 10,000 test images the
//! board returns exactly what `shared::forward` returns on the host — the
//! digit and every probability's bit pattern — on every board (QEMU's
//! Cortex-M3 and M4F, the Pico's M0+ in rp2040js over USB), for the committed
//! models and for one trained during the test run.
use std::path::{Path, PathBuf};

use e2e::{boot, firmware_with, scratch, test_set};
use host::device::Board;
use host::parity::{compare, Report};

/// Parity on the first `count` test images.
fn parity_on(board: &Board, weights: &Path, tag: &str, count: usize) -> Report {
    let model = host::model_file::load(weights).expect("load model");
    let model = &model;
    let elf = firmware_with(board, weights, tag);
    let mut device = boot(board, &elf);
    let info = device.info().expect("device info");
    assert_eq!(info.model_checksum, model.checksum, "the device embeds {}", weights.display());
    assert_eq!(info.board.as_str(), board.name);
    let test = test_set();
    let (images, labels) = (&test.images[..count], &test.labels[..count]);
    let report = compare(&mut device, model, images, Some(labels), 8, |_, _, _| {})
        .unwrap_or_else(|e| panic!("{}: {e:#}", board.name));
    println!(
        "parity {}: {}/{} bit-exact ({tag} model, {:.1} s, device accuracy {:.2} %, max difference {} ULP)",
        board.name,
        report.bit_exact,
        report.compared,
        report.seconds,
        report.device_correct as f64 / report.compared as f64 * 100.0,
        report.max_ulps
    );
    if let Some(m) = &report.first_mismatch {
        panic!(
            "{}: first mismatch at test image {}: host {:?}, device {:?}, largest difference {} ULP",
            board.name, m.index, m.host, m.device, m.max_ulps
        );
    }
    assert_eq!(report.compared, count);
    assert_eq!(report.bit_exact, count);
    report
}

/// A model trained here and now, so parity is not an accident of one weight
/// file; it deskews its input, so every board runs `shared::preprocess` too.
fn freshly_trained_model() -> PathBuf {
    static MODEL: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            let deskew = shared::preprocess::Preprocessing::Deskew;
            let all = host::mnist::Source::bundled().load(host::mnist::Split::Train).expect("training set");
            let all = all.preprocessed(deskew);
            let config = host::train::Config { epochs: 1, seed: 7, ..host::train::Config::default() };
            let (train, validation) = host::train::split(&all, config.validation, config.seed).expect("split");
            let trained = host::train::train(&config, &all, &train, &validation, None, &mut |_| {}).expect("training");
            let path = scratch().join("fresh.bin");
            let info =
                shared::weights_file::ModelInfo { seed: 7, epochs: 1, preprocessing: deskew, ..Default::default() };
            host::model_file::save(&path, &trained.weights, &info).expect("save");
            path
        })
        .clone()
}

fn default_model() -> PathBuf {
    host::paths::default_model()
}

fn int8_model() -> PathBuf {
    host::paths::repo_root().join("models/default-int8.bin")
}

/// Parity on the first `count` images on every board of the table, side by side.
fn on_every_board(weights: &Path, tag: &str, count: usize) {
    std::thread::scope(|s| {
        for board in &host::device::BOARDS {
            s.spawn(move || parity_on(board, weights, tag, count));
        }
    });
}

#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn default_model_on_every_board() {
    on_every_board(&default_model(), "default", test_set().len());
}

#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn int8_model_on_every_board() {
    on_every_board(&int8_model(), "int8", test_set().len());
}

/// The first 2,000 images: the committed models cover all 10,000, and the UARTs
/// that take a byte at a time (mps2-an386, Netduino) would add minutes to CI.
#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn freshly_trained_model_on_every_board() {
    on_every_board(&freshly_trained_model(), "fresh", 2_000);
}
