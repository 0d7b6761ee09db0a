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
    eprintln!("step 1 of 4: the tools {} needs (its Rust target, its emulator)", board.name);
    crate::setup::ensure_tools_for(&board)?;
    if args.data.as_deref() == Some(crate::setup::FASHION_MNIST) {
        crate::setup::ensure_fashion_mnist()?;
    }
    let host = |sub: &[&str]| {
        let mut cmd = cargo();
        // cargo's own progress stays visible: the first run compiles for a few minutes.
        cmd.args(["run", "--release", "-p", "tiny-mnist", "--"]).args(sub);
        cmd
    };
    let data: Vec<&str> = args.data.iter().flat_map(|d| ["--data", d.as_str()]).collect();
    // The demo's own files: a user's trained.bin, exported.bin and firmware builds stay as they are.
    let dir = board::paths::repo_root().join("target/demo");
    std::fs::create_dir_all(&dir)?;
    let model = dir.join("trained.bin");
    let elf = dir.join(format!("{}.elf", board.name));
    let (model_arg, elf_arg) = (model.to_string_lossy(), elf.to_string_lossy());
    eprintln!("step 2 of 4: train a model (the first run compiles the CLI first)");
    sh(host(&["train", "--output", &model_arg]).args(&data), None)?;
    // What `tiny-mnist export` then `cargo xtask firmware --board <board>` do, with the demo's model.
    eprintln!("step 3 of 4: build the firmware for {} with {}", board.name, model.display());
    board::firmware::build(&board, Some(&model), Some(&elf), false)?;
    crate::firmware::print_footprint(&board, &elf)?;
    let device = format!("emu:{}", board.name);
    let classify = ["classify", "--device", &device, "--firmware", &elf_arg, "--model", &model_arg];
    eprintln!(
        "step 4 of 4: classify test images {} on the emulated {} and compare with the host",
        args.range, board.name
    );
    sh(host(&classify).args(["--range", &args.range]).args(&data), None)
}
