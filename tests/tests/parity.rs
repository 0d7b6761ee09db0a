//! The project's promise: on every one of MNIST's 10,000 test images the
//! board returns exactly what `shared::forward` returns on the host — the
//! digit and every probability's bit pattern — on every board (QEMU's
//! Cortex-M3 and M4F, the Pico's M0+ in rp2040js over USB), for the committed
//! models and for one trained during the test run.
use std::cmp::Reverse;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use board::device::{Board, Emulator, Endpoint};
use board::parity::{compare, Report};
use e2e::{boot, firmware_with, scratch, test_set};
use shared::input::Preprocessing;

/// Parity on the first `count` test images.
fn parity_on(board: &Board, weights: &Path, tag: &str, count: usize) -> Report {
    let model = trainer::model_file::load(weights).expect("load model");
    let model = &model;
    let elf = firmware_with(board, weights, tag);
    let mut device = boot(board, &elf);
    let info = device.info().expect("device info");
    board::parity::check_device(&Endpoint::Emulated(*board), &info, &weights.display().to_string(), model.checksum)
        .unwrap_or_else(|e| panic!("{}: {e:#}", board.name));
    let test = test_set();
    let (images, labels) = (&test.images[..count], &test.labels[..count]);
    let report = compare(&mut device, model, images, Some(labels), 8, |_, _, _| {})
        .unwrap_or_else(|e| panic!("{}: {e:#}", board.name));
    println!(
        "{} ({tag} model, {:.1} s, device accuracy {:.2} %, max difference {} ULP)",
        report.verdict(board.name),
        report.seconds,
        report.device_accuracy(),
        report.max_ulps
    );
    report
        .ensure_bit_exact(|i| format!("test image {i}"), |digit| digit.to_string())
        .unwrap_or_else(|e| panic!("{}: {e:#}", board.name));
    assert_eq!(report.compared, count);
    assert_eq!(report.bit_exact, count);
    report
}

/// A model trained here and now, so parity is not an accident of one weight
/// file, reading its input through `preprocessing` (which every board then runs too).
fn freshly_trained_model(preprocessing: Preprocessing) -> PathBuf {
    let all = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Train).expect("training set");
    let all = all.preprocessed(preprocessing);
    let config = trainer::train::Config { epochs: 1, seed: 7, ..trainer::train::Config::default() };
    let (train, validation) = trainer::train::split(&all, config.validation, config.seed).expect("split");
    let trained = trainer::train::train(&config, &all, &train, &validation, None, &mut |_| {}).expect("training");
    let path = scratch().join(format!("fresh-{}.bin", preprocessing.name()));
    let info = shared::format::weights_file::ModelInfo { seed: 7, epochs: 1, preprocessing, ..Default::default() };
    trainer::model_file::save(&path, &trained.weights, &info).expect("save");
    path
}

fn default_model() -> PathBuf {
    board::paths::default_model()
}

fn int8_model() -> PathBuf {
    board::paths::repo_root().join("models/default-int8.bin")
}

/// One board running one model on the first `count` test images.
struct Job {
    board: &'static Board,
    weights: PathBuf,
    tag: &'static str,
    count: usize,
}

/// Every board with the committed f32 and int8 models (stroke maps) on all 10,000 test
/// images, with a freshly trained stroke-map model on the first 2,000, and with a freshly
/// trained deskewing model (the previous default; its files keep working) on the first 500. At most one emulator per core runs at once,
/// longest first: the Pico's f32 run (rp2040js interprets every soft-float instruction) is
/// half of the work, and started first on a core of its own it is not what CI waits for.
#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn every_model_on_every_board() {
    let all = test_set().len();
    let models = [
        (default_model(), "default", all),
        (int8_model(), "int8", all),
        (freshly_trained_model(Preprocessing::Strokes), "fresh", 2_000),
        (freshly_trained_model(Preprocessing::Deskew), "fresh-deskew", 500),
    ];
    let mut jobs: Vec<Job> = models
        .iter()
        .flat_map(|(weights, tag, count)| {
            board::device::BOARDS.iter().map(|board| Job { board, weights: weights.clone(), tag, count: *count })
        })
        .collect();
    jobs.sort_by_key(|j| Reverse((j.count, j.board.emulator == Emulator::Rp2040js, j.tag == "default")));
    let queue = Mutex::new(VecDeque::from(jobs));
    let failures = Mutex::new(Vec::new());
    let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..slots {
            s.spawn(|| {
                loop {
                    // Not in the loop's condition: its lock would be held for the whole job.
                    let Some(job) = queue.lock().expect("queue").pop_front() else { break };
                    let run = || parity_on(job.board, &job.weights, job.tag, job.count);
                    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|m| (*m).to_owned()))
                            .unwrap_or_default();
                        failures
                            .lock()
                            .expect("failures")
                            .push(format!("{} ({} model): {message}", job.board.name, job.tag));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    assert!(failures.is_empty(), "parity failed:\n{}", failures.join("\n"));
}

/// The crafted models of [`e2e::crafted_models`] (huge and subnormal f32
/// sums, int8 sums beside `i32::MAX`, the largest and the smallest output
/// scale) on every board, 300 test images each: the boards' kernels and
/// float routines give the host's bits at the corners of what a file may hold.
#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn crafted_models_on_every_board() {
    for (weights, tag) in e2e::crafted_models() {
        for board in board::device::BOARDS.iter() {
            parity_on(board, &weights, tag, 300);
        }
    }
}
