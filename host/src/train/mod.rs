//! Training by backpropagation: mini-batch (or full-batch) gradient descent
//! with momentum, reporting progress through a callback.
pub mod backprop;

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use shared::{Weights, HIDDEN, INPUT};

use crate::evaluate::accuracy;
use crate::mnist::Dataset;

/// How to draw the initial weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Init {
    /// Weights and biases uniform in [-0.5, 0.5), like the reference NumPy programs.
    Uniform,
    /// He: weights normal with std sqrt(2 / fan_in), biases zero.
    He,
}

/// Everything that determines a training run (and so its weight file).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Config {
    /// Passes over the training split (full-batch: iterations).
    pub epochs: u32,
    /// Examples per gradient step; the training split size means full batch.
    pub batch_size: usize,
    /// Step size at the first epoch.
    pub learning_rate: f32,
    /// Learning rate multiplier applied after every epoch.
    pub lr_decay: f32,
    /// Classical momentum; 0 is plain gradient descent.
    pub momentum: f32,
    /// Initial weights.
    pub init: Init,
    /// Seeds the split, the initial weights and the shuffling.
    pub seed: u64,
    /// Training images held out for validation.
    pub validation: usize,
}

impl Default for Config {
    /// The default `train`: chosen on the validation split (see README).
    fn default() -> Self {
        Config {
            epochs: 8,
            batch_size: 16,
            learning_rate: 0.1,
            lr_decay: 0.8,
            momentum: 0.0,
            init: Init::He,
            seed: 42,
            validation: 5_000,
        }
    }
}

/// Progress reports; the CLI turns them into a progress bar.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EpochReport {
    /// 1-based epoch (or iteration) number.
    pub epoch: u32,
    /// Mean training loss over the epoch.
    pub loss: f32,
    /// Accuracy on the training examples seen this epoch, as the model was when it saw them.
    pub train_accuracy: f64,
    /// Accuracy on the validation split after the epoch.
    pub validation_accuracy: f64,
    /// Accuracy on the monitor set (the test set), if one was given; never used for decisions.
    pub monitor_accuracy: Option<f64>,
    /// Seconds since training started, excluding evaluation.
    pub train_seconds: f64,
}

/// Why training stopped without a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss became NaN or infinite.
    #[error("training diverged at epoch {epoch}: the loss became {loss}; lower --learning-rate (was {learning_rate})")]
    Diverged {
        /// Epoch at which it happened.
        epoch: u32,
        /// The loss.
        loss: f32,
        /// Learning rate in use.
        learning_rate: f32,
    },
    /// The options cannot work.
    #[error("{0}")]
    BadConfig(String),
}

/// A finished run.
pub struct Trained {
    /// Final weights.
    pub weights: Box<Weights>,
    /// One report per epoch.
    pub history: Vec<EpochReport>,
    /// Accuracy on the validation split at the end.
    pub validation_accuracy: f64,
}

