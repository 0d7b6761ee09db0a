//! The 784→10→10 network: weights and the single forward pass used everywhere.
//!
//! Order of operations (host and firmware must agree bit for bit, so this is
//! part of the contract):
//! 1. `x[i] = PIXEL_SCALE[pixel[i]]`, i.e. `pixel as f32 / 255.0` rounded once.
//! 2. `z1[j] = b1[j]`, then for `i` in `0..784` ascending, **skipping pixels
//!    that are 0**, `z1[j] += x[i] * w1[i][j]` (one multiply, one add, never
//!    fused). Skipping is exact for finite weights except that it keeps the
//!    sign of a `-0.0` sum, and it is the definition, not an optimisation.
//! 3. `a1[j] = z1[j]` if `z1[j] > 0` else `0.0` (ReLU).
//! 4. `z2[k] = b2[k]`, then for `j` in `0..10` ascending `z2[k] += w2[k][j] * a1[j]`.
//! 5. softmax: `m = max(z2)` scanning `k` ascending; `e[k] = libm::expf(z2[k] - m)`;
//!    `s = e[0] + e[1] + … + e[9]` left to right; `p[k] = e[k] / s`.
//! 6. `digit` = the first index of the largest logit `z2`.
pub mod int8;
pub mod int_softmax;
pub mod soft_float;

pub use crate::dims::{HIDDEN, INPUT, OUTPUT};
use crate::input::deskew::Normalised;
use crate::input::pixels::{NonzeroPixels, PixelBytes};
use crate::input::strokes::StrokeMaps;
use serde::{Deserialize, Serialize};
use serde_big_array::BigArray;

/// `PIXEL_SCALE[p] == p as f32 / 255.0`, computed once at compile time so the
/// firmware never divides (a soft-float division costs hundreds of cycles).
pub const PIXEL_SCALE: [f32; 256] = pixel_scale_table();

#[allow(clippy::indexing_slicing, reason = "evaluated at compile time; p < 256 by the loop condition")]
const fn pixel_scale_table() -> [f32; 256] {
    let mut table = [0.0f32; 256];
    let mut p = 0;
    while p < 256 {
        table[p] = p as f32 / 255.0;
        p += 1;
    }
    table
}

/// All parameters of the network.
///
/// `w1` is stored input-major (`w1[pixel][hidden]`) so that one nonzero pixel
/// touches one contiguous row of ten weights, and zero pixels cost nothing.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// First layer, `[INPUT][HIDDEN]`.
    #[serde(with = "BigArray")]
    pub w1: [[f32; HIDDEN]; INPUT],
    /// First layer bias, `[HIDDEN]`.
    pub b1: [f32; HIDDEN],
    /// Second layer, `[OUTPUT][HIDDEN]`.
    pub w2: [[f32; HIDDEN]; OUTPUT],
    /// Second layer bias, `[OUTPUT]`.
    pub b2: [f32; OUTPUT],
}

/// Number of `f32` parameters in [`Weights`].
pub const PARAMETER_COUNT: usize = INPUT * HIDDEN + HIDDEN + OUTPUT * HIDDEN + OUTPUT;

impl Weights {
    /// All-zero weights.
    pub const ZERO: Weights =
        Weights { w1: [[0.0; HIDDEN]; INPUT], b1: [0.0; HIDDEN], w2: [[0.0; HIDDEN]; OUTPUT], b2: [0.0; OUTPUT] };

    /// The four tensors in file order (w1, b1, w2, b2), each flattened row-major.
    pub fn tensors(&self) -> [&[f32]; 4] {
        [self.w1.as_flattened(), &self.b1, self.w2.as_flattened(), &self.b2]
    }

    /// The four tensors in file order, mutably.
    pub fn tensors_mut(&mut self) -> [&mut [f32]; 4] {
        [self.w1.as_flattened_mut(), &mut self.b1, self.w2.as_flattened_mut(), &mut self.b2]
    }

    /// Every parameter in file order: w1, b1, w2, b2, each row-major.
    pub fn parameters(&self) -> impl Iterator<Item = f32> + '_ {
        self.tensors().into_iter().flatten().copied()
    }

    /// Every parameter in file order, mutably.
    pub fn parameters_mut(&mut self) -> impl Iterator<Item = &mut f32> + '_ {
        self.tensors_mut().into_iter().flatten()
    }
}

