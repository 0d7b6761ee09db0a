//! The int8 network's first layer on the Cortex-M4F: `smlad` (the DSP
//! extension) multiplies two pixels by two weights and adds both products to
//! one sum. The sums are wrapping `i32` additions, whose bits do not depend on
//! their order, so the weights can be laid out for the kernel.
//!
//! Layout: the pixels are read four at a time (a quad, `4q` to `4q + 3`) as two
//! pairs, A = pixels `4q` and `4q + 2` (`uxtb16`) and B = `4q + 1` and `4q + 3`
//! (`uxtb16 … ror 8`). Each pair has five words of weights; word `h` holds
//! `[w[i][2h], w[i][2h+1], w[i'][2h], w[i'][2h+1]]` for the pair's pixels
//! `i`, `i'`, so `sxtb16` gives hidden unit `2h`'s two weights as 16-bit
//! lanes and `sxtb16 … ror 8` unit `2h + 1`'s.
use shared::dims::{HIDDEN, INPUT, OUTPUT};
use shared::input::strokes::{StrokeMaps, CELL_ROW};
use shared::network::int8::predict_int8;
use shared::{Prediction, QuantizedWeights};

/// Weight bytes per quad of pixels: two pairs of five words.
pub const QUAD_BYTES: usize = 2 * 2 * HIDDEN;
/// Quads per image.
const QUADS: usize = INPUT / 4;
/// Quads per cell row of stroke maps.
const ROW_QUADS: usize = CELL_ROW / 4;

/// The first layer's weights in the kernel's order, word-aligned.
#[repr(C, align(4))]
struct Quads([[i8; QUAD_BYTES]; QUADS]);

/// An int8 network with its first layer laid out for the kernel.
pub struct Int8Network {
    w1: Quads,
    b1: [i32; HIDDEN],
    w2: [[i8; HIDDEN]; OUTPUT],
    b2: [i32; OUTPUT],
    output_scale: f32,
}

/// Where weight `w[i][j]` goes: its quad, and the byte in the quad.
const fn place(i: usize, j: usize) -> (usize, usize) {
    let within = i % 4;
    // Pixels 4q, 4q + 2 are pair A (lanes 0, 1); 4q + 1, 4q + 3 pair B.
    let (pair, lane) = (within % 2, within / 2);
    (i / 4, pair * 2 * HIDDEN + (j / 2) * 4 + 2 * lane + j % 2)
}

impl Int8Network {
    /// `q` re-laid at compile time (the firmware's model is a constant).
    #[allow(clippy::indexing_slicing, reason = "const evaluation: an index out of range stops the build")]
    pub const fn new(q: &QuantizedWeights) -> Self {
        let mut w1 = [[0i8; QUAD_BYTES]; QUADS];
        let mut i = 0;
        while i < INPUT {
            let mut j = 0;
            while j < HIDDEN {
                let (quad, byte) = place(i, j);
                w1[quad][byte] = q.w1[i][j];
                j += 1;
            }
            i += 1;
        }
        Int8Network { w1: Quads(w1), b1: q.b1, w2: q.w2, b2: q.b2, output_scale: q.output_scale }
    }

    /// The int8 forward pass over stroke maps, its first layer in the kernel.
    pub fn classify_strokes(&self, maps: StrokeMaps<'_>) -> Prediction {
        let acc1 = crate::cell_rows::first_layer(self.b1, maps, self.w1.0.as_chunks::<ROW_QUADS>().0, first_layer);
        predict_int8(&crate::v7m::second_layer(&acc1, &self.w2, &self.b2), self.output_scale)
    }
}

