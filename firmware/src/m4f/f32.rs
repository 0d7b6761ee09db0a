//! The f32 network's first layer on the Cortex-M4F: per nonzero pixel one
//! `vldr` of its value from `PIXEL_SCALE`, one `vldm` of its row of weights
//! and ten `vmla.f32`. `vmla` rounds the product, then the sum (it is not
//! fused), as `shared::network::mul_add` does, and the pixels come in
//! ascending order, so every sum gets the portable pass's bits.
use shared::dims::HIDDEN;
use shared::input::strokes::{StrokeMaps, CELL_ROW};
use shared::network::{finish, PIXEL_SCALE};
use shared::{Prediction, Weights};

/// The f32 forward pass over stroke maps, its first layer in the kernel.
pub fn classify_strokes(weights: &Weights, maps: StrokeMaps<'_>) -> Prediction {
    let z1 = crate::cell_rows::first_layer(weights.b1, maps, weights.w1.as_chunks::<CELL_ROW>().0, first_layer);
    finish(weights, &z1)
}

/// The pixel values, where the kernel finds them by symbol.
#[cfg(target_arch = "arm")]
static SCALE: [f32; 256] = PIXEL_SCALE;

/// Adds `x_i · w[i][j]` to `z[j]` for each nonzero pixel of one cell row, in order.
#[cfg(target_arch = "arm")]
fn first_layer(z: &mut [f32; HIDDEN], pixels: &[u8; CELL_ROW], rows: &[[f32; HIDDEN]; CELL_ROW]) {
    let range = pixels.as_ptr_range();
    // SAFETY: `accumulate` reads the 112 bytes from `range.start` to
    // `range.end` (28 quads), one row of ten `f32` of `rows` per byte, 1 KB of
    // `SCALE`, and reads and writes the ten `f32` of `z`, borrowed exclusively
    // for the call: nothing else. It restores every callee-saved register (it
    // saves s16–s25, where the row's weights go, and restores them).
    unsafe { accumulate(z, range.start, range.end, rows.as_ptr()) }
}

/// The kernel's arithmetic in Rust: what the host tests check.
#[cfg(not(target_arch = "arm"))]
fn first_layer(z: &mut [f32; HIDDEN], pixels: &[u8; CELL_ROW], rows: &[[f32; HIDDEN]; CELL_ROW]) {
    for (&p, row) in pixels.iter().zip(rows) {
        if p != 0 {
            let x = PIXEL_SCALE.get(usize::from(p)).copied().unwrap_or(0.0);
            for (z, &w) in z.iter_mut().zip(row) {
                // vmla.f32: the product rounded, then the sum.
                let product = x * w;
                *z += product;
            }
        }
    }
}

/// One pixel (its value 1–255 in r6) times its row of weights (at r3 +
/// `offset`), added to the ten sums: its value from `SCALE`, then its ten
/// weights at once and a `vmla.f32` each.
#[cfg(target_arch = "arm")]
macro_rules! f32_pixel {
    ($offset:literal) => {
        concat!(
            "add r6, r4, r6, lsl #2\n vldr s10, [r6]\n",
            "add r6, r3, #",
            $offset,
            "\n vldmia r6, {{s16-s25}}\n",
            "vmla.f32 s0, s10, s16\n vmla.f32 s1, s10, s17\n vmla.f32 s2, s10, s18\n",
            "vmla.f32 s3, s10, s19\n vmla.f32 s4, s10, s20\n",
            "vmla.f32 s5, s10, s21\n vmla.f32 s6, s10, s22\n vmla.f32 s7, s10, s23\n",
            "vmla.f32 s8, s10, s24\n vmla.f32 s9, s10, s25",
        )
    };
}

/// The first layer over `pixels..end` (whole quads, at least one) with the
/// rows of weights from `rows` (one per pixel), into `z`: ten sums in s0–s9,
/// the pixel's value in s10, the row's ten weights in s16–s25; r1 the
/// pixels, r2 the end, r3 the quad's first row, r4 `SCALE`, r5 the quad.
///
/// # Safety
/// As [`first_layer`] calls it: `pixels < end`, `end − pixels` a multiple of 4,
/// one row per pixel, `z` valid for reads and writes.
#[cfg(target_arch = "arm")]
#[unsafe(naked)]
unsafe extern "C" fn accumulate(z: *mut [f32; HIDDEN], pixels: *const u8, end: *const u8, rows: *const [f32; HIDDEN]) {
    core::arch::naked_asm!(
        // The assembler is not told of the target's FPU for naked functions.
        ".fpu fpv4-sp-d16",
        "push {{r4, r5, r6, lr}}",
        "vpush {{s16-s25}}",
        "vldmia r0, {{s0-s9}}",
        "movw r4, :lower16:{scale}",
        "movt r4, :upper16:{scale}",
        "sub r3, r3, #160",
        // Next quad; blank ones are skipped here.
        "2:",
        "ldr r5, [r1], #4",
        "add r3, r3, #160",
        "cbnz r5, 4f",
        "3:",
        "cmp r1, r2",
        "bne 2b",
        "vstmia r0, {{s0-s9}}",
        "vpop {{s16-s25}}",
        "pop {{r4, r5, r6, pc}}",
        // A quad with ink: its four pixels in order, blank ones skipped.
        "4:",
        "uxtb r6, r5",
        "cbz r6, 5f",
        f32_pixel!(0),
        "5:",
        "ubfx r6, r5, #8, #8",
        "cbz r6, 6f",
        f32_pixel!(40),
        "6:",
        "ubfx r6, r5, #16, #8",
        "cbz r6, 7f",
        f32_pixel!(80),
        "7:",
        "lsrs r6, r5, #24",
        "beq 3b",
        f32_pixel!(120),
        "b 3b",
        scale = sym SCALE,
    )
}

#[cfg(test)]
mod tests {
    /// The kernel's order and roundings give the portable first layer's bits.
    #[test]
    fn the_kernel_arithmetic_is_the_portable_sum() {
        crate::cell_rows::assert_f32_kernel_is_portable(super::first_layer, 0x2545_f491_4f6c_dd1d);
    }
}
