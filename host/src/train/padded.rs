//! The trainer's working copy of the first layer: each W1 row padded from
//! 10 to 16 lanes and aligned to a cache line, so one pixel's row is one
//! cache line and two 8-wide vector operations (no split loads, no scalar
//! tail). The padding lanes stay zero.
//!
//! The sums are formed exactly as in `shared::network::hidden_forward`
//! (bias first, then one multiply and one add per nonzero pixel, ascending),
//! lane by lane, with no fused multiply-add: the trainer's forward pass is
//! bit-identical to the device's (a test checks it).
use shared::network::pixel_value;
use shared::{HIDDEN, INPUT};

/// Lanes per padded row: a 64-byte cache line of f32.
pub const LANES: usize = 10;

/// One padded row of W1 (or of its gradient or velocity).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Row(pub [f32; LANES]);

/// A padded 784×16 matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct PaddedW1(pub Box<[Row]>);

impl PaddedW1 {
    /// All zeros.
    pub fn zero() -> Self {
        PaddedW1(vec![Row::default(); INPUT].into_boxed_slice())
    }

    /// Pads `w1`.
    pub fn from_rows(w1: &[[f32; HIDDEN]; INPUT]) -> Self {
        let mut padded = Self::zero();
        for (row, w) in padded.0.iter_mut().zip(w1) {
            row.0[..HIDDEN].copy_from_slice(w);
        }
        padded
    }

    /// Writes the real lanes back into `w1`.
    pub fn copy_to(&self, w1: &mut [[f32; HIDDEN]; INPUT]) {
        for (w, row) in w1.iter_mut().zip(self.0.iter()) {
            w.copy_from_slice(&row.0[..HIDDEN]);
        }
    }
}

/// Pads a length-10 vector.
pub fn pad(v: &[f32; HIDDEN]) -> Row {
    let mut row = Row::default();
    row.0[..HIDDEN].copy_from_slice(v);
    row
}

/// The real lanes of a padded vector.
pub fn unpad(row: &Row) -> [f32; HIDDEN] {
    core::array::from_fn(|j| row.0[j])
}

/// `z1 = b1 + Σ x_i · W1[i]` over the nonzero pixels, ascending.
#[inline(always)]
pub fn hidden_forward(w1: &PaddedW1, b1: &[f32; HIDDEN], nonzero: &[(u16, u8)]) -> [f32; HIDDEN] {
    let mut z = pad(b1);
    for &(i, pixel) in nonzero {
        let Some(row) = w1.0.get(usize::from(i)) else { continue };
        let x = pixel_value(pixel);
        for (z, &w) in z.0.iter_mut().zip(&row.0) {
            *z += x * w;
        }
    }
    unpad(&z)
}

/// `dW1[i] += x_i · dz1` over the nonzero pixels: the W1 half of the first layer's backward pass.
#[inline(always)]
pub fn hidden_backward(grad: &mut PaddedW1, dz1: &[f32; HIDDEN], nonzero: &[(u16, u8)]) {
    let dz = pad(dz1);
    for &(i, pixel) in nonzero {
        let Some(row) = grad.0.get_mut(usize::from(i)) else { continue };
        let x = pixel_value(pixel);
        for (g, &d) in row.0.iter_mut().zip(&dz.0) {
            *g += x * d;
        }
    }
}

/// `W1[i] -= x_i · step_dz1` over the nonzero pixels whose rows are in
/// `rows` (W1's rows from `first` on): one example's share of a gradient
/// step, applied straight to the weights (`step_dz1` is the example's
/// `dz1` times the step size).
#[inline(always)]
pub fn descend_hidden(rows: &mut [Row], first: usize, step_dz1: &[f32; HIDDEN], nonzero: &[(u16, u8)]) {
    let d = pad(step_dz1);
    for &(i, pixel) in nonzero {
        let Some(row) = rows.get_mut(usize::from(i).wrapping_sub(first)) else { continue };
        let x = pixel_value(pixel);
        for (w, &d) in row.0.iter_mut().zip(&d.0) {
            *w -= x * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn forward_is_bit_identical_to_shared() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut w1 = Box::new([[0.0f32; HIDDEN]; INPUT]);
        w1.iter_mut().flatten().for_each(|w| *w = rng.gen_range(-1.0..1.0));
        let b1: [f32; HIDDEN] = core::array::from_fn(|_| rng.gen_range(-1.0..1.0));
        let padded = PaddedW1::from_rows(&w1);
        for _ in 0..50 {
            let image: [u8; INPUT] =
                core::array::from_fn(|_| if rng.gen_bool(0.2) { rng.gen_range(1..=255) } else { 0 });
            let nonzero = super::super::backprop::nonzero_pixels(&image);
            let expected = shared::network::hidden_forward(&w1, &b1, nonzero.iter().map(|&(i, p)| (usize::from(i), p)));
            let got = hidden_forward(&padded, &b1, &nonzero);
            assert_eq!(got.map(f32::to_bits), expected.map(f32::to_bits));
        }
        let mut back = Box::new([[0.0f32; HIDDEN]; INPUT]);
        padded.copy_to(&mut back);
        assert_eq!(back, w1);
    }
}
