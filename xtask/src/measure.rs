//! `cargo xtask measure`: instructions per inference (exact, from a QEMU
//! plugin or the rp2040js runner), flash and static RAM, for each board, over the whole test set.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use board::device::{Board, Device, Emulator, Endpoint, Options};
use board::firmware_image::FirmwareImage;
use rayon::prelude::*;
use trainer::mnist::{Source, Split};

use crate::shell::sh;

#[derive(clap::Args)]
pub struct Args {
    /// Only this board (default: all emulated boards).
    #[arg(long)]
    pub board: Option<String>,
    /// Weight files, f32 or int8 (default: models/default.bin and models/default-int8.bin).
    #[arg(long)]
    pub model: Vec<PathBuf>,
    /// Test images to run (all 10,000 by default).
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// Compare the figures with bench/snapshot.json (fail on growth over 2 %), or rewrite it.
    #[arg(long, value_enum)]
    pub snapshot: Option<crate::snapshot::Mode>,
    /// Also print, per board and model, the functions the instructions ran in (per image; QEMU
    /// counts the whole run, rp2040js the inferences only).
    #[arg(long)]
    pub profile: bool,
}

/// Builds the instruction-counting plugin with gcc.
pub fn build_plugin() -> Result<PathBuf> {
    let root = board::paths::repo_root();
    let out_dir = root.join("target/insn-count");
    std::fs::create_dir_all(&out_dir)?;
    let lib = out_dir.join("libinsn_count.so");
    let src = root.join("tools/insn-count/insn_count.c");
    let mut gcc = std::process::Command::new("gcc");
    gcc.args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o"]).arg(&lib).arg(&src);
    sh(&mut gcc, None).context("cannot build the QEMU plugin (is gcc installed?)")?;
    Ok(lib)
}

/// Min, mean and max of a per-inference figure.
pub struct Spread {
    pub min: u64,
    pub mean: f64,
    pub max: u64,
}

impl Spread {
    fn of(values: &[u64]) -> Spread {
        Spread {
            min: values.iter().copied().min().unwrap_or(0),
            mean: values.iter().sum::<u64>() as f64 / values.len().max(1) as f64,
            max: values.iter().copied().max().unwrap_or(0),
        }
    }
}

/// Per-inference instruction counts and, where the emulator models them, cycles.
pub struct Counts {
    /// The network's: each inference's count less its preprocessing's.
    pub instructions: Spread,
    /// The model's preprocessing, if it has one.
    pub preprocessing: Option<Spread>,
    /// rp2040js's cycle estimate for the network (no flash wait states); QEMU does not model cycles.
    pub cycles: Option<Spread>,
    /// Peak stack in bytes, from the device's stack painting.
    pub stack_peak: u32,
    /// Where the instructions go, fitted over all images.
    pub cost: CostModel,
}

/// `instructions ≈ fixed + per_pixel · nonzero pixels + per_run · zero runs`,
/// least squares over the measured images: which part of an inference to work on.
pub struct CostModel {
    pub fixed: f64,
    pub per_pixel: f64,
    pub per_run: f64,
}

/// What the firmware's loop sees of an image as it travels (zero-run form when shorter):
/// its nonzero pixels and its zero runs.
fn image_shape(image: &trainer::mnist::Pixels) -> (f64, f64) {
    let pixels = image.iter().filter(|&&p| p != 0).count();
    let mut buf = [0u8; shared::INPUT];
    let runs = match shared::input::pixels::zero_run_encode(image, &mut buf) {
        // Each run is a 0 marker followed by its length, and a nonzero byte is a pixel.
        Some(len) => len.saturating_sub(pixels) / 2,
        None => 0,
    };
    (pixels as f64, runs as f64)
}

