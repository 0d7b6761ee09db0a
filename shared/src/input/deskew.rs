//! The deskew a model can ask for (`Preprocessing::Deskew`): deskew, size
//! normalisation and centring of a 28×28 image, in integer arithmetic, so that
//! every board computes the same bytes as the host.
//!
//! [`normalise`], step by step (all quantities in pixels; `Q16` means the
//! value times 2^16, as an integer):
//! 1. Moments of the ink, exactly, in integers: `m = Σp`, `Σp·x`, `Σp·y`,
//!    `Σp·x·y`, `Σp·y²` over the pixels (x = column, y = row).
//! 2. Centre of mass `(cx, cy) = (Σp·x / m, Σp·y / m)` in Q16.
//! 3. Slant: `α = μ11 / μ02` (how far x moves per row of y), from the central
//!    moments kept as exact integers `m²·μ11 = m·Σpxy − Σpx·Σpy` and
//!    `m²·μ02 = m·Σpy² − (Σpy)²`; Q16, clamped to ±1.
//! 4. Size: the vertical spread `σy = √(m²·μ02) / m` (integer square root) and
//!    the scale `k = σy / TARGET_SPREAD` in Q16 (source pixels per output
//!    pixel, the same in x and y so the aspect is kept), clamped to [1/2, 2].
//! 5. Resampling: output pixel `(xo, yo)` reads the source at
//!    `ys = cy + k·(yo − 14)` and `xs = cx + k·(xo − 14) + α·(ys − cy)`:
//!    the centre of mass lands on (14, 14), the principal axis becomes
//!    vertical, the ink's vertical spread becomes `TARGET_SPREAD`.
//!    Bilinear interpolation with 8-bit weights (`fx`, `fy` = the top 8
//!    fraction bits), outside the image reads 0, rounded to nearest:
//!    `((s00·(256−fx) + s01·fx)·(256−fy) + (s10·(256−fx) + s11·fx)·fy + 2^15) >> 16`.
//!
//! Shifts of negative numbers round toward −∞ (Rust's `>>` on signed integers),
//! divisions toward zero; both are exact integer operations on every target.
//! A blank image is returned unchanged.
use super::pixels::{for_each_nonzero_in, NonzeroPixels, PixelBytes, Rows};
use crate::dims::{INPUT, SIDE};
use crate::int_math::{divide, divide_q16, isqrt, signed_wide_mul};

/// 1.0 in Q16.
const ONE: i64 = 1 << 16;
/// The ink's horizontal spread after the stroke maps' normalisation, Q16
/// pixels: 3.5 chosen on validation (`strokes`).
pub const WIDTH_SPREAD: i64 = 7 * ONE / 2;
/// The ink's vertical spread (standard deviation of its rows) after
/// normalisation, in Q16 pixels. Chosen on the validation split: the default
/// trainer over seeds 1–5 reached 96.29, 96.47, 96.49, 96.35 and 96.48 % with
/// 4, 4.5, 5, 5.5 and 6 pixels (sd about 0.5 each).
pub const TARGET_SPREAD: i64 = 5 * ONE;
/// Where the centre of mass lands, in pixels (column and row).
const CENTRE: i32 = 14;

/// Output rows made per piece of [`Normalised`]'s work.
pub const BAND_ROWS: usize = 7;
/// Pixels per band.
const BAND: usize = BAND_ROWS * SIDE;
/// Pieces of work per image: measuring the ink, then one per band of rows.
pub const PIECES: usize = 1 + INPUT / BAND;

/// Deskews, size-normalises and centres `image` (see the module's steps).
pub fn normalise(image: &[u8; INPUT]) -> [u8; INPUT] {
    let mut out = [0u8; INPUT];
    let source = PixelBytes::raw(image);
    if let Some(plan) = Plan::measure(source) {
        let mut window = Window::new(source);
        plan.resample(&mut window, 0, out.as_chunks_mut::<SIDE>().0);
    }
    out
}

/// [`normalise`] as the network reads it: the image it gives, made seven rows
/// at a time while the first layer consumes them, straight from the received
/// bytes. A device so holds 196 output bytes instead of two 784-byte images.
#[derive(Clone, Copy, Debug)]
pub struct Normalised<'a> {
    source: PixelBytes<'a>,
    markers: Markers,
}