impl core::fmt::Debug for Weights {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Weights")
            .field("parameters", &PARAMETER_COUNT)
            .field("b1", &self.b1)
            .field("b2", &self.b2)
            .finish_non_exhaustive()
    }
}

/// What the network says about one image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most likely digit (first maximum of the logits).
    pub digit: u8,
    /// Softmax probabilities, one per digit.
    pub probabilities: [f32; OUTPUT],
}

/// `pixel / 255` from the table; any `u8` is in range, so this compiles to one load.
pub fn pixel_value(pixel: u8) -> f32 {
    PIXEL_SCALE.get(usize::from(pixel)).copied().unwrap_or(0.0)
}

/// First layer before the activation, from the image's nonzero pixels
/// `(index, value)` in ascending index order; zero pixels add nothing and are
/// never visited. Host and device both read pixels through [`NonzeroPixels::for_each_nonzero`]
/// (the trainer through its own sparse lists), so the sums are formed in the
/// same order everywhere. Out-of-range indices are ignored.
// w1: [IN][HID], nonzero: [(i, p)] -> z1: [HID]
#[inline(always)]
pub fn hidden_forward(
    w1: &[[f32; HIDDEN]; INPUT],
    b1: &[f32; HIDDEN],
    nonzero: impl IntoIterator<Item = (usize, u8)>,
) -> [f32; HIDDEN] {
    let mut z1 = *b1;
    for (i, pixel) in nonzero {
        if let Some(row) = w1.get(i) {
            accumulate_row(&mut z1, pixel, row);
        }
    }
    z1
}

/// `z1[j] += x * row[j]` for one nonzero pixel: the one place the first layer's sums are formed.
#[inline(always)]
fn accumulate_row(z1: &mut [f32; HIDDEN], pixel: u8, row: &[f32; HIDDEN]) {
    let x = pixel_value(pixel);
    for (z, &w) in z1.iter_mut().zip(row.iter()) {
        *z = mul_add(*z, x, w);
    }
}

/// `acc + a * b` with two roundings, never fused: the network's only
/// multiply-accumulate. Cores without an FPU (`target_abi = "eabi"` on ARM) use
/// [`soft_float`]: the same bits in about 90 instructions on
/// the Cortex-M3 instead of the generic routines' 130.
#[inline(always)]
pub fn mul_add(acc: f32, a: f32, b: f32) -> f32 {
    if cfg!(all(target_arch = "arm", target_abi = "eabi")) {
        soft_float::add(acc, soft_float::mul(a, b))
    } else {
        acc + a * b
    }
}

/// ReLU, written so that NaN maps to 0 and `-0.0` to `+0.0`.
// z: [N] -> a: [N]
pub fn relu<const N: usize>(z: &[f32; N]) -> [f32; N] {
    z.map(|v| if v > 0.0 { v } else { 0.0 })
}

/// A dense layer `y = b + w · x`, summing inputs in ascending order.
// w: [OUT][IN], x: [IN] -> y: [OUT]
pub fn dense_forward<const IN: usize, const OUT: usize>(
    w: &[[f32; IN]; OUT],
    b: &[f32; OUT],
    x: &[f32; IN],
) -> [f32; OUT] {
    let mut y = *b;
    for (yk, row) in y.iter_mut().zip(w.iter()) {
        for (&wkj, &xj) in row.iter().zip(x.iter()) {
            *yk = mul_add(*yk, wkj, xj);
        }
    }
    y
}

/// Softmax with max subtraction and `libm::expf`, summed left to right.
// z: [N] -> p: [N]
pub fn softmax<const N: usize>(z: &[f32; N]) -> [f32; N] {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, |m, v| if v > m { v } else { m });
    let exps = z.map(|v| libm::expf(v - max));
    let mut sum = 0.0f32;
    for &e in exps.iter() {
        sum += e;
    }
    exps.map(|e| e / sum)
}

/// Index of the first largest value (NaNs never win).
pub fn argmax<const N: usize>(v: &[f32; N]) -> usize {
    let mut best = 0;
    let mut best_value = f32::NAN;
    for (i, &x) in v.iter().enumerate() {
        if x > best_value || best_value.is_nan() && !x.is_nan() {
            best = i;
            best_value = x;
        }
    }
    best
}

/// Activations of one forward pass, kept for backpropagation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Activations {
    /// Hidden layer after ReLU.
    pub hidden: [f32; HIDDEN],
    /// Output logits.
    pub logits: [f32; OUTPUT],
    /// Softmax of the logits.
    pub probabilities: [f32; OUTPUT],
}

