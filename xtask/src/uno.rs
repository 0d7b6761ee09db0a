//! `cargo xtask uno`: the C library `tiny-mnist export --c` writes, on an
//! 8-bit Arduino Uno (ATmega328P: 32 KB of flash, 2 KB of RAM, 16 MHz) in
//! simavr, which counts its cycles exactly. The int8 model in flash
//! (PROGMEM), integer arithmetic only, speaking the tiny-mnist protocol
//! through the library's link (`tools/uno/board.c`), so the host checks it as
//! it checks any board: `tiny-mnist classify` over TCP to the simulator, every
//! answer against the host's, digit and probability bits; then the frames of
//! every kind in `c_export::conformance`, each answered as the Rust firmware
//! answers it. Prints flash, RAM and cycles.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, ensure, Context, Result};
use board::device::{Device, Endpoint, Options};
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
/// Test images whose frames (and damaged copies) make the conformance run.
const CONFORMANCE_IMAGES: usize = 100;

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
    let count = args.images.min(test.len());
    ensure!(count > 0, "--images must be at least 1");

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

    let report_path = work.join("report.txt");
    let mut sim = Simulator(
        Command::new(&simulator)
            .arg(&elf)
            .arg(&report_path)
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run the simulator")?,
    );
    // simavr says what it loaded first; then the simulator names its port.
    let stdout = BufReader::new(sim.0.stdout.take().context("the simulator's stdout")?);
    let port = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening ").map(str::to_owned))
        .context("the simulator did not say its port")?;
    let endpoint = Endpoint::Tcp(format!("127.0.0.1:{port}"));
    let checked = (|| -> Result<(board::parity::Report, usize)> {
        let mut device = Device::open(&endpoint, &Options::default())?;
        let info = device.info()?;
        board::parity::check_device(&endpoint, &info, &model_path.display().to_string(), model.checksum)?;
        eprintln!("classifying {count} test images on the simulated Uno ({})...", info.board);
        let (images, labels) = (&test.images[..count], &test.labels[..count]);
        let report = board::parity::compare(&mut device, &model, images, Some(labels), 4, |_, _, _| {})?;
        report.ensure_bit_exact(|i| format!("test image {i}"), |digit| digit.to_string())?;
        let exchanges = c_export::conformance::exchanges(&model, &test.images[..CONFORMANCE_IMAGES], &info.board);
        for (i, exchange) in exchanges.iter().enumerate() {
            device.send_raw(&exchange.bytes)?;
            if let Some(want) = &exchange.answer {
                let got = device.receive()?;
                ensure!(
                    &got == want,
                    "frame {i} ({:02x?}): the Uno answered {got:?}, the firmware {want:?}",
                    exchange.bytes
                );
            }
        }
        Ok((report, exchanges.len()))
    })();
    // On an error the simulator is stopped (its Drop); else it writes its report
    // now that the client has left (the device is dropped by now).
    let (report, frames) = checked?;
    let status = sim.0.wait()?;
    ensure!(status.success(), "the simulator failed ({status})");
    let text = std::fs::read_to_string(&report_path)?;
    let cycles: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("frame "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, variant)| *variant == "1")
        .map(|(cycles, _)| cycles.parse())
        .collect::<Result<_, _>>()?;
    let hex = |key: &str| -> Result<u64> {
        let value = text.lines().find_map(|l| l.strip_prefix(key)).with_context(|| format!("no {key}line"))?;
        Ok(u64::from_str_radix(value.trim().trim_start_matches("0x"), 16)?)
    };
    let stack = hex("ramend ")? - hex("stack-low ")?;
    if cycles.len() < count {
        bail!("{} inferences timed for {count} images", cycles.len());
    }
    let cycles = &cycles[..count];

    // Flash is .text and .data (its initial values), static RAM .data and .bss.
    let board::firmware_image::Footprint { flash, ram } = crate::firmware::footprint(&elf)?;
    let floats = float_routines(&elf)?;
    ensure!(floats.is_empty(), "the int8 build links float routines: {}", floats.join(", "));
    let mean = cycles.iter().sum::<u64>() as f64 / cycles.len() as f64;
    let (low, high) = (cycles.iter().min().copied().unwrap_or(0), cycles.iter().max().copied().unwrap_or(0));
    println!("Arduino Uno (ATmega328P, simavr), {}:", model_path.display());
    println!(
        "  flash {} B of {} ({:.1} KB; the weights 8,020 B), RAM {} B static + {} B peak stack = {} B of {}",
        flash,
        FLASH,
        flash as f64 / 1024.0,
        ram,
        stack,
        ram + stack,
        RAM
    );
    println!(
        "  cycles per inference: mean {mean:.0} ({:.0} ms at 16 MHz), min {low}, max {high}",
        mean / CLOCK_HZ * 1e3
    );
    println!("  {}, accuracy {:.2} %", report.verdict("uno"), report.device_accuracy());
    println!("  protocol: {frames} frames of every kind answered as the Rust firmware answers them");
    println!("  float routines linked: none (integer arithmetic only)");
    ensure!(flash <= FLASH && ram + stack <= RAM, "the build does not fit the Uno");
    Ok(())
}

/// The simulator's process, stopped if the run ends early (it would wait for a client forever).
struct Simulator(std::process::Child);

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
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

/// libgcc's soft-float routines the ELF links (`__addsf3`, `__floatunsisf`, `__fixsfsi`…):
/// an int8 model must need none.
fn float_routines(elf: &Path) -> Result<Vec<String>> {
    let is_float = |name: &str| {
        let body = name.trim_start_matches('_');
        ["sf3", "sf2", "sfsi", "sisf", "sfdi", "disf", "unordsf"].iter().any(|tail| body.ends_with(tail))
    };
    let symbols = board::firmware_image::FirmwareImage::read(elf)?.symbols()?;
    Ok(symbols.into_iter().map(|(name, _)| name).filter(|n| is_float(n)).collect())
}
