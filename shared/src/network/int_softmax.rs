//! The int8 network's softmax, in integers: `p[k] = exp(z[k] − max z) / Σ`
//! with `z[k] = acc2[k] · output_scale`, computed without floating-point
//! arithmetic. A core without an FPU (the M3, the M0+) then links one float
//! routine for an int8 model (`u32` to `f32`) instead of the soft-float
//! arithmetic and `expf`: 1.9 KB less flash and 13,700 fewer instructions
//! per inference on the M3 than the f32 softmax of the dequantised logits.
//! Every step is exact integer arithmetic, so every core gives the same bits;
//! `docs/format.md` §2.2 states it for other readers.
//!
//! Steps (Q31 means the value times 2^31, as an integer):
//! 1. The scale as an integer times a power of two: `output_scale = M · 2^E`
//!    (its 24-bit significand and exponent), and
//!    `C = (M · LOG2E_Q31) >> 24` (`2^30 ≤ C < 2^32`), so that
//!    `output_scale · log2(e) ≈ C · 2^(E − 7)`.
//!    A scale that is not a positive normal number makes every `x` below 0.
//! 2. For each output, `d = max acc2 − acc2[k]` (≥ 0), cut to 32 bits:
//!    `d' = d >> s` with `s` = the bits of `d` beyond 32 (0 if none); then
//!    the exponent `x = ⌊d' · C · 2^(E + 17 + s)⌋` (Q24 of
//!    `d · output_scale · log2(e)`, the product exact in 64 bits), capped at
//!    `32 · 2^24`.
//! 3. `e[k] = 2^(−x / 2^24)` in Q31: with `n = x >> 24`, `j = (x >> 19) & 31`
//!    and `r = x & 0x7ffff`, `e = (TABLE[j] · P(r)) >> 31 >> n`, where
//!    `TABLE[j] = round(2^31 · 2^(−j/32))` and `P(r) ≈ 2^31 · 2^(−r/2^24)` is
//!    `1 − a + a²/2 − a³/6 + a⁴/24` for `a = r · ln 2` (Q31, see [`fraction`]).
//!    The largest output gets exactly `2^31`.
//! 4. `S = Σ e[k]`, `R = ⌊2^62 / S⌋`, `q[k] = (e[k] · R) >> 30` (≈ `p · 2^32`).
//! 5. `p[k] = f32(q[k]) · 2^−32`: one rounding (to nearest-even), then an
//!    exact power-of-two scaling.
use crate::dims::OUTPUT;
use crate::int_math::{divide, wide_mul};

/// `round(log2(e) · 2^31)`.
const LOG2E_Q31: u64 = 3_098_164_009;
/// `round(ln(2) · 2^31)`.
const LN2_Q31: u64 = 1_488_522_236;
/// `round(2^31 · 2^(−j/32))` for `j` in 0..32.
const TABLE: [u32; 32] = [
    2147483648, 2101467502, 2056437387, 2012372174, 1969251188, 1927054196, 1885761398, 1845353420, 1805811301,
    1767116489, 1729250827, 1692196547, 1655936265, 1620452965, 1585730000, 1551751076, 1518500250, 1485961921,
    1454120821, 1422962010, 1392470869, 1362633090, 1333434672, 1304861917, 1276901417, 1249540052, 1222764986,
    1196563654, 1170923762, 1145833280, 1121280436, 1097253708,
];
/// Fraction bits of the exponent `x`.
const FRAC: u32 = 24;
/// Exponents at or past 32 give `e = 0` in Q31.
const CAP: u64 = 32 << FRAC;

/// The softmax of `acc2 · output_scale`, in the module's integer steps.
/// Every value that fits 32 bits is kept in 32 (the exponents, the powers,
/// the polynomial's terms): on the 32-bit cores each 64-bit shift or sum is
/// several instructions, and on the M0+ each 64-bit product a library call.
pub fn softmax(acc2: &[i64; OUTPUT], output_scale: f32) -> [f32; OUTPUT] {
    let (c, e) = scale_log2e(output_scale);
    let best = acc2.iter().copied().max().unwrap_or(0);
    let exps = acc2.map(|a| power_of_half(exponent(best.abs_diff(a), c, e)));
    // At least 2^31 (the largest output's), at most 10 · 2^31: both steps fit 64 bits.
    let sum: u64 = exps.iter().map(|&e| u64::from(e)).sum();
    let reciprocal = divide(1 << 62, sum as i64) as u64;
    exps.map(|e| probability(e, reciprocal))
}

/// Steps 4 and 5 for one output. Out of line: unrolled ten times over it
/// costs the int8 firmware half a kilobyte of its 16 KB of flash.
#[inline(never)]
fn probability(e: u32, reciprocal: u64) -> f32 {
    q32_to_f32(wide_mul(e, reciprocal as u32) >> 30) // reciprocal ≤ 2^31
}

