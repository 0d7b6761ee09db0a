//! `cargo xtask demo`: the main job, end to end, as a user would type it.
use anyhow::Result;

use crate::shell::{cargo, sh};

#[derive(clap::Args)]
pub struct Args {
    /// Board to run on, in its emulator.
    #[arg(long, default_value = "lm3s6965evb")]
    board: String,
    /// Test images to classify on the board, START..END.
    #[arg(long, default_value = "0..10000")]
    range: String,
    /// Train and test on another IDX dataset, e.g. /usr/share/datasets/fashion-mnist
    /// (Debian package dataset-fashion-mnist).
    #[arg(long)]
    data: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let board = board::device::board(&args.board)?;
    crate::setup::ensure_tools()?;
    if args.data.as_deref() == Some(crate::setup::FASHION_MNIST) {
        crate::setup::ensure_fashion_mnist()?;
    }
    let host = |sub: &[&str]| {
        let mut cmd = cargo();
        cmd.args(["run", "--release", "--quiet", "-p", "tiny-mnist", "--"]).args(sub);
        cmd
    };
    let data: Vec<&str> = args.data.iter().flat_map(|d| ["--data", d.as_str()]).collect();
    // The demo's own files: a user's trained.bin, exported.bin and firmware builds stay as they are.
    let dir = board::paths::repo_root().join("target/demo");
    std::fs::create_dir_all(&dir)?;
    let model = dir.join("trained.bin");
    let elf = dir.join(format!("{}.elf", board.name));
    let (model_arg, elf_arg) = (model.to_string_lossy(), elf.to_string_lossy());
    sh(host(&["train", "--output", &model_arg]).args(&data), None)?;
    // What `tiny-mnist export` then `cargo xtask firmware --board <board>` do, with the demo's model.
    eprintln!("building firmware for {} with {}", board.name, model.display());
    board::firmware::build(&board, Some(&model), Some(&elf), crate::shell::quiet_builds())?;
    crate::firmware::print_footprint(&board, &elf)?;
    let device = format!("emu:{}", board.name);
    let classify = ["classify", "--device", &device, "--firmware", &elf_arg, "--model", &model_arg];
    sh(host(&classify).args(["--range", &args.range]).args(&data), None)
}