impl CostModel {
    /// Solves the 3×3 normal equations for `count = a + b·pixels + c·runs`.
    fn fit(images: &[trainer::mnist::Pixels], counts: &[u64]) -> CostModel {
        let mut m = [[0.0f64; 4]; 3]; // augmented [AᵀA | Aᵀy]
        for (image, &count) in images.iter().zip(counts) {
            let (pixels, runs) = image_shape(image);
            let row = [1.0, pixels, runs];
            for i in 0..3 {
                for j in 0..3 {
                    m[i][j] += row[i] * row[j];
                }
                m[i][3] += row[i] * count as f64;
            }
        }
        // Gauss-Jordan elimination. AᵀA is positive definite for any real test set; with too
        // few or too alike images a pivot all but vanishes against its diagonal: no fit then.
        let diagonal = [m[0][0], m[1][1], m[2][2]];
        for col in 0..3 {
            let pivot = m[col][col];
            if pivot.is_nan() || pivot.abs() <= 1e-9 * diagonal[col] {
                return CostModel { fixed: f64::NAN, per_pixel: f64::NAN, per_run: f64::NAN };
            }
            m[col].iter_mut().for_each(|v| *v /= pivot);
            let pivot_row = m[col];
            for (i, row) in m.iter_mut().enumerate() {
                if i != col {
                    let factor = row[col];
                    row.iter_mut().zip(pivot_row).for_each(|(v, p)| *v -= factor * p);
                }
            }
        }
        CostModel { fixed: m[0][3], per_pixel: m[1][3], per_run: m[2][3] }
    }
}

/// The emulator arguments that write one line per inference to `out`: its
/// instructions between the inference markers, those of them between the
/// preprocessing markers, then (rp2040js) the same two for cycles.
/// With `profile`, also how often each instruction address ran, rewritten
/// there after each inference (`--profile`).
pub fn counting_args(
    board: &Board,
    elf: &Path,
    plugin: &Path,
    out: &Path,
    profile: Option<&Path>,
) -> Result<Vec<String>> {
    Ok(match board.emulator {
        Emulator::Qemu { .. } => {
            let image = FirmwareImage::read(elf)?;
            let [start, end, pre_start, pre_end] =
                ["inference_start", "inference_end", "preprocess_start", "preprocess_end"]
                    .map(|name| image.function(name));
            let mut arg = format!(
                "{},start={:#x},end={:#x},pre_start={:#x},pre_end={:#x},out={}",
                plugin.display(),
                start?,
                end?,
                pre_start?,
                pre_end?,
                out.display()
            );
            if let Some(profile) = profile {
                arg += &format!(",profile={}", profile.display());
            }
            vec!["-plugin".into(), arg]
        }
        // rp2040js's runner finds the markers itself and adds the cycles it models.
        Emulator::Rp2040js => {
            let mut args = vec!["--counts".into(), out.display().to_string()];
            if let Some(profile) = profile {
                args.extend(["--profile".into(), profile.display().to_string()]);
            }
            args
        }
    })
}

/// A counts file's columns (a pass's instructions, its preprocessing's, then
/// rp2040js's two cycle counts), one value per pass, each less the first,
/// empty pass's: the markers' own cost.
pub fn read_counts(path: &Path, passes: usize) -> Result<Vec<Vec<u64>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("no counts in {}", path.display()))?;
    let lines: Vec<Vec<u64>> = text
        .lines()
        .map(|l| l.split_whitespace().map(|n| n.parse::<u64>().context("bad count line")).collect())
        .collect::<Result<_>>()?;
    let (overhead, lines) = lines.split_first().context("no marker overhead line")?;
    if lines.len() != passes {
        bail!("{} counts for {} passes", lines.len(), passes);
    }
    Ok(overhead
        .iter()
        .enumerate()
        .map_while(|(i, base)| lines.iter().map(|l| l.get(i).map(|c| c.saturating_sub(*base))).collect())
        .collect())
}

pub fn count_instructions(
    board: &Board,
    elf: &Path,
    plugin: &Path,
    images: &[trainer::mnist::Pixels],
    network_inputs: &[trainer::mnist::Pixels],
    preprocessed: bool,
    profile: Option<&Path>,
) -> Result<Counts> {
    let out = elf.with_extension("counts");
    let options = Options {
        firmware: Some(elf.to_owned()),
        emulator_args: counting_args(board, elf, plugin, &out, profile)?,
        ..Options::default()
    };
    let stack_peak = {
        let mut device = Device::open(&Endpoint::Emulated(*board), &options)?;
        device.classify_all(images, 8, |_, _| Ok(()))?;
        device.stats()?.stack_peak
    }; // dropping the device stops the emulator
    let columns = read_counts(&out, images.len())?;
    let column = |i: usize| columns.get(i).cloned();
    let total = column(0).context("empty count lines")?;
    let preprocessing = column(1).context("count lines without the preprocessing's")?;
    // Each pass's count less its preprocessing's: the network's.
    let less =
        |all: &[u64], pre: &[u64]| -> Vec<u64> { all.iter().zip(pre).map(|(a, p)| a.saturating_sub(*p)).collect() };
    let instructions = less(&total, &preprocessing);
    Ok(Counts {
        instructions: Spread::of(&instructions),
        preprocessing: preprocessed.then(|| Spread::of(&preprocessing)),
        // rp2040js also gives cycles, and of them the preprocessing's: the network's are the difference.
        cycles: column(2).zip(column(3)).map(|(c, p)| Spread::of(&less(&c, &p))),
        stack_peak,
        cost: CostModel::fit(network_inputs, &instructions),
    })
}

