//! `tiny-mnist export`
use std::path::PathBuf;

use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Weight file to export (default: models/trained.bin if it exists, else models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Destination; the firmware build embeds this file.
    #[arg(long, default_value_os_t = host::paths::firmware_model())]
    to: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let (path, model) = super::load_model(args.model)?;
    let bytes = host::model_file::encode_model(&model)?;
    host::model_file::write_atomically(&args.to, &bytes)?;
    println!("exported {} -> {}", super::describe(&path, &model), args.to.display());
    println!("the next firmware build (cargo xtask firmware) embeds it");
    Ok(())
}