/// Step 1: `(C, E)` with `output_scale · log2(e) ≈ C · 2^(E − 7)`; `C = 0`
/// for a scale that is not a positive normal number.
fn scale_log2e(output_scale: f32) -> (u64, i32) {
    let bits = output_scale.to_bits();
    let field = (bits >> 23) & 0xff;
    if bits >> 31 != 0 || field == 0 || field == 0xff {
        return (0, 0);
    }
    let significand = u64::from((bits & 0x7f_ffff) | 0x80_0000);
    ((significand * LOG2E_Q31) >> 24, field as i32 - 150)
}

/// Step 2: `min(⌊(d >> s) · c · 2^(e + 17 + s)⌋, CAP)`, 17 = 24 − 7 (`FRAC`
/// fraction bits, and step 1's `2^−7`).
fn exponent(d: u64, c: u64, e: i32) -> u32 {
    let beyond = 32u32.saturating_sub(d.leading_zeros());
    let product = wide_mul((d >> beyond) as u32, c as u32); // both below 2^32
    let shift = e + (FRAC as i32 - 7) + beyond as i32;
    let x = if product == 0 {
        0
    } else if shift >= 0 {
        // Whatever the shift, anything at or above CAP >> shift saturates.
        match CAP.checked_shr(shift.unsigned_abs()) {
            Some(limit) if product < limit => product << shift.unsigned_abs(),
            _ => CAP,
        }
    } else {
        product.checked_shr(shift.unsigned_abs()).unwrap_or(0).min(CAP)
    };
    x as u32 // at most CAP = 2^29
}

/// Step 3: `2^(−x / 2^FRAC)` in Q31, for `x ≤ CAP`.
fn power_of_half(x: u32) -> u32 {
    let whole = x >> FRAC;
    let j = ((x >> (FRAC - 5)) & 31) as usize;
    let t = TABLE.get(j).copied().unwrap_or(0);
    // TABLE[j] and the fraction are at most 2^31: the product's top bits fit 32.
    let power = (wide_mul(t, fraction(x & ((1 << (FRAC - 5)) - 1))) >> 31) as u32;
    power.checked_shr(whole).unwrap_or(0)
}

/// `2^31 · 2^(−r / 2^FRAC)` for `r < 2^(FRAC − 5)`, from `e^−a`'s series to
/// `a⁴` (`a = r · ln 2 < 0.022`; the next term is below one Q31 unit).
fn fraction(r: u32) -> u32 {
    // a < 2^26, so every power below fits 32 bits (and divides as one).
    let a = (wide_mul(r, LN2_Q31 as u32) >> FRAC) as u32;
    let times_a = |v: u32| (wide_mul(v, a) >> 31) as u32;
    let a2 = times_a(a);
    let a3 = times_a(a2);
    let a4 = times_a(a3);
    // 2^31 + a2/2 + a4/24 < 2^32, and a + a3/6 is far below 2^31: no wrap.
    ((1 << 31) + a2 / 2 + a4 / 24) - (a + a3 / 6)
}

