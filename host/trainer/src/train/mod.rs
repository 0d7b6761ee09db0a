//! Training by backpropagation: mini-batch (or full-batch) gradient descent,
//! plain or with momentum, or Adam on standardised inputs, reporting progress
//! through a callback.
//!
//! - [`config`]: what determines a run, and which settings cannot work;
//! - [`data`]: the validation split and the nonzero-pixel lists;
//! - `optimizer`: how a batch's gradient becomes a step (the deferred SGD update, momentum);
//! - `adam`: Adam on standardised inputs, and the fold that hides the standardisation;
//! - [`backprop`], [`first_layer`]: the network's backward pass and W1's sums;
//! - [`pixel_lists`]: an image as its nonzero pixels, and the shift augmentation;
//! - here: initial weights and the loop over epochs and batches.
mod adam;
pub mod backprop;
pub mod config;
pub mod data;
pub mod first_layer;
mod optimizer;
pub mod pixel_lists;
pub mod sweep;

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use shared::{Weights, HIDDEN, INPUT};

use adam::AdamState;
pub use config::{Config, ConfigError, Init, Method};
pub use data::split;
use data::{sparse_accuracy, SparseImages};
use optimizer::{Optimizer, SgdState};
pub use sweep::{sweep, Sweep, SweepEvent};

use crate::dataset::Dataset;
use crate::evaluate::accuracy;

/// Progress reports, one per epoch or more (`reports_per_epoch`); the CLI
/// turns them into a progress bar.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EpochReport {
    /// Epochs (or iterations) done: 1, 2, … or, with several reports per
    /// epoch, fractions such as 1.25.
    pub epoch: f64,
    /// Mean training loss so far this epoch.
    pub loss: f32,
    /// Accuracy on the training examples seen so far this epoch, as the model was when it saw them.
    pub train_accuracy: f64,
    /// Accuracy on the validation split at this point; `None` without one (`--validation 0`).
    pub validation_accuracy: Option<f64>,
    /// Accuracy on the monitor set (the test set), if one was given; never used for decisions.
    pub monitor_accuracy: Option<f64>,
    /// Seconds since training started, excluding evaluation.
    pub train_seconds: f64,
}

/// Why training stopped without a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss or a weight became NaN or infinite.
    #[error(
        "training diverged at epoch {epoch}: {}; a smaller learning rate than {learning_rate:e} may help",
        if loss.is_finite() { format!("a weight overflowed to NaN or infinity (mean loss {loss})") } else { format!("the loss became {loss}") }
    )]
    Diverged {
        /// Epoch at which it happened.
        epoch: u32,
        /// The epoch's mean loss (finite when only the weights overflowed).
        loss: f32,
        /// Learning rate in use.
        learning_rate: f32,
    },
    /// A setting cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The worker threads could not start.
    #[error("cannot start {threads} training threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// What the system said.
        reason: String,
    },
}

/// A finished run.
pub struct Trained {
    /// Final weights.
    pub weights: Box<Weights>,
    /// One report per epoch.
    pub history: Vec<EpochReport>,
    /// Accuracy on the validation split at the end; `None` without one.
    pub validation_accuracy: Option<f64>,
}

/// Draws initial weights.
pub fn initial_weights(init: Init, rng: &mut ChaCha8Rng) -> Box<Weights> {
    let mut w = Box::new(Weights::ZERO);
    match init {
        Init::Uniform => {
            for p in w.parameters_mut() {
                *p = rng.gen::<f32>() - 0.5;
            }
        }
        Init::He => {
            let n1 = Normal::new(0.0f32, (2.0 / INPUT as f32).sqrt()).expect("valid std");
            let n2 = Normal::new(0.0f32, (2.0 / HIDDEN as f32).sqrt()).expect("valid std");
            w.w1.iter_mut().flatten().for_each(|p| *p = n1.sample(rng));
            w.w2.iter_mut().flatten().for_each(|p| *p = n2.sample(rng));
        }
    }
    w
}