/// Splits `data` with a seeded shuffle into training indices and a
/// validation set (the training images are not copied).
pub fn split(data: &Dataset, validation: usize, seed: u64) -> Result<(Vec<usize>, Dataset), TrainError> {
    if validation >= data.len() {
        return Err(TrainError::BadConfig(format!(
            "--validation {validation} leaves no training images (the training set has {})",
            data.len()
        )));
    }
    let mut order: Vec<usize> = (0..data.len()).collect();
    // A different stream from the one that draws weights, so both stay independent.
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    let train = order.split_off(validation);
    Ok((train, data.select(&order)))
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

/// Training images as lists of their nonzero pixels (about 150 of 784), built
/// once per run so that every pass touches only what contributes.
struct SparseImages {
    pixels: Vec<(u16, u8)>,
    offsets: Vec<usize>,
}

impl SparseImages {
    fn new(data: &Dataset, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * 160);
        let mut offsets = Vec::with_capacity(indices.len() + 1);
        offsets.push(0);
        for image in indices.iter().map(|&i| &data.images[i]) {
            backprop::extend_nonzero_pixels(image, &mut pixels);
            offsets.push(pixels.len());
        }
        SparseImages { pixels, offsets }
    }

    fn image(&self, i: usize) -> &[(u16, u8)] {
        &self.pixels[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// The W1 rows that have a gradient in the current batch: one flag per row,
/// set without branching, scanned once per batch.
struct TouchedRows {
    flag: [bool; INPUT],
}

impl Default for TouchedRows {
    fn default() -> Self {
        TouchedRows { flag: [false; INPUT] }
    }
}

impl TouchedRows {
    fn mark(&mut self, pixels: &[(u16, u8)]) {
        for &(i, _) in pixels {
            if let Some(flag) = self.flag.get_mut(usize::from(i)) {
                *flag = true;
            }
        }
    }

    fn clear(&mut self) {
        self.flag = [false; INPUT];
    }
}

/// `w -= step * g; g = 0` for one tensor row or vector.
fn descend(w: &mut [f32], g: &mut [f32], step: f32) {
    for (w, g) in w.iter_mut().zip(g.iter_mut()) {
        *w -= step * *g;
        *g = 0.0;
    }
}

/// Plain gradient descent: `w -= step * g`, then `g = 0`. W1 rows no image in
/// the batch touched have a zero gradient and are skipped, so a mini-batch
/// step costs what the batch touched, not all 7,960 parameters.
fn sgd_step(weights: &mut Weights, grad: &mut Weights, touched: &mut TouchedRows, step: f32) {
    for ((w, g), &flag) in weights.w1.iter_mut().zip(grad.w1.iter_mut()).zip(&touched.flag) {
        if flag {
            descend(w, g, step);
        }
    }
    touched.clear();
    let [_, b1, w2, b2] = weights.tensors_mut();
    let [_, gb1, gw2, gb2] = grad.tensors_mut();
    for (w, g) in [(b1, gb1), (w2, gw2), (b2, gb2)] {
        descend(w, g, step);
    }
}

/// Classical momentum: `v = mu * v + g; w -= step * v`. Velocity keeps moving
/// rows no image touched, so this updates every parameter.
fn momentum_step(weights: &mut Weights, velocity: &mut Weights, grad: &mut Weights, step: f32, momentum: f32) {
    for ((w, v), g) in weights.tensors_mut().into_iter().zip(velocity.tensors_mut()).zip(grad.tensors_mut()) {
        for ((w, v), g) in w.iter_mut().zip(v.iter_mut()).zip(g.iter_mut()) {
            *v = momentum * *v + *g;
            *w -= step * *v;
            *g = 0.0;
        }
    }
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
    if config.epochs == 0 || config.batch_size == 0 {
        return Err(TrainError::BadConfig("--epochs and --batch-size must be at least 1".into()));
    }
    if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
        return Err(TrainError::BadConfig(format!("--learning-rate must be positive, got {}", config.learning_rate)));
    }
    if !(0.0..1.0).contains(&config.momentum) {
        return Err(TrainError::BadConfig(format!("--momentum must be in [0, 1), got {}", config.momentum)));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut weights = initial_weights(config.init, &mut rng);
    let mut velocity = Box::new(Weights::ZERO);
    let mut grad = Box::new(Weights::ZERO);
    let sparse = SparseImages::new(data, train_indices);
    let labels: Vec<u8> = train_indices.iter().map(|&i| data.labels[i]).collect();
    let mut touched = TouchedRows::default();
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let batch_size = config.batch_size.min(labels.len());
    let full_batch = batch_size == labels.len();
    // Without momentum only the W1 rows a batch touched change; with it, all do.
    let sparse_updates = config.momentum == 0.0;
    let mut learning_rate = config.learning_rate;
    let mut history = Vec::with_capacity(config.epochs as usize);
    let mut train_time = 0.0f64;

    for epoch in 1..=config.epochs {
        let started = Instant::now();
        if !full_batch {
            order.shuffle(&mut rng);
        }
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for batch in order.chunks(batch_size) {
            for &i in batch {
                let pixels = sparse.image(i);
                let (loss, predicted) = backprop::accumulate(&weights, pixels, labels[i], &mut grad);
                loss_sum += f64::from(loss);
                correct += usize::from(predicted == labels[i]);
                if sparse_updates {
                    touched.mark(pixels);
                }
            }
            let step = learning_rate / batch.len() as f32;
            if sparse_updates {
                sgd_step(&mut weights, &mut grad, &mut touched, step);
            } else {
                momentum_step(&mut weights, &mut velocity, &mut grad, step, config.momentum);
            }
        }
        train_time += started.elapsed().as_secs_f64();
        let loss = (loss_sum / labels.len() as f64) as f32;
        if !loss.is_finite() || weights.parameters().any(|p| !p.is_finite()) {
            return Err(TrainError::Diverged { epoch, loss, learning_rate });
        }
        let report = EpochReport {
            epoch,
            loss,
            train_accuracy: correct as f64 / labels.len() as f64,
            validation_accuracy: if validation.is_empty() { 0.0 } else { accuracy(&*weights, validation) },
            monitor_accuracy: monitor.map(|m| accuracy(&*weights, m)),
            train_seconds: train_time,
        };
        on_epoch(&report);
        history.push(report);
        learning_rate *= config.lr_decay;
    }
    let validation_accuracy = history.last().map_or(0.0, |r| r.validation_accuracy);
    Ok(Trained { weights, history, validation_accuracy })
}

#[cfg(test)]
mod tests {
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
        crate::model_file::encode(&t.weights, &shared::weights_file::ModelInfo::default()).expect("encode")
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let data = small_training_set();
        let config = Config { epochs: 2, validation: 500, ..Config::default() };
        let a = run(&config, &data).unwrap();
        let b = run(&config, &data).unwrap();
        assert_eq!(file_bytes(&a), file_bytes(&b));
        let without_time = |t: &Trained| -> Vec<(u32, f32, f64, f64)> {
            t.history.iter().map(|r| (r.epoch, r.loss, r.train_accuracy, r.validation_accuracy)).collect()
        };
        assert_eq!(without_time(&a), without_time(&b));
        let c = run(&Config { seed: 43, ..config }, &data).unwrap();
        assert_ne!(file_bytes(&a), file_bytes(&c));
    }

    #[test]
    fn training_learns() {
        let data = small_training_set();
        let t = run(&Config { epochs: 3, validation: 500, ..Config::default() }, &data).unwrap();
        assert!(t.validation_accuracy > 0.75, "validation accuracy {}", t.validation_accuracy);
        assert!(t.history[2].loss < t.history[0].loss);
    }

    #[test]
    fn full_batch_gradient_descent_works() {
        let data = small_training_set();
        let config = Config {
            epochs: 30,
            batch_size: usize::MAX,
            learning_rate: 0.5,
            momentum: 0.0,
            lr_decay: 1.0,
            init: Init::Uniform,
            validation: 500,
            seed: 1,
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
        assert!(err.to_string().contains("lower --learning-rate"), "{err}");
    }

    #[test]
    fn bad_options_are_errors() {
        let data = small_training_set();
        for config in [
            Config { epochs: 0, ..Config::default() },
            Config { learning_rate: -1.0, ..Config::default() },
            Config { momentum: 1.0, ..Config::default() },
            Config { validation: 5000, ..Config::default() },
        ] {
            assert!(matches!(run(&config, &data), Err(TrainError::BadConfig(_))), "{config:?}");
        }
    }
}