impl<'a> Normalised<'a> {
    /// `source` normalised; `markers` bracket every piece of the preprocessing's work.
    pub fn new(source: PixelBytes<'a>, markers: Markers) -> Self {
        Normalised { source, markers }
    }
}

/// Called before and after each piece of preprocessing work ([`PIECES`] per
/// image), so that a device can count its instructions apart from the
/// network's. Plain function pointers, not a generic: the network and the
/// preprocessing stay compiled (and optimised) here, whoever calls them.
#[derive(Clone, Copy, Debug)]
pub struct Markers {
    /// Called before a piece.
    pub start: fn(),
    /// Called after it.
    pub end: fn(),
}

impl Markers {
    /// No markers (the host).
    pub const NONE: Markers = Markers { start: || {}, end: || {} };

    pub(super) fn around<T>(&self, piece: impl FnOnce() -> T) -> T {
        (self.start)();
        let out = piece();
        (self.end)();
        out
    }
}

impl NonzeroPixels for Normalised<'_> {
    #[inline(always)]
    fn for_each_nonzero<T>(self, rows: &[T; INPUT], mut f: impl FnMut(u8, &T)) {
        let plan = self.markers.around(|| Plan::measure(self.source));
        let mut window = Window::new(self.source);
        let mut band = [0u8; BAND];
        for (first_row, band_rows) in (0..).step_by(BAND_ROWS).zip(rows.as_chunks::<BAND>().0) {
            // Clearing the band is part of making it: inside the piece.
            self.markers.around(|| {
                band.fill(0);
                if let Some(plan) = &plan {
                    plan.resample(&mut window, first_row, band.as_chunks_mut::<SIDE>().0);
                }
            });
            for_each_nonzero_in(&band, band_rows, &mut f);
        }
    }
}

/// Steps 1–4 of the module's recipe: where the resampling reads from.
pub(super) struct Plan {
    /// Centre of mass, Q16.
    cx: i64,
    cy: i64,
    /// Slant, Q16.
    alpha: i64,
    /// Scale, Q16 source pixels per output pixel: down the rows, and along them
    /// (the same for the deskew; the stroke maps normalise the width apart).
    ky: i64,
    kx: i64,
    /// Bounding box of the ink.
    x_min: i32,
    x_max: i32,
    y_min: i32,
    y_max: i32,
}

impl Plan {
    /// `None` for a blank image.
    pub(super) fn measure(image: PixelBytes<'_>) -> Option<Plan> {
        Plan::measure_with::<false>(image)
    }

    /// [`Plan::measure`] with the width normalised too: the x scale makes the
    /// deskewed ink's horizontal spread `WIDTH_SPREAD`, within 0.7–1.6 times
    /// the y scale (`strokes`' step 1).
    pub(super) fn measure_wide(image: PixelBytes<'_>) -> Option<Plan> {
        Plan::measure_with::<true>(image)
    }

    /// Steps 1–4, with the x scale of its own if `WIDE` (else `kx = ky`).
    fn measure_with<const WIDE: bool>(image: PixelBytes<'_>) -> Option<Plan> {
        let ink = Ink::measure::<WIDE>(image)?;
        // `divide` is `/` (m > 0, so never a division by zero); the sums are
        // below 2^23 and m below 2^18, within `divide_q16`'s range.
        let centre = |s: i64| i64::from(divide_q16(s as u32, ink.m as u32));
        let (cx, cy) = (centre(ink.sx), centre(ink.sy));
        let mu11 = ink.m * ink.sxy - ink.sx * ink.sy; // m² · μ11
        let mu02 = ink.m * ink.syy - ink.sy * ink.sy; // m² · μ02, never negative
        let alpha = if mu02 > 0 { divide(mu11 << 16, mu02).clamp(-ONE, ONE) } else { 0 };
        let k = divide((isqrt(mu02.unsigned_abs()) as i64) << 32, ink.m * TARGET_SPREAD).clamp(ONE / 2, 2 * ONE);
        let kx = if WIDE {
            // m² times the variance of x − α·(y − cy): the columns once sheared upright.
            let mu20 = ink.m * ink.sxx - ink.sx * ink.sx;
            let sheared = (mu20 - ((2 * alpha * mu11) >> 16) + ((alpha * ((alpha * mu02) >> 16)) >> 16)).max(0);
            let kx = divide((isqrt(sheared.unsigned_abs()) as i64) << 32, ink.m * WIDTH_SPREAD);
            // max then min rather than clamp: the same here (7k/10 < 16k/10), and no panic path.
            // k is at most 2^17: 32-bit divisions, one instruction each on v7-M.
            let tenths = |t: i64| i64::from((t * k) as u32 / 10);
            kx.max(tenths(7)).min(tenths(16))
        } else {
            k
        };
        Some(Plan { cx, cy, alpha, ky: k, kx, x_min: ink.x_min, x_max: ink.x_max, y_min: ink.y_min, y_max: ink.y_max })
    }

