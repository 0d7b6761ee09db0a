//! `cargo xtask demo`: the main job, end to end, as a user would type it.
use anyhow::Result;
use host::device::Board;

use crate::shell::{cargo, sh};

#[derive(clap::Args)]
pub struct Args {
    /// Emulated board to run on.
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
    let board = Board::by_name(&args.board)?;
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
    let firmware_dir = host::paths::repo_root().join("firmware");
    let mut build = cargo();
    build.args(["build", "--release", "--target", board.target]).env_remove("TINY_MNIST_WEIGHTS");
    sh(&mut build, Some(&firmware_dir))?;
    crate::firmware::print_footprint(&board, &board.default_firmware())?;
    let device = format!("qemu:{}", board.name);
    sh(host(&["classify", "--device", &device, "--range", &args.range]).args(&data), None)
}
