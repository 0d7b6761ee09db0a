//! The int8 network: post-training quantized weights and integer
//! accumulation (its file is `format::int8_file`). Host and firmware both run
//! [`forward_int8`].
//!
//! Arithmetic (exact, in integers, in this order):
//! 1. `acc1[j] = b1[j] + Σ p_i * w1[i][j]` over the nonzero pixels `p_i` (raw
//!    0–255), ascending `i`, in `i32` (|acc1| < 2^31: see [`quantize`]).
//! 2. ReLU: `a1[j] = max(acc1[j], 0)`.
//! 3. `acc2[k] = b2[k] + Σ_j a1[j] * w2[k][j]` in `i64`.
//! 4. `digit` = the first index of the largest `acc2`.
//! 5. The probabilities: the softmax of `acc2[k] · output_scale`, computed in
//!    integers ([`super::int_softmax`]), so an int8 model needs no floating-point
//!    arithmetic on any core.
//!
//! Real-valued meaning: `acc1 * s1 / 255 ≈ z1`, `acc2 * output_scale ≈ z2`
//! with `output_scale = s1 / 255 * s2`.
use serde::{Deserialize, Serialize};
use serde_big_array::BigArray;

use super::{Classifier, Prediction, Weights, HIDDEN, INPUT, OUTPUT};
use crate::input::deskew::Normalised;
use crate::input::pixels::{NonzeroPixels, PixelBytes};
use crate::input::strokes::StrokeMaps;

/// Quantized parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizedWeights {
    /// First layer, `[INPUT][HIDDEN]`, in units of `s1`.
    #[serde(with = "BigArray")]
    pub w1: [[i8; HIDDEN]; INPUT],
    /// First bias in accumulator units (`s1 / 255`).
    #[serde(with = "fixed_i32")]
    pub b1: [i32; HIDDEN],
    /// Second layer, `[OUTPUT][HIDDEN]`, in units of `s2`.
    pub w2: [[i8; HIDDEN]; OUTPUT],
    /// Second bias in accumulator units (`output_scale`).
    #[serde(with = "fixed_i32")]
    pub b2: [i32; OUTPUT],
    /// Converts `acc2` into logits.
    pub output_scale: f32,
}

/// `[i32; 10]` as little-endian 4-byte groups, so every field keeps a fixed offset.
mod fixed_i32 {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[i32; 10], s: S) -> Result<S::Ok, S::Error> {
        v.map(i32::to_le_bytes).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[i32; 10], D::Error> {
        Ok(<[[u8; 4]; 10]>::deserialize(d)?.map(i32::from_le_bytes))
    }
}

/// [`forward_int8`] for each input a device reads, compiled here (see `Weights`' impl).
impl Classifier for QuantizedWeights {
    fn classify_pixels(&self, image: PixelBytes<'_>) -> Prediction {
        forward_int8(self, image)
    }

    fn classify_normalised(&self, image: Normalised<'_>) -> Prediction {
        forward_int8(self, image)
    }

    fn classify_strokes(&self, image: StrokeMaps<'_>) -> Prediction {
        forward_int8(self, image)
    }
}

/// The int8 forward pass: classifies one image from any source of its nonzero
/// pixels with integer arithmetic.
#[inline(always)]
pub fn forward_int8(q: &QuantizedWeights, image: impl NonzeroPixels) -> Prediction {
    let mut acc1 = q.b1;
    image.for_each_nonzero(&q.w1, |pixel, row| {
        let p = i32::from(pixel);
        for (a, &w) in acc1.iter_mut().zip(row) {
            *a = a.wrapping_add(p * i32::from(w));
        }
    });
    finish_int8(acc1, &q.w2, &q.b2, q.output_scale)
}

/// Steps 2–5 from the first layer's sums `acc1`. Wrapping `i32` additions
/// give the same bits in any order, so a device may form `acc1` its own way
/// (the M3's and M4F's kernels do) and finish here.
pub fn finish_int8(
    acc1: [i32; HIDDEN],
    w2: &[[i8; HIDDEN]; OUTPUT],
    b2: &[i32; OUTPUT],
    output_scale: f32,
) -> Prediction {
    predict_int8(&second_layer_int8(&acc1, w2, b2), output_scale)
}

/// Steps 2 and 3: `acc2[k] = b2[k] + Σ_j max(acc1[j], 0) · w2[k][j]`, exact
/// in `i64` (a device may form it its own way: integer sums have one value).
///
/// Each activation is split at bit 16 (`a = high · 2^16 + low`): every product
/// and every sum of ten of them then fits an `i32` (`high < 2^15`, `low <
/// 2^16`, `|w| ≤ 128`), and the two sums are joined in `i64` once per output.
/// A core without a 64-bit multiply (the M0+) so needs none; the sum is the same.
pub fn second_layer_int8(acc1: &[i32; HIDDEN], w2: &[[i8; HIDDEN]; OUTPUT], b2: &[i32; OUTPUT]) -> [i64; OUTPUT] {
    let a1 = acc1.map(|a| a.max(0));
    let (high, low) = (a1.map(|a| a >> 16), a1.map(|a| a & 0xffff));
    let mut acc2 = b2.map(i64::from);
    for (acc, row) in acc2.iter_mut().zip(w2) {
        let (mut high_sum, mut low_sum) = (0i32, 0i32);
        for ((&h, &l), &w) in high.iter().zip(&low).zip(row) {
            high_sum += h * i32::from(w);
            low_sum += l * i32::from(w);
        }
        *acc += (i64::from(high_sum) << 16) + i64::from(low_sum);
    }
    acc2
}

