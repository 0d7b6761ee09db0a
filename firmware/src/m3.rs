//! The int8 network's first layer on the Cortex-M3 (`thumbv7m-none-eabi`),
//! for models that read stroke maps: the ten sums stay in registers across a
//! cell row of maps (LLVM keeps them in memory: ten loads and stores per
//! pixel), one `ldrsb` and one `mla` per weight. The sums are wrapping `i32`
//! additions, whose bits do not depend on their order; the kernel reads the
//! weights in their own layout (a pixel's ten after the previous pixel's).
//! Its arithmetic is also written in Rust, which the host tests check against
//! the portable pass; the assembly is checked by the parity test on all 10,000
//! test images.
use shared::dims::HIDDEN;
use shared::input::strokes::{StrokeMaps, CELL_ROW};
use shared::network::int8::finish_int8;
use shared::{Prediction, QuantizedWeights};

/// The int8 forward pass over stroke maps, its first layer in the kernel.
pub fn classify_strokes(q: &QuantizedWeights, maps: StrokeMaps<'_>) -> Prediction {
    let mut acc1 = q.b1;
    let (rows, _) = q.w1.as_chunks::<CELL_ROW>();
    maps.for_each_cell_row_dyn(&mut |r, pixels| {
        if let Some(rows) = rows.get(r) {
            first_layer(&mut acc1, pixels, rows);
        }
    });
    finish_int8(acc1, &q.w2, &q.b2, q.output_scale)
}

/// Adds `p_i · w[i][j]` to `acc[j]` for each pixel of one cell row.
#[cfg(target_arch = "arm")]
fn first_layer(acc: &mut [i32; HIDDEN], pixels: &[u8; CELL_ROW], rows: &[[i8; HIDDEN]; CELL_ROW]) {
    let range = pixels.as_ptr_range();
    // SAFETY: `accumulate` reads the 112 bytes from `range.start` to
    // `range.end` (28 quads), the ten `i8` of `rows` per byte, and reads and
    // writes the ten `i32` of `acc`, borrowed exclusively for the call:
    // nothing else. It restores every callee-saved register.
    unsafe { accumulate(acc, range.start, range.end, rows.as_ptr()) }
}

/// The kernel's arithmetic in Rust: what the host tests check.
#[cfg(not(target_arch = "arm"))]
fn first_layer(acc: &mut [i32; HIDDEN], pixels: &[u8; CELL_ROW], rows: &[[i8; HIDDEN]; CELL_ROW]) {
    for (&p, row) in pixels.iter().zip(rows) {
        for (a, &w) in acc.iter_mut().zip(row) {
            // mla: the low 32 bits of a + p·w.
            *a = a.wrapping_add(i32::from(p) * i32::from(w));
        }
    }
}