/// Adds `Σ p_i · w[i][j]` over one cell row's pixels to `acc[j]`.
#[cfg(target_arch = "arm")]
fn first_layer(acc: &mut [i32; HIDDEN], pixels: &[u8; CELL_ROW], weights: &[[i8; QUAD_BYTES]; ROW_QUADS]) {
    let range = pixels.as_ptr_range();
    // SAFETY: `accumulate` reads the 28 quads from `range.start` to `range.end`
    // (one `[u8; 112]`, at least one quad), one `[i8; 40]` of `weights` per quad,
    // and reads and writes the ten `i32` of `acc`, which it borrows exclusively
    // for the call: nothing else. It restores every callee-saved register.
    unsafe { accumulate(acc, range.start, range.end, weights.as_ptr()) }
}

/// The kernel's arithmetic in Rust, lane by lane: what the host tests check
/// the layout with (and what a host build of the firmware runs).
#[cfg(not(target_arch = "arm"))]
fn first_layer(acc: &mut [i32; HIDDEN], pixels: &[u8; CELL_ROW], weights: &[[i8; QUAD_BYTES]; ROW_QUADS]) {
    let lanes = |x: u32, signed: bool| {
        let lane = |b: u32| if signed { i32::from(b as u8 as i8) } else { (b & 0xff) as i32 };
        (lane(x), lane(x >> 16))
    };
    for (quad, quad_weights) in pixels.as_chunks::<4>().0.iter().zip(weights) {
        let word = u32::from_le_bytes(*quad);
        let (pair_weights, _) = quad_weights.as_chunks::<{ 2 * HIDDEN }>();
        for (pixels, words) in [word, word.rotate_right(8)].into_iter().zip(pair_weights) {
            let (p0, p1) = lanes(pixels, false);
            for (h, w) in words.as_chunks::<4>().0.iter().enumerate() {
                let w = u32::from_le_bytes(w.map(|b| b as u8));
                for (unit, w) in [(2 * h, w), (2 * h + 1, w.rotate_right(8))] {
                    let (w0, w1) = lanes(w, true);
                    if let Some(a) = acc.get_mut(unit) {
                        *a = a.wrapping_add(w0 * p0).wrapping_add(w1 * p1);
                    }
                }
            }
        }
    }
}

/// One pair of pixels (16-bit lanes in r0) times its five words of weights (at
/// r3 + the offsets), added to the ten sums: per word, `sxtb16` of each
/// hidden unit's two weights and one `smlad`.
#[cfg(target_arch = "arm")]
macro_rules! int8_pair {
    ($h0:literal, $h1:literal, $h2:literal, $h3:literal, $h4:literal) => {
        concat!(
            "ldr r2, [r3, #",
            $h0,
            "]\n sxtb16 r1, r2\n smlad r4, r1, r0, r4\n sxtb16 r2, r2, ror #8\n smlad r5, r2, r0, r5\n",
            "ldr r2, [r3, #",
            $h1,
            "]\n sxtb16 r1, r2\n smlad r6, r1, r0, r6\n sxtb16 r2, r2, ror #8\n smlad r7, r2, r0, r7\n",
            "ldr r2, [r3, #",
            $h2,
            "]\n sxtb16 r1, r2\n smlad r8, r1, r0, r8\n sxtb16 r2, r2, ror #8\n smlad r9, r2, r0, r9\n",
            "ldr r2, [r3, #",
            $h3,
            "]\n sxtb16 r1, r2\n smlad r10, r1, r0, r10\n sxtb16 r2, r2, ror #8\n smlad r11, r2, r0, r11\n",
            "ldr r2, [r3, #",
            $h4,
            "]\n sxtb16 r1, r2\n smlad r12, r1, r0, r12\n sxtb16 r2, r2, ror #8\n smlad lr, r2, r0, lr",
        )
    };
}