/// Steps 4 and 5: the digit and the probabilities from the output sums.
pub fn predict_int8(acc2: &[i64; OUTPUT], output_scale: f32) -> Prediction {
    let mut digit = 0;
    let mut best = i64::MIN;
    for (k, &v) in acc2.iter().enumerate() {
        if v > best {
            best = v;
            digit = k;
        }
    }
    // digit < OUTPUT = 10 fits a u8.
    Prediction { digit: digit as u8, probabilities: super::int_softmax::softmax(acc2, output_scale) }
}

/// Largest |b1| a model may have, so that `b1 + Σ p * w` (at most
/// 784 · 255 · 128 in magnitude) stays inside `i32`: the quantizer clamps to
/// it and the loader refuses more (`docs/format.md` §1.5).
pub const B1_LIMIT: i32 = i32::MAX - (INPUT as i32) * 255 * 128;

/// Post-training quantization, symmetric and per tensor. Rounding is
/// round half away from zero of the value divided by its scale,
/// computed in `f64` with `libm::round`, then clamped to the integer type.
pub fn quantize(w: &Weights) -> QuantizedWeights {
    let max_abs = |v: &mut dyn Iterator<Item = f32>| v.fold(0.0f64, |m, x| m.max(f64::from(x).abs()));
    let s1 = max_abs(&mut w.w1.iter().flatten().copied()).max(f64::MIN_POSITIVE) / 127.0;
    let s2 = max_abs(&mut w.w2.iter().flatten().copied()).max(f64::MIN_POSITIVE) / 127.0;
    let to_i8 = |x: f32, s: f64| libm::round(f64::from(x) / s).clamp(-127.0, 127.0) as i8;
    let acc1_unit = s1 / 255.0;
    let acc2_unit = acc1_unit * s2;
    QuantizedWeights {
        w1: w.w1.map(|row| row.map(|x| to_i8(x, s1))),
        b1: w.b1.map(|b| {
            let limit = f64::from(B1_LIMIT);
            libm::round(f64::from(b) / acc1_unit).clamp(-limit, limit) as i32
        }),
        w2: w.w2.map(|row| row.map(|x| to_i8(x, s2))),
        b2: w.b2.map(|b| libm::round(f64::from(b) / acc2_unit).clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32),
        output_scale: acc2_unit as f32,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A float model with every weight distinct, for the int8 tests here and in `format::int8_file`.
    pub(crate) fn model() -> Weights {
        let mut w = Weights::ZERO;
        for (n, p) in w.parameters_mut().enumerate() {
            *p = ((n * 7919 % 2000) as f32 - 1000.0) / 4000.0;
        }
        w
    }

    #[test]
    fn quantization_is_close_to_the_float_model() {
        let w = model();
        let q = quantize(&w);
        let image: [u8; INPUT] = core::array::from_fn(|i| if i % 7 == 0 { (i % 256) as u8 } else { 0 });
        let f = crate::forward(&w, &image);
        let i = forward_int8(&q, &image);
        for (a, b) in f.probabilities.iter().zip(&i.probabilities) {
            assert!((a - b).abs() < 0.05, "{:?} vs {:?}", f.probabilities, i.probabilities);
        }
    }

    /// The split sums are the products summed in `i64`, for any activations and weights.
    #[test]
    fn second_layer_sums_are_exact() {
        let mut next = crate::int_math::xorshift64(0x2545_f491_4f6c_dd1d);
        for case in 0..100_000 {
            let acc1: [i32; HIDDEN] = core::array::from_fn(|_| match next() % 4 {
                0 => i32::MAX - (next() % 3) as i32,
                1 => i32::MIN + (next() % 3) as i32,
                _ => (next() >> (next() % 64)) as i32,
            });
            let w2: [[i8; HIDDEN]; OUTPUT] = core::array::from_fn(|_| {
                core::array::from_fn(|_| if case % 3 == 0 { [-128, 127][(next() % 2) as usize] } else { next() as i8 })
            });
            let b2: [i32; OUTPUT] = core::array::from_fn(|_| next() as i32);
            let expected: [i64; OUTPUT] = core::array::from_fn(|k| {
                i64::from(b2[k]) + (0..HIDDEN).map(|j| i64::from(acc1[j].max(0)) * i64::from(w2[k][j])).sum::<i64>()
            });
            assert_eq!(second_layer_int8(&acc1, &w2, &b2), expected, "case {case}");
        }
    }

    #[test]
    fn integer_sums_match_a_hand_computation() {
        let mut q = QuantizedWeights {
            w1: [[0; HIDDEN]; INPUT],
            b1: [0; HIDDEN],
            w2: [[0; HIDDEN]; OUTPUT],
            b2: [0; OUTPUT],
            output_scale: 1.0,
        };
        q.w1[3][0] = 2;
        q.w1[4][1] = -5;
        q.b1[1] = 100;
        q.w2[6][0] = 3;
        q.w2[6][1] = 1;
        let mut image = [0u8; INPUT];
        image[3] = 10;
        image[4] = 10;
        let p = forward_int8(&q, &image);
        // acc1 = [20, 100 - 50 = 50, 0...]; acc2[6] = 3 * 20 + 50 = 110.
        assert_eq!(p.digit, 6);
        assert!(p.probabilities[6] > 0.99);
    }
}