pub fn run(args: Args) -> Result<()> {
    crate::setup::ensure_tools()?;
    let plugin = build_plugin()?;
    let models = if args.model.is_empty() {
        let root = board::paths::repo_root();
        vec![root.join("models/default.bin"), root.join("models/default-int8.bin")]
    } else {
        args.model
    };
    let test = Source::bundled().load(Split::Test)?;
    let images = &test.images[..args.images.min(test.len())];
    let out_dir = board::paths::repo_root().join("target/xtask");
    std::fs::create_dir_all(&out_dir)?;
    // Builds one after another (cargo), then the counting runs one per core: each boots its
    // own emulator and writes its own counts file.
    let mut jobs = Vec::new();
    let mut inputs_per_model = Vec::new();
    for model in &models {
        let loaded = trainer::model_file::load(model)?;
        // The cost fit is over what the network reads: the images after the model's preprocessing.
        let inputs: Vec<_> = images.iter().map(|i| loaded.info.preprocessing.apply(i)).collect();
        inputs_per_model.push(inputs);
        let kind = loaded.network.kind().name();
        let preprocessed = loaded.info.preprocessing != shared::input::Preprocessing::None;
        for board in crate::firmware::selected(args.board.as_deref())? {
            let elf = out_dir.join(format!("measure-{}-{kind}.elf", board.name));
            board::firmware::build(&board, Some(model), Some(&elf), crate::shell::quiet_builds())?;
            jobs.push((board, kind, elf, inputs_per_model.len() - 1, preprocessed));
        }
    }
    // Rayon's global pool: one thread per core.
    let rows = jobs
        .par_iter()
        .map(|(board, kind, elf, model, preprocessed)| {
            let profile = args.profile.then(|| elf.with_extension("profile"));
            let inputs = &inputs_per_model[*model];
            let counts = count_instructions(board, elf, &plugin, images, inputs, *preprocessed, profile.as_deref())?;
            let size = crate::firmware::footprint(elf)?;
            Ok((*board, *kind, counts, size))
        })
        .collect::<Result<Vec<_>>>()?;
    println!();
    for model in &models {
        println!("model {}", model.display());
    }
    println!(
        "| board | model | network: instructions per inference (min / mean / max, {} images) | estimated cycles \
         (rp2040js, no flash wait states) | preprocessing: instructions (min / mean / max) | flash | static RAM | \
         peak stack |",
        images.len()
    );
    println!("|---|---|---|---|---|---|---|---|");
    let spread = |s: &Spread| format!("{} / {:.0} / {}", s.min, s.mean, s.max);
    for (board, kind, c, size) in &rows {
        println!(
            "| {} | {kind} | {} | {} | {} | {} B | {} B | {} B |",
            board.name,
            spread(&c.instructions),
            c.cycles.as_ref().map_or("–".into(), spread),
            c.preprocessing.as_ref().map_or("–".into(), spread),
            size.flash,
            size.ram,
            c.stack_peak
        );
    }
    let n = images.len().max(1) as f64;
    let average = |f: &dyn Fn(&trainer::mnist::Pixels) -> trainer::mnist::Pixels| {
        let (p, r) = images.iter().map(|i| image_shape(&f(i))).fold((0.0, 0.0), |(p, r), (ip, ir)| (p + ip, r + ir));
        (p / n, r / n)
    };
    let (pixels, runs) = average(&|i| *i);
    println!();
    print!(
        "Where the network's instructions go (least squares over the images it reads; on average an image has \
         {pixels:.1} nonzero pixels and {runs:.1} zero runs"
    );
    for p in [shared::input::Preprocessing::Deskew, shared::input::Preprocessing::Strokes] {
        let (pixels, runs) = average(&|i| p.apply(i));
        print!(", {pixels:.1} and {runs:.1} after {}", p.name());
    }
    println!("):");
    println!("| board | model | fixed (second layer, softmax) | per nonzero pixel | per zero run |");
    println!("|---|---|---|---|---|");
    for (board, kind, c, _) in &rows {
        println!("| {} | {kind} | {:.0} | {:.1} | {:.1} |", board.name, c.cost.fixed, c.cost.per_pixel, c.cost.per_run);
    }
    if args.profile {
        for (board, kind, elf, _, _) in &jobs {
            print_profile(&format!("{} {kind}", board.name), elf, images.len())?;
        }
    }
    if let Some(mode) = args.snapshot {
        let figures: Vec<crate::snapshot::Row> = rows
            .iter()
            .map(|(board, kind, c, size)| crate::snapshot::Row {
                board: board.name.to_owned(),
                model: (*kind).to_owned(),
                flash: size.flash,
                static_ram: size.ram,
                peak_stack: u64::from(c.stack_peak),
                mean_instructions: c.instructions.mean,
                mean_preprocessing: c.preprocessing.as_ref().map_or(0.0, |p| p.mean),
            })
            .collect();
        crate::snapshot::apply(mode, images.len(), &figures)?;
    }
    Ok(())
}

