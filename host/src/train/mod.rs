//! Training by backpropagation: mini-batch (or full-batch) gradient descent
//! with momentum, reporting progress through a callback.
pub mod backprop;
pub mod first_layer;

use std::time::Instant;

use backprop::TailGrad;
use first_layer::{Nonzero, Row};
use multiversion::multiversion;
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
    /// Data augmentation: each epoch, every training image is moved by a
    /// random whole number of pixels, up to this many, in each direction.
    pub max_shift: u8,
    /// L2 weight decay on W1 and W2 (plain SGD only): each step also
    /// shrinks them by `learning_rate × weight_decay` of themselves.
    pub weight_decay: f32,
    /// Initial weights.
    pub init: Init,
    /// Seeds the split, the initial weights and the shuffling.
    pub seed: u64,
    /// Training images held out for validation.
    pub validation: usize,
    /// Evaluations (and reports) per epoch; they do not change the weights.
    pub reports_per_epoch: u32,
    /// Threads for the mini-batch work; any number gives the same bits.
    #[serde(skip)]
    pub threads: usize,
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
            weight_decay: 0.0,
            max_shift: 0,
            init: Init::He,
            seed: 42,
            validation: 5_000,
            reports_per_epoch: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        }
    }
}

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
    /// Accuracy on the validation split at the end; `None` without one.
    pub validation_accuracy: Option<f64>,
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
/// once per run so that every pass touches only what contributes. Each list
/// is ascending, and where its high rows (`SPLIT_ROW` on) start is kept too.
struct SparseImages {
    pixels: Vec<Nonzero>,
    /// Where each image's list is in `pixels`.
    spans: Vec<Span>,
}

/// An image's list is `pixels[start..end]`, its high rows from `split` on.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: usize,
    split: usize,
    end: usize,
}

impl SparseImages {
    /// Builds the lists on all the pool's threads: one pass counts each
    /// image's nonzero pixels, a second writes every image into its own
    /// place in one shared vector.
    fn new(data: &Dataset, indices: &[usize]) -> Self {
        Self::shifted(data, indices, &[])
    }

    /// As `new`, with image `k` moved by `shifts[k]` (columns, rows) pixels,
    /// ink moved off the edge dropped; no shift where `shifts` is short.
    fn shifted(data: &Dataset, indices: &[usize], shifts: &[(i8, i8)]) -> Self {
        use rayon::prelude::*;
        let image = |k: usize| -> std::borrow::Cow<'_, [u8; INPUT]> {
            let original = &data.images[indices[k]];
            match shifts.get(k) {
                Some(&(dx, dy)) if (dx, dy) != (0, 0) => std::borrow::Cow::Owned(backprop::shift(original, dx, dy)),
                _ => std::borrow::Cow::Borrowed(original),
            }
        };
        let counts: Vec<usize> =
            (0..indices.len()).into_par_iter().map(|k| backprop::count_nonzero_pixels(&image(k))).collect();
        let mut pixels = vec![Nonzero::default(); counts.iter().sum()];
        // One piece of `pixels` per image, and where it starts.
        let starts: Vec<usize> = counts
            .iter()
            .scan(0, |end, &n| {
                *end += n;
                Some(*end - n)
            })
            .collect();
        let spans = cut_into(&mut pixels, &counts)
            .into_par_iter()
            .zip(starts)
            .enumerate()
            .map(|(k, (piece, start))| {
                backprop::write_nonzero_pixels(&image(k), piece);
                let split = start + first_layer::pixels_in(piece, 0, first_layer::SPLIT_ROW).len();
                Span { start, split, end: start + piece.len() }
            })
            .collect();
        SparseImages { pixels, spans }
    }

    fn image(&self, i: usize) -> &[Nonzero] {
        let span = self.spans[i];
        &self.pixels[span.start..span.end]
    }

    /// Image `i`'s pixels in the rows from `first` on (0 or `SPLIT_ROW`).
    fn rows_from(&self, i: usize, first: usize) -> &[Nonzero] {
        let span = self.spans[i];
        if first == 0 {
            &self.pixels[span.start..span.split]
        } else {
            &self.pixels[span.split..span.end]
        }
    }
}

/// `buffer` cut into consecutive pieces of `sizes` (which must not add up to
/// more than its length), so that each piece can be filled on its own thread.
fn cut_into<'a, T>(mut buffer: &'a mut [T], sizes: &[usize]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let (piece, rest) = buffer.split_at_mut(size);
        pieces.push(piece);
        buffer = rest;
    }
    pieces
}

