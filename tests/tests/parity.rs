//! The project's promise: on every one of MNIST's 10,000 test images the
//! board returns exactly what `shared::forward` returns on the host — the
//! digit and every probability's bit pattern — on every board (QEMU's
//! Cortex-M3 and M4F, the Pico's M0+ in rp2040js over USB), for the committed
//! models and for one trained during the test run.
use std::path::{Path, PathBuf};

use e2e::{board, boot, firmware_with, scratch, test_set};
use host::device::Board;
use host::parity::{compare, Report};

fn full_parity(board: &Board, weights: &Path, tag: &str) -> Report {
    parity_on(board, weights, tag, test_set().len())
}

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
    let report = compare(&mut device, &model.network, images, Some(labels), 8, |_, _, _| {})
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

/// A model trained here and now, so parity is not an accident of one weight file.
fn freshly_trained_model() -> PathBuf {
    static MODEL: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            let all = host::mnist::Source::bundled().load(host::mnist::Split::Train).expect("training set");
            let config = host::train::Config { epochs: 1, seed: 7, ..host::train::Config::default() };
            let (train, validation) = host::train::split(&all, config.validation, config.seed).expect("split");
            let trained = host::train::train(&config, &all, &train, &validation, None, &mut |_| {}).expect("training");
            let path = scratch().join("fresh.bin");
            let info = shared::weights_file::ModelInfo { seed: 7, epochs: 1, ..Default::default() };
            host::model_file::save(&path, &trained.weights, &info).expect("save");
            path
        })
        .clone()
}

fn default_model() -> PathBuf {
    host::paths::default_model()
}

#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn default_model_on_lm3s6965evb() {
    full_parity(&board("lm3s6965evb"), &default_model(), "default");
}

#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn default_model_on_mps2_an386() {
    full_parity(&board("mps2-an386"), &default_model(), "default");
}

fn int8_model() -> PathBuf {
    host::paths::repo_root().join("models/default-int8.bin")
}

#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn int8_model_on_lm3s6965evb() {
    full_parity(&board("lm3s6965evb"), &int8_model(), "int8");
}

/// The int8 path is integer arithmetic plus the f32 softmax that the f32
/// tests already cover on this board; the first 2,000 images keep CI's time
/// in bounds on the mps2-an386's slow UART. All 10,000:
/// `cargo xtask parity --board mps2-an386 --model models/default-int8.bin`.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn int8_model_on_mps2_an386() {
    parity_on(&board("mps2-an386"), &int8_model(), "int8", 2_000);
}

#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn freshly_trained_model_on_lm3s6965evb() {
    full_parity(&board("lm3s6965evb"), &freshly_trained_model(), "fresh");
}

/// The fresh model runs all 10,000 images on the lm3s6965evb, and the
/// committed model all 10,000 on this board; the first 2,000 here keep CI
/// well inside its time budget (the mps2-an386's UART takes a byte at a time).
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn freshly_trained_model_on_mps2_an386() {
    parity_on(&board("mps2-an386"), &freshly_trained_model(), "fresh", 2_000);
}

/// The Pico: soft float on a Cortex-M0+, in rp2040js, over its emulated USB.
#[test]
#[ignore = "needs Node, tools/rp2040-emu's packages and the thumb targets; run by `cargo xtask ci`"]
fn default_model_on_rp_pico() {
    full_parity(&board("rp-pico"), &default_model(), "default");
}

#[test]
#[ignore = "needs Node, tools/rp2040-emu's packages and the thumb targets; run by `cargo xtask ci`"]
fn int8_model_on_rp_pico() {
    full_parity(&board("rp-pico"), &int8_model(), "int8");
}

/// The fresh f32 model's first 2,000 images (soft float on the M0+ runs about 100 images/s here).
#[test]
#[ignore = "needs Node, tools/rp2040-emu's packages and the thumb targets; run by `cargo xtask ci`"]
fn freshly_trained_model_on_rp_pico() {
    parity_on(&board("rp-pico"), &freshly_trained_model(), "fresh", 2_000);
}
