//! IEEE-754 single-precision multiply and add in integer arithmetic, for
//! cores without an FPU (the Cortex-M3 and M0+).
//!
//! The compiler's generic soft-float routines handle every case on every
//! call; the network's sums are almost always normal numbers, so [`mul`] and
//! [`add`] take a short path for normal operands and normal results and hand
//! everything else (zeros, subnormals, infinities, NaN, overflow, underflow)
//! to the ordinary `*` and `+`. Both paths round to nearest, ties to even,
//! so the bits are exactly those of the FPU: the tests compare them with the
//! host's hardware on millions of operands and on every edge case.
//!
//! Layout used by the short paths: a mantissa with its implicit leading one,
//! shifted left so that it sits at a fixed top bit, with the bits below it as
//! guard bits; an inexact shift ORs a 1 into the lowest bit ("jamming"),
//! which keeps round-to-nearest-even exact with two or more guard bits.

use crate::int_math::{wide_mul, ARMV6M};

const SIGN: u32 = 0x8000_0000;
const FRACTION: u32 = 0x007f_ffff;
const IMPLICIT_ONE: u32 = 0x0080_0000;

/// Biased exponent of `bits`: 0 for zeros and subnormals, 255 for infinities and NaN.
#[inline(always)]
fn exponent(bits: u32) -> u32 {
    (bits >> 23) & 0xff
}

/// True when the biased exponent is that of a normal number (1..=254).
#[inline(always)]
fn is_normal_exponent(e: u32) -> bool {
    e.wrapping_sub(1) < 254
}

/// Packs a rounded result: `m` holds the mantissa with its leading one at bit
/// `7 + 23 = 30` and seven guard bits below; `e` is the biased exponent of the
/// leading one, already checked to be in `1..=253`. Rounding adds just under
/// half a unit, plus one when the kept part is odd (ties to even); a carry
/// out of the mantissa moves into the exponent field by itself.
#[inline(always)]
fn round_and_pack(sign: u32, e: u32, m: u32) -> u32 {
    let rounded = (m + 0x3f + ((m >> 7) & 1)) >> 7; // m < 2^31: no overflow
    sign | (((e - 1) << 23) + rounded)
}

/// `a * b`, rounded to nearest even, bit for bit as IEEE-754 single precision.
#[inline(always)]
pub fn mul(a: f32, b: f32) -> f32 {
    let (x, y) = (a.to_bits(), b.to_bits());
    let (ex, ey) = (exponent(x), exponent(y));
    if !is_normal_exponent(ex) || !is_normal_exponent(ey) {
        return a * b;
    }
    // Mantissas with the leading one at bit 31: the product is in [2^62, 2^64).
    let product = wide_mul((x << 8) | SIGN, (y << 8) | SIGN);
    let high = (product >> 32) as u32;
    let low = product as u32;
    // The leading one is at bit 31 of `high` (carry) or at bit 30: bring it to
    // bit 30, jamming whatever falls off into bit 0.
    let carry = high >> 31;
    let m = (high >> carry) | u32::from((high & carry) | low != 0);
    let e = (ex + ey + carry).wrapping_sub(127);
    if e.wrapping_sub(1) >= 253 {
        // Underflow, overflow or the edge of the range (a wrapped negative lands here too).
        return a * b;
    }
    f32::from_bits(round_and_pack((x ^ y) & SIGN, e, m))
}

