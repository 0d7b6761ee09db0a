//! `tiny-mnist eval`
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use trainer::evaluate::evaluate;
use trainer::mnist::{Source, Split};

use crate::cmd::{out, outln};

#[derive(clap::Args)]
pub struct Args {
    /// Weight file (default: the built-in models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Directory with IDX files, or a labelled Kaggle-style CSV file (default: the bundled MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Also draw PNG pictures into this directory: confusion matrix, misclassified
    /// test images, hidden units' weights.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write every image's answer to this CSV file: index, label, predicted, correct, p0..p9
    /// (`-`: to standard output, and the report to standard error).
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let to_stdout = args.predictions.as_deref() == Some(std::path::Path::new("-"));
    if to_stdout && args.json {
        return Err(super::usage("--predictions - and --json both want standard output: give --predictions a file"));
    }
    if let Some(out) = args.predictions.as_ref().filter(|_| !to_stdout) {
        trainer::model_file::output_target(out).context("--predictions")?;
        let inputs = [("--model", args.model.as_deref()), ("--data", args.data.as_deref())];
        super::check_distinct(&inputs, &[("--predictions", out)])?;
    }
    if let Some(dir) = &args.plots {
        trainer::model_file::output_dir(dir).context("--plots")?;
    }
    let (name, model) = super::load_model(args.model)?;
    eprintln!("{}", model.describe(&name));
    let test = Source::from_option(args.data).load(Split::Test)?;
    super::warn_if_classes_differ(&model, &test);
    if let (Some(dir), p) = (&args.plots, model.info.preprocessing) {
        if p != shared::input::Preprocessing::None {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join("preprocessing.png");
            crate::plots::preprocessing(&path, &test, p)?;
            eprintln!("wrote {}", path.display());
        }
    }
    // What the network sees: the images after the model's preprocessing.
    let test = test.preprocessed(model.info.preprocessing);
    let e = evaluate(&model.network, &test);
    let names = model.info.classes.names();
    if let Some(dir) = &args.plots {
        for path in crate::plots::model_pictures(dir, &model.network, &test, model.info.classes)? {
            eprintln!("wrote {}", path.display());
        }
    }
    match &args.predictions {
        Some(_) if to_stdout => out!("{}", predictions_csv(&model, &test)),
        Some(out) => {
            trainer::model_file::write_atomically(out, predictions_csv(&model, &test).as_bytes())?;
            eprintln!("wrote {} ({} images)", out.display(), test.len());
        }
        None => {}
    }
    if args.json {
        let json = serde_json::json!({
            "model": name,
            "kind": model.network.kind().name(),
            "checksum": format!("{:08x}", model.checksum),
            "accuracy": e.accuracy(),
            "correct": e.correct,
            "total": e.total,
            "confusion": e.confusion,
            "classes": names,
        });
        outln!("{json}");
        return Ok(());
    }
    // The report, on standard error when the predictions have standard output.
    let mut report = String::new();
    let _ = writeln!(report, "test accuracy {:.2} % ({}/{})", e.accuracy() * 100.0, e.correct, e.total);
    let _ = writeln!(report, "\nconfusion matrix (rows: true class, columns: predicted)");
    let _ = write!(report, "     ");
    for d in 0..10 {
        let _ = write!(report, "{d:>6}");
    }
    let _ = writeln!(report);
    for (truth, row) in e.confusion.iter().enumerate() {
        let _ = write!(report, "{truth:>5}");
        for count in row {
            let _ = write!(report, "{count:>6}");
        }
        let total: u32 = row.iter().sum();
        let recall = if total == 0 { 0.0 } else { f64::from(row[truth]) / f64::from(total) * 100.0 };
        let _ = match model.info.classes {
            shared::Classes::Digits => writeln!(report, "   {recall:5.1} %"),
            shared::Classes::Fashion => writeln!(report, "   {recall:5.1} %  {}", names[truth]),
        };
    }
    if to_stdout {
        eprint!("{report}");
    } else {
        out!("{report}");
    }
    Ok(())
}

/// One CSV line per image: what the model answered, with its probabilities
/// printed exactly (shortest text that reads back as the same f32).
fn predictions_csv(model: &trainer::model_file::Model, test: &trainer::mnist::Dataset) -> String {
    let mut csv = String::from("index,label,predicted,correct");
    for d in 0..shared::OUTPUT {
        let _ = write!(csv, ",p{d}");
    }
    csv.push('\n');
    for (i, (image, &label)) in test.images.iter().zip(&test.labels).enumerate() {
        let p = shared::Classifier::classify(&model.network, image);
        let _ = write!(csv, "{i},{label},{},{}", p.digit, u8::from(p.digit == label));
        for prob in p.probabilities {
            let _ = write!(csv, ",{prob:?}");
        }
        csv.push('\n');
    }
    csv
}
