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
    let board = host::device::board(&args.board)?;
    crate::setup::ensure_tools()?;
    if args.data.as_deref() == Some(crate::setup::FASHION_MNIST) {
        crate::setup::ensure_fashion_mnist()?;
    }
    let host = |sub: &[&str]| {
        let mut cmd = cargo();
        cmd.args(["run", "--release", "--quiet", "-p", "host", "--"]).args(sub);
        cmd
    };
    let data: Vec<&str> = args.data.iter().flat_map(|d| ["--data", d.as_str()]).collect();
    sh(host(&["train"]).args(&data), None)?;
    sh(&mut host(&["export"]), None)?;
    // What `cargo xtask firmware --board <board>` does: the exported model, embedded.
    let elf = host::firmware::build(&board, None, None)?;
    crate::firmware::print_footprint(&board, &elf)?;
    let device = format!("emu:{}", board.name);
    sh(host(&["classify", "--device", &device, "--range", &args.range]).args(&data), None)
}
