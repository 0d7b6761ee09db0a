//! `cargo xtask firmware`: build for every board, print the footprint.
use std::path::{Path, PathBuf};

use anyhow::Result;
use board::device::{Board, BOARDS};
use board::firmware_image::{FirmwareImage, Footprint};

#[derive(clap::Args, Default)]
pub struct Args {
    /// Only this board (default: all boards).
    #[arg(long)]
    board: Option<String>,
    /// Weight file to embed (default: firmware/model/exported.bin, else models/default.bin).
    #[arg(long)]
    weights: Option<PathBuf>,
}

/// Flash and static RAM of a firmware image (read by `board::firmware_image`).
pub fn footprint(elf: &Path) -> Result<Footprint> {
    FirmwareImage::read(elf)?.footprint()
}

/// The boards `--board` selects.
pub fn selected(board: Option<&str>) -> Result<Vec<Board>> {
    match board {
        Some(name) => Ok(vec![board::device::board(name)?]),
        None => Ok(BOARDS.to_vec()),
    }
}

/// Prints one board's footprint line.
pub fn print_footprint(board: &Board, elf: &Path) -> Result<()> {
    let f = footprint(elf)?;
    println!(
        "{:<14} {:<22} flash {:>6} B ({:.1} KiB)   static RAM {:>5} B   {}",
        board.name,
        board.target,
        f.flash,
        f.flash as f64 / 1024.0,
        f.ram,
        elf.display()
    );
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    crate::setup::ensure_tools()?;
    let boards = selected(args.board.as_deref())?;
    let mut built = Vec::new();
    for board in &boards {
        eprintln!("building firmware for {} ({})", board.name, board.target);
        built
            .push((board, board::firmware::build(board, args.weights.as_deref(), None, crate::shell::quiet_builds())?));
    }
    println!();
    for (board, elf) in built {
        print_footprint(board, &elf)?;
    }
    Ok(())
}
