//! Gradients of the cross-entropy loss, one example at a time.
//!
//! Forward values come from `shared::network` (the very code the device runs)
//! after the first layer, whose sums the trainer forms in `first_layer`;
//! this file holds the backward halves.
use shared::network::{argmax, output_activations, Activations};
use shared::{Weights, HIDDEN, INPUT, OUTPUT};

use super::data::SparseImages;
use super::first_layer::{self, Nonzero, Row};

/// d(loss)/d(logits) of softmax + cross-entropy: `p - onehot(label)`.
// p: [OUT], label -> dz: [OUT]
pub fn softmax_cross_entropy_backward(p: &[f32; OUTPUT], label: u8) -> [f32; OUTPUT] {
    let mut dz = *p;
    dz[usize::from(label)] -= 1.0;
    dz
}

/// Backward of `dense_forward`: accumulates dW, db and returns dx.
// w: [OUT][IN], x: [IN], dy: [OUT] -> dw += dy xᵀ, db += dy, dx = wᵀ dy
pub fn dense_backward<const IN: usize, const OUT: usize>(
    w: &[[f32; IN]; OUT],
    x: &[f32; IN],
    dy: &[f32; OUT],
    dw: &mut [[f32; IN]; OUT],
    db: &mut [f32; OUT],
) -> [f32; IN] {
    let mut dx = [0.0f32; IN];
    for k in 0..OUT {
        db[k] += dy[k];
        for j in 0..IN {
            dw[k][j] += dy[k] * x[j];
            dx[j] += w[k][j] * dy[k];
        }
    }
    dx
}

/// Backward of ReLU, given its output: passes the gradient where the unit was active.
// a: [N], da: [N] -> dz: [N]
pub fn relu_backward<const N: usize>(a: &[f32; N], da: &[f32; N]) -> [f32; N] {
    core::array::from_fn(|j| if a[j] > 0.0 { da[j] } else { 0.0 })
}

/// Cross-entropy of one prediction, clamped so a confident mistake stays finite.
pub fn cross_entropy(a: &Activations, label: u8) -> f32 {
    -a.probabilities[usize::from(label)].max(f32::MIN_POSITIVE).ln()
}

/// Gradients of b1, W2 and b2: small enough for each thread to keep its own.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TailGrad {
    /// d(loss)/d(b1).
    pub b1: [f32; HIDDEN],
    /// d(loss)/d(W2).
    pub w2: [[f32; HIDDEN]; OUTPUT],
    /// d(loss)/d(b2).
    pub b2: [f32; OUTPUT],
}

impl TailGrad {
    /// b1, W2, b2 as flat slices, in `Weights::tensors_mut` order.
    pub fn tensors_mut(&mut self) -> [&mut [f32]; 3] {
        [&mut self.b1, self.w2.as_flattened_mut(), &mut self.b2]
    }

    /// `self += other`, element by element.
    pub fn add(&mut self, other: &mut TailGrad) {
        for (a, b) in self.tensors_mut().into_iter().zip(other.tensors_mut()) {
            a.iter_mut().zip(b.iter()).for_each(|(a, b)| *a += b);
        }
    }
}

/// What one example's backward pass leaves for the first layer's weights.
pub struct Example {
    /// d(loss)/d(z1): W1's gradient is `x · dz1ᵀ` over the nonzero pixels.
    pub dz1: [f32; HIDDEN],
    /// Cross-entropy loss.
    pub loss: f32,
    /// Predicted class.
    pub predicted: u8,
}

/// The rest of the forward pass from the first layer's sums `z1`, then the
/// backward pass down to them: adds the gradients of b1, W2 and b2 to
/// `grad` and returns `dz1`, from which the caller forms W1's.
#[inline(always)]
pub fn backward_from_sums(weights: &Weights, z1: &[f32; HIDDEN], label: u8, grad: &mut TailGrad) -> Example {
    let a = output_activations(weights, z1);
    let dz2 = softmax_cross_entropy_backward(&a.probabilities, label);
    let da1 = dense_backward(&weights.w2, &a.hidden, &dz2, &mut grad.w2, &mut grad.b2);
    let dz1 = relu_backward(&a.hidden, &da1);
    for (b, d) in grad.b1.iter_mut().zip(&dz1) {
        *b += d;
    }
    // argmax < OUTPUT = 10 fits a u8.
    Example { dz1, loss: cross_entropy(&a, label), predicted: argmax(&a.logits) as u8 }
}

