//! Exact integer helpers for the fixed-point code that must give the same
//! bits on every core: the deskew and the int8 softmax.
use core::num::NonZeroU32;

/// True on ARMv6-M (the Pico's Cortex-M0+), which multiplies only 32 × 32 →
/// 32 bits and counts leading zeros by a library call: a `u64` product there
/// is a call of about 40 instructions. Stable Rust gives no cfg for the
/// architecture version; of the targets built, v6-M is the one without 32-bit
/// compare-and-swap.
pub const ARMV6M: bool = cfg!(all(target_arch = "arm", not(target_has_atomic = "32")));

/// `a · b` in full. On the M0+ by four 16 × 16-bit products
/// ([`wide_mul_by_halves`]); elsewhere the core's own 32 × 32 → 64 multiply.
#[inline(always)]
pub fn wide_mul(a: u32, b: u32) -> u64 {
    if ARMV6M {
        wide_mul_by_halves(a, b)
    } else {
        u64::from(a) * u64::from(b)
    }
}

/// `a · b` in full, signed (on the M0+ by [`wide_mul`] of the magnitudes).
#[inline(always)]
pub fn signed_wide_mul(a: i32, b: i32) -> i64 {
    if !ARMV6M {
        return i64::from(a) * i64::from(b);
    }
    let magnitude = wide_mul(a.unsigned_abs(), b.unsigned_abs()) as i64; // at most 2^62
    if (a < 0) != (b < 0) {
        -magnitude
    } else {
        magnitude
    }
}

/// `a · b` from the products of the 16-bit halves, every one within 32 bits.
#[inline(always)]
pub fn wide_mul_by_halves(a: u32, b: u32) -> u64 {
    let (ah, al, bh, bl) = (a >> 16, a & 0xffff, b >> 16, b & 0xffff);
    // a · b = ah·bh·2^32 + (ah·bl + al·bh)·2^16 + al·bl.
    let (middle, middle_carry) = (ah * bl).overflowing_add(al * bh);
    let (low, low_carry) = (al * bl).overflowing_add(middle << 16);
    let high = ah * bh + (middle >> 16) + (u32::from(middle_carry) << 16) + u32::from(low_carry);
    (u64::from(high) << 32) | u64::from(low)
}

/// `n / d` as Rust's `/` on `i64` gives it (rounded toward zero), and 0 for
/// `d = 0`; by 32-bit divisions (one instruction each on v7-M). On the 32-bit
/// cores a 64-bit `/` links about 1 KB of library division, which the int8
/// firmware cannot spare; shift and subtract (one loop turn per quotient bit)
/// took 700 instructions for the softmax's one division.
#[inline(never)]
pub fn divide(n: i64, d: i64) -> i64 {
    let quotient = divide_unsigned(n.unsigned_abs(), d.unsigned_abs()) as i64; // wraps only for i64::MIN / -1
    if (n < 0) != (d < 0) {
        quotient.wrapping_neg()
    } else {
        quotient
    }
}

/// `u / v` (0 for `v = 0`), from 64-by-32-bit divisions: Hacker's Delight's
/// `udivdi3` (Warren, 2nd ed., §9–5). A divisor of more than 32 bits is cut to
/// its top 32, which makes the quotient at most one too small; one multiply
/// and compare puts it right.
fn divide_unsigned(u: u64, v: u64) -> u64 {
    let (u1, u0) = ((u >> 32) as u32, u as u32);
    match u32::try_from(v) {
        Ok(0) => 0,
        Ok(v) if u1 < v => u64::from(divide_long(u1, u0, v)),
        Ok(v) => {
            // Two quotient digits; the first leaves a remainder below v.
            let high = u1 / v;
            (u64::from(high) << 32) | u64::from(divide_long(u1 - high * v, u0, v))
        }
        Err(_) => {
            let shift = v.leading_zeros(); // 0 to 31: v has more than 32 bits
            let top = ((v << shift) >> 32) as u32; // its top bit set
            let half = u >> 1; // half's top word is below 2^31 ≤ top: the quotient fits
            let estimate = (u64::from(divide_long((half >> 32) as u32, half as u32, top)) << shift) >> 31;
            // The estimate is the quotient or one above it; one below, then up if it fits.
            let q = estimate.saturating_sub(1);
            if u - q * v >= v {
                q + 1
            } else {
                q
            }
        }
    }
}

/// `(u1 · 2^32 + u0) / v` for `u1 < v` (so the quotient fits 32 bits): long
/// division in base 2^16 with the divisor shifted to its top bit, each digit
/// estimated by one 32-bit division and corrected at most twice (Knuth's
/// algorithm D; Hacker's Delight's `divlu`).
fn divide_long(u1: u32, u0: u32, v: u32) -> u32 {
    const B: u32 = 1 << 16;
    let shift = v.leading_zeros();
    let v = v << shift;
    // u1 < v, so v ≥ 1 and, shifted, its top half is at least 2^15.
    let Some(v1) = NonZeroU32::new(v >> 16) else { return 0 };
    let v0 = v & 0xffff;
    let top = (u1 << shift) | u0.checked_shr(32 - shift).unwrap_or(0);
    let low = u0 << shift;
    // One digit of `rest · 2^16 + next` by v, rest < v.
    let digit = |rest: u32, next: u32| {
        let mut q = rest / v1;
        let mut r = rest - q * v1.get();
        for _ in 0..2 {
            // q ≥ B is tested first, so q · v0 < 2^32; r < B, so r · B + next < 2^32.
            if q >= B || q * v0 > (r << 16) + next {
                q -= 1;
                r += v1.get();
                if r < B {
                    continue;
                }
            }
            break;
        }
        // The new rest is below v: its bits are the low 32 of the exact value.
        (q, (rest << 16).wrapping_add(next).wrapping_sub(q.wrapping_mul(v)))
    };
    let (high, rest) = digit(top, low >> 16);
    let (low, _) = digit(rest, low & 0xffff);
    (high << 16) | low
}

