//! `cargo xtask peers`: the same models on the same QEMU boards, counted by the
//! same plugin, in other implementations: plain C (every pixel, the raw
//! image's nonzero pixels, our zero-run frames), emlearn, and the C library
//! `tiny-mnist export --c` writes, each checked against the host image by
//! image and printed beside our firmware's figures.
//!
//! The peers are built with Debian's `arm-none-eabi-gcc -O3 -ffp-contract=off`
//! from `bench/peers/`, and read through semihosting the network's inputs
//! (after the model's preprocessing, which counts toward nothing there) or,
//! for the exported library, the raw images, preprocessed in the count.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use board::device::EmulatedBoard;
use rayon::prelude::*;
use shared::network::Classifier;
use trainer::mnist::{Pixels, Source, Split};
use trainer::model_file::Network;

use crate::shell::sh;

#[derive(clap::Args)]
pub struct Args {
    /// Test images to run (all 10,000 by default).
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
}

/// The emlearn release whose `eml_net.h` is measured.
const EMLEARN: &str = "emlearn==0.23.2";

/// The boards peers run on: a Cortex-M4F and a Cortex-M3, each with gcc's flags for its core.
const BOARDS: [(&str, &str, &[&str]); 2] = [
    ("mps2-an386", "M4F", &["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]),
    ("lm3s6965evb", "M3", &["-mcpu=cortex-m3", "-mfloat-abi=soft"]),
];

/// One implementation: its name in the table, its C sources and defines, and which input it reads.
struct Peer {
    name: &'static str,
    sources: &'static [&'static str],
    define: &'static str,
    reads_zero_runs: bool,
    /// emlearn: its headers from the pip package, f32 only (it has no int8 network), and
    /// arithmetic of its own, so its digits are compared, not its bits.
    emlearn: bool,
    /// The exported library: it reads the raw image (zero runs) and preprocesses it itself.
    whole: bool,
}

const PEERS: [Peer; 5] = [
    Peer {
        name: "plain C, every pixel (dense)",
        sources: &["plain.c"],
        define: "-DPEER_DENSE",
        reads_zero_runs: false,
        emlearn: false,
        whole: false,
    },
    Peer {
        name: "plain C, skipping the raw image's zero pixels",
        sources: &["plain.c"],
        define: "-DPEER_SKIP",
        reads_zero_runs: false,
        emlearn: false,
        whole: false,
    },
    Peer {
        name: "plain C, reading our zero-run frames",
        sources: &["plain.c"],
        define: "-DPEER_ZERO_RUN",
        reads_zero_runs: true,
        emlearn: false,
        whole: false,
    },
    Peer {
        name: "emlearn 0.23.2 (eml_net.h)",
        sources: &["emlearn.c"],
        define: "-DPEER_EMLEARN",
        reads_zero_runs: false,
        emlearn: true,
        whole: false,
    },
    Peer {
        name: "`tiny-mnist export --c` library, preprocessing included",
        sources: &["exported.c"],
        define: "-DPEER_EXPORTED",
        reads_zero_runs: true,
        emlearn: false,
        whole: true,
    },
];

/// What one run gave: mean instructions per inference, flash, and agreement with the host.
struct Figures {
    mean_instructions: f64,
    /// Ours: the network and the model's preprocessing together, to set beside the exported library.
    with_preprocessing: Option<f64>,
    flash: u64,
    agreement: Agreement,
}

/// How many answers matched the host's: the digit, and the probabilities bit for bit.
#[derive(Default)]
struct Agreement {
    images: usize,
    digits: usize,
    bit_exact: usize,
    max_difference: f32,
}

impl Agreement {
    fn describe(&self) -> String {
        if self.bit_exact == self.images {
            format!("{}/{} bit-exact", self.bit_exact, self.images)
        } else {
            format!(
                "digits {}/{}, bit-exact {}/{} (largest probability difference {:.1e})",
                self.digits, self.images, self.bit_exact, self.images, self.max_difference
            )
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    crate::setup::ensure_tools()?;
    ensure_peer_tools()?;
    let plugin = crate::measure::build_plugin()?;
    let root = board::paths::repo_root();
    let test = Source::bundled().load(Split::Test)?;
    let images = &test.images[..args.images.min(test.len())];
    ensure!(!images.is_empty(), "--images must be at least 1");
    let out = root.join("target/peers");
    std::fs::create_dir_all(&out)?;

    let models = [root.join("models/default.bin"), root.join("models/default-int8.bin")];
    let mut jobs = Vec::new(); // (column, peer index or None for ours, model index, board)
    let mut loaded = Vec::new();
    for (m, path) in models.iter().enumerate() {
        let model = trainer::model_file::load(path)?;
        let inputs: Vec<Pixels> = images.iter().map(|i| model.info.preprocessing.apply(i)).collect();
        let dir = out.join(model.network.kind().name());
        std::fs::create_dir_all(&dir)?;
        write_inputs(&dir, &inputs)?;
        write_images(&dir, images)?;
        c_export::write(&model, &path.display().to_string(), &dir.join("c-library"))?;
        write_model_header(&dir.join("model.h"), &model.network)?;
        if let Network::F32(w) = &model.network {
            write_emlearn_model(&dir, w)?;
        }
        for board in BOARDS {
            let column = format!("{} {}", board.1, model.network.kind().name());
            jobs.push((column.clone(), None, m, board));
            for (p, peer) in PEERS.iter().enumerate() {
                if !(peer.emlearn && matches!(model.network, Network::Int8(_))) {
                    jobs.push((column.clone(), Some(p), m, board));
                }
            }
        }
        loaded.push((path.clone(), model, inputs, dir));
    }
    // Builds first (gcc is quick, cargo serialises itself), then the emulators, one per core.
    let mut runs = Vec::new();
    for (column, peer, m, board) in jobs {
        let (path, model, _, dir) = &loaded[m];
        let elf = match peer {
            Some(p) => build_peer(&PEERS[p], board, dir)?,
            None => {
                let elf = out.join(format!("ours-{}-{}.elf", board.0, model.network.kind().name()));
                board::firmware::build(
                    &board::device::board(board.0)?,
                    Some(path),
                    Some(&elf),
                    crate::shell::quiet_builds(),
                )?;
                elf
            }
        };
        runs.push((column, peer, m, board, elf));
    }
    let results = runs
        .par_iter()
        .map(|(column, peer, m, board, elf)| {
            let (_, model, inputs, dir) = &loaded[*m];
            let figures = match peer {
                Some(p) => run_peer(&PEERS[*p], board, elf, dir, &plugin, model, images, inputs)?,
                None => {
                    let preprocessed = model.info.preprocessing != shared::input::Preprocessing::None;
                    run_ours(board, elf, &plugin, images, inputs, preprocessed)?
                }
            };
            Ok((column.clone(), *peer, figures))
        })
        .collect::<Result<Vec<_>>>()?;
    print!("{}", tables(&results, images.len()));
    // The plain C peers follow the contract operation for operation: a difference is a bug in one side.
    for (column, peer, figures) in &results {
        if let Some(p) = peer.filter(|&p| !PEERS[p].emlearn) {
            let a = &figures.agreement;
            ensure!(a.bit_exact == a.images, "{} ({column}) is not bit-exact: {}", PEERS[p].name, a.describe());
        }
    }
    Ok(())
}

/// gcc for Cortex-M with newlib (emlearn's softmax calls expf and logf), and emlearn itself.
fn ensure_peer_tools() -> Result<()> {
    let gcc_works = || Command::new("arm-none-eabi-gcc").arg("--version").output().is_ok_and(|o| o.status.success());
    let newlib =
        || Path::new("/usr/lib/arm-none-eabi/newlib").exists() || Path::new("/usr/lib/arm-none-eabi/lib").exists();
    crate::setup::ensure_package(gcc_works, "gcc-arm-none-eabi", "install arm-none-eabi-gcc (Arm GNU Toolchain)")?;
    crate::setup::ensure_package(newlib, "libnewlib-arm-none-eabi", "install newlib for arm-none-eabi")?;
    crate::setup::ensure_numpy()?;
    crate::setup::ensure_python_module("emlearn.net", EMLEARN)
}

/// `peer-raw.bin` and `peer-zero-run.bin`: the network's inputs, raw and as zero runs.
fn write_inputs(dir: &Path, inputs: &[Pixels]) -> Result<()> {
    std::fs::write(dir.join("peer-raw.bin"), pixel_strings(inputs, false)?)?;
    std::fs::write(dir.join("peer-zero-run.bin"), pixel_strings(inputs, true)?)?;
    Ok(())
}

/// `peer-image-zero-run.bin`: the raw images as a board receives them, for the exported library.
fn write_images(dir: &Path, images: &[Pixels]) -> Result<()> {
    std::fs::write(dir.join("peer-image-zero-run.bin"), pixel_strings(images, true)?)?;
    Ok(())
}

/// What the C harnesses read (`bench/peers/harness.c`, `tools/uno/simulate.c`): the count as a
/// u32, then per image a u16 length and its bytes, raw or, with `zero_runs`, in the form a board
/// receives (zero runs when they are shorter). Little-endian.
pub fn pixel_strings(images: &[Pixels], zero_runs: bool) -> Result<Vec<u8>> {
    let mut out = u32::try_from(images.len())?.to_le_bytes().to_vec();
    for image in images {
        let mut buf = [0u8; shared::INPUT];
        let bytes = if zero_runs { shared::input::pixels::wire_form(image, &mut buf) } else { &image[..] };
        out.extend_from_slice(&u16::try_from(bytes.len())?.to_le_bytes());
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// A C array initializer of `values`, sixteen to a line.
fn c_array<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> String {
    let mut s = String::from("{");
    for (i, v) in values.into_iter().enumerate() {
        s.push_str(if i % 16 == 0 { "\n    " } else { " " });
        let _ = write!(s, "{v},");
    }
    s.push_str("\n}");
    s
}

/// `model.h`: the model's parameters for the C peers, f32 as their exact bits.
fn write_model_header(path: &Path, network: &Network) -> Result<()> {
    let bits = |v: &[f32]| c_array(v.iter().map(|x| format!("{:#010x}u", x.to_bits())));
    let mut h = String::from("/* Written by `cargo xtask peers` from the model file. */\n#include <stdint.h>\n\n");
    let _ = writeln!(
        h,
        "static const union {{ uint32_t bits[256]; float v[256]; }} PIXEL_SCALE = {{{}}};",
        bits(&shared::network::PIXEL_SCALE)
    );
    match network {
        Network::F32(w) => {
            h.push_str("#define MODEL_INT8 0\n");
            for (name, dims, values) in [
                ("W1", "[784][10]", w.w1.as_flattened()),
                ("B1", "[10]", &w.b1[..]),
                ("W2", "[10][10]", w.w2.as_flattened()),
                ("B2", "[10]", &w.b2[..]),
            ] {
                let _ = writeln!(
                    h,
                    "static const union {{ uint32_t bits[{}]; float v{dims}; }} {name} = {{{}}};",
                    values.len(),
                    bits(values)
                );
            }
        }
        Network::Int8(q) => {
            h.push_str("#define MODEL_INT8 1\n");
            let rows = |m: &[[i8; 10]]| c_array(m.iter().map(|r| c_array(r.iter()).replace("\n", "")));
            let _ = writeln!(h, "static const int8_t W1[784][10] = {};", rows(&q.w1));
            let _ = writeln!(h, "static const int32_t B1[10] = {};", c_array(q.b1));
            let _ = writeln!(h, "static const int8_t W2[10][10] = {};", rows(&q.w2));
            // i32::MIN has no literal of its own in C.
            let _ = writeln!(h, "static const int32_t B2[10] = {};", c_array(q.b2.map(|b| format!("{}ll", b))));
            let _ = writeln!(h, "#define OUTPUT_SCALE_BITS {:#010x}u", q.output_scale.to_bits());
        }
    }
    std::fs::write(path, h)?;
    Ok(())
}

/// `emlearn_model.h`, written by emlearn's own code generator from the f32 parameters.
fn write_emlearn_model(dir: &Path, w: &shared::Weights) -> Result<()> {
    let weights = dir.join("weights-f32.bin");
    let bytes: Vec<u8> = w.parameters().flat_map(f32::to_le_bytes).collect();
    std::fs::write(&weights, bytes)?;
    let script = board::paths::repo_root().join("bench/peers/emlearn_model.py");
    sh(Command::new(crate::setup::python()).arg(script).arg(&weights).arg(dir.join("emlearn_model.h")), None)
}

fn emlearn_include() -> Result<PathBuf> {
    let out =
        Command::new(crate::setup::python()).args(["-c", "import emlearn; print(emlearn.includedir)"]).output()?;
    ensure!(out.status.success(), "cannot find emlearn's headers");
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

fn build_peer(peer: &Peer, board: (&str, &str, &[&str]), dir: &Path) -> Result<PathBuf> {
    let src = board::paths::repo_root().join("bench/peers");
    let elf = dir.join(format!("{}-{}.elf", peer.define.trim_start_matches("-DPEER_").to_lowercase(), board.0));
    let mut gcc = Command::new("arm-none-eabi-gcc");
    gcc.args(["-mthumb", "-O3", "-ffp-contract=off", "-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .args(board.2)
        .arg(peer.define)
        .arg("-I")
        .arg(dir)
        .arg("-I")
        .arg(&src);
    if peer.emlearn {
        // As a system header: emlearn's own warnings are not ours to fix.
        gcc.arg("-isystem").arg(emlearn_include()?);
    }
    if peer.whole {
        let library = dir.join("c-library");
        gcc.arg("-I").arg(&library).arg(library.join("tiny_mnist.c")).arg(library.join("tiny_mnist_weights.c"));
    }
    gcc.arg(src.join("harness.c"));
    for s in peer.sources {
        gcc.arg(src.join(s));
    }
    gcc.args(["-nostartfiles", "--specs=nosys.specs", "-T"]).arg(src.join("link.ld")).arg("-o").arg(&elf).arg("-lm");
    sh(&mut gcc, None)?;
    Ok(elf)
}

/// Boots QEMU on one peer, then checks each answer against the host's (the
/// network on `inputs`, or for the exported library the whole model on `images`).
#[allow(clippy::too_many_arguments, reason = "one call site, each argument named")]
fn run_peer(
    peer: &Peer,
    board: &(&str, &str, &[&str]),
    elf: &Path,
    dir: &Path,
    plugin: &Path,
    model: &trainer::model_file::Model,
    images: &[Pixels],
    inputs: &[Pixels],
) -> Result<Figures> {
    let stem = elf.file_stem().context("peer ELF without a name")?.to_string_lossy().into_owned();
    let work = dir.join(&stem);
    std::fs::create_dir_all(&work)?;
    let input = match (peer.whole, peer.reads_zero_runs) {
        (true, _) => "peer-image-zero-run.bin",
        (false, true) => "peer-zero-run.bin",
        (false, false) => "peer-raw.bin",
    };
    std::fs::copy(dir.join(input), work.join("peer-in.bin"))?;
    let counts = work.join("counts.txt");
    // The board's own emulator command line; the peer reads and writes files through semihosting.
    let qemu_board = board::device::board(board.0)?;
    let counting = crate::measure::counting_args(&qemu_board, elf, plugin, &counts, None)?;
    let mut qemu = qemu_board.emulator_command(elf, &counting)?;
    qemu.current_dir(&work);
    let output = qemu.output().context("cannot run qemu-system-arm")?;
    ensure!(
        output.status.success(),
        "{stem} failed under QEMU ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let answers = std::fs::read(work.join("peer-out.bin"))?;
    ensure!(answers.len() == inputs.len() * 44, "{stem} answered {} bytes for {} images", answers.len(), inputs.len());
    let mut agreement = Agreement { images: inputs.len(), ..Agreement::default() };
    for ((image, input), answer) in images.iter().zip(inputs).zip(answers.chunks_exact(44)) {
        let word = |i: usize| u32::from_le_bytes([answer[i], answer[i + 1], answer[i + 2], answer[i + 3]]);
        let expected = if peer.whole { model.classify(image) } else { model.network.classify(input) };
        let probabilities: [f32; 10] = std::array::from_fn(|k| f32::from_bits(word(4 + 4 * k)));
        agreement.digits += usize::from(word(0) == u32::from(expected.digit));
        let same_bits = probabilities.iter().zip(&expected.probabilities).all(|(a, b)| a.to_bits() == b.to_bits());
        agreement.bit_exact += usize::from(same_bits && word(0) == u32::from(expected.digit));
        for (a, b) in probabilities.iter().zip(&expected.probabilities) {
            agreement.max_difference = agreement.max_difference.max((a - b).abs());
        }
    }
    let columns = crate::measure::read_counts(&counts, inputs.len())?;
    let total = columns.first().context("empty count lines")?;
    let mean = total.iter().sum::<u64>() as f64 / total.len() as f64;
    Ok(Figures {
        mean_instructions: mean,
        with_preprocessing: None,
        flash: crate::firmware::footprint(elf)?.flash,
        agreement,
    })
}

/// Our firmware on the same board and images, counted as `cargo xtask measure` counts it
/// (the network only); its agreement is what `cargo xtask parity` checks on every image.
fn run_ours(
    board: &(&str, &str, &[&str]),
    elf: &Path,
    plugin: &Path,
    images: &[Pixels],
    inputs: &[Pixels],
    preprocessed: bool,
) -> Result<Figures> {
    let board = board::device::board(board.0)?;
    let counts = crate::measure::count_instructions(&board, elf, plugin, images, inputs, preprocessed, None)?;
    Ok(Figures {
        mean_instructions: counts.instructions.mean,
        with_preprocessing: counts.preprocessing.as_ref().map(|p| counts.instructions.mean + p.mean),
        flash: crate::firmware::footprint(elf)?.flash,
        agreement: Agreement::default(),
    })
}

/// The two tables: instructions and flash per implementation, then each peer's agreement with the host.
fn tables(results: &[(String, Option<usize>, Figures)], images: usize) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for (c, _, _) in results {
        if !columns.contains(&c.as_str()) {
            columns.push(c);
        }
    }
    let rows: Vec<(Option<usize>, &str)> = std::iter::once((None, "this project (Rust, `cargo xtask measure`)"))
        .chain(PEERS.iter().enumerate().map(|(i, p)| (Some(i), p.name)))
        .collect();
    let ours_whole = "this project, preprocessing included";
    let find = |peer: Option<usize>, column: &str| results.iter().find(|(c, p, _)| c == column && *p == peer);
    let mut s = format!(
        "\nMean instructions per inference over {images} test images (QEMU 7.2, the counting plugin), and flash:\n\n"
    );
    let _ = writeln!(s, "| implementation | {} |", columns.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(columns.len()));
    for (peer, name) in &rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match find(*peer, c) {
                Some((_, _, f)) => format!("{} ({:.1} KB)", group(f.mean_instructions), f.flash as f64 / 1024.0),
                None => "–".into(),
            })
            .collect();
        let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
        if peer.is_some_and(|p| PEERS[p].whole) {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| match find(None, c).and_then(|(_, _, f)| f.with_preprocessing.map(|w| (w, f.flash))) {
                    Some((w, flash)) => format!("{} ({:.1} KB)", group(w), flash as f64 / 1024.0),
                    None => "–".into(),
                })
                .collect();
            let _ = writeln!(s, "| {ours_whole} | {} |", cells.join(" | "));
        }
    }
    let _ = writeln!(s, "\nAgreement with the host, image by image (digit and the ten probabilities' bits):\n");
    let _ = writeln!(s, "| implementation | {} |", columns.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(columns.len()));
    for (peer, name) in rows.iter().filter(|(p, _)| p.is_some()) {
        let cells: Vec<String> =
            columns.iter().map(|c| find(*peer, c).map_or("–".into(), |(_, _, f)| f.agreement.describe())).collect();
        let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
    }
    s
}

/// `12345.6` as `12,346`.
fn group(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(6567.4), "6,567");
        assert_eq!(group(172924.0), "172,924");
        assert_eq!(group(999.6), "1,000");
        assert_eq!(group(12.0), "12");
    }

    #[test]
    fn c_arrays_list_every_value() {
        assert_eq!(c_array([1, -2, 3]), "{\n    1, -2, 3,\n}");
    }
}
