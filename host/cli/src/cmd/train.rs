//! `tiny-mnist train`
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::ValueEnum;
use shared::format::weights_file::ModelInfo;
use trainer::mnist::{Source, Split};
use trainer::train::{self, Config, ConfigError, EpochReport, Init, Method, Sweep, SweepEvent, TrainError};

use crate::cmd::outln;

/// Starting points for the options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// Mini-batch SGD (batch 16, lr 0.1 decaying 0.8 per epoch, 8 epochs), He init: the default.
    Default,
    /// The best accuracy of this fixed network: Adam on standardised inputs,
    /// batch 64, lr 8e-3 decaying 0.9 per epoch, L2 5e-4, 40 epochs, chosen on
    /// the validation split (paired over 15 seeds); then trained on all 60,000
    /// images, none held out (docs/accuracy.md)
    Best,
    /// The reference NumPy programs: uniform init, full-batch gradient descent,
    /// 500 iterations, learning rates 0.1, 0.5 and 1.0, best kept by a 1,000-image hold-out.
    Seed,
}

/// `--init`: the trainer's `Init`, spelled for the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// Weights and biases uniform in [-0.5, 0.5), like the reference NumPy programs.
    Uniform,
    /// He: weights normal with std sqrt(2 / fan_in), biases zero.
    He,
}

/// `--optimizer`: the trainer's `Method`, spelled for the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    /// Stochastic gradient descent (with --momentum, classical momentum).
    Sgd,
    /// Adam on standardised inputs; --weight-decay is its L2 penalty.
    Adam,
}

impl From<OptimizerArg> for Method {
    fn from(optimizer: OptimizerArg) -> Method {
        match optimizer {
            OptimizerArg::Sgd => Method::Sgd,
            OptimizerArg::Adam => Method::Adam,
        }
    }
}

