//! Gradients of the cross-entropy loss, one example at a time.
//!
//! Forward values come from `shared::network` (the very code the device runs);
//! this file holds only the backward halves of those pairs.
use shared::network::{argmax, hidden_forward, output_activations, pixel_value, Activations};
use shared::{Weights, HIDDEN, INPUT, OUTPUT};

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

/// Backward of `hidden_forward`: accumulates dW1 and db1 over the
/// nonzero pixels only, exactly the terms the forward pass used.
// nonzero: [(i, p)], dz1: [HID] -> dw1 += x dz1ᵀ, db1 += dz1
pub fn hidden_backward(
    nonzero: &[(u16, u8)],
    dz1: &[f32; HIDDEN],
    dw1: &mut [[f32; HIDDEN]; INPUT],
    db1: &mut [f32; HIDDEN],
) {
    for (b, d) in db1.iter_mut().zip(dz1) {
        *b += d;
    }
    for &(i, pixel) in nonzero {
        let Some(row) = dw1.get_mut(usize::from(i)) else { continue };
        let x = pixel_value(pixel);
        for (g, &d) in row.iter_mut().zip(dz1) {
            *g += x * d;
        }
    }
}

/// Cross-entropy of one prediction, clamped so a confident mistake stays finite.
pub fn cross_entropy(a: &Activations, label: u8) -> f32 {
    -a.probabilities[usize::from(label)].max(f32::MIN_POSITIVE).ln()
}

/// Adds one example's gradient to `grad`; returns its loss and the predicted digit.
pub fn accumulate(weights: &Weights, nonzero: &[(u16, u8)], label: u8, grad: &mut Weights) -> (f32, u8) {
    let z1 = hidden_forward(&weights.w1, &weights.b1, nonzero.iter().map(|&(i, p)| (usize::from(i), p)));
    let a = output_activations(weights, &z1);
    let dz2 = softmax_cross_entropy_backward(&a.probabilities, label);
    let da1 = dense_backward(&weights.w2, &a.hidden, &dz2, &mut grad.w2, &mut grad.b2);
    let dz1 = relu_backward(&a.hidden, &da1);
    hidden_backward(nonzero, &dz1, &mut grad.w1, &mut grad.b1);
    // argmax < OUTPUT = 10 fits a u8.
    (cross_entropy(&a, label), argmax(&a.logits) as u8)
}

/// Appends the nonzero pixels of an image as `(index, value)`, ascending.
pub fn extend_nonzero_pixels(image: &[u8; INPUT], out: &mut Vec<(u16, u8)>) {
    // Most 8-pixel runs of a digit are blank: one 64-bit test skips each.
    let (chunks, _) = image.as_chunks::<8>();
    for (c, chunk) in chunks.iter().enumerate() {
        if u64::from_ne_bytes(*chunk) == 0 {
            continue;
        }
        for (i, &p) in chunk.iter().enumerate() {
            if p != 0 {
                out.push(((c * 8 + i) as u16, p));
            }
        }
    }
}

/// The nonzero pixels of an image as `(index, value)`, ascending.
pub fn nonzero_pixels(image: &[u8; INPUT]) -> Vec<(u16, u8)> {
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
        let mut grad = Box::new(Weights::ZERO);
        for (img, &y) in images.iter().zip(&labels) {
            accumulate(&w, &nonzero_pixels(img), y, &mut grad);
        }
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
