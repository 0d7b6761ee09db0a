//! Stroke maps (`Preprocessing::Strokes`): what the network reads instead of
//! pixels. The image is deskewed with its width normalised too, then, at
//! every pixel, the ink's gradient is projected onto [`DIRECTIONS`]
//! directions and summed over cells of [`CELL`]×[`CELL`] pixels: how much
//! edge runs each way in each part of the digit. Integer arithmetic only, so
//! every board computes the same bytes as the host.
//!
//! Step by step:
//! 1. Deskew as `super::deskew` does (steps 1–5 there), except the x scale:
//!    with `μ20` the ink's column variance, `σx'² = μ20 − 2α·μ11 + α²·μ02`
//!    (the columns' variance once sheared upright), in integers
//!    `t = m²μ20 − ((2α·m²μ11) >> 16) + ((α·((α·m²μ02) >> 16)) >> 16)`,
//!    at least 0; `kx = (isqrt(t) << 32) / (m · WIDTH_SPREAD)`, clamped to
//!    `[7k/10, 16k/10]` (`k` the y scale, divisions toward zero); along a row
//!    x starts at `cx − ((kx·14·2^16) >> 16) + ((α·(ys − cy)) >> 16)` and steps
//!    by `kx`. Rows 28 and −1 of the result are zeros.
//! 2. Gradient of that image `d`: `gx = d[y][x+1] − d[y][x−1]`,
//!    `gy = d[y+1][x] − d[y−1][x]` (0 outside the 28×28 square).
//! 3. Projections: `p_k = gx·COS[k] + gy·SIN[k]` for each direction `k`
//!    ([`COS`], [`SIN`]: `round(128·cos θ_k)`, `round(128·sin θ_k)`,
//!    `θ_k = 2πk/16`), `P = max_k p_k`; the response is `max(4·p_k − 3·P, 0)`:
//!    the directions within about 40° of the gradient's, the nearest the
//!    strongest (signed directions: a stroke's two edges fall in opposite
//!    directions).
//! 4. Cells: `s = Σ response` over the cell's 4×4 pixels.
//! 5. Bytes: `min(255, (s + 2^(SHIFT−1)) >> SHIFT)` at index
//!    `(cell_row · 7 + cell_column) · 16 + k`, so a cell row's 112 bytes come
//!    out together: a device makes them one cell row at a time.
//!
//! The variant (16 signed directions on 7×7 cells, central differences, the
//! width normalised to 3.5 pixels, the response sharpened to `4·p − 3·P`,
//! `SHIFT` 9) was chosen on the validation split; `docs/accuracy.md` has the table.
use super::deskew::{Markers, Plan, Window};
use super::pixels::{for_each_nonzero_in, NonzeroPixels, PixelBytes};
use crate::dims::{INPUT, SIDE};
use crate::int_math::ARMV6M;

/// Directions the gradient is projected on.
pub const DIRECTIONS: usize = 16;
/// Side of a cell, in pixels.
pub const CELL: usize = 4;
/// Cells per side.
pub const CELLS: usize = SIDE / CELL;
/// Right shift from a cell's sum to its byte.
pub const SHIFT: u32 = 9;
/// Bytes per cell row: what a device holds of the maps at a time.
pub const CELL_ROW: usize = CELLS * DIRECTIONS;
/// Pieces of work per image: measuring the ink, then one per cell row.
pub const PIECES: usize = 1 + CELLS;

/// `round(128 · cos(2πk / DIRECTIONS))`.
pub const COS: [i32; DIRECTIONS] = [128, 118, 91, 49, 0, -49, -91, -118, -128, -118, -91, -49, 0, 49, 91, 118];
/// `round(128 · sin(2πk / DIRECTIONS))`.
pub const SIN: [i32; DIRECTIONS] = [0, 49, 91, 118, 128, 118, 91, 49, 0, -49, -91, -118, -128, -118, -91, -49];

const _: () = assert!(CELLS * CELL_ROW == INPUT);

/// A deskewed row between two zero columns (−1 and 28).
type PaddedRow = [u8; SIDE + 2];
/// Deskewed rows `4·r − 1` to `4·r + 4`: what cell row `r` reads.
type Rows = [PaddedRow; CELL + 2];

