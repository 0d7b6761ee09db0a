//! The trainer's first layer, split between two threads by W1 row: one
//! sums and updates the rows above [`SPLIT_ROW`], the other the rest, so
//! each half of W1 stays in one core's cache.
//!
//! Each half is summed on its own, so the trainer's first-layer sums equal
//! the device's up to rounding, not bit for bit; everything the host
//! reports (accuracy, parity) goes through `shared`. Rows are 10 lanes
//! wide and every operation is lane-wise with no fused multiply-add, so
//! the AVX2 and baseline builds give the same bits.
use shared::network::pixel_value;
use shared::{HIDDEN, INPUT};

/// One row of W1: the weights from one pixel to the ten hidden units.
pub type Row = [f32; HIDDEN];

/// A nonzero pixel of an image: where it is and its value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nonzero {
    /// Pixel index, 0–783.
    pub index: u16,
    /// Pixel value, 1–255.
    pub value: u8,
}

impl Nonzero {
    /// Pixel `index` with `value`.
    pub fn new(index: u16, value: u8) -> Self {
        Nonzero { index, value }
    }
}

/// W1's rows are split here between the trainer's two threads: each keeps
/// its half in its own cache, summing and updating only those rows (the
/// middle row of the image: digits' ink splits about evenly).
pub const SPLIT_ROW: usize = INPUT / 2;

/// The nonzero pixels whose rows are in `first..first + count`: a
/// contiguous run, since pixels are in ascending order.
#[inline(always)]
pub fn pixels_in(nonzero: &[Nonzero], first: usize, count: usize) -> &[Nonzero] {
    let from = nonzero.partition_point(|p| usize::from(p.index) < first);
    let to = nonzero.partition_point(|p| usize::from(p.index) < first + count);
    &nonzero[from..to]
}

/// `start + Σ x_i · W1[i]` over the nonzero pixels whose rows are in `rows`
/// (W1's rows from `first` on), ascending.
#[inline(always)]
pub fn partial_sums(rows: &[Row], first: usize, start: &[f32; HIDDEN], nonzero: &[Nonzero]) -> [f32; HIDDEN] {
    let mut z = *start;
    for &Nonzero { index, value, .. } in nonzero {
        let Some(row) = rows.get(usize::from(index).wrapping_sub(first)) else { continue };
        let x = pixel_value(value);
        for (z, &w) in z.iter_mut().zip(row) {
            *z += x * w;
        }
    }
    z
}

/// The trainer's first layer: `(b1 + Σ low rows) + Σ high rows`, the two
/// threads' halves added. The same value as `shared::network::hidden_forward`
/// up to rounding (that one sums in a single run).
#[inline(always)]
pub fn hidden_forward(w1: &[Row; INPUT], b1: &[f32; HIDDEN], nonzero: &[Nonzero]) -> [f32; HIDDEN] {
    let (low, high) = w1.split_at(SPLIT_ROW);
    let z_low = partial_sums(low, 0, b1, pixels_in(nonzero, 0, SPLIT_ROW));
    let z_high = partial_sums(high, SPLIT_ROW, &[0.0; HIDDEN], pixels_in(nonzero, SPLIT_ROW, high.len()));
    add(&z_low, &z_high)
}

/// `a + b`, element by element.
#[inline(always)]
pub fn add(a: &[f32; HIDDEN], b: &[f32; HIDDEN]) -> [f32; HIDDEN] {
    core::array::from_fn(|j| a[j] + b[j])
}

/// `dW1[i] += x_i · dz1` over the nonzero pixels: the W1 half of the first layer's backward pass.
#[inline(always)]
pub fn hidden_backward(grad: &mut [Row; INPUT], dz1: &[f32; HIDDEN], nonzero: &[Nonzero]) {
    for &Nonzero { index, value, .. } in nonzero {
        let Some(row) = grad.get_mut(usize::from(index)) else { continue };
        let x = pixel_value(value);
        for (g, &d) in row.iter_mut().zip(dz1) {
            *g += x * d;
        }
    }
}

/// `W1[i] -= x_i · step_dz1` over the nonzero pixels whose rows are in
/// `rows` (W1's rows from `first` on): one example's share of a gradient
/// step, applied straight to the weights (`step_dz1` is the example's
/// `dz1` times the step size).
#[inline(always)]
pub fn descend_hidden(rows: &mut [Row], first: usize, step_dz1: &[f32; HIDDEN], nonzero: &[Nonzero]) {
    for &Nonzero { index, value, .. } in nonzero {
        let Some(row) = rows.get_mut(usize::from(index).wrapping_sub(first)) else { continue };
        let x = pixel_value(value);
        for (w, &d) in row.iter_mut().zip(step_dz1) {
            *w -= x * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn forward_matches_shared_up_to_rounding() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut w1 = Box::new([[0.0f32; HIDDEN]; INPUT]);
        w1.iter_mut().flatten().for_each(|w| *w = rng.gen_range(-1.0..1.0));
        let b1: [f32; HIDDEN] = core::array::from_fn(|_| rng.gen_range(-1.0..1.0));
        for _ in 0..50 {
            let image: [u8; INPUT] =
                core::array::from_fn(|_| if rng.gen_bool(0.2) { rng.gen_range(1..=255) } else { 0 });
            let nonzero = super::super::pixel_lists::nonzero_pixels(&image);
            let expected =
                shared::network::hidden_forward(&w1, &b1, nonzero.iter().map(|p| (usize::from(p.index), p.value)));
            let got = hidden_forward(&w1, &b1, &nonzero);
            let scale: f32 = nonzero
                .iter()
                .map(|p| pixel_value(p.value) * w1[usize::from(p.index)].map(f32::abs).iter().sum::<f32>())
                .sum();
            for (g, e) in got.iter().zip(&expected) {
                assert!((g - e).abs() <= 1e-6 * (1.0 + scale), "{got:?} vs {expected:?}");
            }
        }
    }
}