/// The first layer over `pixels..end` (whole quads, at least one) with the
/// quads' weights from `weights`, into `acc`: ten sums in r4–r12 and lr, a
/// quad of pixels in r2, the pair's pixels in r0, a weight word in r2 and its
/// other lane in r1, the quad's weights at r3; the pixel pointer and the end
/// wait on the stack while a quad is summed. Blank quads cost five instructions.
///
/// # Safety
/// As [`first_layer`] calls it: `pixels < end`, `end − pixels` a multiple of 4,
/// `weights` one quad's weights per quad, `acc` valid for reads and writes.
#[cfg(target_arch = "arm")]
#[unsafe(naked)]
unsafe extern "C" fn accumulate(
    acc: *mut [i32; HIDDEN],
    pixels: *const u8,
    end: *const u8,
    weights: *const [i8; QUAD_BYTES],
) {
    core::arch::naked_asm!(
        "push {{r0, r4-r11, lr}}",
        "sub sp, #8",
        "ldm r0, {{r4-r12, lr}}",
        "mov r0, r1",
        "mov r1, r2",
        "sub r3, r3, #40",
        // Next quad; blank ones are skipped here.
        "2:",
        "ldr r2, [r0], #4",
        "add r3, r3, #40",
        "cbnz r2, 4f",
        "3:",
        "cmp r0, r1",
        "bne 2b",
        "add sp, #8",
        "pop {{r0}}",
        "stm r0, {{r4-r12, lr}}",
        "pop {{r4-r11, pc}}",
        // A quad with ink: pair A (pixels 4q, 4q + 2), then pair B.
        "4:",
        "strd r0, r1, [sp]",
        "uxtb16 r0, r2",
        "cbz r0, 5f",
        int8_pair!(0, 4, 8, 12, 16),
        "5:",
        "ldr r1, [sp]",
        "ldr r2, [r1, #-4]",
        "uxtb16 r0, r2, ror #8",
        "cbz r0, 6f",
        int8_pair!(20, 24, 28, 32, 36),
        "6:",
        "ldrd r0, r1, [sp]",
        "b 3b",
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests: a panic is a failure")]
mod tests {
    use super::*;

    /// Every weight lands on its own byte.
    #[test]
    fn the_layout_is_a_permutation() {
        let mut seen = [[false; QUAD_BYTES]; QUADS];
        for i in 0..INPUT {
            for j in 0..HIDDEN {
                let (quad, byte) = place(i, j);
                assert!(!seen[quad][byte], "w[{i}][{j}]");
                seen[quad][byte] = true;
            }
        }
    }

    /// The laid-out weights and the lane arithmetic give the portable first layer's sums.
    #[test]
    fn the_kernel_arithmetic_is_the_portable_sum() {
        let mut next = crate::cell_rows::xorshift(0x2545_f491_4f6c_dd1d);
        for case in 0..200 {
            let mut q = QuantizedWeights {
                w1: [[0; HIDDEN]; INPUT],
                b1: core::array::from_fn(|_| next() as i32),
                w2: [[0; HIDDEN]; OUTPUT],
                b2: [0; OUTPUT],
                output_scale: 1.0,
            };
            for w in q.w1.iter_mut().flatten() {
                // Case 0: the extremes everywhere.
                *w = if case == 0 { -127 } else { ((next() % 255) as i32 - 127) as i8 };
            }
            let dsp = Int8Network::new(&q);
            let density = 1 + case % 7;
            let image: [u8; INPUT] = core::array::from_fn(|_| {
                let r = next();
                match case {
                    0 => 255,
                    _ if r.is_multiple_of(density as u64) => (r >> 8) as u8,
                    _ => 0,
                }
            });
            let mut expected = q.b1;
            for (p, row) in image.iter().zip(&q.w1) {
                for (a, &w) in expected.iter_mut().zip(row) {
                    *a = a.wrapping_add(i32::from(*p) * i32::from(w));
                }
            }
            let mut acc = q.b1;
            let (rows, _) = dsp.w1.0.as_chunks::<ROW_QUADS>();
            for (pixels, weights) in image.as_chunks::<CELL_ROW>().0.iter().zip(rows) {
                first_layer(&mut acc, pixels, weights);
            }
            assert_eq!(acc, expected, "case {case}");
        }
    }
}