/// Everything after the first layer's sums: ReLU, second layer, softmax.
pub fn output_activations(weights: &Weights, z1: &[f32; HIDDEN]) -> Activations {
    let hidden = relu(z1);
    let logits = dense_forward(&weights.w2, &weights.b2, &hidden);
    let probabilities = softmax(&logits);
    Activations { hidden, logits, probabilities }
}

/// First layer for an image from any source of its nonzero pixels (either
/// byte form, or an image deskewed on the way in); the same sums as
/// [`hidden_forward`] (one [`accumulate_row`] per nonzero pixel, ascending),
/// in the tightest loop each source allows.
#[inline(always)]
pub fn hidden_forward_pixels(
    w1: &[[f32; HIDDEN]; INPUT],
    b1: &[f32; HIDDEN],
    image: impl NonzeroPixels,
) -> [f32; HIDDEN] {
    let mut z1 = *b1;
    image.for_each_nonzero(w1, |pixel, row| accumulate_row(&mut z1, pixel, row));
    z1
}

/// The forward pass with its intermediate values (the trainer's tests use this).
pub fn forward_activations(weights: &Weights, image: &[u8; INPUT]) -> Activations {
    output_activations(weights, &hidden_forward_pixels(&weights.w1, &weights.b1, PixelBytes::raw(image)))
}