/// Trains on the examples of `data` at `train_indices`, validating on
/// `validation` after each epoch.
pub fn train(
    config: &Config,
    data: &Dataset,
    train_indices: &[usize],
    validation: &Dataset,
    monitor: Option<&Dataset>,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<Trained, TrainError> {
    config.validate()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| TrainError::Threads { threads: config.threads, reason: e.to_string() })?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut weights = initial_weights(config.init, &mut rng);
    let mut sparse = pool.install(|| SparseImages::new(data, train_indices));
    let validation_sparse = pool.install(|| SparseImages::new(validation, &(0..validation.len()).collect::<Vec<_>>()));
    let labels: Vec<u8> = train_indices.iter().map(|&i| data.labels[i]).collect();
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let batch_size = config.batch_size.map_or(labels.len(), |n| n.get().min(labels.len()));
    let full_batch = batch_size == labels.len();
    let mut optimizer = if config.method == Method::Adam {
        Optimizer::Adam(Box::new(AdamState::new(&mut weights, &sparse, labels.len(), config.weight_decay)))
    } else if config.momentum == 0.0 {
        Optimizer::Sgd(SgdState::new(config.weight_decay))
    } else {
        Optimizer::Momentum {
            velocity: Box::new(Weights::ZERO),
            grad_w1: Box::new([[0.0; HIDDEN]; INPUT]),
            tail: Box::default(),
            momentum: config.momentum,
        }
    };
    let mut learning_rate = config.learning_rate;
    let mut history = Vec::new();
    let mut train_time = 0.0f64;

    let batches = labels.len().div_ceil(batch_size);
    let reports = (config.reports_per_epoch as usize).clamp(1, batches);

    for epoch in 1..=config.epochs {
        if !full_batch {
            order.shuffle(&mut rng);
        }
        if config.max_shift > 0 {
            let started = Instant::now();
            let m = config.max_shift as i8;
            let shifts: Vec<(i8, i8)> =
                (0..labels.len()).map(|_| (rng.gen_range(-m..=m), rng.gen_range(-m..=m))).collect();
            sparse = pool.install(|| SparseImages::shifted(data, train_indices, &shifts));
            train_time += started.elapsed().as_secs_f64();
        }
        let (mut loss_sum, mut correct, mut seen, mut done) = (0.0f64, 0usize, 0usize, 0usize);
        for part in 1..=reports {
            let started = Instant::now();
            let until = batches * part / reports;
            pool.install(|| {
                let mut batches = order.chunks(batch_size).take(until).skip(done).peekable();
                while let Some(batch) = batches.next() {
                    let next = batches.peek().copied().unwrap_or_default();
                    let (l, c) = optimizer.batch(&mut weights, &sparse, &labels, batch, next, learning_rate);
                    loss_sum += l;
                    correct += c;
                    seen += batch.len();
                }
                optimizer.finish(&mut weights, &sparse);
            });
            done = until;
            train_time += started.elapsed().as_secs_f64();
            let loss = (loss_sum / seen as f64) as f32;
            if !loss.is_finite() || weights.parameters().any(|p| !p.is_finite()) {
                return Err(TrainError::Diverged { epoch, loss, learning_rate });
            }
            // On the training threads: a second pool's idle workers would spin against them.
            let (validation_accuracy, monitor_accuracy) = pool.install(|| {
                let v =
                    (!validation.is_empty()).then(|| sparse_accuracy(&weights, &validation_sparse, &validation.labels));
                (v, monitor.map(|m| accuracy(&*weights, m)))
            });
            let report = EpochReport {
                epoch: f64::from(epoch - 1) + part as f64 / reports as f64,
                loss,
                train_accuracy: correct as f64 / seen as f64,
                validation_accuracy,
                monitor_accuracy,
                train_seconds: train_time,
            };
            on_epoch(&report);
            history.push(report);
        }
        learning_rate *= config.lr_decay;
    }
    let validation_accuracy = history.last().and_then(|r| r.validation_accuracy);
    Ok(Trained { weights, history, validation_accuracy })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::backprop::TailGrad;
    use super::*;
    use crate::mnist::{Source, Split};

    fn small_training_set() -> Dataset {
        let all = Source::bundled().load(Split::Test).expect("bundled MNIST");
        all.select(&(0..3000).collect::<Vec<_>>())
    }

    fn run(config: &Config, data: &Dataset) -> Result<Trained, TrainError> {
        let (train_indices, validation) = split(data, config.validation, config.seed)?;
        train(config, data, &train_indices, &validation, None, &mut |_| {})
    }

    fn file_bytes(t: &Trained) -> Vec<u8> {
        crate::model_file::encode(&t.weights, &shared::format::weights_file::ModelInfo::default()).expect("encode")
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let data = small_training_set();
        let config = Config { epochs: 2, validation: 500, ..Config::default() };
        let a = run(&config, &data).unwrap();
        let b = run(&config, &data).unwrap();
        assert_eq!(file_bytes(&a), file_bytes(&b));
        let without_time = |t: &Trained| -> Vec<(f64, f32, f64, Option<f64>)> {
            t.history.iter().map(|r| (r.epoch, r.loss, r.train_accuracy, r.validation_accuracy)).collect()
        };
        assert_eq!(without_time(&a), without_time(&b));
        let c = run(&Config { seed: 43, ..config }, &data).unwrap();
        assert_ne!(file_bytes(&a), file_bytes(&c));
    }

    #[test]
    fn thread_count_does_not_change_a_bit() {
        let data = small_training_set();
        // An odd batch size leaves a one-image batch at the end of each epoch.
        let config =
            Config { epochs: 2, validation: 500, batch_size: NonZeroUsize::new(15), threads: 1, ..Config::default() };
        let one = file_bytes(&run(&config, &data).unwrap());
        for threads in [2, 3] {
            assert_eq!(
                file_bytes(&run(&Config { threads, ..config.clone() }, &data).unwrap()),
                one,
                "{threads} threads"
            );
        }
    }

    /// The split, replayed SGD step against the textbook one: form the whole
    /// batch gradient, then `w -= lr / n * g` (equal up to rounding).
    #[test]
    fn sgd_step_matches_the_batch_gradient() {
        let data = small_training_set();
        let indices: Vec<usize> = (0..40).collect();
        let sparse = SparseImages::new(&data, &indices);
        let labels: Vec<u8> = indices.iter().map(|&i| data.labels[i]).collect();
        let before = initial_weights(Init::He, &mut ChaCha8Rng::seed_from_u64(3));
        let batch: Vec<usize> = (0..40).rev().collect();
        let learning_rate = 0.5;

        let mut after = before.clone();
        let mut optimizer = Optimizer::Sgd(SgdState::new(0.0));
        let (loss, _) = optimizer.batch(&mut after, &sparse, &labels, &batch, &[], learning_rate);
        optimizer.finish(&mut after, &sparse);

        let reference = before.clone();
        let (mut grad_w1, mut tail, mut reference_loss) =
            (Box::new([[0.0f32; HIDDEN]; INPUT]), TailGrad::default(), 0.0f64);
        for &i in &batch {
            reference_loss +=
                f64::from(backprop::accumulate(&reference, sparse.image(i), labels[i], &mut grad_w1, &mut tail).0);
        }
        let grad = Weights { w1: *grad_w1, b1: tail.b1, w2: tail.w2, b2: tail.b2 };
        let step = learning_rate / batch.len() as f32;
        let mut changed = 0;
        for ((w0, w1), g) in before.parameters().zip(after.parameters()).zip(grad.parameters()) {
            let expected = w0 - step * g;
            assert!((w1 - expected).abs() <= 1e-6 * (1.0 + expected.abs()), "{w1} vs {expected}");
            changed += usize::from(w1 != w0);
        }
        assert!(changed > 1000, "only {changed} parameters moved");
        assert!((loss - reference_loss).abs() < 1e-9 * reference_loss, "{loss} vs {reference_loss}");
    }

    #[test]
    fn augmentation_and_weight_decay_are_deterministic_and_change_the_model() {
        let data = small_training_set();
        let plain = Config { epochs: 2, validation: 500, ..Config::default() };
        let plain_bytes = file_bytes(&run(&plain, &data).unwrap());
        for config in [Config { max_shift: 1, ..plain.clone() }, Config { weight_decay: 1e-3, ..plain.clone() }] {
            let a = run(&config, &data).unwrap();
            assert_eq!(file_bytes(&a), file_bytes(&run(&config, &data).unwrap()), "{config:?}");
            assert_ne!(file_bytes(&a), plain_bytes, "{config:?}");
            assert!(a.validation_accuracy > Some(0.75), "{config:?}: {:?}", a.validation_accuracy);
        }
    }

    #[test]
    fn adam_learns_deterministically_and_differs_from_sgd() {
        let data = small_training_set();
        let sgd = Config { epochs: 2, validation: 500, ..Config::default() };
        let adam = Config { method: Method::Adam, learning_rate: 2e-3, weight_decay: 1e-3, ..sgd.clone() };
        let a = run(&adam, &data).unwrap();
        assert_eq!(file_bytes(&a), file_bytes(&run(&adam, &data).unwrap()));
        assert_ne!(file_bytes(&a), file_bytes(&run(&sgd, &data).unwrap()));
        assert!(a.validation_accuracy > Some(0.8), "{:?}", a.validation_accuracy);
        assert!(a.history[1].loss < a.history[0].loss);
        let momentum = Config { momentum: 0.9, ..adam };
        assert!(matches!(run(&momentum, &data), Err(TrainError::Config(ConfigError::MomentumWithAdam))));
    }

    #[test]
    fn sparse_accuracy_is_evaluate_accuracy() {
        let data = small_training_set();
        let all: Vec<usize> = (0..data.len()).collect();
        let sparse = SparseImages::new(&data, &all);
        for seed in 0..3 {
            let weights = initial_weights(Init::He, &mut ChaCha8Rng::seed_from_u64(seed));
            assert_eq!(sparse_accuracy(&weights, &sparse, &data.labels), accuracy(&*weights, &data));
        }
        let trained = run(&Config { epochs: 1, validation: 500, ..Config::default() }, &data).unwrap();
        assert_eq!(sparse_accuracy(&trained.weights, &sparse, &data.labels), accuracy(&*trained.weights, &data));
    }

    #[test]
    fn training_learns() {
        let data = small_training_set();
        let t = run(&Config { epochs: 3, validation: 500, ..Config::default() }, &data).unwrap();
        assert!(t.validation_accuracy > Some(0.75), "validation accuracy {:?}", t.validation_accuracy);
        assert!(t.history[2].loss < t.history[0].loss);
    }

    #[test]
    fn full_batch_gradient_descent_works() {
        let data = small_training_set();
        let config = Config {
            epochs: 30,
            batch_size: None,
            learning_rate: 0.5,
            momentum: 0.0,
            lr_decay: 1.0,
            init: Init::Uniform,
            validation: 500,
            seed: 1,
            reports_per_epoch: 1,
            threads: 2,
            ..Config::default()
        };
        let t = run(&config, &data).unwrap();
        assert!(t.history.last().unwrap().loss < t.history[0].loss);
    }

    #[test]
    fn divergence_is_an_error_not_a_model() {
        let data = small_training_set();
        let config = Config { epochs: 3, learning_rate: 1e30, validation: 500, ..Config::default() };
        let err = run(&config, &data).err().expect("must diverge");
        assert!(matches!(err, TrainError::Diverged { .. }), "{err}");
        assert!(err.to_string().contains("smaller learning rate"), "{err}");
    }

    #[test]
    fn bad_options_are_errors() {
        let data = small_training_set();
        for config in [
            Config { epochs: 0, ..Config::default() },
            Config { learning_rate: -1.0, ..Config::default() },
            Config { momentum: 1.0, ..Config::default() },
            Config { threads: 0, ..Config::default() },
            Config { max_shift: 9, ..Config::default() },
            Config { weight_decay: -1.0, ..Config::default() },
            Config { weight_decay: 1e-4, momentum: 0.9, ..Config::default() },
        ] {
            assert!(matches!(run(&config, &data), Err(TrainError::Config(_))), "{config:?}");
            assert!(config.validate().is_err(), "{config:?}");
        }
        let all_held_out = Config { validation: 5000, ..Config::default() };
        let err = split(&data, all_held_out.validation, 1).unwrap_err();
        assert_eq!(err, ConfigError::NoTrainingImages { validation: 5000, total: 3000 });
    }
}