/// The stroke maps of `image` (see the module's steps): the streamed cell
/// rows ([`StrokeMaps::for_each_cell_row`]) gathered, so host and device
/// make them the one same way.
pub fn stroke_maps(image: &[u8; INPUT]) -> [u8; INPUT] {
    let mut out = [0u8; INPUT];
    let (cell_rows, _) = out.as_chunks_mut::<CELL_ROW>();
    StrokeMaps::new(PixelBytes::raw(image), Markers::NONE).for_each_cell_row(|r, maps| {
        if let Some(cell_row) = cell_rows.get_mut(r) {
            *cell_row = *maps;
        }
    });
    out
}

/// The image's 28 pixels of each padded row, for the deskew to write.
fn pixels_of(rows: &mut [PaddedRow]) -> impl Iterator<Item = &mut [u8; SIDE]> {
    rows.iter_mut().filter_map(|row| row.get_mut(1..)?.first_chunk_mut::<SIDE>())
}

/// Steps 2–5 for one cell row, from the deskewed rows around it.
fn cell_row_maps(rows: &Rows, out: &mut [u8; CELL_ROW]) {
    // Four more sums stand for directions 0 to 3 again: a pixel's responses
    // then land on five neighbouring sums, whatever its direction. Zeros
    // between cells: a cell that adds to them takes them back out as it ends
    // (cheaper than clearing 80 bytes for each cell, inked or not).
    let mut sums = [0i32; DIRECTIONS + 4];
    for (cell, cell_out) in out.as_chunks_mut::<DIRECTIONS>().0.iter_mut().enumerate() {
        let mut inked = false;
        let x0 = cell * CELL;
        for window in rows.windows(3) {
            let [above, row, below] = window else { continue };
            // Four pixels whose neighbours are all blank have no gradient: one test
            // of four unaligned words. Not on the M0+, which faults on an unaligned
            // word: made of bytes, the test costs it more than the pixels' own.
            if !ARMV6M && word(above, x0 + 1) | word(below, x0 + 1) | word(row, x0) | word(row, x0 + 2) == 0 {
                continue;
            }
            for x in x0..x0 + CELL {
                // The rows' first and last bytes are the zero columns −1 and 28.
                let at = |r: &PaddedRow, x: usize| r.get(x).map_or(0, |&p| i32::from(p));
                let (gx, gy) = (at(row, x + 2) - at(row, x), at(below, x + 1) - at(above, x + 1));
                if gx != 0 || gy != 0 {
                    add_responses(&mut sums, gx, gy);
                    inked = true;
                }
            }
        }
        if !inked {
            cell_out.fill(0);
            continue;
        }
        let (sums, again) = sums.split_at_mut(DIRECTIONS);
        for (k, (byte, sum)) in cell_out.iter_mut().zip(sums).enumerate() {
            let sum = core::mem::take(sum) + again.get_mut(k).map_or(0, core::mem::take);
            // Sums are never negative: the clamp is min(255), one saturating instruction on Arm.
            *byte = ((sum + (1 << (SHIFT - 1))) >> SHIFT).clamp(0, 255) as u8;
        }
    }
}

/// Bytes `from` to `from + 3` of a padded row as one word (0 past its end).
fn word(row: &PaddedRow, from: usize) -> u32 {
    row.get(from..).and_then(|r| r.first_chunk::<4>()).map_or(0, |w| u32::from_ne_bytes(*w))
}

