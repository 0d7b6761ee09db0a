//! Adam on standardised inputs, folded back into W1 and b1 after every step.
//!
//! The network trains as if each pixel were `s_i = (x_i − mean_i) · scale_i`, with
//! `scale_i = 1 / (sd_i + 0.1)` over the training split: every input then has about
//! the same spread, so no hidden unit starves on the rarely inked border. The device
//! never sees `s`: since `W1ᵀs + b1 = (W1 · scale)ᵀx + (b1 − Σ_i mean_i · scale_i · W1[i])`,
//! the weights it runs are the fold of the trained ones, and the forward pass stays
//! sparse in `x`. The standardised W1 gradient is dense, but it splits into the sparse
//! one the trainer already forms and one outer product per batch:
//! `dW1[i] = scale_i · (Σ_n x_ni · dz1_n − mean_i · Σ_n dz1_n)`.
use shared::network::pixel_value;
use shared::{Weights, HIDDEN, INPUT};

use super::backprop::TailGrad;
use super::data::SparseImages;
use super::first_layer::Row;

/// Adam's decay rates for the first and second moments, and the denominator's floor
/// (Kingma and Ba's defaults).
const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// Added to each pixel's standard deviation before dividing by it, so that pixels
/// almost never inked are not blown up (0.1 of the full 0–1 range).
const SD_FLOOR: f32 = 0.1;

/// Each pixel's mean and `1 / (sd + SD_FLOOR)` over the training images.
pub(super) struct Standardisation {
    mean: [f32; INPUT],
    scale: [f32; INPUT],
}

impl Standardisation {
    /// Over the training images of `sparse` (zero pixels count as zeros).
    pub(super) fn of(sparse: &SparseImages, count: usize) -> Self {
        let (mut sum, mut sum_sq) = ([0.0f64; INPUT], [0.0f64; INPUT]);
        for k in 0..count {
            for p in sparse.image(k) {
                let x = f64::from(pixel_value(p.value));
                sum[usize::from(p.index)] += x;
                sum_sq[usize::from(p.index)] += x * x;
            }
        }
        let n = count.max(1) as f64;
        let mean: [f64; INPUT] = core::array::from_fn(|i| sum[i] / n);
        let scale = core::array::from_fn(|i| {
            let sd = (sum_sq[i] / n - mean[i] * mean[i]).max(0.0).sqrt();
            (1.0 / (sd + f64::from(SD_FLOOR))) as f32
        });
        Standardisation { mean: mean.map(|m| m as f32), scale }
    }

    /// The weights the device runs from the standardised ones: `W1[i] · scale_i`,
    /// `b1 − Σ_i mean_i · W1'[i]` (in pixel order), W2 and b2 as they are.
    pub(super) fn fold(&self, trained: &Weights, device: &mut Weights) {
        let mut b1 = trained.b1;
        for ((row, trained_row), (&scale, &mean)) in
            device.w1.iter_mut().zip(&trained.w1).zip(self.scale.iter().zip(&self.mean))
        {
            for ((w, &t), b) in row.iter_mut().zip(trained_row).zip(&mut b1) {
                *w = t * scale;
                *b -= mean * *w;
            }
        }
        device.b1 = b1;
        device.w2 = trained.w2;
        device.b2 = trained.b2;
    }
}

/// Adam's state: the parameters in standardised space and their moment estimates.
pub(super) struct AdamState {
    standardisation: Standardisation,
    /// What Adam steps; the caller's weights are their fold.
    trained: Box<Weights>,
    first_moment: Box<Weights>,
    second_moment: Box<Weights>,
    /// Steps taken, for the moments' bias correction.
    steps: i32,
    /// L2 penalty on W1 and W2 (standardised), added to their gradients.
    l2: f32,
    /// This batch's `Σ x · dz1` and tail gradients.
    grad_w1: Box<[Row; INPUT]>,
    tail: TailGrad,
}

impl AdamState {
    /// Takes `weights` (the initial ones) as the standardised parameters and replaces them
    /// with their fold.
    pub(super) fn new(weights: &mut Weights, sparse: &SparseImages, count: usize, l2: f32) -> Self {
        let standardisation = Standardisation::of(sparse, count);
        let trained = Box::new(weights.clone());
        standardisation.fold(&trained, weights);
        AdamState {
            standardisation,
            trained,
            first_moment: Box::new(Weights::ZERO),
            second_moment: Box::new(Weights::ZERO),
            steps: 0,
            l2,
            grad_w1: Box::new([[0.0; HIDDEN]; INPUT]),
            tail: TailGrad::default(),
        }
    }