/// Adds one example's whole gradient to `grad`; returns its loss and the predicted class.
#[inline(always)]
pub fn accumulate(
    weights: &Weights,
    nonzero: &[Nonzero],
    label: u8,
    grad_w1: &mut [Row; INPUT],
    grad: &mut TailGrad,
) -> (f32, u8) {
    let z1 = first_layer::hidden_forward(&weights.w1, &weights.b1, nonzero);
    let example = backward_from_sums(weights, &z1, label, grad);
    first_layer::hidden_backward(grad_w1, &example.dz1, nonzero);
    (example.loss, example.predicted)
}

/// Adds the batch's whole gradient (W1's over the nonzero pixels) to `grad_w1` and
/// `tail`, one example after another; returns the summed loss and the number predicted right.
pub(super) fn whole_gradient(
    weights: &Weights,
    sparse: &SparseImages,
    labels: &[u8],
    batch: &[usize],
    grad_w1: &mut [Row; INPUT],
    tail: &mut TailGrad,
) -> (f64, usize) {
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    for &i in batch {
        let (loss, predicted) = accumulate(weights, sparse.image(i), labels[i], grad_w1, tail);
        loss_sum += f64::from(loss);
        correct += usize::from(predicted == labels[i]);
    }
    (loss_sum, correct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::pixel_lists::nonzero_pixels;
    use rand::{Rng, SeedableRng};
    use shared::network::forward_activations;

    /// Loss in f64 from the f32 logits (log-sum-exp), to keep the finite
    /// differences above float noise.
    fn loss(w: &Weights, images: &[[u8; INPUT]], labels: &[u8]) -> f64 {
        images
            .iter()
            .zip(labels)
            .map(|(img, &y)| {
                let z = forward_activations(w, img).logits.map(f64::from);
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                lse - z[usize::from(y)]
            })
            .sum()
    }

    /// Every one of the 7,960 gradients against a central finite difference.
    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut w = Box::new(Weights::ZERO);
        for p in w.parameters_mut() {
            *p = rng.gen_range(-0.3..0.3);
        }
        // Three sparse images: every pixel is nonzero in at least one, so every
        // W1 row has a gradient; the rest stay zero like real digits.
        let images: Vec<[u8; INPUT]> =
            (0..3).map(|n| core::array::from_fn(|i| if i % 3 == n { rng.gen_range(1..=255) } else { 0 })).collect();
        let labels = [3u8, 7, 0];
        let (mut grad_w1, mut tail) = (Box::new([[0.0f32; HIDDEN]; INPUT]), TailGrad::default());
        for (img, &y) in images.iter().zip(&labels) {
            accumulate(&w, &nonzero_pixels(img), y, &mut grad_w1, &mut tail);
        }
        let grad = Weights { w1: *grad_w1, b1: tail.b1, w2: tail.w2, b2: tail.b2 };
        let analytic: Vec<f32> = grad.parameters().collect();
        let eps = 1e-2f32;
        let mut worst = 0.0f64;
        for (index, &g) in analytic.iter().enumerate() {
            let mut plus = w.clone();
            let mut minus = w.clone();
            *plus.parameters_mut().nth(index).unwrap() += eps;
            *minus.parameters_mut().nth(index).unwrap() -= eps;
            let numeric = (loss(&plus, &images, &labels) - loss(&minus, &images, &labels)) / (2.0 * f64::from(eps));
            let err = (numeric - f64::from(g)).abs() / (1e-3 + numeric.abs().max(f64::from(g).abs()));
            worst = worst.max(err);
            assert!(err < 2e-2, "parameter {index}: analytic {g}, numeric {numeric}");
        }
        let nonzero = analytic.iter().filter(|g| **g != 0.0).count();
        eprintln!("{nonzero} nonzero gradients, worst relative error {worst:e}");
        // Units a ReLU switched off have zero gradient; most of the rest must be exercised.
        assert!(nonzero > 3000, "only {nonzero} gradients exercised");
    }

    #[test]
    fn dense_backward_on_a_hand_computable_case() {
        let w = [[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let (mut dw, mut db) = ([[0.0f32; 2]; 3], [0.0f32; 3]);
        let dx = dense_backward(&w, &[10.0, 20.0], &[1.0, 0.0, -1.0], &mut dw, &mut db);
        assert_eq!(dx, [1.0 - 5.0, 2.0 - 6.0]);
        assert_eq!(dw, [[10.0, 20.0], [0.0, 0.0], [-10.0, -20.0]]);
        assert_eq!(db, [1.0, 0.0, -1.0]);
    }
}
