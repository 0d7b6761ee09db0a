//! The f32 network's first layer on the Cortex-M3, which has no FPU: per
//! nonzero pixel, its ten multiply-adds in one assembly routine that keeps the
//! pixel's value unpacked across them and does each as
//! `shared::network::soft_float` does, `mul` then `add` with their short
//! paths for normal numbers, in registers (LLVM's code for the same steps
//! takes about 90 instructions a multiply-add). Anything off the short paths
//! (a zero or subnormal operand or sum, an overflow) goes to
//! `shared::network::mul_add` itself. Both round to nearest, ties to even,
//! as IEEE-754 does, and the pixels come in ascending order, so every sum
//! gets the portable pass's bits.
use shared::dims::HIDDEN;
use shared::input::strokes::{StrokeMaps, CELL_ROW};
use shared::network::{finish, PIXEL_SCALE};
use shared::{Prediction, Weights};

/// The f32 forward pass over stroke maps, its first layer in the kernel.
pub fn classify_strokes(weights: &Weights, maps: StrokeMaps<'_>) -> Prediction {
    let z1 = crate::cell_rows::first_layer(weights.b1, maps, weights.w1.as_chunks::<CELL_ROW>().0, first_layer);
    finish(weights, &z1)
}

/// Adds `x_i · w[i][j]` to `z[j]` for each nonzero pixel of one cell row, in order.
fn first_layer(z: &mut [f32; HIDDEN], pixels: &[u8; CELL_ROW], rows: &[[f32; HIDDEN]; CELL_ROW]) {
    for (&p, row) in pixels.iter().zip(rows) {
        if p != 0 {
            let x = PIXEL_SCALE.get(usize::from(p)).copied().unwrap_or(0.0);
            pixel(z, x, row);
        }
    }
}

/// `z[j] = z[j] + x · row[j]`, each product and sum rounded, for j in order.
#[cfg(target_arch = "arm")]
fn pixel(z: &mut [f32; HIDDEN], x: f32, row: &[f32; HIDDEN]) {
    // SAFETY: `multiply_add_row` reads the ten `f32` of `row` and reads and
    // writes the ten `f32` of `z`, borrowed exclusively for the call, and
    // calls `multiply_add` (safe Rust): nothing else. `x` is a pixel's value
    // (1/255 to 1: normal and positive), as the routine assumes. It restores
    // every callee-saved register and keeps the stack 8-byte aligned.
    unsafe { multiply_add_row(z, x.to_bits(), row) }
}

/// The routine's arithmetic in Rust (what the host tests check): the portable
/// pass's own multiply-add.
#[cfg(not(target_arch = "arm"))]
fn pixel(z: &mut [f32; HIDDEN], x: f32, row: &[f32; HIDDEN]) {
    for (z, &w) in z.iter_mut().zip(row) {
        *z = shared::network::mul_add(*z, x, w);
    }
}

/// The portable multiply-add, for the routine's cases off the short paths.
#[cfg(target_arch = "arm")]
extern "C" fn multiply_add(z: u32, x: u32, w: u32) -> u32 {
    shared::network::mul_add(f32::from_bits(z), f32::from_bits(x), f32::from_bits(w)).to_bits()
}