/// The functions the profile's instructions ran in, most first, per image,
/// from the ELF's symbols: under QEMU the whole run (boot and the link's
/// bytes too), under rp2040js the inferences only.
fn print_profile(title: &str, elf: &Path, images: usize) -> Result<()> {
    let path = elf.with_extension("profile");
    let text = std::fs::read_to_string(&path).with_context(|| format!("no profile in {}", path.display()))?;
    let mut symbols: Vec<(u64, String)> = FirmwareImage::read(elf)?
        .symbols()?
        .into_iter()
        .filter(|(name, _)| !name.starts_with('$')) // Arm mapping symbols ($t, $d) mark code and data, not functions
        .map(|(name, addr)| (addr & !1, name))
        .collect();
    symbols.sort();
    let mut per_function = std::collections::BTreeMap::<&str, u64>::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(addr), Some(count)) = (fields.next(), fields.next()) else { continue };
        let addr = u64::from_str_radix(addr.trim_start_matches("0x"), 16).context("bad profile address")?;
        let count: u64 = count.parse().context("bad profile count")?;
        let at = symbols.partition_point(|(a, _)| *a <= addr);
        let name = at.checked_sub(1).and_then(|i| symbols.get(i)).map_or("?", |(_, n)| n.as_str());
        *per_function.entry(name).or_default() += count;
    }
    let mut rows: Vec<_> = per_function.into_iter().collect();
    rows.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
    println!();
    println!("{title}: instructions per image by function (whole run, {images} images)");
    for (name, count) in rows.iter().take(20) {
        println!("{:>10.0}  {name}", *count as f64 / images.max(1) as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image with `pixels` nonzero pixels in `runs` separate strokes (so about `runs` zero runs).
    fn image(pixels: usize, runs: usize) -> trainer::mnist::Pixels {
        let mut image = [0u8; shared::INPUT];
        let per_stroke = pixels / runs;
        for stroke in 0..runs {
            let start = stroke * (shared::INPUT / runs) + 3;
            image[start..start + per_stroke].fill(200);
        }
        image
    }

    #[test]
    fn fit_recovers_known_costs() {
        let images: Vec<_> = [(40, 2), (90, 3), (120, 4), (150, 5), (60, 6), (200, 8), (100, 10)]
            .iter()
            .map(|&(p, r)| image(p, r))
            .collect();
        let counts: Vec<u64> = images
            .iter()
            .map(|i| {
                let (p, r) = image_shape(i);
                (900.0 + 33.0 * p + 17.0 * r) as u64
            })
            .collect();
        let fit = CostModel::fit(&images, &counts);
        assert!((fit.fixed - 900.0).abs() < 1e-6, "fixed {}", fit.fixed);
        assert!((fit.per_pixel - 33.0).abs() < 1e-9, "per pixel {}", fit.per_pixel);
        assert!((fit.per_run - 17.0).abs() < 1e-9, "per run {}", fit.per_run);
    }

    #[test]
    fn too_few_images_give_no_fit() {
        let one = [image(100, 4)];
        assert!(CostModel::fit(&one, &[5000]).per_pixel.is_nan());
        assert!(CostModel::fit(&[], &[]).fixed.is_nan());
    }
}