    /// Step 5 for the output rows from `first_row` on, into `out` (left as
    /// they are where no ink can reach: the caller clears them). `window`
    /// walks down the source as the rows do.
    pub(super) fn resample<'o>(
        &self,
        window: &mut Window<'_>,
        first_row: i64,
        out: impl IntoIterator<Item = &'o mut [u8; SIDE]>,
    ) {
        for (yo, out_row) in (first_row..).zip(out) {
            // k · (yo − 14) · 2^16 >> 16 is exactly k · (yo − 14), below 2^22: a 32-bit product.
            let ys = self.cy + i64::from(self.ky as i32 * (yo as i32 - CENTRE));
            let (y0, fy) = ((ys >> 16) as i32, ((ys >> 8) & 0xff) as i32);
            // Rows y0 and y0 + 1 without ink give a row of zeros (what sampling them would give).
            if y0 < self.y_min - 1 || y0 > self.y_max {
                continue;
            }
            // ys grows with yo, so the window only moves down.
            window.seek(y0);
            let (upper, lower) = window.current();
            // Along a row only x moves: start at xo = 0 and step by k. Coordinates
            // stay within ±2^23 (k ≤ 2, α ≤ 1, centres inside the image): i32 from here.
            // (kx · −14 · 2^16) >> 16 is exactly −14 · kx; α · (ys − cy) needs 38 bits.
            let slant = signed_wide_mul(self.alpha as i32, (ys - self.cy) as i32) >> 16;
            let mut xs = (self.cx - i64::from(CENTRE) * self.kx + slant) as i32;
            let kx = self.kx as i32;
            // Columns x0 and x0 + 1 without ink sample to 0: the slots whose x0 is
            // left of x_min − 1 are skipped, and the row ends at the first past
            // x_max (x0 = xs >> 16 only grows along a row).
            let (left, right) = ((self.x_min - 1) << 16, (self.x_max + 1) << 16);
            let mut slots = out_row.iter_mut();
            while xs < left && slots.next().is_some() {
                xs += kx;
            }
            for slot in slots {
                if xs >= right {
                    break;
                }
                let (x0, fx) = (xs >> 16, (xs >> 8) & 0xff);
                let (a, b) = pixel_pair(upper, x0);
                let (c, d) = pixel_pair(lower, x0);
                // (a·(256−fx) + b·fx) exactly, with one multiply.
                let top = (a << 8) + (b - a) * fx;
                let bottom = (c << 8) + (d - c) * fx;
                *slot = (((top << 8) + (bottom - top) * fy + (1 << 15)) >> 16) as u8;
                xs += kx;
            }
        }
    }
}

/// A source row between zero columns: pixel x at index x + 1, columns −1 and
/// 28 to 30 zeros, so that a pixel pair needs no bounds test.
type PaddedSource = [u8; 32];

/// Source rows `top` and `top + 1` (zeros outside the image), moving down.
pub(super) struct Window<'a> {
    rows: Rows<'a>,
    top: i32,
    /// The two rows, each decoded once into its place: `upper` says which is row `top`.
    pair: [PaddedSource; 2],
    upper: usize,
}

impl<'a> Window<'a> {
    /// Rows −1 (outside: zeros) and 0.
    pub(super) fn new(image: PixelBytes<'a>) -> Self {
        let mut window = Window { rows: image.rows(), top: -1, pair: [[0; 32]; 2], upper: 0 };
        if let Some(lower) = window.pair.get_mut(1) {
            decode_into(&mut window.rows, lower);
        }
        window
    }

    /// Moves down until the top row is `y` (never up).
    fn seek(&mut self, y: i32) {
        while self.top < y {
            // The upper row leaves; the next source row is decoded into its place.
            if let Some(leaving) = self.pair.get_mut(self.upper & 1) {
                decode_into(&mut self.rows, leaving);
            }
            self.upper ^= 1;
            self.top += 1;
        }
    }

