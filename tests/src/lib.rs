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

/// Weight files valid in every way, §1.5's bounds included, but far from what
/// training makes: the corners where a board's kernels and float routines
/// could part from the host. Written to the scratch directory, with a tag each.
///
/// - `f32-huge`: the default model with its first layer times 1e12 and its
///   second scaled until §1.5's bound on the logits is half used (5e29):
///   logits near 1e29, a softmax that saturates to 0 and 1.
/// - `f32-subnormal`: the first layer times 2^−134, the second's weights
///   times 2^124 and its biases times 2^−10, so the hidden sums are subnormal
///   numbers, every product of the first layer too, and the logits small.
/// - `int8-edge`: first biases at ±`B1_LIMIT` with weights all 127 or −128
///   (sums next to `i32::MAX`, a unit that is never positive), second
///   weights −128/127, second biases `i32::MIN`/`i32::MAX`, and the largest
///   output scale (every exponent capped).
/// - `int8-tiny-scale`: the int8 model with the smallest normal output scale
///   (every exponent 0).
pub fn crafted_models() -> Vec<(PathBuf, &'static str)> {
    use shared::format::weights_file::ModelInfo;
    use shared::network::int8::B1_LIMIT;
    let root = board::paths::repo_root();
    let load = |name: &str| trainer::model_file::load(&root.join(name)).expect("committed model");
    let f32_model = load("models/default.bin");
    let int8_model = load("models/default-int8.bin");
    let (trainer::model_file::Network::F32(w), trainer::model_file::Network::Int8(q)) =
        (&f32_model.network, &int8_model.network)
    else {
        panic!("models/default.bin is f32 and models/default-int8.bin int8");
    };
    let info =
        |model: &trainer::model_file::Model| ModelInfo { validation_accuracy: 0.0, test_accuracy: 0.0, ..model.info };
    let mut files = Vec::new();
    let mut write = |tag: &'static str, bytes: anyhow::Result<Vec<u8>>| {
        let path = scratch().join(format!("crafted-{tag}.bin"));
        std::fs::write(&path, bytes.expect("encode")).expect("write crafted model");
        trainer::model_file::load(&path).unwrap_or_else(|e| panic!("{tag} must be a valid model: {e:#}"));
        files.push((path, tag));
    };

    let mut huge = w.clone();
    huge.w1.iter_mut().flatten().chain(&mut huge.b1).for_each(|v| *v *= 1e12);
    let logit_bound = shared::format::weights_file::sum_bounds(&huge).1.into_iter().fold(0.0, f64::max);
    let factor = (5e29 / logit_bound) as f32;
    huge.w2.iter_mut().flatten().chain(&mut huge.b2).for_each(|v| *v *= factor);
    write("f32-huge", trainer::model_file::encode(&huge, &info(&f32_model)));

    let mut tiny = w.clone();
    tiny.w1.iter_mut().flatten().chain(&mut tiny.b1).for_each(|v| *v *= 2f32.powi(-134));
    tiny.w2.iter_mut().flatten().for_each(|v| *v *= 2f32.powi(124));
    tiny.b2.iter_mut().for_each(|v| *v *= 2f32.powi(-10));
    assert!(tiny.w1.iter().flatten().all(|v| !v.is_normal()), "every first-layer weight subnormal or zero");
    write("f32-subnormal", trainer::model_file::encode(&tiny, &info(&f32_model)));

    let mut edge = (**q).clone();
    for row in edge.w1.iter_mut() {
        (row[0], row[1], row[2]) = (127, -128, 127);
    }
    // Unit 0 always near i32::MAX, unit 1 never positive, unit 2 positive on some images.
    (edge.b1[0], edge.b1[1], edge.b1[2]) = (B1_LIMIT, -B1_LIMIT, -2_000_000);
    for (k, row) in edge.w2.iter_mut().enumerate() {
        row[0] = if k % 2 == 0 { -128 } else { 127 };
        row[3] = if k % 3 == 0 { 127 } else { -128 };
        edge.b2[k] = if k % 4 == 1 {
            i32::MIN
        } else if k % 4 == 3 {
            i32::MAX
        } else {
            edge.b2[k]
        };
    }
    edge.output_scale = f32::MAX;
    write("int8-edge", trainer::model_file::encode_int8(&edge, &info(&int8_model)));

    let mut flat = (**q).clone();
    flat.output_scale = f32::MIN_POSITIVE;
    write("int8-tiny-scale", trainer::model_file::encode_int8(&flat, &info(&int8_model)));
    files
}
