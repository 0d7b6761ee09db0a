//! How a batch's gradient becomes a step: plain SGD with the deferred W1
//! update, momentum, or Adam (`adam`); and the passes over W1's rows SGD uses.
use multiversion::multiversion;
use shared::{Weights, HIDDEN, INPUT};

use super::adam::AdamState;
use super::backprop::{self, TailGrad};
use super::data::SparseImages;
use super::first_layer::{self, Row};

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
pub(super) struct SgdState {
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
pub(super) enum Optimizer {
    /// Plain gradient descent: a step costs what the batch touched, not all
    /// 7,960 parameters.
    Sgd(SgdState),
    /// Classical momentum: velocity keeps moving rows no image touched, so
    /// this forms the whole gradient and updates every parameter.
    Momentum { velocity: Box<Weights>, grad_w1: Box<[Row; INPUT]>, tail: Box<TailGrad>, momentum: f32 },
    /// Adam on standardised inputs: updates every parameter, every step.
    Adam(Box<AdamState>),
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
    pub(super) fn new(weight_decay: f32) -> Self {
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
    pub(super) fn batch(
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
    pub(super) fn finish(&mut self, weights: &mut Weights, sparse: &SparseImages) {
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
    pub(super) fn batch(
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
            Optimizer::Adam(state) => state.batch(weights, sparse, labels, batch, learning_rate),
            Optimizer::Momentum { velocity, grad_w1, tail, momentum } => {
                let step = learning_rate / batch.len() as f32;
                let (loss_sum, correct) = backprop::whole_gradient(weights, sparse, labels, batch, grad_w1, tail);
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
    pub(super) fn finish(&mut self, weights: &mut Weights, sparse: &SparseImages) {
        if let Optimizer::Sgd(state) = self {
            state.finish(weights, sparse);
        }
    }
}
