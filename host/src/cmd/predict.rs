//! `host predict`
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use host::mnist::{Source, Split};
use host::render::{image_to_text, parse_pgm};

#[derive(clap::Args)]
pub struct Args {
    /// Index of a test image (0-9999).
    #[arg(long, conflicts_with = "pgm")]
    index: Option<usize>,
    /// A 28x28 PGM image (white digit on black, like MNIST).
    #[arg(long)]
    pgm: Option<PathBuf>,
    /// Weight file (default: models/trained.bin if it exists, else models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Directory with IDX files, or a labelled Kaggle-style CSV file (default: the bundled MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print one JSON object instead of text and picture.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let (path, model) = super::load_model(args.model)?;
    let (image, label) = match (args.index, &args.pgm) {
        (Some(index), None) => {
            let test = Source::from_option(args.data).load(Split::Test)?;
            if index >= test.len() {
                bail!("--index {index} is out of range: the test set has {} images (0-{})", test.len(), test.len() - 1);
            }
            (test.images[index], Some(test.labels[index]))
        }
        (None, Some(pgm)) => {
            let bytes = std::fs::read(pgm).with_context(|| format!("cannot read {}", pgm.display()))?;
            (parse_pgm(&bytes).with_context(|| format!("{}", pgm.display()))?, None)
        }
        _ => bail!("give --index N or --pgm FILE"),
    };
    let p = shared::Classifier::classify(&model.network, &image);
    if args.json {
        let json = serde_json::json!({
            "digit": p.digit,
            "probabilities": p.probabilities,
            "label": label,
            "model": path,
        });
        println!("{json}");
        return Ok(());
    }
    eprintln!("{}", super::describe(&path, &model));
    print!("{}", image_to_text(&image));
    match label {
        Some(l) => println!("predicted {} (label {l}{})", p.digit, if l == p.digit { "" } else { ", WRONG" }),
        None => println!("predicted {}", p.digit),
    }
    for (d, prob) in p.probabilities.iter().enumerate() {
        let bar = "#".repeat((prob * 40.0).round() as usize);
        println!("  {d}: {prob:.6} {bar}");
    }
    Ok(())
}
