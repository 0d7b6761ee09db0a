//! `tiny-mnist export`: the weight file where the firmware build reads it, or
//! (`--c DIR`) the model as a C99 library for any microcontroller.
use std::path::{Path, PathBuf};

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
    /// Write the model as a C library into this directory instead (made if missing):
    /// tiny_mnist.h, tiny_mnist.c, tiny_mnist_weights.c and a README with an example.
    #[arg(long = "c", value_name = "DIR", conflicts_with = "output")]
    c_library: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(dir) = &args.c_library {
        return c_library(args.model, dir);
    }
    let output = match args.output {
        Some(path) => path,
        None => board::paths::firmware_model()?,
    };
    trainer::model_file::output_target(&output)?;
    super::check_distinct(&[("--model", args.model.as_deref())], &[("--output", &output)])?;
    let (name, model) = super::load_model(args.model)?;
    eprintln!("{}", model.describe(&name));
    let bytes = trainer::model_file::encode_model(&model)?;
    trainer::model_file::write_atomically(&output, &bytes)?;
    outln!("exported {name} -> {}", output.display());
    outln!("the next firmware build embeds it: cargo xtask firmware --board <board>");
    Ok(())
}

/// `--c DIR`: the library's files, each checked like any output before any work.
fn c_library(model: Option<PathBuf>, dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(super::usage(format!("--c {} is not a directory", dir.display())));
    }
    let files: Vec<PathBuf> = c_export::FILES.iter().map(|f| dir.join(f)).collect();
    for file in &files {
        if file.exists() {
            trainer::model_file::output_target(file)?;
        }
    }
    let outputs: Vec<(&str, &Path)> = files.iter().map(|f| ("--c", f.as_path())).collect();
    super::check_distinct(&[("--model", model.as_deref())], &outputs)?;
    let (name, model) = super::load_model(model)?;
    eprintln!("{}", model.describe(&name));
    for path in c_export::write(&model, &name, dir)? {
        outln!("wrote {}", path.display());
    }
    let at = |file: &str| dir.join(file).display().to_string();
    outln!(
        "build: cc -std=c99 -O2 -ffp-contract=off -I {} your.c {} {} (see {})",
        dir.display(),
        at("tiny_mnist.c"),
        at("tiny_mnist_weights.c"),
        at("README.md")
    );
    Ok(())
}