/// `(n << 16) / d` for `n < 2^24`, `0 < d < 2^24` and `n / d < 2^16` (the
/// quotient fits; 0 for `d = 0`), by long
/// division in base 2^8 with three 32-bit divisions: on v7-M one instruction
/// each, where [`divide`] takes a loop turn per quotient bit.
pub fn divide_q16(n: u32, d: u32) -> u32 {
    let digit = |rest: u32| (rest.checked_div(d).unwrap_or(0), rest.checked_rem(d).unwrap_or(0));
    let (high, rest) = digit(n);
    let (middle, rest) = digit(rest << 8);
    let (low, _) = digit(rest << 8);
    (high << 16) + (middle << 8) + low
}

/// ⌊√n⌋, bit by bit (exact on every target, no floating point).
pub fn isqrt(n: u64) -> u64 {
    let mut rest = n;
    let mut root = 0u64;
    let mut bit = 1u64 << 62;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if rest >= root + bit {
            rest -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

/// A small deterministic generator for tests.
#[cfg(test)]
pub(crate) fn xorshift64(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_is_rusts() {
        let mut next = xorshift64(0x2545_f491_4f6c_dd1d);
        let edges = [0, 1, -1, 2, -2, 7, -7, 1 << 40, -(1 << 40), i64::MAX, i64::MIN + 1, 65_535, 199_920];
        for &n in &edges {
            for &d in &edges {
                let expected = if d == 0 { 0 } else { n / d };
                assert_eq!(divide(n, d), expected, "{n} / {d}");
            }
        }
        for _ in 0..200_000 {
            let (a, b) = (next(), next());
            // Dividends and divisors of every size, both signs.
            let n = (a >> (a % 64)) as i64 * if a & 1 == 0 { 1 } else { -1 };
            let d = ((b >> (b % 64)) as i64).max(1) * if b & 2 == 0 { 1 } else { -1 };
            assert_eq!(divide(n, d), n / d, "{n} / {d}");
        }
        // Near powers of two, where a quotient digit's estimate is most often corrected.
        let near = |k: u64, j: u64| ((1u64 << (k % 63)) as i64).wrapping_add(j as i64 - 2);
        for k in 0..63 {
            for j in 0..5 {
                for l in 0..63 {
                    for i in 0..5 {
                        let (n, d) = (near(k, j), near(l, i));
                        if d != 0 && n >= 0 {
                            assert_eq!(divide(n, d), n / d, "{n} / {d}");
                        }
                    }
                }
            }
        }
    }

    /// The softmax's division: 2^62 by every kind of sum it can have (2^31 to 10 · 2^31).
    #[test]
    fn reciprocals_of_sums_are_exact() {
        let mut next = xorshift64(0x1234_5678_9abc_def1);
        for s in
            (0..2_000_000).map(|_| (1 << 31) + next() % (9 << 31)).chain([1 << 31, 10 << 31, 1 << 32, (1 << 32) - 1])
        {
            assert_eq!(divide(1 << 62, s as i64), (1i64 << 62) / s as i64, "{s}");
        }
    }

    #[test]
    fn products_by_halves_are_whole() {
        let mut next = xorshift64(0x0123_4567_89ab_cdef);
        let edges = [0, 1, 0xffff, 0x1_0000, 0x8000_0000, 0xffff_ffff, 0xffff_0000, 0x0000_ffff];
        let pairs = edges.iter().flat_map(|&a| edges.iter().map(move |&b| (a, b)));
        for (a, b) in pairs.chain((0..1_000_000).map(|_| {
            let (a, b) = (next(), next());
            ((a >> (a % 32)) as u32, (b >> (b % 32)) as u32)
        })) {
            assert_eq!(wide_mul_by_halves(a, b), u64::from(a) * u64::from(b), "{a} * {b}");
            assert_eq!(wide_mul(a, b), u64::from(a) * u64::from(b), "{a} * {b}");
            let (a, b) = (a as i32, b as i32);
            assert_eq!(signed_wide_mul(a, b), i64::from(a) * i64::from(b), "{a} * {b}");
        }
    }

    #[test]
    fn q16_division_is_a_shifted_division() {
        let mut next = xorshift64(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            let (a, b) = (next(), next());
            let n = (a >> (a % 64)) as u32 & 0xff_ffff;
            let d = ((b >> (b % 64)) as u32 & 0xff_ffff).max(1).max((n >> 16) + 1);
            assert_eq!(u64::from(divide_q16(n, d)), (u64::from(n) << 16) / u64::from(d), "{n} / {d}");
        }
        for (n, d) in
            [(0, 1), (0xffff, 1), (0xff_ffff, 0x100), (0xff_ffff, 0xff_ffff), (199_920 * 27, 199_920), (1, 0xff_ffff)]
        {
            assert_eq!(u64::from(divide_q16(n, d)), (u64::from(n) << 16) / u64::from(d), "{n} / {d}");
        }
    }

    #[test]
    fn integer_square_root_is_exact() {
        for n in (0..100_000u64).chain([u64::MAX, (1 << 62) + 12345, 999_999_999_999]) {
            let r = isqrt(n);
            assert!(r * r <= n && (r + 1).checked_mul(r + 1).is_none_or(|s| s > n), "{n}: {r}");
        }
    }
}