impl From<InitArg> for Init {
    fn from(init: InitArg) -> Init {
        match init {
            InitArg::Uniform => Init::Uniform,
            InitArg::He => Init::He,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the weight file.
    #[arg(short, long, default_value = "trained.bin")]
    output: PathBuf,
    /// Starting configuration; the options below override it.
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    preset: Preset,
    /// Passes over the training split (iterations when full-batch).
    #[arg(long)]
    epochs: Option<u32>,
    /// Examples per step; 0 means the whole training split (full batch).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Step size (for --preset seed: try only this one).
    #[arg(long, allow_negative_numbers = true)]
    learning_rate: Option<f32>,
    /// Multiply the learning rate by this after every epoch.
    #[arg(long, allow_negative_numbers = true)]
    lr_decay: Option<f32>,

    /// Augment: move each training image by a random 0..=N pixels in each direction, anew each epoch
    #[arg(long, value_name = "N")]
    max_shift: Option<u8>,

    /// L2 weight decay on the weights (not the biases), with plain SGD
    #[arg(long, allow_negative_numbers = true)]
    weight_decay: Option<f32>,
    /// Classical momentum in [0, 1) for SGD; 0 is plain gradient descent.
    #[arg(long, allow_negative_numbers = true)]
    momentum: Option<f32>,
    /// sgd, or adam: Adam on standardised inputs, folded back into the first layer
    /// (the weight file and the device are as with SGD) [default: the preset's].
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerArg>,
    /// Initial weights.
    #[arg(long, value_enum)]
    init: Option<InitArg>,
    /// What to do to every image before the network (recorded in the weight file, so every
    /// command and the firmware do the same): none; deskew (deskew, size-normalise, centre);
    /// or strokes (the deskewed image's edges in 16 directions over 7x7 cells) [default: strokes].
    #[arg(long, value_name = "none|deskew|strokes", value_parser = parse_preprocessing)]
    preprocess: Option<shared::input::Preprocessing>,
    /// Random seed: same options and seed give a byte-identical weight file.
    #[arg(long)]
    seed: Option<u64>,
    /// Training images held out for validation.
    #[arg(long)]
    validation: Option<usize>,
    /// Directory with IDX files, or a Kaggle "digit recognizer" CSV (default: the bundled, checksum-verified MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    /// What the ten labels mean, stored in the weight file so tools can name predictions
    /// [default: fashion for Fashion-MNIST's files (recognised by content), else digits].
    #[arg(long, value_name = "digits|fashion")]
    classes: Option<shared::Classes>,
    /// Draw PNG pictures into this directory: learning curves (turns on --monitor-test),
    /// confusion matrix, misclassified test images, hidden units' weights.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Write a JSON summary here.
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Also measure test accuracy after every epoch, for learning curves and
    /// benchmarks; it is reported only, never used to choose anything.
    #[arg(long)]
    monitor_test: bool,

    /// Evaluate (validation, and test with --monitor-test) this many times per epoch, for finer
    /// learning curves and time-to-accuracy measurements; the weights do not change
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    reports_per_epoch: u32,

    /// Threads for training [default: 2, or 1 on a one-core machine]; the weight file is the
    /// same for any number. The work splits in two, so more than 2 does not help.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

impl Args {
    fn config(&self) -> (Config, Vec<f32>) {
        let base = match self.preset {
            Preset::Default => Config::default(),
            Preset::Best => Config::best(),
            Preset::Seed => Config::reference(),
        };
        let config = Config {
            epochs: self.epochs.unwrap_or(base.epochs),
            // 0 is the command line's way of saying "the whole training split".
            batch_size: self.batch_size.map_or(base.batch_size, std::num::NonZeroUsize::new),
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            lr_decay: self.lr_decay.unwrap_or(base.lr_decay),
            method: self.optimizer.map_or(base.method, Method::from),
            momentum: self.momentum.unwrap_or(base.momentum),
            weight_decay: self.weight_decay.unwrap_or(base.weight_decay),
            max_shift: self.max_shift.unwrap_or(base.max_shift),
            init: self.init.map_or(base.init, Init::from),
            seed: self.seed.unwrap_or(base.seed),
            validation: self.validation.unwrap_or(base.validation),
            reports_per_epoch: self.reports_per_epoch,
            threads: self.threads.map_or(base.threads, usize::from),
        };
        let rates = match (self.preset, self.learning_rate) {
            (Preset::Seed, None) => Config::REFERENCE_RATES.to_vec(),
            _ => vec![config.learning_rate],
        };
        (config, rates)
    }
}

#[derive(serde::Serialize)]
struct Metrics<'a> {
    test_accuracy: f64,
    /// `None` (JSON `null`) with no validation split (`--validation 0`).
    validation_accuracy: Option<f64>,
    /// Training only: no data loading, no evaluation, no file writing.
    train_seconds: f64,
    load_seconds: f64,
    training_images: usize,
    /// Peak resident memory of this process (Linux), in MiB.
    peak_rss_mib: Option<f64>,
    epochs: u32,
    config: &'a Config,
    tried_learning_rates: Vec<(f32, Option<f64>)>,
    history: &'a [EpochReport],
}

pub fn run(args: Args) -> Result<()> {
    let (mut config, rates) = args.config();
    // Settings and outputs that cannot work fail before anything is loaded.
    config.validate().map_err(|e| flag_error(e, &args))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if config.threads > cores {
        eprintln!("note: --threads {} is more than this machine's {cores} cores; using {cores}", config.threads);
        config.threads = cores;
    }
    trainer::model_file::output_target(&args.output)?;
    if let Some(metrics) = &args.metrics {
        trainer::model_file::output_target(metrics).context("--metrics")?;
    }
    if let Some(dir) = &args.plots {
        trainer::model_file::output_dir(dir).context("--plots")?;
    }
    let outputs: Vec<(&str, &std::path::Path)> = std::iter::once(("--output", args.output.as_path()))
        .chain(args.metrics.as_deref().map(|m| ("--metrics", m)))
        .collect();
    super::check_distinct(&[("--data", args.data.as_deref())], &outputs)?;
    let source = Source::from_option(args.data.clone());
    let load_started = Instant::now();
    let test_source = source.test_source();
    if source.is_csv() {
        eprintln!("training on {}; testing on the bundled MNIST test set", source.name());
    }
    let (all, test) = std::thread::scope(|s| {
        let test = s.spawn(|| test_source.load(Split::Test));
        let all = source.load(Split::Train);
        (all, test.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    let (all, test) = (all?, test?);
    let preprocessing =
        args.preprocess.unwrap_or_else(|| train::config::default_preprocessing(args.classes.unwrap_or(all.classes)));
    let (all, test) = (all.preprocessed(preprocessing), test.preprocessed(preprocessing));
    let load_seconds = load_started.elapsed().as_secs_f64();
    let (train_indices, validation) =
        train::split(&all, config.validation, config.seed).map_err(|e| flag_error(e, &args))?;
    let has_validation = !validation.is_empty();
    if rates.len() > 1 && !has_validation {
        return Err(super::usage(
            "--preset seed picks its learning rate on the validation split; --validation 0 leaves none",
        ));
    }
    if has_validation {
        eprintln!(
            "training on {} images, validating on {}, testing on {}",
            train_indices.len(),
            validation.len(),
            test.len()
        );
    } else {
        eprintln!("training on all {} images (no validation split), testing on {}", train_indices.len(), test.len());
    }
    // "validation 93.10 %", or nothing without a validation split.
    let validation_text =
        |accuracy: Option<f64>| accuracy.map_or(String::new(), |a| format!("validation {:.2} %", a * 100.0));

    let monitor = (args.monitor_test || args.plots.is_some()).then_some(&test);
    let lines = crate::progress::style() == crate::progress::Style::Lines;
    let mut bar = indicatif::ProgressBar::hidden();
    let swept = train::sweep(&config, &rates, &all, &train_indices, &validation, monitor, &mut |event| match event {
        SweepEvent::Starting { rate } => {
            bar = crate::progress::bar(u64::from(config.epochs), "epoch {pos}/{len} {bar:30} {msg}");
            if rates.len() > 1 {
                bar.println(format!("learning rate {rate}"));
            }
        }
        SweepEvent::Epoch(r) => {
            let message = format!(
                "loss {:.4}  train {:.2} %  {}",
                r.loss,
                r.train_accuracy * 100.0,
                validation_text(r.validation_accuracy)
            );
            if lines {
                eprintln!("epoch {:.2}/{}: {message}", r.epoch, config.epochs);
            }
            bar.set_position(r.epoch.floor() as u64);
            bar.set_message(message);
        }
        SweepEvent::Finished { rate, validation_accuracy } => {
            bar.finish_and_clear();
            if let Some(accuracy) = validation_accuracy {
                eprintln!(
                    "learning rate {rate}: validation accuracy {:.2} % after {} epochs",
                    accuracy * 100.0,
                    config.epochs
                );
            }
        }
    });
    bar.finish_and_clear();
    let Sweep { rate, trained, tried, train_seconds } = swept.map_err(|e| match e {
        TrainError::Config(e) => flag_error(e, &args),
        other => other.into(),
    })?;
    config.learning_rate = rate;

    refuse_chance_level(&trained, rate, &args)?;
    let test_accuracy = trainer::evaluate::accuracy(&*trained.weights, &test);
    let info = ModelInfo {
        seed: config.seed,
        epochs: config.epochs,
        validation_accuracy: trained.validation_accuracy.unwrap_or(0.0) as f32,
        test_accuracy: test_accuracy as f32,
        classes: args.classes.unwrap_or(all.classes),
        preprocessing,
    };
    trainer::model_file::save(&args.output, &trained.weights, &info)?;
    let validation_part = trained
        .validation_accuracy
        .map_or("no validation split".to_string(), |a| format!("validation accuracy {:.2} %", a * 100.0));
    outln!(
        "{validation_part}, test accuracy {:.2} % (learning rate {rate}, {train_seconds:.2} s) -> {}",
        test_accuracy * 100.0,
        args.output.display()
    );
    if let Some(dir) = &args.plots {
        let network = trainer::model_file::Network::F32(trained.weights.clone());
        let mut written = crate::plots::model_pictures(dir, &network, &test, info.classes)?;
        let curves = dir.join("learning_curves.png");
        crate::plots::learning_curves(&curves, &trained.history)?;
        written.insert(0, curves);
        for path in written {
            eprintln!("wrote {}", path.display());
        }
    }
    if let Some(path) = &args.metrics {
        let metrics = Metrics {
            test_accuracy,
            validation_accuracy: trained.validation_accuracy,
            train_seconds,
            load_seconds,
            training_images: train_indices.len(),
            peak_rss_mib: peak_rss_mib(),
            epochs: config.epochs,
            config: &config,
            tried_learning_rates: tried,
            history: &trained.history,
        };
        let json = serde_json::to_vec_pretty(&metrics)?;
        trainer::model_file::write_atomically(path, &json).context("cannot write --metrics file")?;
    }
    Ok(())
}

/// A model no better than guessing is not written: it would only mislead.
/// Judged on validation (training accuracy without a split), never on test.
fn refuse_chance_level(trained: &train::Trained, rate: f32, args: &Args) -> Result<()> {
    let (accuracy, on) = match trained.validation_accuracy {
        Some(a) => (a, "validation"),
        None => (trained.history.last().map_or(0.0, |r| r.train_accuracy), "training"),
    };
    // Ten classes: chance is 10 %; 20 % leaves room for a model that always answers the commonest class.
    if accuracy < 0.2 {
        anyhow::bail!(
            "training failed: {on} accuracy {:.2} % is no better than guessing (10 %), so {} was not written; \
             the learning rate {rate} is probably too large, try a smaller --learning-rate",
            accuracy * 100.0,
            args.output.display()
        );
    }
    Ok(())
}

/// A setting the trainer refuses, said in terms of the flag that set it.
fn flag_error(e: ConfigError, args: &Args) -> anyhow::Error {
    let message = match &e {
        ConfigError::NoEpochs => "--epochs must be at least 1".to_string(),
        ConfigError::NoThreads => "--threads must be at least 1".to_string(),
        ConfigError::LearningRate(rate) => format!("--learning-rate must be positive and finite, got {rate}"),
        ConfigError::Momentum(m) => format!("--momentum must be in [0, 1), got {m}"),
        ConfigError::WeightDecay { found, limit } => {
            format!("--weight-decay must be at least 0 and below 1 / --learning-rate ({limit}), got {found}")
        }
        ConfigError::WeightDecayWithMomentum => "--weight-decay does not work with --momentum".to_string(),
        ConfigError::MomentumWithAdam => "--momentum is for --optimizer sgd; Adam keeps its own".to_string(),
        ConfigError::MaxShift(n) => format!("--max-shift must be at most {} pixels, got {n}", train::config::MAX_SHIFT),
        ConfigError::NoTrainingImages { validation, total } if args.validation.is_some() => {
            format!("--validation {validation} leaves no training images (the training set has {total})")
        }
        ConfigError::NoTrainingImages { validation, total } => format!(
            "the training set has {total} images, and --preset {} holds out {validation} for validation; \
             pass a smaller --validation (0 for none)",
            args.preset.to_possible_value().map_or_else(String::new, |v| v.get_name().to_owned())
        ),
    };
    super::usage(message)
}

/// `--preprocess`'s values.
fn parse_preprocessing(s: &str) -> Result<shared::input::Preprocessing, String> {
    use shared::input::Preprocessing;
    Preprocessing::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
        let names: Vec<&str> = Preprocessing::ALL.iter().map(|p| p.name()).collect();
        format!("{s:?} is not one of: {}", names.join(", "))
    })
}

/// VmHWM from /proc/self/status: the most memory this process ever held.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
