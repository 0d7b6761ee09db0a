//! `tiny-mnist quantize`
use std::path::PathBuf;

use anyhow::Result;
use host::evaluate::accuracy;
use host::mnist::{Source, Split};
use shared::quantized::quantize;
use shared::weights_file::ModelInfo;

#[derive(clap::Args)]
pub struct Args {
    /// The f32 weight file to quantize (default: models/trained.bin if it exists, else models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Where to write the int8 weight file.
    #[arg(short, long, default_value_os_t = host::paths::repo_root().join("models/trained-int8.bin"))]
    output: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    host::model_file::output_target(&args.output)?;
    let path = host::paths::model_or_default(args.model);
    let (weights, info) = host::model_file::load_f32(&path)?;
    let q = quantize(&weights);
    let test = Source::bundled().load(Split::Test)?;
    let f32_accuracy = accuracy(&*weights, &test);
    let int8_accuracy = accuracy(&q, &test);
    let info = ModelInfo { test_accuracy: int8_accuracy as f32, ..info };
    let bytes = host::model_file::encode_int8(&q, &info)?;
    host::model_file::write_atomically(&args.output, &bytes)?;
    println!(
        "int8 test accuracy {:.2} % (f32 {:.2} %, {:+.2} points), {} bytes -> {}",
        int8_accuracy * 100.0,
        f32_accuracy * 100.0,
        (int8_accuracy - f32_accuracy) * 100.0,
        bytes.len(),
        args.output.display()
    );
    Ok(())
}