/// `a + b`, rounded to nearest even, bit for bit as IEEE-754 single precision.
#[inline(always)]
pub fn add(a: f32, b: f32) -> f32 {
    let (x, y) = (a.to_bits(), b.to_bits());
    // Order by magnitude: `big` decides the sign and the exponent.
    let (big, small) = if (x & !SIGN) >= (y & !SIGN) { (x, y) } else { (y, x) };
    let (eb, es) = (exponent(big), exponent(small));
    // es ≤ eb, so this is "both normal".
    if es == 0 || eb == 255 {
        return a + b;
    }
    let mb = ((big & FRACTION) | IMPLICIT_ONE) << 7;
    let ms = ((small & FRACTION) | IMPLICIT_ONE) << 7;
    // ms < 2^31, so a shift of 31 leaves only the sticky bit, as any larger one would.
    let shift = (eb - es).min(31);
    let shifted = ms >> shift;
    let aligned = shifted | u32::from(shifted << shift != ms);
    let (e, m) = if (x ^ y) & SIGN == 0 {
        let sum = mb + aligned; // < 2^32: both are below 2^31
        let carry = sum >> 31;
        (eb + carry, (sum >> carry) | (sum & carry))
    } else {
        let difference = mb - aligned; // |big| ≥ |small|
        if difference == 0 {
            return 0.0; // exact cancellation is +0 when rounding to nearest
        }
        // Exact when the exponents differ by 0 or 1; else at most one place to shift
        // (tested first on the M0+, which counts leading zeros by a library call).
        let lead = if ARMV6M && difference >> 29 != 0 {
            u32::from(difference >> 30 == 0)
        } else {
            difference.leading_zeros() - 1
        };
        (eb.wrapping_sub(lead), difference << lead)
    };
    if e.wrapping_sub(1) >= 253 {
        return a + b;
    }
    f32::from_bits(round_and_pack(big & SIGN, e, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Edge values: zeros, subnormals, the normal range's ends, infinities, NaN, and ordinary numbers.
    fn specials() -> Vec<f32> {
        let mut v = vec![
            0.0,
            f32::MIN_POSITIVE,
            f32::MIN_POSITIVE * 2.0,
            f32::from_bits(1),
            f32::from_bits(FRACTION),
            f32::MAX,
            f32::MAX / 2.0,
            f32::INFINITY,
            f32::NAN,
            1.0,
            1.5,
            f32::EPSILON,
            1.0 + f32::EPSILON,
            2.0 - f32::EPSILON,
            3.0,
            1.0 / 3.0,
            1e-20,
            1e20,
            1.0e-38,
            3.0e38,
        ];
        for p in 0..=255u8 {
            v.push(f32::from(p) / 255.0);
        }
        let negatives: Vec<f32> = v.iter().map(|x| -x).collect();
        v.extend(negatives);
        v
    }

    fn same(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// A small xorshift generator: reproducible, no dependency.
    struct Bits(u64);
    impl Bits {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 16) as u32
        }
        /// Random bits, with exponents drawn near each other half of the time, so
        /// that cancellation and every alignment shift come up often.
        fn pair(&mut self) -> (f32, f32) {
            let x = self.next();
            let mut y = self.next();
            if y & 1 == 0 {
                let e = (exponent(x) as i32 + (y >> 1 & 63) as i32 - 32).clamp(0, 255) as u32;
                y = (y & !(0xff << 23)) | (e << 23);
            }
            (f32::from_bits(x), f32::from_bits(y))
        }
    }

    fn black_box_mul(a: f32, b: f32) -> f32 {
        core::hint::black_box(a) * core::hint::black_box(b)
    }

    fn black_box_add(a: f32, b: f32) -> f32 {
        core::hint::black_box(a) + core::hint::black_box(b)
    }

    #[test]
    fn edge_cases_match_the_hardware() {
        let v = specials();
        for &a in &v {
            for &b in &v {
                assert!(same(mul(a, b), black_box_mul(a, b)), "{a:e} * {b:e}: {:e}", mul(a, b));
                assert!(same(add(a, b), black_box_add(a, b)), "{a:e} + {b:e}: {:e}", add(a, b));
            }
        }
    }

    #[test]
    fn random_operands_match_the_hardware() {
        let mut bits = Bits(0x2545_f491_4f6c_dd1d);
        for _ in 0..4_000_000 {
            let (a, b) = bits.pair();
            assert!(same(mul(a, b), black_box_mul(a, b)), "{a:e} * {b:e}");
            assert!(same(add(a, b), black_box_add(a, b)), "{a:e} + {b:e}");
        }
    }

    #[test]
    fn ties_round_to_even() {
        // 1 + 2^-24 is halfway between 1 and the next float: stays at 1 (even).
        assert_eq!(add(1.0, f32::EPSILON / 2.0), 1.0);
        // (1 + 2^-23) + 2^-24 is halfway and rounds up to the even neighbour.
        assert_eq!(add(1.0 + f32::EPSILON, f32::EPSILON / 2.0), 1.0 + 2.0 * f32::EPSILON);
        assert_eq!(add(1.0, -1.0).to_bits(), 0.0f32.to_bits());
    }

    /// The network's own pattern: accumulators, table pixels and weights of every size.
    #[test]
    fn multiply_accumulate_chains_match_the_hardware() {
        let mut bits = Bits(7);
        for _ in 0..20_000 {
            let (mut soft, mut hard) = (0.0f32, 0.0f32);
            for _ in 0..40 {
                let x = f32::from(bits.next() as u8) / 255.0;
                let w = (bits.next() as i32 as f32) * 2f32.powi(-31 - (bits.next() % 20) as i32);
                soft = add(soft, mul(x, w));
                hard = black_box_add(hard, black_box_mul(x, w));
                assert_eq!(soft.to_bits(), hard.to_bits());
            }
        }
    }
}
