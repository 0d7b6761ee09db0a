//! A small scan blown up: a digit scanned at 8–12 pixels and scaled up to
//! fill its picture, smooth or blocky. Its strokes are a few source pixels
//! wide and blurred into each other, so a threshold draws them fat and joined
//! (a 0 loses its hole); the grey levels still hold the digit. Such a picture
//! is read from its grey levels instead, as MNIST's own digits are
//! anti-aliased: at 8 px, font digits were read 72–77 % right with a limit of
//! 0.07 on [`SOFT`], 78–81 % with 0.10, and 82 % with one source pixel of paper
//! allowed and [`FULL_INK`] (validation pictures, docs/pictures.md).
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};

use super::ink::{percentile, percentile_of};
use super::{bounding_box, edge_median, scaled_to};

/// Ink is what stands out of the paper by at least this share of the strongest ink.
const INK_SHARE: u8 = 4;
/// A small scan's ink reaches this close to every edge (share of the side):
/// it was cropped to its digit, like a scan. A blurred photo has paper around.
const TIGHT: f64 = 0.08;
/// The ink level (per mille of the digit's ink) taken as full ink.
const FULL_INK: u32 = 800;
/// Side (source pixels) the digit's box is brought down to, to see how much
/// detail it holds.
const PROBE: u32 = 12;
/// The digit's box scaled down to [`PROBE`] pixels and back differs from it by
/// less than this share of its ink level: there was no more detail to lose.
const SOFT: f64 = 0.10;

/// Whether `work` (a working copy) is a small scan blown up: its ink fills the
/// picture ([`TIGHT`]) and holds no detail finer than [`PROBE`] pixels across
/// ([`SOFT`]). A picture known to have been `source` pixels on its longer side
/// (blown up with nearest-neighbour, [`super::blocky`]) may also leave one
/// source pixel of paper at an edge: at 8 px that is 12.5 % of the side (of
/// 380 validation font scans at 8 px, nearest, 66 were missed without it, 33 with it).
pub fn is_small_scan(work: &GrayImage, source: Option<u32>) -> bool {
    let levels = ink_levels(work);
    let Some((x, y, w, h)) = ink_box(&levels) else { return false };
    let (width, height) = levels.dimensions();
    let pixel = source.map_or(0.0, |s| f64::from(width.max(height)) / f64::from(s.max(1)));
    let near = |gap: u32, side: u32| f64::from(gap) <= (TIGHT * f64::from(side)).max(pixel);
    let tight = near(x, width) && near(y, height) && near(width - x - w, width) && near(height - y - h, height);
    tight && detail(&imageops::crop_imm(&levels, x, y, w, h).to_image()) < SOFT
}

/// The digit's grey levels (light ink on black, cropped to its box), for
/// MNIST's box. Its strongest fifth of ink ([`FULL_INK`]) becomes full ink, as
/// in MNIST's strokes, which have a saturated core: a stroke a source pixel
/// wide, blown up, is a faint grey beside a crossing's dark spot.
pub fn digit(work: &GrayImage) -> GrayImage {
    let levels = ink_levels(work);
    let (x, y, w, h) = ink_box(&levels).unwrap_or((0, 0, levels.width(), levels.height()));
    let mut digit = imageops::crop_imm(&levels, x, y, w, h).to_image();
    let peak = digit.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    let full = u32::from(percentile_of(digit.pixels().map(|p| p.0[0]).filter(|&v| v > peak / INK_SHARE), FULL_INK));
    for p in digit.pixels_mut() {
        p.0[0] = (u32::from(p.0[0]) * 255 / full.max(1)).min(255) as u8;
    }
    digit
}

/// How far each pixel is from the paper, light ink on black. The paper is the
/// median of the picture's edge (a scan's margin) unless the picture's own
/// median is lighter: a dark frame around light paper. Dark ink on light paper
/// when either is light.
fn ink_levels(work: &GrayImage) -> GrayImage {
    let (w, h) = work.dimensions();
    let edge = i32::from(edge_median(work));
    let all = i32::from(percentile(work, 500));
    let dark_ink = edge >= 128 || all >= 128;
    let paper = if dark_ink { edge.max(all) } else { edge };
    GrayImage::from_fn(w, h, |x, y| {
        let v = i32::from(work.get_pixel(x, y).0[0]);
        Luma([(if dark_ink { paper - v } else { v - paper }).clamp(0, 255) as u8])
    })
}

/// The box of the ink at least a [`INK_SHARE`]th of the strongest.
fn ink_box(levels: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let peak = levels.pixels().map(|p| p.0[0]).max()?;
    bounding_box(levels, peak / INK_SHARE)
}

/// What scaling `levels` down to [`PROBE`] pixels and back up loses: the mean
/// difference, as a share of its ink level (the 90th percentile).
fn detail(levels: &GrayImage) -> f64 {
    let (w, h) = levels.dimensions();
    let down = scaled_to(levels, PROBE);
    let back = imageops::resize(&down, w, h, FilterType::CatmullRom);
    let lost: f64 = levels.pixels().zip(back.pixels()).map(|(a, b)| f64::from(a.0[0].abs_diff(b.0[0]))).sum();
    let ink = percentile(levels, 900).max(1);
    lost / f64::from(w * h) / f64::from(ink)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring (a 0) drawn at `side` pixels, dark on light, blown up smoothly to 200 pixels.
    fn ring(side: u32, blown_up: bool) -> GrayImage {
        let c = f64::from(side) / 2.0;
        let small = GrayImage::from_fn(side, side, |x, y| {
            let r = ((f64::from(x) + 0.5 - c).powi(2) + (f64::from(y) + 0.5 - c).powi(2)).sqrt();
            Luma([if (r - c * 0.7).abs() < c * 0.2 { 30 } else { 230 }])
        });
        if blown_up {
            imageops::resize(&small, 200, 200, FilterType::CatmullRom)
        } else {
            small
        }
    }

    #[test]
    fn a_ring_scanned_at_eight_pixels_is_a_small_scan_and_keeps_its_hole() {
        let scan = ring(8, true);
        assert!(is_small_scan(&scan, None));
        let digit = digit(&scan);
        let (w, h) = digit.dimensions();
        let centre = digit.get_pixel(w / 2, h / 2).0[0];
        let stroke = digit.get_pixel(w / 2, h / 10).0[0];
        assert!(centre < stroke / 2, "the hole is paper: centre {centre}, stroke {stroke}");
        let ink: Vec<u8> = digit.pixels().map(|p| p.0[0]).filter(|&v| v > 63).collect();
        let full = ink.iter().filter(|&&v| v == 255).count();
        assert!(full * 100 >= ink.len() * 15, "the strongest fifth of the ink is full ink: {full} of {}", ink.len());
    }

    #[test]
    fn a_row_of_paper_is_allowed_when_the_source_size_is_known() {
        // An 8-px ring with a row of paper above it and a column to its right, at 256 px.
        let mut small = GrayImage::from_pixel(9, 9, Luma([230]));
        imageops::overlay(&mut small, &ring(8, false), 0, 1);
        let work = imageops::resize(&small, 256, 256, FilterType::Triangle);
        assert!(is_small_scan(&work, Some(9)), "one source pixel of paper");
        assert!(!is_small_scan(&work, None), "11 % of paper, size unknown");
    }

    #[test]
    fn a_sharp_ring_is_not() {
        assert!(!is_small_scan(&ring(200, false), None), "sharp");
        let mut loose = GrayImage::from_pixel(400, 400, Luma([230]));
        imageops::overlay(&mut loose, &ring(8, true), 100, 100);
        assert!(!is_small_scan(&loose, None), "paper around it");
    }
}