    /// One mini-batch: forward and backward through the device's weights, one Adam step
    /// on the standardised ones, then the fold. Returns the summed loss and the number
    /// predicted right (before the step).
    pub(super) fn batch(
        &mut self,
        weights: &mut Weights,
        sparse: &SparseImages,
        labels: &[u8],
        batch: &[usize],
        learning_rate: f32,
    ) -> (f64, usize) {
        let (loss_sum, correct) =
            super::backprop::whole_gradient(weights, sparse, labels, batch, &mut self.grad_w1, &mut self.tail);
        self.steps += 1;
        let step = Step {
            learning_rate,
            first_correction: 1.0 - BETA1.powi(self.steps),
            second_correction: 1.0 - BETA2.powi(self.steps),
        };
        let per_example = 1.0 / batch.len() as f32;
        let l2 = self.l2;
        let s = &self.standardisation;
        let db1 = self.tail.b1;
        let (trained, m, v) = (&mut *self.trained, &mut *self.first_moment, &mut *self.second_moment);
        for i in 0..INPUT {
            let (scale, mean) = (s.scale[i], s.mean[i]);
            let gradient: Row = core::array::from_fn(|j| {
                scale * (self.grad_w1[i][j] - mean * db1[j]) * per_example + l2 * trained.w1[i][j]
            });
            step.apply(&mut trained.w1[i], &mut m.w1[i], &mut v.w1[i], &gradient);
            self.grad_w1[i] = [0.0; HIDDEN];
        }
        step.apply(&mut trained.b1, &mut m.b1, &mut v.b1, &db1.map(|g| g * per_example));
        for k in 0..trained.w2.len() {
            let gradient: Row = core::array::from_fn(|j| self.tail.w2[k][j] * per_example + l2 * trained.w2[k][j]);
            step.apply(&mut trained.w2[k], &mut m.w2[k], &mut v.w2[k], &gradient);
        }
        step.apply(&mut trained.b2, &mut m.b2, &mut v.b2, &self.tail.b2.map(|g| g * per_example));
        self.tail = TailGrad::default();
        s.fold(trained, weights);
        (loss_sum, correct)
    }
}

/// One Adam update's constants.
struct Step {
    learning_rate: f32,
    /// `1 − β₁ᵗ` and `1 − β₂ᵗ`: the moments' bias corrections.
    first_correction: f32,
    second_correction: f32,
}

impl Step {
    /// `m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; w −= lr · m̂ / (√v̂ + ε)`, lane by lane.
    #[inline(always)]
    fn apply(&self, w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        for (((w, m), v), &g) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            let m_hat = *m / self.first_correction;
            let v_hat = *v / self.second_correction;
            *w -= self.learning_rate * m_hat / (v_hat.sqrt() + EPSILON);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The fold computes on raw pixels what the standardised network computes on
    /// standardised ones (up to rounding).
    #[test]
    fn folded_weights_on_raw_pixels_equal_trained_weights_on_standardised_pixels() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let images: Vec<[u8; INPUT]> = (0..50)
            .map(|_| core::array::from_fn(|_| if rng.gen_bool(0.3) { rng.gen_range(1..=255) } else { 0 }))
            .collect();
        let data = crate::dataset::Dataset {
            images: images.iter().copied().collect(),
            labels: vec![0; images.len()],
            ..crate::dataset::Dataset::default()
        };
        let indices: Vec<usize> = (0..images.len()).collect();
        let sparse = SparseImages::new(&data, &indices);
        let s = Standardisation::of(&sparse, images.len());
        let mut trained = Weights::ZERO;
        for p in trained.parameters_mut() {
            *p = rng.gen_range(-0.5..0.5);
        }
        let mut device = Weights::ZERO;
        s.fold(&trained, &mut device);
        for image in &images {
            let z_device = shared::network::forward_activations(&device, image).logits;
            let standardised: [f64; INPUT] = core::array::from_fn(|i| {
                (f64::from(pixel_value(image[i])) - f64::from(s.mean[i])) * f64::from(s.scale[i])
            });
            let hidden: [f64; HIDDEN] = core::array::from_fn(|j| {
                let z = f64::from(trained.b1[j])
                    + (0..INPUT).map(|i| f64::from(trained.w1[i][j]) * standardised[i]).sum::<f64>();
                z.max(0.0)
            });
            for (k, &z) in z_device.iter().enumerate() {
                let expected = f64::from(trained.b2[k])
                    + (0..HIDDEN).map(|j| f64::from(trained.w2[k][j]) * hidden[j]).sum::<f64>();
                assert!((f64::from(z) - expected).abs() < 1e-3 * (1.0 + expected.abs()), "{z} vs {expected}");
            }
        }
    }
}