/// Ten multiply-adds `z[j] += x · w[j]` (r0 = z, r1 = x's bits, r2 = w).
///
/// Registers: r12 x's bits and lr its exponent less 127, r1 its mantissa with
/// the leading one at bit 31, r3 the row's end, r4 the weight's bits; r5–r11
/// the steps of `soft_float::mul` (the mantissas' product by `umull`, the
/// carry, the sticky bit, the rounding) and of `soft_float::add` (big and
/// small by magnitude in r10 and r11, the smaller aligned with a sticky bit,
/// the sum or difference, its normalisation by `clz`, the rounding).
///
/// # Safety
/// As [`pixel`] calls it: `z` valid for reads and writes of ten `f32`, `w`
/// for reads of ten, `x` normal and positive.
#[cfg(target_arch = "arm")]
#[unsafe(naked)]
unsafe extern "C" fn multiply_add_row(z: *mut [f32; HIDDEN], x: u32, w: *const [f32; HIDDEN]) {
    core::arch::naked_asm!(
        // Nine registers and four bytes: the stack stays 8-byte aligned for the call below.
        "push {{r4-r11, lr}}",
        "sub sp, sp, #4",
        "mov r12, r1",
        "ubfx lr, r1, #23, #8",
        "sub lr, lr, #127",
        "lsl r1, r1, #8",
        "orr r1, r1, #0x80000000",
        "add r3, r2, #40",
        // --- mul: p = x · w ---
        "1:",
        "ldr r4, [r2], #4",
        "ubfx r5, r4, #23, #8",
        // w's exponent 1 to 254 (normal), else the portable routine.
        "sub r6, r5, #1",
        "cmp r6, #254",
        "bhs 9f",
        "lsl r6, r4, #8",
        "orr r6, r6, #0x80000000",
        "umull r7, r8, r6, r1",
        // The leading one at bit 31 (a carry) or 30: r9 the carry, r5 the biased exponent.
        "lsr r9, r8, #31",
        "add r5, r5, lr",
        "add r5, r5, r9",
        "sub r11, r5, #1",
        "cmp r11, #253",
        "bhs 9f",
        // m: the top word shifted to bit 30, anything shifted out or below jammed into bit 0.
        "and r10, r8, r9",
        "orrs r10, r10, r7",
        "lsr r8, r8, r9",
        "it ne",
        "orrne r8, r8, #1",
        // Rounded to nearest even; r8 = |p|'s bits.
        "ubfx r10, r8, #7, #1",
        "add r8, r8, r10",
        "add r8, r8, #0x3f",
        "lsr r8, r8, #7",
        "add r8, r8, r11, lsl #23",
        // --- add: z + p ---
        "ldr r5, [r0]",
        "bic r6, r5, #0x80000000",
        "and r7, r4, #0x80000000",
        "orr r9, r8, r7",
        // big (r10) and small (r11) by magnitude; z is big on a tie.
        "cmp r6, r8",
        "ittee hs",
        "movhs r10, r5",
        "movhs r11, r9",
        "movlo r10, r9",
        "movlo r11, r5",
        "ubfx r6, r10, #23, #8",
        "ubfx r7, r11, #23, #8",
        // Both normal (small's exponent not 0, big's not 255), else the portable routine.
        "cmp r7, #0",
        "beq 9f",
        "cmp r6, #255",
        "beq 9f",
        // The shift, 0 to 253: a register shift by 32 or more gives 0 on Arm, as
        // `soft_float::add`'s shift clamped to 31 does here (small < 2^31), and
        // the sticky bit is then set either way.
        "sub r7, r6, r7",
        // Mantissas with the implicit one (big's seven guard bits come with its use below).
        "ubfx r8, r10, #0, #23",
        "orr r8, r8, #0x800000",
        "ubfx r9, r11, #0, #23",
        "orr r9, r9, #0x800000",
        "lsl r9, r9, #7",
        // small aligned, a sticky bit for what falls off.
        "lsr r5, r9, r7",
        "lsl r7, r5, r7",
        "cmp r7, r9",
        "it ne",
        "orrne r5, r5, #1",
        "eors r7, r10, r11",
        "bmi 3f",
        // Same signs: the sum, down one place on a carry (jamming the bit).
        "add r8, r5, r8, lsl #7",
        "lsr r7, r8, #31",
        "add r6, r6, r7",
        "and r9, r8, r7",
        "lsr r8, r8, r7",
        "orr r8, r8, r9",
        "b 4f",
        // Opposite signs: the difference, up to its leading one; exact cancellation is +0.
        "3:",
        "rsbs r8, r5, r8, lsl #7",
        "beq 5f",
        "clz r7, r8",
        "sub r7, r7, #1",
        "sub r6, r6, r7",
        "lsl r8, r8, r7",
        // The sum's exponent 1 to 253, else the portable routine; rounded, packed, stored.
        "4:",
        "sub r7, r6, #1",
        "cmp r7, #253",
        "bhs 9f",
        "ubfx r9, r8, #7, #1",
        "add r8, r8, r9",
        "add r8, r8, #0x3f",
        "lsr r8, r8, #7",
        "add r8, r8, r7, lsl #23",
        "and r10, r10, #0x80000000",
        "orr r8, r8, r10",
        "str r8, [r0], #4",
        "6:",
        "cmp r2, r3",
        "bne 1b",
        "add sp, sp, #4",
        "pop {{r4-r11, pc}}",
        "5:",
        "movs r8, #0",
        "str r8, [r0], #4",
        "b 6b",
        // Off the short paths: multiply_add(z, x, w) (r4 still holds w's bits).
        "9:",
        "push {{r0-r3, r12, lr}}",
        "ldr r0, [r0]",
        "mov r1, r12",
        "mov r2, r4",
        "bl {slow}",
        "mov r5, r0",
        "pop {{r0-r3, r12, lr}}",
        "str r5, [r0], #4",
        "b 6b",
        slow = sym multiply_add,
    )
}

#[cfg(test)]
mod tests {
    /// The kernel's order and roundings give the portable first layer's bits.
    #[test]
    fn the_kernel_arithmetic_is_the_portable_sum() {
        crate::cell_rows::assert_f32_kernel_is_portable(super::first_layer, 0x9e37_79b9_7f4a_7c15);
    }
}
