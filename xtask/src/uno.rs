//! `cargo xtask uno`: the C library `tiny-mnist export --c` writes, on an
//! 8-bit Arduino Uno (ATmega328P: 32 KB of flash, 2 KB of RAM, 16 MHz) in
//! simavr, which counts its cycles exactly. The int8 model in flash
//! (PROGMEM), integer arithmetic only; the images go over its UART in the
//! form a tiny-mnist board receives, and every answer is checked against the
//! host's, digit and probability bits. Prints flash, RAM and cycles.
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use shared::Classifier;
use trainer::mnist::{Source, Split};

use crate::shell::sh;

#[derive(clap::Args)]
pub struct Args {
    /// Test images to classify on the Uno.
    #[arg(long, default_value_t = 1_000)]
    pub images: usize,
    /// An int8 weight file (default: models/default-int8.bin).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// The ATmega328P's memories.
const FLASH: u64 = 32 * 1024;
const RAM: u64 = 2 * 1024;
const CLOCK_HZ: f64 = 16e6;

pub fn run(args: Args) -> Result<()> {
    ensure_tools()?;
    let root = board::paths::repo_root();
    let model_path = args.model.unwrap_or_else(|| root.join("models/default-int8.bin"));
    let model = trainer::model_file::load(&model_path)?;
    ensure!(
        matches!(model.network, trainer::model_file::Network::Int8(_)),
        "{} is an f32 model: the Uno runs the int8 one (tiny-mnist quantize)",
        model_path.display()
    );
    let test = Source::bundled().load(Split::Test)?;
    let images = &test.images[..args.images.min(test.len())];
    ensure!(!images.is_empty(), "--images must be at least 1");

    let work = root.join("target/uno");
    let library = work.join("c-library");
    c_export::write(&model, &model_path.display().to_string(), &library)?;
    let elf = work.join("uno.elf");
    let mut gcc = Command::new("avr-gcc");
    gcc.args(["-std=c99", "-Os", "-mmcu=atmega328p", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&library)
        .arg(root.join("tools/uno/board.c"))
        .arg(library.join("tiny_mnist.c"))
        .arg(library.join("tiny_mnist_weights.c"))
        .arg("-o")
        .arg(&elf);
    sh(&mut gcc, None)?;
    let simulator = work.join("simulate");
    let mut cc = Command::new("cc");
    cc.args(["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"])
        .arg(root.join("tools/uno/simulate.c"))
        .arg("-o")
        .arg(&simulator)
        .arg("-lsimavr");
    sh(&mut cc, None)?;

    let input = work.join("images.bin");
    std::fs::write(&input, crate::peers::pixel_strings(images, true)?)?;
    let answers = work.join("answers.bin");
    eprintln!("classifying {} test images on the simulated Uno...", images.len());
    let out = Command::new(&simulator).arg(&elf).arg(&input).arg(&answers).output().context("cannot run simavr")?;
    ensure!(out.status.success(), "the Uno simulation failed: {}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout)?;
    let cycles: Vec<u64> =
        report.lines().filter_map(|l| l.strip_prefix("cycles ")).map(str::parse).collect::<Result<_, _>>()?;
    let hex = |key: &str| -> Result<u64> {
        let line = report.lines().find_map(|l| l.strip_prefix(key)).with_context(|| format!("no {key}line"))?;
        Ok(u64::from_str_radix(line.trim().trim_start_matches("0x"), 16)?)
    };
    let stack = hex("ramend ")? - hex("stack-low ")?;
    ensure!(cycles.len() == images.len(), "{} cycle counts for {} images", cycles.len(), images.len());

    let bytes = std::fs::read(&answers)?;
    ensure!(bytes.len() == 44 * images.len(), "{} answer bytes for {} images", bytes.len(), images.len());
    let mut differ = Vec::new();
    for (i, (image, answer)) in images.iter().zip(bytes.chunks_exact(44)).enumerate() {
        let word = |at: usize| u32::from_le_bytes([answer[at], answer[at + 1], answer[at + 2], answer[at + 3]]);
        let host = model.classify(image);
        let same = word(0) == u32::from(host.digit)
            && host.probabilities.iter().enumerate().all(|(k, p)| p.to_bits() == word(4 + 4 * k));
        if !same {
            differ.push(i);
        }
    }
    let (flash, data, bss) = sizes(&elf)?;
    let mean = cycles.iter().sum::<u64>() as f64 / cycles.len() as f64;
    let (low, high) = (cycles.iter().min().copied().unwrap_or(0), cycles.iter().max().copied().unwrap_or(0));
    println!("Arduino Uno (ATmega328P, simavr), {}:", model_path.display());
    println!(
        "  flash {} B of {} ({:.1} KB; the weights 8,020 B), RAM {} B static + {} B peak stack = {} B of {}",
        flash + data,
        FLASH,
        (flash + data) as f64 / 1024.0,
        data + bss,
        stack,
        data + bss + stack,
        RAM
    );
    println!(
        "  cycles per inference: mean {mean:.0} ({:.0} ms at 16 MHz), min {low}, max {high}",
        mean / CLOCK_HZ * 1e3
    );
    println!("  parity uno: {}/{} bit-exact", images.len() - differ.len(), images.len());
    ensure!(differ.is_empty(), "the Uno differs from the host on test images {:?}", &differ[..differ.len().min(10)]);
    ensure!(flash + data <= FLASH && data + bss + stack <= RAM, "the build does not fit the Uno");
    Ok(())
}

/// avr-gcc, avr-libc and simavr's library, from Debian.
fn ensure_tools() -> Result<()> {
    let works = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    crate::setup::ensure_package(|| works("avr-gcc"), "gcc-avr", "install avr-gcc")?;
    crate::setup::ensure_package(
        || Path::new("/usr/lib/avr/include/avr/io.h").exists(),
        "avr-libc",
        "install avr-libc",
    )?;
    crate::setup::ensure_package(
        || Path::new("/usr/include/simavr/sim_avr.h").exists(),
        "libsimavr-dev",
        "install simavr's library (libsimavr-dev)",
    )
}

/// `.text`, `.data` and `.bss` of an AVR ELF, from avr-size's Berkeley line.
fn sizes(elf: &Path) -> Result<(u64, u64, u64)> {
    let out = Command::new("avr-size").arg(elf).output().context("cannot run avr-size")?;
    let text = String::from_utf8(out.stdout)?;
    let numbers: Vec<u64> = text
        .lines()
        .nth(1)
        .context("avr-size printed no sizes")?
        .split_whitespace()
        .take(3)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    match numbers[..] {
        [t, d, b] => Ok((t, d, b)),
        _ => anyhow::bail!("cannot read avr-size's line: {text}"),
    }
}