/// The fraction of `images` that `weights` classifies as `labels` says:
/// `shared`'s classifier fed each image's nonzero pixels, listed once per run,
/// instead of all 784 bytes at every evaluation. The same class for every
/// image as `evaluate::accuracy` gives (see `Weights::predict_class_nonzero`).
fn sparse_accuracy(weights: &Weights, images: &SparseImages, labels: &[u8]) -> f64 {
    use rayon::prelude::*;
    let nonzero = |i: usize| images.image(i).iter().map(|p| (usize::from(p.index), p.value));
    let correct = (0..labels.len())
        .into_par_iter()
        .with_min_len(500)
        .filter(|&i| weights.predict_class_nonzero(nonzero(i)) == labels[i])
        .count();
    correct as f64 / labels.len().max(1) as f64
}

/// `w -= step * g; g = 0` for one tensor row or vector.
#[inline(always)]
fn descend(w: &mut [f32], g: &mut [f32], step: f32) {
    for (w, g) in w.iter_mut().zip(g.iter_mut()) {
        *w -= step * *g;
        *g = 0.0;
    }
}

/// `v = mu * v + g; w -= step * v; g = 0` for one tensor row or vector.
#[inline(always)]
fn descend_with_momentum(w: &mut [f32], v: &mut [f32], g: &mut [f32], step: f32, momentum: f32) {
    for ((w, v), g) in w.iter_mut().zip(v.iter_mut()).zip(g.iter_mut()) {
        *v = momentum * *v + *g;
        *w -= step * *v;
        *g = 0.0;
    }
}

/// Plain SGD between batches. W1's gradient is never formed: each
/// example's `dz1` (times the step) is kept and applied to the rows of its
/// nonzero pixels at the start of the next batch, by the thread that then
/// sums those rows for it, so each half of W1 stays in one core's cache.
struct SgdState {
    /// The batch whose W1 update is still to be applied…
    pending: Vec<usize>,
    /// …and its examples' `dz1` times the step…
    pending_dz1s: Vec<[f32; HIDDEN]>,
    /// …and the weight decay factor to apply before them (1 for none).
    pending_keep: f32,
    /// L2 weight decay (`Config::weight_decay`).
    weight_decay: f32,
    /// This batch's `dz1` times the step.
    dz1s: Vec<[f32; HIDDEN]>,
    /// This batch's first-layer sums over the low rows (with b1) and the high rows.
    low_sums: Vec<[f32; HIDDEN]>,
    high_sums: Vec<[f32; HIDDEN]>,
}

/// How a batch's gradient becomes a step.
enum Optimizer {
    /// Plain gradient descent: a step costs what the batch touched, not all
    /// 7,960 parameters.
    Sgd(SgdState),
    /// Classical momentum: velocity keeps moving rows no image touched, so
    /// this forms the whole gradient and updates every parameter.
    Momentum { velocity: Box<Weights>, grad_w1: Box<[Row; INPUT]>, tail: Box<TailGrad>, momentum: f32 },
}

/// What part of a batch's forward and backward passes produced.
#[derive(Default)]
struct Partial {
    loss: f64,
    correct: usize,
    tail: TailGrad,
}

/// One thread's share of W1 for a batch: applies the previous batch's
/// pending update (weight decay `w *= keep`, then the gradient step) to `rows` (W1's rows from `first`, 0 or `SPLIT_ROW`, on),
/// then forms this batch's sums over those rows, starting from `start`.
///
/// Compiled for AVX2 and for baseline x86-64, picked at run time; every
/// operation is lane-wise with no fused multiply-add, so both give the same bits.
#[multiversion(targets("x86_64+avx2"))]
#[allow(clippy::too_many_arguments)]
fn rows_pass(
    rows: &mut [Row],
    first: usize,
    sparse: &SparseImages,
    pending: &[usize],
    pending_dz1s: &[[f32; HIDDEN]],
    batch: &[usize],
    start: &[f32; HIDDEN],
    sums: &mut [[f32; HIDDEN]],
    next: &[usize],
    keep: f32,
) {
    if keep != 1.0 {
        rows.iter_mut().flatten().for_each(|w| *w *= keep);
    }
    for (&i, step_dz1) in pending.iter().zip(pending_dz1s) {
        first_layer::descend_hidden(rows, first, step_dz1, sparse.rows_from(i, first));
    }
    for (&i, sum) in batch.iter().zip(sums) {
        *sum = first_layer::partial_sums(rows, first, start, sparse.rows_from(i, first));
    }
    // Ask for the next batch's lists now (one prefetch per cache line), so
    // that its sums find them in cache instead of waiting for each in turn.
    for &i in next {
        for pixel in sparse.rows_from(i, first).iter().step_by(16) {
            prefetch(pixel);
        }
    }
}