/// The first layer over `pixels..end` (whole quads, at least one) with one
/// row of weights per pixel from `rows`, into `acc`: ten sums in r4–r12 and
/// lr, the pixel in r0, a weight in r2, the quad's first row at r3, the
/// pixels at r1; `acc` and the end wait on the stack. Blank quads cost six
/// instructions.
///
/// # Safety
/// As [`first_layer`] calls it: `pixels < end`, `end − pixels` a multiple of 4,
/// one row per pixel, `acc` valid for reads and writes.
#[cfg(target_arch = "arm")]
#[unsafe(naked)]
unsafe extern "C" fn accumulate(acc: *mut [i32; HIDDEN], pixels: *const u8, end: *const u8, rows: *const [i8; HIDDEN]) {
    core::arch::naked_asm!(
        "push {{r4-r11, lr}}",
        "push {{r0, r2}}",
        "ldm r0, {{r4-r12, lr}}",
        "sub r3, r3, #40",
        // Next quad; blank ones are skipped here.
        "2:",
        "ldr r0, [r1], #4",
        "add r3, r3, #40",
        "cbnz r0, 4f",
        "3:",
        "ldr r0, [sp, #4]",
        "cmp r1, r0",
        "bne 2b",
        "pop {{r0, r2}}",
        "stm r0, {{r4-r12, lr}}",
        "pop {{r4-r11, pc}}",
        // A quad with ink: its four pixels in order, blank ones skipped.
        "4:",
        "ldrb r0, [r1, #-4]",
        "cbz r0, 5f",
        "ldrsb r2, [r3, #0]",
        "mla r4, r0, r2, r4",
        "ldrsb r2, [r3, #1]",
        "mla r5, r0, r2, r5",
        "ldrsb r2, [r3, #2]",
        "mla r6, r0, r2, r6",
        "ldrsb r2, [r3, #3]",
        "mla r7, r0, r2, r7",
        "ldrsb r2, [r3, #4]",
        "mla r8, r0, r2, r8",
        "ldrsb r2, [r3, #5]",
        "mla r9, r0, r2, r9",
        "ldrsb r2, [r3, #6]",
        "mla r10, r0, r2, r10",
        "ldrsb r2, [r3, #7]",
        "mla r11, r0, r2, r11",
        "ldrsb r2, [r3, #8]",
        "mla r12, r0, r2, r12",
        "ldrsb r2, [r3, #9]",
        "mla lr, r0, r2, lr",
        "5:",
        "ldrb r0, [r1, #-3]",
        "cbz r0, 6f",
        "ldrsb r2, [r3, #10]",
        "mla r4, r0, r2, r4",
        "ldrsb r2, [r3, #11]",
        "mla r5, r0, r2, r5",
        "ldrsb r2, [r3, #12]",
        "mla r6, r0, r2, r6",
        "ldrsb r2, [r3, #13]",
        "mla r7, r0, r2, r7",
        "ldrsb r2, [r3, #14]",
        "mla r8, r0, r2, r8",
        "ldrsb r2, [r3, #15]",
        "mla r9, r0, r2, r9",
        "ldrsb r2, [r3, #16]",
        "mla r10, r0, r2, r10",
        "ldrsb r2, [r3, #17]",
        "mla r11, r0, r2, r11",
        "ldrsb r2, [r3, #18]",
        "mla r12, r0, r2, r12",
        "ldrsb r2, [r3, #19]",
        "mla lr, r0, r2, lr",
        "6:",
        "ldrb r0, [r1, #-2]",
        "cbz r0, 7f",
        "ldrsb r2, [r3, #20]",
        "mla r4, r0, r2, r4",
        "ldrsb r2, [r3, #21]",
        "mla r5, r0, r2, r5",
        "ldrsb r2, [r3, #22]",
        "mla r6, r0, r2, r6",
        "ldrsb r2, [r3, #23]",
        "mla r7, r0, r2, r7",
        "ldrsb r2, [r3, #24]",
        "mla r8, r0, r2, r8",
        "ldrsb r2, [r3, #25]",
        "mla r9, r0, r2, r9",
        "ldrsb r2, [r3, #26]",
        "mla r10, r0, r2, r10",
        "ldrsb r2, [r3, #27]",
        "mla r11, r0, r2, r11",
        "ldrsb r2, [r3, #28]",
        "mla r12, r0, r2, r12",
        "ldrsb r2, [r3, #29]",
        "mla lr, r0, r2, lr",
        "7:",
        "ldrb r0, [r1, #-1]",
        "cmp r0, #0",
        "beq 3b",
        "ldrsb r2, [r3, #30]",
        "mla r4, r0, r2, r4",
        "ldrsb r2, [r3, #31]",
        "mla r5, r0, r2, r5",
        "ldrsb r2, [r3, #32]",
        "mla r6, r0, r2, r6",
        "ldrsb r2, [r3, #33]",
        "mla r7, r0, r2, r7",
        "ldrsb r2, [r3, #34]",
        "mla r8, r0, r2, r8",
        "ldrsb r2, [r3, #35]",
        "mla r9, r0, r2, r9",
        "ldrsb r2, [r3, #36]",
        "mla r10, r0, r2, r10",
        "ldrsb r2, [r3, #37]",
        "mla r11, r0, r2, r11",
        "ldrsb r2, [r3, #38]",
        "mla r12, r0, r2, r12",
        "ldrsb r2, [r3, #39]",
        "mla lr, r0, r2, lr",
        "b 3b",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::dims::{INPUT, OUTPUT};

    /// The kernel's arithmetic gives the portable first layer's sums.
    #[test]
    fn the_kernel_arithmetic_is_the_portable_sum() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..100 {
            let mut q = QuantizedWeights {
                w1: [[0; HIDDEN]; INPUT],
                b1: core::array::from_fn(|_| next() as i32),
                w2: [[0; HIDDEN]; OUTPUT],
                b2: [0; OUTPUT],
                output_scale: 1.0,
            };
            for w in q.w1.iter_mut().flatten() {
                *w = ((next() % 255) as i32 - 127) as i8;
            }
            let density = 1 + case % 7;
            let image: [u8; INPUT] =
                core::array::from_fn(|_| if next().is_multiple_of(density) { next() as u8 } else { 0 });
            let mut expected = q.b1;
            shared::input::pixels::NonzeroPixels::for_each_nonzero(&image, &q.w1, |p, row| {
                for (a, &w) in expected.iter_mut().zip(row) {
                    *a = a.wrapping_add(i32::from(p) * i32::from(w));
                }
            });
            let mut acc = q.b1;
            for (pixels, rows) in image.as_chunks::<CELL_ROW>().0.iter().zip(q.w1.as_chunks::<CELL_ROW>().0) {
                first_layer(&mut acc, pixels, rows);
            }
            assert_eq!(acc, expected, "case {case}");
        }
    }
}