    /// Rows `top` and `top + 1`.
    fn current(&self) -> (&PaddedSource, &PaddedSource) {
        let [first, second] = &self.pair;
        if self.upper & 1 == 0 {
            (first, second)
        } else {
            (second, first)
        }
    }
}

/// The next source row into the middle of a padded one (its zero columns stay zero).
fn decode_into(rows: &mut Rows<'_>, padded: &mut PaddedSource) {
    if let Some(pixels) = padded.get_mut(1..).and_then(|p| p.first_chunk_mut::<SIDE>()) {
        rows.next_into(pixels);
    }
}

/// Moments and bounding box of an image's ink.
struct Ink {
    m: i64,
    sx: i64,
    sy: i64,
    sxy: i64,
    syy: i64,
    /// `Σp·x²`, taken only when the width is normalised (0 otherwise).
    sxx: i64,
    x_min: i32,
    x_max: i32,
    y_min: i32,
    y_max: i32,
}

impl Ink {
    /// Step 1 of the module's recipe (with `Σp·x²` if `WIDE`), and where the
    /// ink is; `None` for a blank image.
    fn measure<const WIDE: bool>(image: PixelBytes<'_>) -> Option<Ink> {
        // Every sum fits an i32: at most 784 · 255 · 27 · 27 < 2^28.
        let (mut m, mut sx, mut sy, mut sxy, mut syy, mut sxx) = (0i32, 0i32, 0i32, 0i32, 0i32, 0i32);
        let (mut x_min, mut x_max, mut y_min, mut y_max) = (i32::MAX, -1, i32::MAX, -1);
        // The current row's Σp, Σp·x, Σp·x², added to the moments when the row
        // ends: fewer running sums per pixel, so they stay in registers.
        let (mut r0, mut r1, mut r2) = (0i32, 0i32, 0i32);
        let mut end_row = |y: i32, (r0, r1, r2): (i32, i32, i32)| {
            (m, sx, sxx) = (m + r0, sx + r1, sxx + r2);
            (sy, sxy, syy) = (sy + r0 * y, sxy + r1 * y, syy + r0 * y * y);
        };
        image.for_each_inked(|x, y, p| {
            if y != y_max {
                if y_max >= 0 {
                    end_row(y_max, (r0, r1, r2));
                }
                (r0, r1, r2) = (0, 0, 0);
                (y_min, y_max) = (y_min.min(y), y);
            }
            let px = p * x;
            (r0, r1) = (r0 + p, r1 + px);
            if WIDE {
                r2 += px * x;
            }
            (x_min, x_max) = (x_min.min(x), x_max.max(x));
        });
        if y_max >= 0 {
            end_row(y_max, (r0, r1, r2));
        }
        (m != 0).then(|| Ink {
            m: i64::from(m),
            sx: i64::from(sx),
            sy: i64::from(sy),
            sxy: i64::from(sxy),
            syy: i64::from(syy),
            sxx: i64::from(sxx),
            x_min,
            x_max,
            y_min,
            y_max,
        })
    }
}