/// Anything that turns an image into a [`Prediction`]: the f32 network, its
/// int8 quantization, a model behind its preprocessing. The firmware and the
/// host's comparisons are written against this.
pub trait Classifier {
    /// Classifies an image in either byte form: what the firmware calls on
    /// the bytes it received.
    fn classify_pixels(&self, image: PixelBytes<'_>) -> Prediction;

    /// Classifies an image as the deskew streams it in (a model that deskews).
    fn classify_normalised(&self, image: Normalised<'_>) -> Prediction;

    /// Classifies an image's stroke maps as they stream in (a model that reads strokes).
    fn classify_strokes(&self, image: StrokeMaps<'_>) -> Prediction;

    /// Classifies a raw 28×28 image: the same pass over the same pixels.
    fn classify(&self, image: &[u8; INPUT]) -> Prediction {
        self.classify_pixels(PixelBytes::raw(image))
    }

    /// Only the predicted class, `classify(image).digit`: what accuracy
    /// needs, so an implementation may skip the softmax.
    fn predict_class(&self, image: &[u8; INPUT]) -> u8 {
        self.classify(image).digit
    }
}

/// [`forward`] for each input a device reads. Not generic and not inlined on
/// purpose: the device's passes are compiled (and optimised, at opt-level 3)
/// in this crate whoever calls them; instantiated in the firmware at its
/// opt-level `s` the M4F's f32 pass took 19,100 instructions instead of 6,550.
impl Classifier for Weights {
    fn classify_pixels(&self, image: PixelBytes<'_>) -> Prediction {
        forward(self, image)
    }

    fn classify_normalised(&self, image: Normalised<'_>) -> Prediction {
        forward(self, image)
    }

    fn classify_strokes(&self, image: StrokeMaps<'_>) -> Prediction {
        forward(self, image)
    }

    /// The argmax of the logits, as in [`forward`], without the ten `expf`.
    fn predict_class(&self, image: &[u8; INPUT]) -> u8 {
        self.class_of_sums(&hidden_forward_pixels(&self.w1, &self.b1, PixelBytes::raw(image)))
    }
}

impl Weights {
    /// [`Classifier::predict_class`] from an image's nonzero pixels `(index,
    /// value)`, ascending, as [`hidden_forward`] takes them: the same sums in
    /// the same order, so the same class, for a caller that already keeps
    /// images that way (the trainer's validation split) and need not scan
    /// their zeros at every evaluation.
    pub fn predict_class_nonzero(&self, nonzero: impl IntoIterator<Item = (usize, u8)>) -> u8 {
        self.class_of_sums(&hidden_forward(&self.w1, &self.b1, nonzero))
    }

    /// The argmax of the logits from the first layer's sums.
    #[inline(always)]
    fn class_of_sums(&self, z1: &[f32; HIDDEN]) -> u8 {
        // argmax < OUTPUT = 10, so it fits a u8.
        argmax(&dense_forward(&self.w2, &self.b2, &relu(z1))) as u8
    }
}

/// The forward pass: classifies one image from any source of its nonzero
/// pixels (`&[u8; 784]`, received bytes, an image deskewed on the way in).
#[inline(always)]
pub fn forward(weights: &Weights, image: impl NonzeroPixels) -> Prediction {
    finish(weights, &hidden_forward_pixels(&weights.w1, &weights.b1, image))
}

/// The prediction from the first layer's sums `z1`: a device that forms them
/// its own way, in the same order (the M4F's kernel does), finishes here.
pub fn finish(weights: &Weights, z1: &[f32; HIDDEN]) -> Prediction {
    let a = output_activations(weights, z1);
    Prediction {
        // argmax < OUTPUT = 10, so it fits a u8.
        digit: argmax(&a.logits) as u8,
        probabilities: a.probabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_table_is_division_by_255() {
        for p in 0..=255u8 {
            let runtime = core::hint::black_box(f32::from(p)) / core::hint::black_box(255.0f32);
            assert_eq!(PIXEL_SCALE[usize::from(p)].to_bits(), runtime.to_bits());
        }
    }

    /// A network small enough to check by hand: only pixels 0 and 1 matter.
    #[test]
    fn forward_on_a_hand_computable_case() {
        let mut w = Weights::ZERO;
        // hidden 0 = 1.0 * x0, hidden 1 = -1.0 * x1 (ReLU kills it), hidden 2 = 2 * x1 + 0.5
        w.w1[0][0] = 1.0;
        w.w1[1][1] = -1.0;
        w.w1[1][2] = 2.0;
        w.b1[2] = 0.5;
        // logit 3 = hidden0 + hidden2, logit 7 = ln(2) bias only
        w.w2[3][0] = 1.0;
        w.w2[3][2] = 1.0;
        let mut image = [0u8; INPUT];
        image[0] = 255; // x0 = 1.0
        image[1] = 51; // x1 = 0.2
        let a = forward_activations(&w, &image);
        assert_eq!(a.hidden[0], 1.0);
        assert_eq!(a.hidden[1], 0.0);
        assert_eq!(a.hidden[2], 0.2 * 2.0 + 0.5);
        assert_eq!(a.logits[3], 1.0 + (0.2f32 * 2.0 + 0.5));
        let p = forward(&w, &image);
        assert_eq!(p.digit, 3);
        // logits: 1.9 at index 3, 0 elsewhere -> p3 = e^1.9 / (e^1.9 + 9)
        let e = 1.9f64.exp();
        let expected = e / (e + 9.0);
        assert!((f64::from(p.probabilities[3]) - expected).abs() < 1e-6);
        let sum: f32 = p.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }

    #[test]
    fn raw_and_zero_run_images_classify_bit_for_bit_alike() {
        let mut w = Weights::ZERO;
        for (n, p) in w.parameters_mut().enumerate() {
            *p = ((n * 7919) % 1000) as f32 / 997.0 - 0.5;
        }
        let image: [u8; INPUT] = core::array::from_fn(|i| if i % 5 == 0 { (i % 251) as u8 } else { 0 });
        let mut buf = [0u8; INPUT];
        let len = crate::input::pixels::zero_run_encode(&image, &mut buf).unwrap();
        let encoded = PixelBytes::new(&buf[..len]).unwrap();
        let from_wire = w.classify_pixels(encoded);
        let from_raw = forward(&w, &image);
        assert_eq!(from_wire.digit, from_raw.digit);
        assert_eq!(from_wire.probabilities.map(f32::to_bits), from_raw.probabilities.map(f32::to_bits));
    }

    #[test]
    fn zero_image_gives_bias_only_logits() {
        let mut w = Weights::ZERO;
        w.b2[9] = 1.0;
        assert_eq!(forward(&w, &[0; INPUT]).digit, 9);
    }

    #[test]
    fn argmax_takes_the_first_maximum_and_ignores_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5, 0.2]), 1);
    }

    #[test]
    fn softmax_survives_large_logits() {
        let p = softmax(&[1000.0f32, 0.0, -1000.0]);
        assert_eq!(p[0], 1.0);
        assert_eq!(p[2], 0.0);
    }

    #[test]
    fn relu_maps_nan_and_negative_zero_to_zero() {
        let a = relu(&[f32::NAN, -0.0, -1.0, 2.0]);
        assert_eq!(a.map(f32::to_bits), [0.0f32, 0.0, 0.0, 2.0].map(f32::to_bits));
    }
}
