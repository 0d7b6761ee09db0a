//! `tiny-mnist predict`
use std::path::PathBuf;

use anyhow::Result;
use pictures::photo::{Found, NotADigit};
use trainer::mnist::{Source, Split};

use crate::cmd::{out, outln};
use crate::render::image_to_text;

#[derive(clap::Args)]
pub struct Args {
    /// Index of a test image (0-9999).
    #[arg(long, group = "input")]
    index: Option<usize>,
    /// A PNG, JPEG or PGM picture of one digit, any size, dark-on-light or light-on-dark;
    /// preprocessed like MNIST (crop, fit 20x20, centre of mass at the centre of 28x28).
    #[arg(long, group = "input")]
    image: Option<PathBuf>,
    /// A 28x28 PGM already in MNIST form (white digit on black), used as is.
    #[arg(long, group = "input")]
    pgm: Option<PathBuf>,
    /// Weight file (default: the built-in models/default.bin).
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
    let (name, model) = super::load_model(args.model)?;
    eprintln!("{}", model.describe(&name));
    let (image, label) = match (args.index, &args.image, &args.pgm) {
        (Some(index), None, None) => {
            let test = Source::from_option(args.data).load(Split::Test)?;
            let picked = super::images::test_images(&test, index..index + 1, &format!("--index {index}"))?;
            super::warn_if_classes_differ(&model, &test);
            (picked.images[0], Some(picked.labels[0]))
        }
        (None, Some(picture), None) => match pictures::photo::load(picture)? {
            Found::Digit(image) => (*image, None),
            Found::NotADigit(why) => return not_a_digit(why, &name, args.json),
        },
        (None, None, Some(pgm)) => (super::images::read_pgm(pgm)?, None),
        _ => return Err(super::usage("give --index N, --image FILE or --pgm FILE")),
    };
    // What the network sees (and the picture shows): the image after the model's preprocessing.
    let image = model.info.preprocessing.apply(&image);
    let p = shared::Classifier::classify(&model.network, &image);
    let classes = model.info.classes;
    if args.json {
        let json = serde_json::json!({
            "digit": p.digit,
            "not_a_digit": null,
            "class": classes.name(p.digit),
            "image": image.to_vec(),
            "probabilities": p.probabilities,
            "label": label,
            "model": name,
        });
        outln!("{json}");
        return Ok(());
    }
    out!("{}", image_to_text(&image));
    match label {
        Some(l) => outln!(
            "predicted {} (label {}{})",
            classes.name(p.digit),
            classes.name(l),
            if l == p.digit { "" } else { ", WRONG" }
        ),
        None => outln!("predicted {}", classes.name(p.digit)),
    }
    let width = classes.names().iter().map(|n| n.len()).max().unwrap_or(1);
    for (d, prob) in p.probabilities.iter().enumerate() {
        let bar = "#".repeat((prob * 40.0).round() as usize);
        outln!("  {:>width$}: {prob:.6} {bar}", classes.name(d as u8));
    }
    Ok(())
}

/// The answer for a picture with no plausible single digit: no digit, and why.
fn not_a_digit(why: NotADigit, model: &str, json: bool) -> Result<()> {
    if json {
        let json = serde_json::json!({
            "digit": null,
            "not_a_digit": { "reason": why.name(), "message": why.to_string() },
            "model": model,
        });
        outln!("{json}");
    } else {
        outln!("not a digit: {why}");
    }
    Ok(())
}
