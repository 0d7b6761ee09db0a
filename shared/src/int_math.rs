//! Exact integer helpers for the fixed-point code that must give the same
//! bits on every core: the deskew and the int8 softmax.

/// `n / d` as Rust's `/` on `i64` gives it (rounded toward zero), and 0 for
/// `d = 0`; by shift and subtract. On the 32-bit cores a 64-bit `/` links
/// about 1 KB of library division, which the int8 firmware's 16 KB cannot spare.
/// (Slower: one loop turn per quotient bit.)
#[inline(never)]
pub fn divide(n: i64, d: i64) -> i64 {
    let (n_abs, d_abs) = (n.unsigned_abs(), d.unsigned_abs());
    if d_abs == 0 || n_abs < d_abs {
        return 0;
    }
    // Line the divisor's top bit up with the dividend's, then one quotient bit per step.
    let shift = d_abs.leading_zeros() - n_abs.leading_zeros();
    let (mut rest, mut step, mut quotient) = (n_abs, d_abs << shift, 0u64);
    for _ in 0..=shift {
        quotient <<= 1;
        if rest >= step {
            rest -= step;
            quotient |= 1;
        }
        step >>= 1;
    }
    let quotient = quotient as i64; // wraps only for i64::MIN / -1, as `wrapping_div` would
    if (n < 0) != (d < 0) {
        quotient.wrapping_neg()
    } else {
        quotient
    }
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