/// Starts loading `value`'s cache line without waiting for it: the
/// processor's `prefetcht0` (through `safe_arch`, which vouches that a hint
/// cannot fault); nothing on other processors.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    safe_arch::prefetch_t0(value);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// The rest of the forward pass and the backward pass for some of a
/// batch's examples, from their first-layer half sums: fills `step_dz1s`.
#[multiversion(targets("x86_64+avx2"))]
#[allow(clippy::too_many_arguments)]
fn examples_backward(
    rest: &Weights,
    labels: &[u8],
    examples: &[usize],
    low_sums: &[[f32; HIDDEN]],
    high_sums: &[[f32; HIDDEN]],
    step: f32,
    step_dz1s: &mut [[f32; HIDDEN]],
) -> Partial {
    let mut partial = Partial::default();
    for (((&i, low), high), step_dz1) in examples.iter().zip(low_sums).zip(high_sums).zip(step_dz1s) {
        let z1 = first_layer::add(low, high);
        let example = backprop::backward_from_sums(rest, &z1, labels[i], &mut partial.tail);
        partial.loss += f64::from(example.loss);
        partial.correct += usize::from(example.predicted == labels[i]);
        *step_dz1 = example.dz1.map(|d| d * step);
    }
    partial
}

impl SgdState {
    fn new(weight_decay: f32) -> Self {
        SgdState {
            weight_decay,
            pending: Vec::new(),
            pending_dz1s: Vec::new(),
            pending_keep: 1.0,
            dz1s: Vec::new(),
            low_sums: Vec::new(),
            high_sums: Vec::new(),
        }
    }

    /// One mini-batch on up to two threads, with no change in bits from
    /// one to two: each W1 half is updated and summed by one closure, each
    /// half of the batch's examples by the other pair (their small
    /// gradients summed first half first). With one thread `rayon::join`
    /// runs both closures in turn.
    fn batch(
        &mut self,
        weights: &mut Weights,
        sparse: &SparseImages,
        labels: &[u8],
        batch: &[usize],
        next: &[usize],
        learning_rate: f32,
    ) -> (f64, usize) {
        let n = batch.len();
        let step = learning_rate / n as f32;
        let keep = 1.0 - learning_rate * self.weight_decay;
        self.low_sums.resize(n, [0.0; HIDDEN]);
        self.high_sums.resize(n, [0.0; HIDDEN]);
        self.dz1s.resize(n, [0.0; HIDDEN]);
        let (low_rows, high_rows) = weights.w1.split_at_mut(first_layer::SPLIT_ROW);
        let b1 = &weights.b1;
        let (pending, pending_dz1s, pending_keep) = (&self.pending[..], &self.pending_dz1s[..], self.pending_keep);
        rayon::join(
            || rows_pass(low_rows, 0, sparse, pending, pending_dz1s, batch, b1, &mut self.low_sums, next, pending_keep),
            || {
                let first = first_layer::SPLIT_ROW;
                let sums = &mut self.high_sums;
                let zero = &[0.0; HIDDEN];
                rows_pass(high_rows, first, sparse, pending, pending_dz1s, batch, zero, sums, next, pending_keep)
            },
        );

        let half = n.div_ceil(2);
        let (first, second) = batch.split_at(half);
        let (low_a, low_b) = self.low_sums.split_at(half);
        let (high_a, high_b) = self.high_sums.split_at(half);
        let (dz1_a, dz1_b) = self.dz1s.split_at_mut(half);
        let w = &*weights;
        let (mut a, mut b) = rayon::join(
            || examples_backward(w, labels, first, low_a, high_a, step, dz1_a),
            || examples_backward(w, labels, second, low_b, high_b, step, dz1_b),
        );
        a.tail.add(&mut b.tail);
        if keep != 1.0 {
            weights.w2.iter_mut().flatten().for_each(|w| *w *= keep);
        }
        let [_, b1, w2, b2] = weights.tensors_mut();
        for (w, g) in [b1, w2, b2].into_iter().zip(a.tail.tensors_mut()) {
            descend(w, g, step);
        }
        std::mem::swap(&mut self.pending_dz1s, &mut self.dz1s);
        self.pending.clear();
        self.pending.extend_from_slice(batch);
        self.pending_keep = keep;
        (a.loss + b.loss, a.correct + b.correct)
    }

