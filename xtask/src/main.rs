//! `cargo xtask <command>`: everything beyond a plain `cargo build`.
use anyhow::Result;
use clap::{Parser, Subcommand};

mod bench;
mod ci;
mod demo;
mod firmware;
mod fuzz;
mod measure;
mod pad;
mod parity;
mod peers;
mod pictures;
mod setup;
mod shape_check;
mod shell;
mod snapshot;
mod uno;

#[derive(Parser)]
#[command(about = "tiny-mnist project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: train, export, build the firmware, boot it in QEMU, classify the test set.
    Demo(demo::Args),
    /// Everything CI checks: fmt, clippy, tests, builds, parity on every board in its emulator.
    Ci,
    /// Build the firmware for every board and print flash/RAM sizes.
    Firmware(firmware::Args),
    /// Build the firmware and compare all 10,000 test images with the host, per board.
    Parity(parity::Args),
    /// Time the trainer against the NumPy reference program, side by side.
    Bench(bench::Args),
    /// Run every fuzz target (nightly + cargo-fuzz) for a while.
    Fuzz(fuzz::Args),
    /// The drawing pad in headless Chromium beside an emulated board (needs chromium; CI installs it).
    Pad,
    /// Instructions per inference (QEMU plugin), flash and RAM, per board.
    Measure(measure::Args),
    /// The same models in plain C and emlearn on the same boards and counter, beside ours.
    Peers(peers::Args),
    /// Picture preprocessing on photos made from test digits, per condition, and on non-digits.
    Pictures(pictures::Args),
    /// Train the pictures' shape check (letters, symbols, drawings: not a digit) into models/shape-check.bin.
    ShapeCheck,
    /// The exported C library on an Arduino Uno (ATmega328P in simavr): bit-exact, flash, RAM, cycles.
    Uno(uno::Args),
}

fn main() -> std::process::ExitCode {
    let result: Result<()> = match Cli::parse().command {
        Command::Demo(args) => demo::run(args),
        Command::Ci => ci::run(),
        Command::Firmware(args) => firmware::run(args),
        Command::Parity(args) => parity::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::Measure(args) => measure::run(args),
        Command::Pad => pad::run(),
        Command::Peers(args) => peers::run(args),
        Command::Pictures(args) => pictures::run(args),
        Command::ShapeCheck => shape_check::run(),
        Command::Uno(args) => uno::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
