//! The int8 network's second layer on the Cortex-M3 and M4F (ARMv7-M, which
//! both are): `smlal`, one instruction per product, adds a 32 × 32-bit product
//! to a 64-bit sum; five outputs' sums stay in registers while the ten hidden
//! activations pass, then the other five's. Hidden units at or below zero are
//! skipped (ReLU makes them add nothing). The sums are exact integers, so the
//! result is `shared::network::int8::second_layer_int8`'s to the bit; its
//! arithmetic is also written in Rust for the host tests, and the assembly is
//! checked by the parity test on all 10,000 test images on every board it runs on.
use shared::dims::{HIDDEN, OUTPUT};

/// `acc2[k] = b2[k] + Σ_j max(acc1[j], 0) · w2[k][j]`.
#[cfg(target_arch = "arm")]
pub fn second_layer(acc1: &[i32; HIDDEN], w2: &[[i8; HIDDEN]; OUTPUT], b2: &[i32; OUTPUT]) -> [i64; OUTPUT] {
    let mut acc2 = b2.map(i64::from);
    for (sums, rows) in acc2.as_chunks_mut::<HALF>().0.iter_mut().zip(w2.as_chunks::<HALF>().0) {
        // SAFETY: `half_layer` reads the ten `i32` of `acc1` and the five
        // rows of ten `i8` of `rows`, and reads and writes the five `i64` of
        // `sums`, borrowed exclusively for the call: nothing else. It restores
        // every callee-saved register.
        unsafe { half_layer(sums, acc1, rows) }
    }
    acc2
}

/// Outputs whose sums fit the registers at once.
#[cfg(target_arch = "arm")]
const HALF: usize = OUTPUT / 2;

/// The kernel's arithmetic in Rust (what the host tests check against the portable pass).
#[cfg(not(target_arch = "arm"))]
pub fn second_layer(acc1: &[i32; HIDDEN], w2: &[[i8; HIDDEN]; OUTPUT], b2: &[i32; OUTPUT]) -> [i64; OUTPUT] {
    let mut acc2 = b2.map(i64::from);
    for (j, &a) in acc1.iter().enumerate() {
        if a <= 0 {
            continue;
        }
        for (sum, row) in acc2.iter_mut().zip(w2) {
            // smlal: the exact 64-bit product added.
            *sum += i64::from(a) * i64::from(row.get(j).copied().unwrap_or(0));
        }
    }
    acc2
}

/// Five outputs' sums (`sums`, in r3–r12 as lo/hi pairs) plus every positive
/// `acc1[j]` (r0) times `rows[k][j]` (r1, through lr, which walks the first
/// row's column `j`; the other rows are 10, 20, 30, 40 bytes on).
///
/// # Safety
/// As [`second_layer`] calls it: each pointer valid for its array, `sums` for writes too.
#[cfg(target_arch = "arm")]
#[unsafe(naked)]
unsafe extern "C" fn half_layer(sums: *mut [i64; HALF], acc1: *const [i32; HIDDEN], rows: *const [[i8; HIDDEN]; HALF]) {
    core::arch::naked_asm!(
        "push {{r4-r11, lr}}",
        // The sums' address, and the end of acc1, wait on the stack.
        "add r3, r1, #40",
        "push {{r0, r3}}",
        "ldm r0, {{r3-r12}}",
        "mov lr, r2",
        "mov r2, r1",
        // For each hidden unit j: r0 = acc1[j], lr = &w2[row][j].
        "2:",
        "ldr r0, [r2], #4",
        "cmp r0, #0",
        "ble 3f",
        "ldrsb r1, [lr, #0]",
        "smlal r3, r4, r0, r1",
        "ldrsb r1, [lr, #10]",
        "smlal r5, r6, r0, r1",
        "ldrsb r1, [lr, #20]",
        "smlal r7, r8, r0, r1",
        "ldrsb r1, [lr, #30]",
        "smlal r9, r10, r0, r1",
        "ldrsb r1, [lr, #40]",
        "smlal r11, r12, r0, r1",
        "3:",
        "add lr, lr, #1",
        "ldr r1, [sp, #4]",
        "cmp r2, r1",
        "bne 2b",
        "pop {{r0, r1}}",
        "stm r0, {{r3-r12}}",
        "pop {{r4-r11, pc}}",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's arithmetic is the portable second layer, at the extremes too.
    #[test]
    fn the_kernel_arithmetic_is_the_portable_sum() {
        let mut next = crate::cell_rows::xorshift(0x9e37_79b9_7f4a_7c15);
        for case in 0..2000 {
            let acc1: [i32; HIDDEN] =
                core::array::from_fn(|_| if case % 7 == 0 { i32::MAX } else { (next() as i32) >> (next() % 32) });
            let w2: [[i8; HIDDEN]; OUTPUT] =
                core::array::from_fn(|_| core::array::from_fn(|_| if case % 7 == 0 { -128 } else { next() as i8 }));
            let b2: [i32; OUTPUT] = core::array::from_fn(|_| next() as i32);
            let expected = shared::network::int8::second_layer_int8(&acc1, &w2, &b2);
            assert_eq!(second_layer(&acc1, &w2, &b2), expected, "case {case}");
        }
    }
}
