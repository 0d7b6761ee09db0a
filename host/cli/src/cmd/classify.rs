//! `tiny-mnist classify`
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use board::device::{Device, Endpoint, Options};
use board::parity;
use trainer::mnist::{Source, Split};

use crate::cmd::{outln, StdoutError};

#[derive(clap::Args)]
pub struct Args {
    /// Serial port (/dev/ttyACM0, COM3), tcp:HOST:PORT, or emu:<board> to boot the board's emulator.
    #[arg(short, long)]
    device: String,
    /// One test image by index.
    #[arg(long, group = "what")]
    index: Option<usize>,
    /// Test images START..END (end exclusive), e.g. 0..100.
    #[arg(long, group = "what")]
    range: Option<String>,
    /// All 10,000 test images (a full parity check).
    #[arg(long, group = "what")]
    all: bool,
    /// PNG, JPEG or PGM pictures of digits, preprocessed like `predict --image`.
    #[arg(long, group = "what", num_args = 1..)]
    image: Vec<PathBuf>,
    /// 28x28 PGM files already in MNIST form, used as they are.
    #[arg(long, group = "what", num_args = 1..)]
    pgm: Vec<PathBuf>,
    /// Test images from this IDX directory or labelled CSV instead of the bundled MNIST
    /// (e.g. /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Weight file the host compares against (should be the one the firmware embeds).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Firmware image for emu:<board> (default: that board's build in the checkout).
    #[arg(long)]
    firmware: Option<PathBuf>,
    /// Serial baud rate.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Requests kept in flight (use 1 for a UART without flow control) [default: 1 on a serial port, else 4].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    window: Option<u16>,
    /// Print one JSON object (summary and every answer) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let endpoint = Endpoint::parse(&args.device)?;
    let (name, model) = super::load_model(args.model.clone())?;
    eprintln!("{}", model.describe(&name));
    let (images, labels, names) = images(&args)?;
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(super::usage("--timeout must be a positive number of seconds"));
    }
    let options = Options {
        baud: args.baud,
        timeout: Duration::from_secs_f64(args.timeout),
        firmware: args.firmware,
        ..Options::default()
    };
    let mut device = Device::open(&endpoint, &options)?;
    let info = device.info().context("the device did not identify itself")?;
    parity::check_device(&endpoint, &info, &name, model.checksum)?;
    let json = args.json;
    let mut answers = Vec::new();
    if !json {
        outln!("device {} (protocol {}, model crc {:08x})", info.board, info.protocol_version, info.model_checksum);
    }
    let window = args.window.map_or(
        match endpoint {
            Endpoint::Serial(_) => 1,
            _ => 4,
        },
        usize::from,
    );
    let classes = model.info.classes;
    let verbose = images.len() <= 20 && !json;
    let total = images.len();
    let bar = if verbose {
        indicatif::ProgressBar::hidden()
    } else {
        crate::progress::bar(total as u64, "{pos}/{len} images {bar:30} {per_sec} {eta}")
    };
    let lines = !verbose && crate::progress::style() == crate::progress::Style::Lines;
    let mut unwritten = None;
    let report = parity::compare(&mut device, &model, &images, labels.as_deref(), window, |i, host, dev| {
        bar.inc(1);
        if lines && (i + 1) % total.div_ceil(10) == 0 {
            eprintln!("classified {}/{total}", i + 1);
        }
        if json {
            answers.push(serde_json::json!({
                "name": names[i],
                "label": labels.as_ref().map(|l| l[i]),
                "device": dev,
                "class": classes.name(dev.digit),
                "host_digit": host.digit,
                "bit_exact": parity::bit_exact(host, dev),
            }));
        }
        if verbose {
            let label = labels.as_ref().map_or(String::new(), |l| {
                let wrong = if l[i] == dev.digit { "" } else { ", WRONG" };
                format!(" (label {}{wrong})", classes.name(l[i]))
            });
            // The callback cannot fail: a failed line is kept and reported after the run.
            let written = writeln!(
                std::io::stdout(),
                "{}: device {} p={:.4} host {} {}{label}",
                names[i],
                classes.name(dev.digit),
                dev.probabilities[usize::from(dev.digit)],
                classes.name(host.digit),
                if parity::bit_exact(host, dev) { "bit-exact" } else { "DIFFERENT" },
            );
            if let Err(e) = written {
                unwritten.get_or_insert(e);
            }
        }
    })?;
    if let Some(e) = unwritten {
        return Err(StdoutError(e).into());
    }
    bar.finish_and_clear();
    if json {
        let summary = serde_json::json!({
            "board": info.board.as_str(),
            "device_model_checksum": format!("{:08x}", info.model_checksum),
            "host_model_checksum": format!("{:08x}", model.checksum),
            "compared": report.compared,
            "bit_exact": report.bit_exact,
            "device_correct": labels.as_ref().map(|_| report.device_correct),
            "max_ulps": report.max_ulps,
            "seconds": report.seconds,
            "answers": answers,
        });
        outln!("{summary}");
        if report.first_mismatch.is_some() {
            bail!("host and device disagree on {} images", report.compared - report.bit_exact);
        }
        return Ok(());
    }
    outln!("{}", report.summary());
    if labels.is_some() {
        outln!(
            "accuracy on the device: {:.2} % ({}/{})",
            report.device_accuracy(),
            report.device_correct,
            report.compared
        );
    }
    outln!("{}", report.verdict(&info.board));
    report.ensure_bit_exact(|i| names[i].clone(), |digit| classes.name(digit).to_string())
}

type Images = (Vec<trainer::mnist::Pixels>, Option<Vec<u8>>, Vec<String>);

fn images(args: &Args) -> Result<Images> {
    if !args.pgm.is_empty() {
        let images = args.pgm.iter().map(|p| super::images::read_pgm(p)).collect::<Result<Vec<_>>>()?;
        return Ok((images, None, args.pgm.iter().map(|p| p.display().to_string()).collect()));
    }
    if !args.image.is_empty() {
        let images = args.image.iter().map(|p| pictures::photo::load_digit(p)).collect::<Result<Vec<_>>>()?;
        return Ok((images, None, args.image.iter().map(|p| p.display().to_string()).collect()));
    }
    let test = Source::from_option(args.data.clone()).load(Split::Test)?;
    let (range, what) = if args.all {
        (0..test.len(), "--all".to_owned())
    } else if let Some(i) = args.index {
        (i..i + 1, format!("--index {i}"))
    } else if let Some(r) = &args.range {
        (super::images::parse_range(r)?, format!("--range {r}"))
    } else {
        eprintln!(
            "no images chosen: classifying test images 0..10 (choose with --index, --range, --all, --image or --pgm)"
        );
        (0..10, "test images 0..10".to_owned())
    };
    let names = range.clone().map(|i| format!("test image {i}")).collect();
    let subset = super::images::test_images(&test, range, &what)?;
    Ok((subset.images.to_vec(), Some(subset.labels), names))
}
