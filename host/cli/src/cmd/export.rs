//! `tiny-mnist export`
use std::path::PathBuf;

use anyhow::Result;

use crate::cmd::outln;

#[derive(clap::Args)]
pub struct Args {
    /// Weight file to export (default: the built-in models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Destination [default: firmware/model/exported.bin in the checkout, which the firmware build embeds].
    #[arg(short, long, visible_alias = "to")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let output = match args.output {
        Some(path) => path,
        None => board::paths::firmware_model()?,
    };
    trainer::model_file::output_target(&output)?;
    super::check_distinct(&[("--model", args.model.as_deref())], &[("--output", &output)])?;
    let (name, model) = super::load_model(args.model)?;
    eprintln!("{}", super::describe(&name, &model));
    let bytes = trainer::model_file::encode_model(&model)?;
    trainer::model_file::write_atomically(&output, &bytes)?;
    outln!("exported {name} -> {}", output.display());
    outln!("the next firmware build embeds it: cargo xtask firmware --board <board>");
    Ok(())
}