/// Adds one pixel's responses `max(4·p_k − 3·P, 0)` (step 3) to `sums`,
/// where `sums[16 + k]` stands for `sums[k]`.
///
/// The tables are symmetric under a quarter turn of the gradient, exactly
/// (`p_{k+4}(gx, gy) = p_k(gy, −gx)`), so the gradient is first turned into
/// the quadrant `gx ≥ 0, gy ≥ 0`. There `P` is one of `p_0`, `p_1`, `p_2`
/// below the diagonal (`p_2` to `p_4` above it), and only directions −1 to 3
/// (1 to 5) can respond: five projections instead of sixteen
/// (`every_gradient_responds_as_the_recipe_says` checks every gradient).
#[inline(always)]
fn add_responses(sums: &mut [i32; DIRECTIONS + 4], gx: i32, gy: i32) {
    // A half turn, then a quarter turn, until a ≥ 0 and b ≥ 0: `turn` directions on.
    let (mut a, mut b, mut turn) = (gx, gy, 0);
    if b < 0 {
        (a, b, turn) = (-a, -b, 8);
    }
    if a < 0 {
        (a, b, turn) = (b, -a, turn + 4);
    }
    let project = |c: i32, s: i32| a * c + b * s;
    // The five directions that can respond, from the first; P is among the middle three.
    let (first, p) = if b <= a {
        (turn - 1, [project(118, -49), project(128, 0), project(118, 49), project(91, 91), project(49, 118)])
    } else {
        (turn + 1, [project(118, 49), project(91, 91), project(49, 118), project(0, 128), project(-49, 118)])
    };
    let [_, p1, p2, p3, _] = p;
    let strongest = p1.max(p2).max(p3);
    let window = sums.get_mut((first & 15) as usize..).and_then(|s| s.first_chunk_mut::<5>());
    if let Some(window) = window {
        for (sum, p) in window.iter_mut().zip(p) {
            *sum += (4 * p - 3 * strongest).max(0);
        }
    }
}

/// [`stroke_maps`] as the network reads it: one cell row (112 bytes) at a
/// time, from six deskewed rows made straight from the received bytes, while
/// the first layer consumes them. A device so holds 280 bytes of it.
#[derive(Clone, Copy, Debug)]
pub struct StrokeMaps<'a> {
    source: PixelBytes<'a>,
    markers: Markers,
}

impl<'a> StrokeMaps<'a> {
    /// `source`'s stroke maps; `markers` bracket every piece of the work ([`PIECES`]).
    pub fn new(source: PixelBytes<'a>, markers: Markers) -> Self {
        StrokeMaps { source, markers }
    }

    /// Calls `f(r, maps)` for each cell row `r` in order with its 112 bytes:
    /// the first layer's input `112·r` onwards. A device kernel reads them so.
    #[inline(always)]
    pub fn for_each_cell_row(self, mut f: impl FnMut(usize, &[u8; CELL_ROW])) {
        let plan = self.markers.around(|| Plan::measure_wide(self.source));
        let mut window = Window::new(self.source);
        // Deskewed rows 4r − 1 to 4r + 4 for cell row r; row −1 is zeros.
        let mut deskewed: Rows = [[0; SIDE + 2]; CELL + 2];
        let mut maps = [0u8; CELL_ROW];
        for r in 0..CELLS {
            self.markers.around(|| {
                let Some(plan) = &plan else { return maps.fill(0) };
                // The two rows cell row r − 1 read last are this one's first two.
                let fresh = if r == 0 {
                    1
                } else {
                    let [first, second, _, _, fifth, sixth] = &mut deskewed;
                    (*first, *second) = (*fifth, *sixth);
                    2
                };
                if let Some(new) = deskewed.get_mut(fresh..) {
                    new.fill([0; SIDE + 2]);
                    // Rows past the image's last stay zeros.
                    let first = 4 * r as i64 + fresh as i64 - 1;
                    let inside = new.len().min((SIDE as i64 - first).max(0) as usize);
                    if let Some(new) = new.get_mut(..inside) {
                        plan.resample(&mut window, first, pixels_of(new));
                    }
                }
                cell_row_maps(&deskewed, &mut maps);
            });
            f(r, &maps);
        }
    }

    /// [`StrokeMaps::for_each_cell_row`] for a device's own first layer:
    /// not generic, so the maps are compiled here, at this crate's
    /// optimisation, whoever calls them (a generic one would be compiled in
    /// the caller's crate: the firmware's `opt-level = "s"` made it 4 % slower).
    pub fn for_each_cell_row_dyn(self, f: &mut dyn FnMut(usize, &[u8; CELL_ROW])) {
        self.for_each_cell_row(f);
    }
}

