//! `tiny-mnist quantize`
use std::path::PathBuf;

use anyhow::{bail, Result};
use shared::format::weights_file::ModelInfo;
use shared::network::int8::quantize;
use trainer::evaluate::accuracy;
use trainer::mnist::{Source, Split};
use trainer::model_file::Network;

use crate::cmd::outln;

#[derive(clap::Args)]
pub struct Args {
    /// The f32 weight file to quantize (default: the built-in models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Where to write the int8 weight file [default: <model's name>-int8.bin in the current directory].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The test set the int8 file's recorded accuracy is measured on: a directory of IDX
    /// files or a labelled CSV (default: the bundled MNIST; give the model's own dataset).
    #[arg(long)]
    data: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let output = args.output.clone().unwrap_or_else(|| {
        let stem = args.model.as_deref().and_then(|m| m.file_stem()).map_or("default".into(), |s| s.to_string_lossy());
        PathBuf::from(format!("{stem}-int8.bin"))
    });
    trainer::model_file::output_target(&output)?;
    let inputs = [("--model", args.model.as_deref()), ("--data", args.data.as_deref())];
    super::check_distinct(&inputs, &[("--output", &output)])?;
    let (name, model) = super::load_model(args.model)?;
    eprintln!("{}", model.describe(&name));
    let Network::F32(weights) = model.network else {
        bail!("{name} is already an int8 model; quantize the f32 model it came from");
    };
    let test = Source::from_option(args.data.clone()).load(Split::Test)?;
    if model.info.classes != test.classes {
        bail!(
            "the model was trained on {} but the test set is {}; pass --data with the model's own dataset \
             so that the int8 file records its accuracy there",
            model.info.classes,
            test.classes
        );
    }
    let test = test.preprocessed(model.info.preprocessing);
    let q = quantize(&weights);
    let f32_accuracy = accuracy(&*weights, &test);
    let int8_accuracy = accuracy(&q, &test);
    let info = ModelInfo { test_accuracy: int8_accuracy as f32, ..model.info };
    let bytes = trainer::model_file::encode_int8(&q, &info)?;
    trainer::model_file::write_atomically(&output, &bytes)?;
    outln!(
        "int8 test accuracy {:.2} % (f32 {:.2} %, {:+.2} points), {} bytes -> {}",
        int8_accuracy * 100.0,
        f32_accuracy * 100.0,
        (int8_accuracy - f32_accuracy) * 100.0,
        bytes.len(),
        output.display()
    );
    Ok(())
}