/// Pixels `x` and `x + 1` of `row`, for x from −1 to 27 (the caller's ink
/// range): indices 0 to 29 of the padded row, masked into it without a test.
fn pixel_pair(row: &PaddedSource, x: i32) -> (i32, i32) {
    let at = |i: i32| row.get((i & 31) as usize).map_or(0, |&p| i32::from(p));
    (at(x + 1), at(x + 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::testing::{pieces, xorshift};

    /// Side of the image as the signed integer the coordinates use.
    const SIDE_I: i64 = SIDE as i64;

    /// The module's recipe written plainly, sampling every output pixel.
    fn reference(image: &[u8; INPUT]) -> [u8; INPUT] {
        // Every sum fits an i32: at most 784 · 255 · 27 · 27 < 2^28.
        let (mut m, mut sx, mut sy, mut sxy, mut syy) = (0i32, 0i32, 0i32, 0i32, 0i32);
        for (y, row) in (0i32..).zip(image.chunks_exact(SIDE)) {
            for (x, &p) in (0i32..).zip(row) {
                if p != 0 {
                    let p = i32::from(p);
                    m += p;
                    sx += p * x;
                    sy += p * y;
                    sxy += p * x * y;
                    syy += p * y * y;
                }
            }
        }
        if m == 0 {
            return *image;
        }
        let [m, sx, sy, sxy, syy] = [m, sx, sy, sxy, syy].map(i64::from);
        let cx = (sx << 16) / m;
        let cy = (sy << 16) / m;
        let mu11 = m * sxy - sx * sy; // m² · μ11
        let mu02 = m * syy - sy * sy; // m² · μ02, never negative
        let alpha = if mu02 > 0 { ((mu11 << 16) / mu02).clamp(-ONE, ONE) } else { 0 };
        let k = ((isqrt(mu02.unsigned_abs()) as i64) << 32)
            .checked_div(m * TARGET_SPREAD)
            .unwrap_or(ONE)
            .clamp(ONE / 2, 2 * ONE);
        let mut out = [0u8; INPUT];
        for (yo, row) in (0..SIDE_I).zip(out.chunks_exact_mut(SIDE)) {
            let centre = i64::from(CENTRE) * ONE;
            let ys = cy + ((k * (yo * ONE - centre)) >> 16);
            // Along a row only x moves: start at xo = 0 and step by k. Coordinates
            // stay within ±2^23 (k ≤ 2, α ≤ 1, centres inside the image): i32 from here.
            let mut xs = (cx + ((k * -centre) >> 16) + ((alpha * (ys - cy)) >> 16)) as i32;
            for slot in row {
                *slot = bilinear(image, xs, ys as i32);
                xs += k as i32;
            }
        }
        out
    }

    /// The source sampled at `(xs, ys)` (Q16) with 8-bit bilinear weights; 0 outside.
    fn bilinear(image: &[u8; INPUT], xs: i32, ys: i32) -> u8 {
        let (x0, y0) = (xs >> 16, ys >> 16);
        if x0 < -1 || y0 < -1 || x0 >= SIDE as i32 || y0 >= SIDE as i32 {
            return 0;
        }
        let (fx, fy) = ((xs >> 8) & 0xff, (ys >> 8) & 0xff);
        let at = |x: i32, y: i32| -> i32 {
            if (0..SIDE as i32).contains(&x) && (0..SIDE as i32).contains(&y) {
                image.get((y * SIDE as i32 + x) as usize).map_or(0, |&p| i32::from(p))
            } else {
                0
            }
        };
        let top = at(x0, y0) * (256 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (256 - fx) + at(x0 + 1, y0 + 1) * fx;
        ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8
    }

    /// The fast path (skipping rows and columns without ink, fewer multiplies)
    /// gives the same bytes as the plain recipe.
    #[test]
    fn the_fast_path_is_the_recipe() {
        let mut next = xorshift(0x9e37_79b9u32);
        for case in 0..3000 {
            let density = 2 + case % 9;
            let image: [u8; INPUT] = core::array::from_fn(|_| {
                let r = next();
                if r.is_multiple_of(density) {
                    (r >> 8) as u8
                } else {
                    0
                }
            });
            assert_eq!(normalise(&image), reference(&image), "case {case}");
            // Ink confined to a random box, touching the borders at times, like a digit.
            let (x0, y0) = ((next() % 28) as usize, (next() % 28) as usize);
            let (x1, y1) = ((x0 + 1 + (next() % 20) as usize).min(28), (y0 + 1 + (next() % 24) as usize).min(28));
            let boxed: [u8; INPUT] = core::array::from_fn(|i| {
                let (x, y) = (i % SIDE, i / SIDE);
                if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                    image[i]
                } else {
                    0
                }
            });
            assert_eq!(normalise(&boxed), reference(&boxed), "boxed case {case}");
        }
        for edge in [[255u8; INPUT], [0; INPUT]] {
            assert_eq!(normalise(&edge), reference(&edge));
        }
    }

    #[test]
    fn blank_images_stay_blank() {
        assert_eq!(normalise(&[0; INPUT]), [0; INPUT]);
    }

    /// A slanted bar becomes upright, centred on (14, 14).
    #[test]
    fn a_slanted_bar_is_stood_up_and_centred() {
        let mut image = [0u8; INPUT];
        for y in 4..24 {
            let x = 6 + (y - 4) / 2; // leans right going down
            image[y * SIDE + x] = 255;
            image[y * SIDE + x + 1] = 255;
        }
        let out = normalise(&image);
        let columns =
            |img: &[u8; INPUT], y: usize| -> Vec<usize> { (0..SIDE).filter(|&x| img[y * SIDE + x] > 127).collect() };
        let (top, bottom) = (
            (4..SIDE).find(|&y| !columns(&out, y).is_empty()).unwrap(),
            (0..24).rev().find(|&y| !columns(&out, y).is_empty()).unwrap(),
        );
        let (a, b) = (columns(&out, top + 1), columns(&out, bottom - 1));
        assert!(a.first().unwrap().abs_diff(*b.first().unwrap()) <= 1, "still slanted: {a:?} vs {b:?}");
        let (m, cx) = out
            .iter()
            .enumerate()
            .fold((0u64, 0u64), |(m, cx), (i, &p)| (m + u64::from(p), cx + u64::from(p) * (i % SIDE) as u64));
        assert!((cx as f64 / m as f64 - 14.0).abs() < 0.75, "centre {}", cx as f64 / m as f64);
    }

    #[test]
    fn any_image_is_handled_without_panic() {
        let mut state = 0x1234_5678u32;
        for _ in 0..2000 {
            let image: [u8; INPUT] = core::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if state.is_multiple_of(5) {
                    (state >> 8) as u8
                } else {
                    0
                }
            });
            let _ = normalise(&image);
        }
        let _ = normalise(&[255; INPUT]);
        let mut dot = [0u8; INPUT];
        dot[0] = 1;
        let _ = normalise(&dot);
    }

    /// The network reading [`Normalised`] from either byte form computes, bit
    /// for bit, what it computes on [`normalise`]'s image: what the device runs
    /// is what the host runs.
    #[test]
    fn streamed_normalisation_is_the_whole_image_one() {
        let mut next = xorshift(0x0bad_cafeu32);
        let weights = crate::Weights {
            w1: core::array::from_fn(|_| core::array::from_fn(|_| (next() % 2001) as f32 / 1000.0 - 1.0)),
            b1: core::array::from_fn(|_| (next() % 2001) as f32 / 1000.0 - 1.0),
            w2: core::array::from_fn(|_| core::array::from_fn(|_| (next() % 2001) as f32 / 1000.0 - 1.0)),
            b2: core::array::from_fn(|_| (next() % 2001) as f32 / 1000.0 - 1.0),
        };
        let quantized = crate::network::int8::quantize(&weights);
        for case in 0..500u32 {
            let density = 2 + case % 9;
            let (x0, y0) = ((next() % 28) as usize, (next() % 28) as usize);
            let (x1, y1) = ((x0 + 1 + (next() % 20) as usize).min(28), (y0 + 1 + (next() % 24) as usize).min(28));
            let image: [u8; INPUT] = core::array::from_fn(|i| {
                let (x, y, r) = (i % SIDE, i / SIDE, next());
                if (x0..x1).contains(&x) && (y0..y1).contains(&y) && r.is_multiple_of(density) {
                    (r >> 8) as u8
                } else {
                    0
                }
            });
            let whole = normalise(&image);
            let mut buf = [0u8; INPUT];
            let encoded = super::super::pixels::zero_run_encode(&image, &mut buf)
                .map(|len| PixelBytes::new(&buf[..len]).unwrap());
            for source in [Some(PixelBytes::raw(&image)), encoded].into_iter().flatten() {
                let streamed = crate::forward(&weights, Normalised::new(source, Markers::NONE));
                let expected = crate::forward(&weights, &whole);
                assert_eq!(streamed.digit, expected.digit, "case {case}");
                assert_eq!(streamed.probabilities.map(f32::to_bits), expected.probabilities.map(f32::to_bits));
                let streamed = crate::forward_int8(&quantized, Normalised::new(source, Markers::NONE));
                let expected = crate::forward_int8(&quantized, &whole);
                assert_eq!(streamed.probabilities.map(f32::to_bits), expected.probabilities.map(f32::to_bits));
            }
        }
    }

    /// Each piece of the streamed work is bracketed: [`PIECES`] per image.
    #[test]
    fn markers_bracket_every_piece() {
        for image in [[0u8; INPUT], [7; INPUT]] {
            let counted = pieces(|markers| {
                Normalised::new(PixelBytes::raw(&image), markers).for_each_nonzero(&[0u8; INPUT], |_, _| {})
            });
            assert_eq!(counted, (PIECES, PIECES));
        }
    }
}