/// Step 5: `f32(q) · 2^−32` for `q ≤ 2^32`, rounded once.
fn q32_to_f32(q: u64) -> f32 {
    match u32::try_from(q) {
        Ok(0) => 0.0,
        // q ≥ 1 gives an exponent field of at least 127, so taking 32 from it stays normal.
        // (From a u32: one instruction on an FPU, a smaller routine without one.)
        Ok(q) => f32::from_bits((q as f32).to_bits() - (32 << 23)),
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f32 softmax of the dequantised logits, in f64: what the integers approximate.
    fn reference(acc2: &[i64; OUTPUT], scale: f32) -> [f64; OUTPUT] {
        let z = acc2.map(|a| a as f64 * f64::from(scale));
        let m = z.iter().copied().fold(f64::MIN, f64::max);
        let e = z.map(|v| (v - m).exp());
        let s: f64 = e.iter().sum();
        e.map(|v| v / s)
    }

    #[test]
    fn close_to_the_real_softmax() {
        let mut next = crate::int_math::xorshift64(0x9e37_79b9_7f4a_7c15);
        let mut worst = 0.0f64;
        for case in 0..20_000 {
            // Scales like a quantizer's (1e-9 to 1e-3) and logits spread up to ±60.
            let scale = (1e-9f64 * 10f64.powf((next() % 6000) as f64 / 1000.0)) as f32;
            let spread = 1.0 + (next() % 60) as f64;
            let acc2: [i64; OUTPUT] = core::array::from_fn(|_| {
                let z = ((next() % 20_001) as f64 / 10_000.0 - 1.0) * spread;
                (z / f64::from(scale)) as i64
            });
            let got = softmax(&acc2, scale);
            let want = reference(&acc2, scale);
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((f64::from(*g) - w).abs());
            }
            let total: f64 = got.iter().map(|&p| f64::from(p)).sum();
            assert!((total - 1.0).abs() < 1e-6, "case {case}: sum {total}");
        }
        assert!(worst < 1e-7, "largest error {worst}");
    }

    /// The steps as first written, every intermediate in 64 bits: the
    /// 32-bit path must give the same bits.
    fn softmax_in_64_bits(acc2: &[i64; OUTPUT], output_scale: f32) -> [f32; OUTPUT] {
        let exponent = |d: u64, c: u64, e: i32| -> u64 {
            let beyond = 32u32.saturating_sub(d.leading_zeros());
            let product = (d >> beyond) * c;
            let shift = e + (FRAC as i32 - 7) + beyond as i32;
            if product == 0 {
                0
            } else if shift >= 0 {
                match CAP.checked_shr(shift.unsigned_abs()) {
                    Some(limit) if product < limit => product << shift.unsigned_abs(),
                    _ => CAP,
                }
            } else {
                product.checked_shr(shift.unsigned_abs()).unwrap_or(0).min(CAP)
            }
        };
        let fraction = |r: u64| -> u64 {
            let a = (r * LN2_Q31) >> FRAC;
            let a2 = (a * a) >> 31;
            let a3 = (a2 * a) >> 31;
            let a4 = (a3 * a) >> 31;
            ((1 << 31) + a2 / 2 + a4 / 24) - (a + a3 / 6)
        };
        let power_of_half = |x: u64| -> u64 {
            let t = u64::from(TABLE[((x >> (FRAC - 5)) & 31) as usize]);
            ((t * fraction(x & ((1 << (FRAC - 5)) - 1))) >> 31).checked_shr((x >> FRAC) as u32).unwrap_or(0)
        };
        let (c, e) = scale_log2e(output_scale);
        let best = acc2.iter().copied().max().unwrap_or(0);
        let exps = acc2.map(|a| power_of_half(exponent(best.abs_diff(a), c, e)));
        let sum: u64 = exps.iter().sum();
        let reciprocal = (1u64 << 62) / sum;
        exps.map(|e| q32_to_f32((e * reciprocal) >> 30))
    }

    #[test]
    fn thirty_two_bits_where_they_fit_change_no_bit() {
        let mut next = crate::int_math::xorshift64(0x5851_f42d_4c95_7f2d);
        for case in 0..200_000 {
            let scale = f32::from_bits(0x2000_0000 + (next() % 0x2000_0000) as u32); // 1e-19 to 2
            let bits = next() % 44;
            let acc2: [i64; OUTPUT] = core::array::from_fn(|_| (next() >> (64 - bits.max(1))) as i64 - (1 << bits) / 2);
            let (got, want) = (softmax(&acc2, scale), softmax_in_64_bits(&acc2, scale));
            assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "case {case}: {acc2:?} at {scale}");
        }
    }

    #[test]
    fn the_largest_logit_gets_the_most() {
        let acc2 = [5, 9, -3, 9, 0, 1, 2, 3, 4, 8];
        let p = softmax(&acc2, 0.5);
        assert_eq!(p[1], p[3]);
        assert!(p.iter().all(|&v| v <= p[1]));
        let uniform = softmax(&[7; OUTPUT], 1e-6);
        assert!(uniform.iter().all(|&v| v == uniform[0] && (v - 0.1).abs() < 1e-8), "{uniform:?}");
    }

    #[test]
    fn odd_scales_give_uniform_probabilities_not_a_panic() {
        let acc2 = [i64::MIN, i64::MAX, 0, 1, -1, 5, 6, 7, 8, 9];
        for scale in [0.0, -1.0, f32::NAN, f32::INFINITY, f32::MIN_POSITIVE / 4.0] {
            let p = softmax(&acc2, scale);
            assert!(p.iter().all(|&v| v == p[0]), "{scale}: {p:?}");
        }
        // Extreme values with a real scale: one winner, no panic.
        let p = softmax(&acc2, 1.0);
        assert_eq!(p[1], 1.0);
        let _ = softmax(&acc2, f32::MAX);
        let _ = softmax(&acc2, f32::MIN_POSITIVE);
    }

    #[test]
    fn q32_to_f32_is_one_rounding() {
        let mut next = crate::int_math::xorshift64(12345);
        for q in (0..5000u64).chain((0..200_000).map(|_| next() % (1 << 32) + 1)).chain([1 << 32, (1 << 32) - 1]) {
            let expected = (q as f64 / 2f64.powi(32)) as f32; // q < 2^53: exact in f64, then one rounding
            assert_eq!(q32_to_f32(q).to_bits(), expected.to_bits(), "{q}");
        }
    }

    #[test]
    fn powers_of_a_half_are_accurate() {
        for x in (0..=CAP).step_by(997) {
            let want = 2f64.powf(-(x as f64) / f64::from(1u32 << FRAC)) * 2f64.powi(31);
            let got = power_of_half(x as u32) as f64;
            assert!((got - want).abs() <= 4.0, "{x}: {got} vs {want}");
        }
        assert_eq!(power_of_half(0), 1 << 31);
        assert_eq!(power_of_half(CAP as u32), 0);
    }
}