impl NonzeroPixels for StrokeMaps<'_> {
    #[inline(always)]
    fn for_each_nonzero<T>(self, rows: &[T; INPUT], mut f: impl FnMut(u8, &T)) {
        let (blocks, _) = rows.as_chunks::<CELL_ROW>();
        self.for_each_cell_row(|r, maps| {
            if let Some(block) = blocks.get(r) {
                for_each_nonzero_in(maps, block, &mut f);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::deskew::{TARGET_SPREAD, WIDTH_SPREAD};
    use crate::input::testing::{pieces, xorshift};
    use crate::int_math::isqrt;

    /// Step 1 written plainly, sampling every output pixel.
    fn deskew_wide(image: &[u8; INPUT]) -> [u8; INPUT] {
        const ONE: i64 = 1 << 16;
        let (mut m, mut sx, mut sy, mut sxy, mut syy, mut sxx) = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
        for (y, row) in (0i64..).zip(image.chunks_exact(SIDE)) {
            for (x, &p) in (0i64..).zip(row) {
                let p = i64::from(p);
                (m, sx, sy) = (m + p, sx + p * x, sy + p * y);
                (sxy, syy, sxx) = (sxy + p * x * y, syy + p * y * y, sxx + p * x * x);
            }
        }
        if m == 0 {
            return [0; INPUT];
        }
        let (cx, cy) = ((sx << 16) / m, (sy << 16) / m);
        let (mu11, mu02, mu20) = (m * sxy - sx * sy, m * syy - sy * sy, m * sxx - sx * sx);
        let alpha = if mu02 > 0 { ((mu11 << 16) / mu02).clamp(-ONE, ONE) } else { 0 };
        let k = (((isqrt(mu02 as u64) as i64) << 32) / (m * TARGET_SPREAD)).clamp(ONE / 2, 2 * ONE);
        let t = (mu20 - ((2 * alpha * mu11) >> 16) + ((alpha * ((alpha * mu02) >> 16)) >> 16)).max(0);
        let kx = (((isqrt(t as u64) as i64) << 32) / (m * WIDTH_SPREAD)).clamp(k * 7 / 10, k * 16 / 10);
        let at = |x: i32, y: i32| -> i32 {
            if (0..SIDE as i32).contains(&x) && (0..SIDE as i32).contains(&y) {
                i32::from(image[(y * SIDE as i32 + x) as usize])
            } else {
                0
            }
        };
        let mut out = [0u8; INPUT];
        for (yo, row) in (0..SIDE as i64).zip(out.chunks_exact_mut(SIDE)) {
            let ys = cy + ((k * (yo * ONE - 14 * ONE)) >> 16);
            let mut xs = (cx + ((kx * -14 * ONE) >> 16) + ((alpha * (ys - cy)) >> 16)) as i32;
            let ys = ys as i32;
            for slot in row {
                let (x0, y0, fx, fy) = (xs >> 16, ys >> 16, (xs >> 8) & 0xff, (ys >> 8) & 0xff);
                let top = at(x0, y0) * (256 - fx) + at(x0 + 1, y0) * fx;
                let bottom = at(x0, y0 + 1) * (256 - fx) + at(x0 + 1, y0 + 1) * fx;
                *slot = ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8;
                xs += kx as i32;
            }
        }
        out
    }

    /// The module's recipe written plainly: every pixel, every direction.
    fn reference(image: &[u8; INPUT]) -> [u8; INPUT] {
        let d = deskew_wide(image);
        let at = |x: i32, y: i32| -> i32 {
            if (0..SIDE as i32).contains(&x) && (0..SIDE as i32).contains(&y) {
                i32::from(d[y as usize * SIDE + x as usize])
            } else {
                0
            }
        };
        let mut sums = [0i32; INPUT];
        for y in 0..SIDE as i32 {
            for x in 0..SIDE as i32 {
                let (gx, gy) = (at(x + 1, y) - at(x - 1, y), at(x, y + 1) - at(x, y - 1));
                let cell = (y as usize / CELL) * CELLS + x as usize / CELL;
                let p: Vec<i32> = (0..DIRECTIONS).map(|k| gx * COS[k] + gy * SIN[k]).collect();
                let strongest = *p.iter().max().unwrap();
                for k in 0..DIRECTIONS {
                    sums[cell * DIRECTIONS + k] += (4 * p[k] - 3 * strongest).max(0);
                }
            }
        }
        sums.map(|s| ((s + (1 << (SHIFT - 1))) >> SHIFT).min(255) as u8)
    }

    /// Random images, some with ink in a box like a digit's, some touching the borders.
    fn images(n: usize) -> Vec<[u8; INPUT]> {
        let mut next = xorshift(0x2545_f491);
        (0..n)
            .map(|case| {
                let density = 2 + (case % 9) as u32;
                let (x0, y0) = ((next() % 28) as usize, (next() % 28) as usize);
                let (x1, y1) = ((x0 + 1 + (next() % 24) as usize).min(28), (y0 + 1 + (next() % 26) as usize).min(28));
                core::array::from_fn(|i| {
                    let (x, y, r) = (i % SIDE, i / SIDE, next());
                    let inside = case % 4 == 0 || ((x0..x1).contains(&x) && (y0..y1).contains(&y));
                    if inside && r.is_multiple_of(density) {
                        (r >> 8) as u8
                    } else {
                        0
                    }
                })
            })
            .chain([[255; INPUT], [0; INPUT]])
            .collect()
    }

    #[test]
    fn the_fast_path_is_the_recipe() {
        for (case, image) in images(3000).iter().enumerate() {
            assert_eq!(stroke_maps(image), reference(image), "case {case}");
        }
    }

    /// The streamed maps, from raw and from zero-run bytes, are the whole-image ones.
    #[test]
    fn streamed_maps_are_the_whole_maps() {
        let places: [u16; INPUT] = core::array::from_fn(|i| i as u16);
        for (case, image) in images(1000).iter().enumerate() {
            let whole = stroke_maps(image);
            let mut buf = [0u8; INPUT];
            let encoded =
                super::super::pixels::zero_run_encode(image, &mut buf).map(|len| PixelBytes::new(&buf[..len]).unwrap());
            for source in [Some(PixelBytes::raw(image)), encoded].into_iter().flatten() {
                let mut streamed = [0u8; INPUT];
                let mut last = None;
                StrokeMaps::new(source, Markers::NONE).for_each_nonzero(&places, |p, &i| {
                    assert!(last < Some(i), "ascending");
                    last = Some(i);
                    streamed[usize::from(i)] = p;
                });
                assert_eq!(streamed, whole, "case {case}");
            }
        }
    }

    /// Every gradient a pair of bytes can make responds in the octant
    /// reduction exactly as in the recipe's sixteen directions.
    #[test]
    fn every_gradient_responds_as_the_recipe_says() {
        for gx in -255..=255 {
            for gy in -255..=255 {
                let p: [i32; DIRECTIONS] = core::array::from_fn(|k| gx * COS[k] + gy * SIN[k]);
                let strongest = *p.iter().max().unwrap();
                let expected = p.map(|p| (4 * p - 3 * strongest).max(0));
                let mut sums = [0; DIRECTIONS + 4];
                add_responses(&mut sums, gx, gy);
                let folded: [i32; DIRECTIONS] = core::array::from_fn(|k| sums[k] + sums.get(k + 16).unwrap_or(&0));
                assert_eq!(folded, expected, "gradient ({gx}, {gy})");
            }
        }
    }

    #[test]
    fn markers_bracket_every_piece() {
        for image in [[0u8; INPUT], [7; INPUT]] {
            let counted = pieces(|markers| {
                StrokeMaps::new(PixelBytes::raw(&image), markers).for_each_nonzero(&[0u8; INPUT], |_, _| {})
            });
            assert_eq!(counted, (PIECES, PIECES));
        }
    }

    #[test]
    fn tables_are_rounded_cosines_and_sines() {
        for k in 0..DIRECTIONS {
            let theta = 2.0 * core::f64::consts::PI * k as f64 / DIRECTIONS as f64;
            assert_eq!(COS[k], (128.0 * theta.cos()).round() as i32, "cos {k}");
            assert_eq!(SIN[k], (128.0 * theta.sin()).round() as i32, "sin {k}");
        }
    }

    /// A tall vertical bar's edges face left and right (directions 0 and 8);
    /// only its two ends face up and down (4 and 12).
    #[test]
    fn a_vertical_bar_shows_horizontal_gradients() {
        let mut image = [0u8; INPUT];
        for y in 4..24 {
            for x in 12..16 {
                image[y * SIDE + x] = 255;
            }
        }
        let maps = stroke_maps(&image);
        let total = |k: usize| (0..CELLS * CELLS).map(|c| u32::from(maps[c * DIRECTIONS + k])).sum::<u32>();
        let (sideways, up_down) = (total(0).min(total(8)), total(4).max(total(12)));
        assert!(sideways > 3 * up_down, "left/right {sideways}, up/down {up_down}");
        assert_eq!(stroke_maps(&[0; INPUT]), [0; INPUT]);
    }
}
