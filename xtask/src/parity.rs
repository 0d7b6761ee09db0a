//! `cargo xtask parity`: all 10,000 test images on each board, compared bit
//! for bit with `shared::forward` on the host. Boards run in parallel.
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use board::device::{Board, Device, Endpoint, Options};
use trainer::mnist::{Source, Split};

#[derive(clap::Args)]
pub struct Args {
    /// Only this board (default: all emulated boards).
    #[arg(long)]
    board: Option<String>,
    /// Weight file (default: models/default.bin).
    #[arg(long)]
    model: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    crate::setup::ensure_tools()?;
    let path = args.model.unwrap_or_else(board::paths::default_model);
    let model = trainer::model_file::load(&path)?;
    println!("model {} (crc {:08x})", path.display(), model.checksum);
    let test = Source::bundled().load(Split::Test)?;
    let boards = crate::firmware::selected(args.board.as_deref())?;
    let out_dir = board::paths::repo_root().join("target/xtask");
    std::fs::create_dir_all(&out_dir)?;
    let mut elves = Vec::new();
    for board in &boards {
        let elf = out_dir.join(format!("firmware-{}.elf", board.name));
        elves.push(board::firmware::build(board, Some(&path), Some(&elf), crate::shell::quiet_builds())?);
    }
    // One progress bar per board (drawn on a terminal only).
    let bars = indicatif::MultiProgress::new();
    let name = path.display().to_string();
    let (model, test, name) = (&model, &test, &name);
    let results: Vec<Result<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = boards
            .iter()
            .zip(&elves)
            .map(|(board, elf)| {
                let template = format!("{:<14} {{pos}}/{{len}} {{bar:30}} {{per_sec}} {{eta}}", board.name);
                let style = indicatif::ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                let bar = bars.add(indicatif::ProgressBar::new(test.len() as u64).with_style(style));
                s.spawn(move || one_board(board, elf.clone(), (name, model), test, &bar))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| bail!("parity thread panicked"))).collect()
    });
    let mut failed = false;
    for line in results {
        match line {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("error: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        bail!("parity failed");
    }
    Ok(())
}

fn one_board(
    board: &Board,
    elf: PathBuf,
    (model_name, model): (&str, &trainer::model_file::Model),
    test: &trainer::mnist::Dataset,
    bar: &indicatif::ProgressBar,
) -> Result<String> {
    let options = Options { firmware: Some(elf), ..Options::default() };
    let mut device = Device::open(&Endpoint::Emulated(*board), &options)?;
    let info = device.info().with_context(|| format!("{} did not identify itself", board.name))?;
    board::parity::check_device(&Endpoint::Emulated(*board), &info, model_name, model.checksum)?;
    let r = board::parity::compare(&mut device, model, &test.images, Some(&test.labels), 8, |_, _, _| bar.inc(1))?;
    bar.finish_and_clear();
    println!("{}: {}, device accuracy {:.2} %", board.name, r.summary(), r.device_accuracy());
    r.ensure_bit_exact(|i| format!("test image {i}"), |digit| digit.to_string())?;
    Ok(r.verdict(board.name))
}
