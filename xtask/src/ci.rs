//! `cargo xtask ci`: the whole check, in the order that fails fastest, with the time
//! each stage took printed at the end (what to look at when CI gets slow).
use std::time::Instant;

use anyhow::Result;

use crate::shell::{cargo, sh};

/// Stages run so far and their seconds.
#[derive(Default)]
struct Stages(Vec<(&'static str, f64)>);

impl Stages {
    fn run(&mut self, name: &'static str, stage: impl FnOnce() -> Result<()>) -> Result<()> {
        let started = Instant::now();
        let result = stage();
        self.0.push((name, started.elapsed().as_secs_f64()));
        result
    }

    fn print(&self) {
        eprintln!();
        for (name, seconds) in &self.0 {
            eprintln!("{seconds:>7.0} s  {name}");
        }
    }
}

pub fn run() -> Result<()> {
    let started = Instant::now();
    let mut stages = Stages::default();
    let result = all(&mut stages);
    stages.print();
    result?;
    eprintln!("\nci passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn all(stages: &mut Stages) -> Result<()> {
    stages.run("tools (rustup targets, QEMU, Node packages, Fashion-MNIST, handwriting fonts, NumPy)", || {
        crate::setup::ensure_tools()?;
        crate::setup::ensure_fashion_mnist()?;
        crate::setup::ensure_fonts()?;
        crate::setup::ensure_numpy()
    })?;
    let firmware = board::paths::repo_root().join("firmware");
    let fw = Some(firmware.as_path());
    let host_target = host_triple()?;

    stages.run("fmt and clippy (workspace, every board's firmware)", || {
        sh(cargo().args(["fmt", "--all", "--check"]), None)?;
        sh(cargo().args(["fmt", "--check"]), fw)?;
        sh(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]), None)?;
        for board in &board::device::BOARDS {
            // As flashed (no semihosting), then as emulated where that differs.
            let mut features = vec![board.name.to_owned()];
            if board.emulator_has_semihosting() {
                features.push(format!("{},semihosting", board.name));
            }
            for f in &features {
                let args = ["clippy", "--release", "--target", board.target, "--features", f, "--", "-D", "warnings"];
                sh(cargo().args(args), fw)?;
            }
        }
        // The firmware's application loop and const-decoded weights also build for the host.
        sh(cargo().args(["clippy", "--lib", "--tests", "--target", &host_target, "--", "-D", "warnings"]), fw)
    })?;
    stages.run("unit, property and CLI tests; no_std build", || {
        sh(cargo().args(["test", "--workspace"]), None)?;
        sh(cargo().args(["test", "--lib", "--target", &host_target]), fw)?;
        sh(cargo().args(["build", "-p", "shared", "--target", "thumbv7m-none-eabi"]), None)
    })?;
    stages.run("firmware for every board", || crate::firmware::run(crate::firmware::Args::default()))?;
    // Every board in its emulator: USB enumeration (Pico), the float-routine guard, garbage and a
    // megabyte of noise on the wire, then full parity with the f32 and int8 models; and the
    // second implementation of docs/format.md (Python) against the host on every test image.
    stages
        .run("every board in its emulator (parity, protocol, USB, float routines, Fashion, format reader)", || {
            sh(cargo().args(["test", "-p", "e2e", "--", "--ignored", "--nocapture", "--test-threads", "2"]), None)
        })?;
    // The CLI against a board in its emulator, run from outside the checkout.
    stages.run("the CLI against an emulated board", || {
        sh(cargo().args(["test", "-p", "tiny-mnist", "--test", "cli", "--", "--ignored"]), None)
    })?;
    // The drawing pad in a real browser: `tiny-mnist serve --device emu:lm3s6965evb`, strokes drawn
    // with the mouse in headless Chromium, the answers on the page checked, and a screenshot.
    stages.run("the drawing pad in headless Chromium, beside an emulated board", crate::pad::run)?;
    // The footprint gate: every board and model counted (QEMU plugin, rp2040js runner) over the first
    // 1,000 test images, against bench/snapshot.json (full table: `cargo xtask measure`).
    stages.run("footprint gate (cargo xtask measure, 1,000 images)", || {
        let snapshot = Some(crate::snapshot::Mode::Check);
        crate::measure::run(crate::measure::Args {
            board: None,
            model: Vec::new(),
            images: 1_000,
            snapshot,
            profile: false,
        })
    })?;
    // The same models in plain C and emlearn on the same boards and counter (arm-none-eabi-gcc, newlib
    // and emlearn installed here): fails if a plain C peer differs from the host in one bit.
    // 1,000 images: the exported C library's bit-exactness on both cores is proven here.
    stages.run("peers (plain C, emlearn and the exported C library beside ours, 1,000 images)", || {
        crate::peers::run(crate::peers::Args { images: 1_000 })
    })?;
    // The exported C library on an 8-bit Arduino Uno in simavr (gcc-avr, avr-libc, libsimavr-dev
    // installed here): the int8 model bit-exact on 1,000 images, with its flash, RAM and cycles.
    stages.run("the exported C library on an Arduino Uno (simavr, 1,000 images)", || {
        crate::uno::run(crate::uno::Args { images: 1_000, model: None })
    })?;
    // A short fuzzing smoke run of every target (the long runs are `cargo xtask fuzz --seconds 600`).
    // cargo-fuzz needs nightly; a machine that cannot get it skips this step, loudly.
    // An unoptimised build: 142 s instead of about 255 s here, and overflow checks on.
    stages.run("fuzzing smoke run (15 s per target, overflow checks on)", || {
        if crate::fuzz::ensure_nightly() {
            crate::fuzz::run(crate::fuzz::Args { seconds: 15, target: None, dev: true })
        } else {
            eprintln!("\nWARNING: no nightly toolchain here; the fuzz smoke run was SKIPPED");
            Ok(())
        }
    })
}

fn host_triple() -> Result<String> {
    let out = std::process::Command::new("rustc").arg("-vV").output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("cannot tell the host target from `rustc -vV`"))
}
