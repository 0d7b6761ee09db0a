//! Gradients of the cross-entropy loss, one example at a time.
//!
//! Forward values come from `shared::network` (the very code the device runs)
//! after the first layer, whose sums the trainer forms in `first_layer`;
//! this file holds the backward halves, and the nonzero-pixel lists.
use shared::network::{argmax, output_activations, Activations};
use shared::{Weights, HIDDEN, INPUT, OUTPUT};

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

/// One bit per nonzero byte of `x`: bit 8k+7 is set where byte k is nonzero.
fn nonzero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // Adding 0x7f to a byte's low seven bits carries into bit 7 unless they are all zero.
    (((x & LOW7) + LOW7) | x) & !LOW7
}

/// Each 8-pixel run of an image with its offset and the mask of its nonzero
/// pixels (see [`nonzero_bytes`]); most runs of a digit are blank.
fn runs(image: &[u8; INPUT]) -> impl Iterator<Item = (usize, u64, &[u8; 8])> {
    image.as_chunks::<8>().0.iter().enumerate().map(|(c, run)| (c * 8, nonzero_bytes(u64::from_le_bytes(*run)), run))
}

/// How many pixels of an image are nonzero.
pub fn count_nonzero_pixels(image: &[u8; INPUT]) -> usize {
    runs(image).map(|(_, mask, _)| mask.count_ones() as usize).sum()
}

/// Writes the nonzero pixels of an image as `(index, value)`, ascending,
/// into `out`, which has room for exactly [`count_nonzero_pixels`] of them.
pub fn write_nonzero_pixels(image: &[u8; INPUT], out: &mut [Nonzero]) {
    let mut slots = out.iter_mut();
    for (at, mut mask, run) in runs(image) {
        while mask != 0 {
            let i = (mask.trailing_zeros() / 8) as usize;
            mask &= mask - 1;
            let (Some(slot), Some(&p)) = (slots.next(), run.get(i)) else { return };
            *slot = Nonzero::new((at + i) as u16, p);
        }
    }
}

/// Appends the nonzero pixels of an image as `(index, value)`, ascending.
pub fn extend_nonzero_pixels(image: &[u8; INPUT], out: &mut Vec<Nonzero>) {
    let start = out.len();
    out.resize(start + count_nonzero_pixels(image), Nonzero::default());
    write_nonzero_pixels(image, &mut out[start..]);
}

/// The image moved `dx` columns right and `dy` rows down (negative: left,
/// up); what moves off the edge is dropped, what comes in is blank.
pub fn shift(image: &[u8; INPUT], dx: i8, dy: i8) -> [u8; INPUT] {
    const SIDE: isize = shared::SIDE as isize;
    let mut out = [0u8; INPUT];
    let (dx, dy) = (isize::from(dx), isize::from(dy));
    for row in 0..SIDE {
        let from_row = row - dy;
        if !(0..SIDE).contains(&from_row) {
            continue;
        }
        for col in 0..SIDE {
            let from_col = col - dx;
            if (0..SIDE).contains(&from_col) {
                out[(row * SIDE + col) as usize] = image[(from_row * SIDE + from_col) as usize];
            }
        }
    }
    out
}

/// The nonzero pixels of an image as `(index, value)`, ascending.
pub fn nonzero_pixels(image: &[u8; INPUT]) -> Vec<Nonzero> {
    let mut out = Vec::new();
    extend_nonzero_pixels(image, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn nonzero_pixel_lists_match_a_plain_scan() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for density in [0.0, 0.05, 0.3, 1.0] {
            let image: [u8; INPUT] =
                core::array::from_fn(|_| if rng.gen_bool(density) { rng.gen_range(1..=255) } else { 0 });
            let plain: Vec<Nonzero> =
                image.iter().enumerate().filter(|(_, &p)| p != 0).map(|(i, &p)| Nonzero::new(i as u16, p)).collect();
            assert_eq!(count_nonzero_pixels(&image), plain.len());
            assert_eq!(nonzero_pixels(&image), plain);
        }
        assert_eq!(nonzero_bytes(0x0100_8000_0000_7f01), 0x8000_8000_0000_8080);
    }

    #[test]
    fn shift_moves_ink_and_drops_what_leaves() {
        let mut image = [0u8; INPUT];
        image[0] = 9; // top left
        image[28 + 5] = 7; // row 1, column 5
        let moved = shift(&image, 2, 1);
        assert_eq!(moved[28 + 2], 9);
        assert_eq!(moved[2 * 28 + 7], 7);
        assert_eq!(moved.iter().filter(|&&p| p != 0).count(), 2);
        let gone = shift(&image, -1, 0);
        assert_eq!(gone[28 + 4], 7);
        assert_eq!(gone.iter().filter(|&&p| p != 0).count(), 1, "the top-left pixel left the image");
        assert_eq!(shift(&image, 0, 0), image);
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
