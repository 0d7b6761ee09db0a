//! A picture scaled up with nearest-neighbour (a small scan or a screenshot
//! blown up, every source pixel a block) back at the size it was made at.
//!
//! The blocks' staircase edges are edges in sixteen directions to the stroke
//! maps, which the network and the shape check read: at 12–20 source pixels
//! a blocky MNIST digit was 4–9 pp less often right than the same scan scaled
//! up smoothly, and turned away 1–4 % more often. Found at its own size, the
//! picture is scaled up smoothly by the working copy like any other.
use image::GrayImage;

/// The fewest source pixels per side taken for a block grid: below, any
/// shape of few edges would fit one.
const MIN_CELLS: u32 = 4;
/// The fewest picture pixels per block, on average: with fewer, edges a
/// pixel apart would fit a grid by chance.
const MIN_BLOCK: u32 = 3;

/// How far a block's width and height may differ (a share of its height):
/// a scaler rounds the source's shorter side, at 4 pixels by up to 12.5 %.
const SQUARE: f64 = 0.2;

/// The picture at its source size when it is one of square blocks on a
/// regular grid (within a pixel per edge, for any scaler's rounding), else `None`.
pub fn unscaled(gray: &GrayImage) -> Option<GrayImage> {
    let (w, h) = gray.dimensions();
    let columns = grid(&changes(w, h, |x, y| gray.get_pixel(x, y).0[0]), w)?;
    let rows = grid(&changes(h, w, |y, x| gray.get_pixel(x, y).0[0]), h)?;
    // Blocks of another shape would change the picture's aspect.
    let (block_w, block_h) = (f64::from(w) / f64::from(columns), f64::from(h) / f64::from(rows));
    if (block_w - block_h).abs() > SQUARE * block_h {
        return None;
    }
    let centre =
        |j: u32, cells: u32, len: u32| ((2 * u64::from(j) + 1) * u64::from(len) / (2 * u64::from(cells))) as u32;
    Some(GrayImage::from_fn(columns, rows, |j, i| *gray.get_pixel(centre(j, columns, w), centre(i, rows, h))))
}

/// The positions `a` in `1..len` where line `a` (of `other` pixels, `pixel(a, b)`) differs from line `a - 1`.
fn changes(len: u32, other: u32, pixel: impl Fn(u32, u32) -> u8) -> Vec<u32> {
    (1..len).filter(|&a| (0..other).any(|b| pixel(a, b) != pixel(a - 1, b))).collect()
}

/// The fewest cells `n` (at least [`MIN_CELLS`], blocks at least [`MIN_BLOCK`]
/// long) such that every change lies less than a pixel from a cell boundary
/// `k · len / n`.
fn grid(changes: &[u32], len: u32) -> Option<u32> {
    let most = len / MIN_BLOCK;
    if changes.is_empty() || changes.len() as u32 >= most {
        return None;
    }
    (MIN_CELLS..=most).find(|&n| {
        changes.iter().all(|&c| {
            // The nearest boundary k·len/n to c, compared in units of 1/n pixel.
            let (c, n, len) = (u64::from(c), u64::from(n), u64::from(len));
            let k = (2 * c * n + len) / (2 * len);
            (c * n).abs_diff(k * len) < n
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{self, FilterType};
    use image::Luma;

    /// A small picture with detail in every row and column.
    fn source(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| Luma([((x * 37 + y * 91 + x * y * 13) % 251) as u8]))
    }

    #[test]
    fn a_nearest_neighbour_blow_up_comes_back_at_its_size() {
        for (w, h, big_w, big_h) in [(8, 8, 200, 200), (12, 9, 150, 113), (20, 14, 173, 121), (28, 28, 280, 280)] {
            let small = source(w, h);
            let big = imageops::resize(&small, big_w, big_h, FilterType::Nearest);
            assert_eq!(unscaled(&big).as_ref(), Some(&small), "{w}×{h} at {big_w}×{big_h}");
        }
    }

    #[test]
    fn smooth_pictures_stay_as_they_are() {
        let small = source(12, 12);
        for filter in [FilterType::Triangle, FilterType::CatmullRom] {
            assert_eq!(unscaled(&imageops::resize(&small, 150, 150, filter)), None);
        }
        // Twice the size is too little to tell blocks from a picture's own detail.
        assert_eq!(unscaled(&imageops::resize(&small, 24, 24, FilterType::Nearest)), None);
        assert_eq!(unscaled(&GrayImage::from_pixel(50, 50, Luma([255]))), None, "blank paper has no grid");
    }

    #[test]
    fn a_shape_of_few_edges_keeps_its_aspect() {
        // A bar on a big picture fits grids of 20-pixel columns and 10-pixel rows: not square blocks.
        let bar = |y0: u32| {
            GrayImage::from_fn(1000, 700, move |x, y| {
                Luma([if (20..80).contains(&x) && (y0..y0 + 300).contains(&y) { 0 } else { 255 }])
            })
        };
        assert_eq!(unscaled(&bar(10)), None);
        // On square ones, taken at that size, its edges stay where they were.
        let square = bar(20);
        let small = unscaled(&square).expect("the bar fits a grid of 20-pixel blocks");
        assert_eq!(imageops::resize(&small, 1000, 700, FilterType::Nearest), square);
    }
}
