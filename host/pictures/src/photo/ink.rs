//! Ink apart from paper: which polarity the picture has, the background
//! estimated across it (so uneven lighting is not taken for ink), and a
//! threshold chosen from the picture itself (Otsu).
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;
use imageproc::morphology::{grayscale_erode, Mask};
use imageproc::region_labelling::{connected_components, Connectivity};

/// Longer side of the coarse copy the background is estimated on.
const COARSE: u32 = 64;
/// Radius (in coarse pixels) of the minimum filter that wipes the strokes out of
/// the background: strokes up to a fifth of the picture wide disappear.
const WIPE_RADIUS: u8 = 6;
/// Ink levels whose brightest part is below this are a blank picture.
const MIN_CONTRAST: u8 = 24;

/// A picture taken apart into ink and paper.
pub struct Ink {
    /// How much ink each pixel holds, 0 for paper: light-on-dark whatever the picture was.
    pub levels: GrayImage,
    /// 255 where the ink passes the picture's threshold, else 0.
    pub mask: GrayImage,
    /// The level a pixel must pass to be ink on its own.
    pub threshold: u8,
}

/// Separates ink from paper, or `None` for a picture with no contrast at all.
pub fn separate(gray: &GrayImage) -> Option<Ink> {
    let mut inverted = gray.clone();
    imageops::invert(&mut inverted);
    // Ink is what stands out of the paper. In the wrong polarity the paper
    // stands out of the strokes: all of it on a page lit from one side (where a
    // global test, the median against the range, fails), and at least a wide
    // halo around every stroke on even paper. So the right one holds less.
    let levels = [ink_levels(gray), ink_levels(&inverted)]
        .into_iter()
        .min_by_key(|levels| levels.pixels().map(|p| u64::from(p.0[0])).sum::<u64>())?;
    if percentile(&levels, 999) < MIN_CONTRAST {
        return None;
    }
    // Otsu's level, but never under a third of the strongest ink: on a page
    // that is nearly all paper, Otsu can split the paper's own spread.
    let strong = otsu_level(&levels).max(percentile(&levels, 999) / 3);
    let mask = hysteresis(&levels, strong, percentile(&levels, 500));
    Some(Ink { levels, mask, threshold: strong })
}

/// Pixels above `strong`, and those halfway from the `paper` level to it
/// connected to them: a faint stroke of a blurred digit stays joined to its
/// darker part, while faint noise on its own stays out.
fn hysteresis(levels: &GrayImage, strong: u8, paper: u8) -> GrayImage {
    let weak = ((u16::from(strong) + u16::from(paper)) / 2) as u8;
    let candidates = GrayImage::from_fn(levels.width(), levels.height(), |x, y| {
        Luma([if levels.get_pixel(x, y).0[0] > weak { 255 } else { 0 }])
    });
    let labels = connected_components(&candidates, Connectivity::Eight, Luma([0u8]));
    let anchored: std::collections::HashSet<u32> = labels
        .enumerate_pixels()
        .filter(|(x, y, _)| levels.get_pixel(*x, *y).0[0] > strong)
        .map(|(_, _, l)| l.0[0])
        .collect();
    GrayImage::from_fn(levels.width(), levels.height(), |x, y| {
        let label = labels.get_pixel(x, y).0[0];
        Luma([if label != 0 && anchored.contains(&label) { 255 } else { 0 }])
    })
}

/// How far each pixel stands above the background, taking light as ink.
fn ink_levels(oriented: &GrayImage) -> GrayImage {
    let background = background(oriented);
    GrayImage::from_fn(oriented.width(), oriented.height(), |x, y| {
        Luma([oriented.get_pixel(x, y).0[0].saturating_sub(background.get_pixel(x, y).0[0])])
    })
}

/// The paper's brightness at every pixel (ink light, paper dark): a minimum
/// filter on a coarse copy removes the strokes, a box blur smooths what is
/// left, and it is scaled back up.
fn background(oriented: &GrayImage) -> GrayImage {
    let (w, h) = oriented.dimensions();
    let coarse = super::scaled_to(oriented, COARSE);
    let wiped = grayscale_erode(&coarse, &Mask::disk(WIPE_RADIUS));
    let smooth = imageproc::filter::box_filter(&wiped, u32::from(WIPE_RADIUS), u32::from(WIPE_RADIUS));
    // The blur lifts the floor next to dark strokes of paper; the minimum keeps it under the picture.
    let lifted = imageops::resize(&smooth, w, h, FilterType::Triangle);
    let floor = imageops::resize(&wiped, w, h, FilterType::Triangle);
    GrayImage::from_fn(w, h, |x, y| Luma([lifted.get_pixel(x, y).0[0].min(floor.get_pixel(x, y).0[0])]))
}

/// `ink` with its blur partly undone (an unsharp mask, `2·levels − blurred`,
/// σ = `sigma`): the holes of a blurred 6, 8 or 9 open again, and strokes that
/// ran together come apart.
pub fn sharpened(levels: &GrayImage, sigma: f32) -> GrayImage {
    let blurred = imageproc::filter::gaussian_blur_f32(levels, sigma);
    GrayImage::from_fn(levels.width(), levels.height(), |x, y| {
        let (l, b) = (i16::from(levels.get_pixel(x, y).0[0]), i16::from(blurred.get_pixel(x, y).0[0]));
        Luma([(2 * l - b).clamp(0, 255) as u8])
    })
}

/// The `per_mille`-th value of the picture's pixels, from its histogram.
pub fn percentile(gray: &GrayImage, per_mille: u32) -> u8 {
    percentile_of(gray.pixels().map(|p| p.0[0]), per_mille)
}

/// The `per_mille`-th of `values`, from their histogram (255 when there are none).
pub fn percentile_of(values: impl Iterator<Item = u8>, per_mille: u32) -> u8 {
    let mut histogram = [0u64; 256];
    for v in values {
        histogram[usize::from(v)] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let wanted = total * u64::from(per_mille) / 1000;
    let mut seen = 0;
    for (value, &count) in histogram.iter().enumerate() {
        seen += count;
        if seen > wanted {
            return value as u8;
        }
    }
    255
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark bar on paper whose brightness falls from 250 on the left to 90 on the right.
    fn lit_from_the_left() -> GrayImage {
        GrayImage::from_fn(200, 150, |x, y| {
            let paper = 250 - (x * 160 / 200) as u8;
            Luma([if (60..90).contains(&y) && (80..120).contains(&x) { paper / 4 } else { paper }])
        })
    }

    #[test]
    fn uneven_paper_is_not_ink() {
        let ink = separate(&lit_from_the_left()).unwrap();
        let inked: Vec<(u32, u32)> =
            ink.mask.enumerate_pixels().filter(|(_, _, p)| p.0[0] > 0).map(|(x, y, _)| (x, y)).collect();
        assert!(!inked.is_empty());
        assert!(inked.iter().all(|&(x, y)| (60..90).contains(&y) && (80..120).contains(&x)), "paper taken for ink");
        assert!(inked.len() >= 30 * 40 * 9 / 10, "the bar lost ink: {}", inked.len());
    }

    #[test]
    fn both_polarities_give_the_same_ink() {
        let dark = lit_from_the_left();
        let mut light = dark.clone();
        imageops::invert(&mut light);
        let (a, b) = (separate(&dark).unwrap().mask, separate(&light).unwrap().mask);
        let differ = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
        assert!(differ < 200, "{differ} pixels differ");
    }

    #[test]
    fn flat_pictures_have_no_ink() {
        assert!(separate(&GrayImage::from_pixel(80, 80, Luma([200]))).is_none());
    }
}