    /// Applies the pending update, so that `weights` are those after the last batch.
    fn finish(&mut self, weights: &mut Weights, sparse: &SparseImages) {
        let (low_rows, high_rows) = weights.w1.split_at_mut(first_layer::SPLIT_ROW);
        let (pending, dz1s, keep) = (&self.pending[..], &self.pending_dz1s[..], self.pending_keep);
        let zero = &[0.0; HIDDEN];
        rayon::join(
            || rows_pass(low_rows, 0, sparse, pending, dz1s, &[], zero, &mut [], &[], keep),
            || rows_pass(high_rows, first_layer::SPLIT_ROW, sparse, pending, dz1s, &[], zero, &mut [], &[], keep),
        );
        self.pending_keep = 1.0;
        self.pending.clear();
    }
}

impl Optimizer {
    /// One mini-batch: forward and backward passes, then one step. Returns
    /// the summed loss and the number predicted right (before the step).
    /// With SGD the W1 part of the step is left pending until the next
    /// batch (`next`, whose pixel lists it fetches early) or `finish`.
    fn batch(
        &mut self,
        weights: &mut Weights,
        sparse: &SparseImages,
        labels: &[u8],
        batch: &[usize],
        next: &[usize],
        learning_rate: f32,
    ) -> (f64, usize) {
        match self {
            Optimizer::Sgd(state) => state.batch(weights, sparse, labels, batch, next, learning_rate),
            Optimizer::Momentum { velocity, grad_w1, tail, momentum } => {
                let step = learning_rate / batch.len() as f32;
                let (mut loss_sum, mut correct) = (0.0f64, 0usize);
                for &i in batch {
                    let (loss, predicted) = backprop::accumulate(weights, sparse.image(i), labels[i], grad_w1, tail);
                    loss_sum += f64::from(loss);
                    correct += usize::from(predicted == labels[i]);
                }
                for ((w, v), g) in weights.w1.iter_mut().zip(velocity.w1.iter_mut()).zip(grad_w1.iter_mut()) {
                    descend_with_momentum(w, v, g, step, *momentum);
                }
                let [_, b1, w2, b2] = weights.tensors_mut();
                let [_, v1, v2, vb2] = velocity.tensors_mut();
                for ((w, v), g) in [b1, w2, b2].into_iter().zip([v1, v2, vb2]).zip(tail.tensors_mut()) {
                    descend_with_momentum(w, v, g, step, *momentum);
                }
                (loss_sum, correct)
            }
        }
    }

    /// Brings `weights` up to date after the last batch.
    fn finish(&mut self, weights: &mut Weights, sparse: &SparseImages) {
        if let Optimizer::Sgd(state) = self {
            state.finish(weights, sparse);
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
    if config.epochs == 0 || config.batch_size == 0 || config.threads == 0 {
        return Err(TrainError::BadConfig("--epochs, --batch-size and --threads must be at least 1".into()));
    }
    if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
        return Err(TrainError::BadConfig(format!("--learning-rate must be positive, got {}", config.learning_rate)));
    }
    if !(0.0..1.0).contains(&config.momentum) {
        return Err(TrainError::BadConfig(format!("--momentum must be in [0, 1), got {}", config.momentum)));
    }
    if !(config.weight_decay >= 0.0 && config.learning_rate * config.weight_decay < 1.0) {
        return Err(TrainError::BadConfig(format!(
            "--weight-decay must be at least 0 and below 1 / --learning-rate, got {}",
            config.weight_decay
        )));
    }
    if config.max_shift > 8 {
        return Err(TrainError::BadConfig(format!("--max-shift must be at most 8 pixels, got {}", config.max_shift)));
    }
    if config.weight_decay > 0.0 && config.momentum > 0.0 {
        return Err(TrainError::BadConfig("--weight-decay works with plain SGD only (--momentum 0)".into()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| TrainError::BadConfig(format!("cannot start {} training threads: {e}", config.threads)))?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut weights = initial_weights(config.init, &mut rng);
    let mut sparse = pool.install(|| SparseImages::new(data, train_indices));
    let validation_sparse = pool.install(|| SparseImages::new(validation, &(0..validation.len()).collect::<Vec<_>>()));
    let labels: Vec<u8> = train_indices.iter().map(|&i| data.labels[i]).collect();
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let batch_size = config.batch_size.min(labels.len());
    let full_batch = batch_size == labels.len();
    let mut optimizer = if config.momentum == 0.0 {
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
        let config = Config { epochs: 2, validation: 500, batch_size: 15, threads: 1, ..Config::default() };
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
            batch_size: usize::MAX,
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
            Config { threads: 0, ..Config::default() },
            Config { max_shift: 9, ..Config::default() },
            Config { weight_decay: -1.0, ..Config::default() },
            Config { weight_decay: 1e-4, momentum: 0.9, ..Config::default() },
        ] {
            assert!(matches!(run(&config, &data), Err(TrainError::BadConfig(_))), "{config:?}");
        }
    }
}
