//! The int8 network's first layer on the Cortex-M3: the ten sums stay in registers across a
//! cell row of maps (LLVM keeps them in memory: ten loads and stores per
//! pixel), one `ldrsb` and one `mla` per weight. The sums are wrapping `i32`
//! additions, whose bits do not depend on their order; the kernel reads the
//! weights in their own layout (a pixel's ten after the previous pixel's).
//! Its arithmetic is also written in Rust, which the host tests check against
//! the portable pass; the assembly is checked by the parity test on all 10,000
//! test images.
use shared::dims::HIDDEN;
use shared::input::strokes::{StrokeMaps, CELL_ROW};
use shared::network::int8::predict_int8;
use shared::{Prediction, QuantizedWeights};

/// The int8 forward pass over stroke maps, its first layer in the kernel.
pub fn classify_strokes(q: &QuantizedWeights, maps: StrokeMaps<'_>) -> Prediction {
    let acc1 = crate::cell_rows::first_layer(q.b1, maps, q.w1.as_chunks::<CELL_ROW>().0, first_layer);
    predict_int8(&crate::v7m::second_layer(&acc1, &q.w2, &q.b2), q.output_scale)
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

/// One pixel (in r0) times its row of weights (at r3 + the ten offsets), added
/// to the ten sums: `ldrsb` and `mla` per weight.
#[cfg(target_arch = "arm")]
macro_rules! m3_pixel {
    ($w0:literal, $w1:literal, $w2:literal, $w3:literal, $w4:literal, $w5:literal, $w6:literal, $w7:literal, $w8:literal, $w9:literal) => {
        concat!(
            "ldrsb r2, [r3, #",
            $w0,
            "]\n mla r4, r0, r2, r4\n",
            "ldrsb r2, [r3, #",
            $w1,
            "]\n mla r5, r0, r2, r5\n",
            "ldrsb r2, [r3, #",
            $w2,
            "]\n mla r6, r0, r2, r6\n",
            "ldrsb r2, [r3, #",
            $w3,
            "]\n mla r7, r0, r2, r7\n",
            "ldrsb r2, [r3, #",
            $w4,
            "]\n mla r8, r0, r2, r8\n",
            "ldrsb r2, [r3, #",
            $w5,
            "]\n mla r9, r0, r2, r9\n",
            "ldrsb r2, [r3, #",
            $w6,
            "]\n mla r10, r0, r2, r10\n",
            "ldrsb r2, [r3, #",
            $w7,
            "]\n mla r11, r0, r2, r11\n",
            "ldrsb r2, [r3, #",
            $w8,
            "]\n mla r12, r0, r2, r12\n",
            "ldrsb r2, [r3, #",
            $w9,
            "]\n mla lr, r0, r2, lr",
        )
    };
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
        m3_pixel!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
        "5:",
        "ldrb r0, [r1, #-3]",
        "cbz r0, 6f",
        m3_pixel!(10, 11, 12, 13, 14, 15, 16, 17, 18, 19),
        "6:",
        "ldrb r0, [r1, #-2]",
        "cbz r0, 7f",
        m3_pixel!(20, 21, 22, 23, 24, 25, 26, 27, 28, 29),
        "7:",
        "ldrb r0, [r1, #-1]",
        "cmp r0, #0",
        "beq 3b",
        m3_pixel!(30, 31, 32, 33, 34, 35, 36, 37, 38, 39),
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
        let mut next = crate::cell_rows::xorshift(0x2545_f491_4f6c_dd1d);
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
