//! Ordinary pictures of a digit (PNG, JPEG, PGM, any size, photos and scans)
//! turned into an MNIST-style 28×28 input, or a clear "not a digit".
//!
//! The steps, one module each: [`blocky`] takes a picture blown up with
//! nearest-neighbour back to its own size; [`ink`] takes the paper away (polarity, the
//! background estimated across the picture, Otsu's threshold); [`digit`] finds
//! the digit among the ink (ruled lines, frames and specks drop out) or says
//! why there is none; [`stroke`] thickens hairlines toward MNIST's stroke width
//! ([`small_scan`] instead keeps the grey levels of a digit scanned at a few pixels). Then
//! MNIST's own recipe: the digit's bounding box scaled to fit 20×20 (aspect
//! kept, anti-aliased), placed in 28×28 so that its centre of mass sits at the
//! centre. The model's own preprocessing (deskew) comes after, as for any image.
use std::path::Path;

use anyhow::{bail, Context, Result};
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use shared::INPUT;

pub mod blocky;
pub mod digit;
pub mod ink;
pub mod shape;
pub mod small_scan;
pub mod stroke;

pub use digit::NotADigit;

/// Side of the box the digit is scaled to fit, as in MNIST.
const FIT: u32 = 20;
/// Side of the final image.
const SIDE: u32 = shared::SIDE as u32;
/// Longer side of the working copy every step runs on: a phone photo's
/// millions of pixels add nothing to a 28×28 result but time.
const WORK: u32 = 256;
/// Blur undone at this scale (pixels of the working copy: 2.3 % of its side).
const SHARPEN_SIGMA: f32 = 6.0;
/// How many times its surroundings' ink a digit's own must be (see [`stands_out`]).
const MIN_STANDOUT: f64 = 2.5;
/// Pixels at or below this do not count as ink for the final bounding box.
const INK_THRESHOLD: u8 = 10;

/// What a picture holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    /// One digit, as the network's 28×28 input (before the model's own preprocessing).
    Digit(Box<[u8; INPUT]>),
    /// No plausible single digit, and why.
    NotADigit(NotADigit),
}

/// Pictures over this many pixels are refused before they are decoded: a
/// 439 KB PNG of 20000×20000 would take 1.9 GB and 20 s.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Reads an image file and preprocesses it the MNIST way ([`from_bytes`]).
pub fn load(path: &Path) -> Result<Found> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

/// The one way in for a picture, a file's or the pad's upload: its format
/// from its bytes, its size checked against [`MAX_PIXELS`] before decoding,
/// a phone's EXIF orientation applied, 16-bit and palette pictures converted,
/// transparency laid on white; then [`preprocess`].
pub fn from_bytes(bytes: &[u8]) -> Result<Found> {
    const UNKNOWN: &str = "not a PNG, JPEG or PGM image this tool can decode";
    let reader = || image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format();
    let (width, height) = reader()?.into_dimensions().context(UNKNOWN)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        bail!("the image is empty ({width}×{height} pixels)");
    }
    if pixels > MAX_PIXELS {
        bail!(
            "the picture is {width}×{height} pixels ({} megapixels), over the limit of {}: scale it down",
            pixels / 1_000_000,
            MAX_PIXELS / 1_000_000
        );
    }
    let mut decoder = reader()?.into_decoder().context(UNKNOWN)?;
    let orientation =
        image::ImageDecoder::orientation(&mut decoder).unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = image::DynamicImage::from_decoder(decoder).context(UNKNOWN)?;
    picture.apply_orientation(orientation);
    preprocess(&grayscale(&picture))
}

/// [`load`] for callers that need a digit: "not a digit" becomes an error that says why.
pub fn load_digit(path: &Path) -> Result<[u8; INPUT]> {
    match load(path)? {
        Found::Digit(image) => Ok(*image),
        Found::NotADigit(why) => bail!("{}: not a digit: {why}", path.display()),
    }
}

/// Grayscale, with transparent pixels laid on white (or black if that is where the ink is).
fn grayscale(picture: &image::DynamicImage) -> GrayImage {
    let with_alpha = picture.to_luma_alpha8();
    let flatten = |background: u16| {
        GrayImage::from_fn(with_alpha.width(), with_alpha.height(), |x, y| {
            let [value, alpha] = with_alpha.get_pixel(x, y).0;
            let (value, alpha) = (u16::from(value), u16::from(alpha));
            Luma([((value * alpha + background * (255 - alpha)) / 255) as u8])
        })
    };
    let on_white = flatten(255);
    let (low, high) = on_white.pixels().fold((255, 0), |(lo, hi), p| (p.0[0].min(lo), p.0[0].max(hi)));
    if high - low < 32 {
        flatten(0) // white ink on a transparent background vanishes on white
    } else {
        on_white
    }
}

/// A grayscale picture to the network's input: ink, the digit, its strokes,
/// MNIST's box ([`find_digit`]); then whether that shape looks like a digit at
/// all ([`shape`]).
pub fn preprocess(gray: &GrayImage) -> Result<Found> {
    Ok(match find_digit(gray)? {
        Found::Digit(input) if !shape::committed().looks_like_a_digit(&input) => {
            Found::NotADigit(NotADigit::UnlikeADigit)
        }
        found => found,
    })
}

/// The geometric steps of [`preprocess`], without the shape check: one
/// shape, digit-sized, standing out of its paper, as MNIST's 28×28.
///
/// A picture cropped tight to its digit (a phone's crop, a small scan scaled
/// up) has ink along its edges, full-height strokes that look like ruled lines
/// and more ink than paper: when it is refused, it is tried once more inside a
/// margin of its own paper, as if it had been cropped loosely. A picture
/// blown up with nearest-neighbour is first taken back to its own size; a
/// small scan is read from its grey levels ([`small_scan`]).
pub fn find_digit(gray: &GrayImage) -> Result<Found> {
    if gray.width() == 0 || gray.height() == 0 {
        bail!("the image is empty");
    }
    let unscaled = blocky::unscaled(gray);
    let gray = unscaled.as_ref().unwrap_or(gray);
    let work = working_copy(gray);
    let source = unscaled.as_ref().map(|u| u.width().max(u.height()));
    let small = small_scan::is_small_scan(&work, source);
    let found = preprocess_work(work, 0, small)?;
    if matches!(found, Found::NotADigit(_)) {
        if let Found::Digit(input) = preprocess_work(with_margin(gray), MARGIN, small)? {
            return Ok(Found::Digit(input));
        }
    }
    Ok(found)
}

/// The working copy inside a margin of the picture's paper (the median of its
/// outermost pixels), an eighth of the working side on every side.
fn with_margin(gray: &GrayImage) -> GrayImage {
    let inner = scaled_to(gray, WORK - 2 * MARGIN);
    let (w, h) = inner.dimensions();
    let paper = edge_median(&inner);
    let mut framed = GrayImage::from_pixel(w + 2 * MARGIN, h + 2 * MARGIN, Luma([paper]));
    imageops::overlay(&mut framed, &inner, i64::from(MARGIN), i64::from(MARGIN));
    framed
}

/// The median of a picture's outermost pixels: its paper, if it has any margin.
pub(crate) fn edge_median(gray: &GrayImage) -> u8 {
    let (w, h) = gray.dimensions();
    let mut ring: Vec<u8> = gray
        .enumerate_pixels()
        .filter(|&(x, y, _)| x == 0 || y == 0 || x + 1 == w || y + 1 == h)
        .map(|(_, _, p)| p.0[0])
        .collect();
    ring.sort_unstable();
    ring.get(ring.len() / 2).copied().unwrap_or(255)
}

/// The margin of [`with_margin`], working-copy pixels.
const MARGIN: u32 = WORK / 8;

/// [`preprocess`] on its working copy, whose outer `margin` pixels were
/// added (they do not count as the paper the digit must stand out from); a
/// `small_scan`'s digit is taken from its grey levels.
fn preprocess_work(work: GrayImage, margin: u32, small_scan: bool) -> Result<Found> {
    let Some(ink) = ink::separate(&work) else { return Ok(Found::NotADigit(NotADigit::Blank)) };
    let max_share = if margin > 0 { digit::MAX_INK_SHARE_FRAMED } else { digit::MAX_INK_SHARE };
    let (digit, (x, y, w, h)) = match digit::isolate(&ink.mask, max_share) {
        Ok(found) => found,
        Err(why) => return Ok(Found::NotADigit(why)),
    };
    if !stands_out(&ink, &digit, margin) {
        return Ok(Found::NotADigit(NotADigit::Scattered));
    }
    if small_scan {
        return Ok(Found::Digit(Box::new(mnist_box(&small_scan::digit(&work)))));
    }
    // Within the digit's own pixels (lines, frames and specks already out), only
    // what still passes the threshold once the blur is partly undone.
    let sharp = ink::sharpened(&ink.levels, SHARPEN_SIGMA);
    let digit = GrayImage::from_fn(digit.width(), digit.height(), |x, y| {
        let keep = digit.get_pixel(x, y).0[0] > 0 && sharp.get_pixel(x, y).0[0] > ink.threshold;
        Luma([if keep { 255 } else { 0 }])
    });
    // Room around the digit for strokes that grow.
    let side = w.max(h);
    let pad = side / 4;
    let mut framed = GrayImage::new(w + 2 * pad, h + 2 * pad);
    imageops::overlay(&mut framed, &imageops::crop_imm(&digit, x, y, w, h).to_image(), i64::from(pad), i64::from(pad));
    let strokes = stroke::normalise(&framed, side);
    Ok(Found::Digit(Box::new(mnist_box(&strokes))))
}

/// Whether the digit's ink stands clearly out of the paper: its median
/// level at least [`MIN_STANDOUT`] times the 90th percentile of the paper's
/// (the pixels under the threshold, a stroke's width away from the digit).
/// A shape picked out of noise is barely darker than the noise. A blurred
/// digit's halo is not paper: counted, it refused a quarter of the small
/// scans (8 source pixels, blown up smoothly) as scattered ink.
fn stands_out(ink: &ink::Ink, digit: &GrayImage, margin: u32) -> bool {
    let (w, h) = digit.dimensions();
    let added = |x: u32, y: u32| x < margin || y < margin || x + margin >= w || y + margin >= h;
    let reach = stroke::width(digit).round().clamp(1.0, f64::from(u8::MAX)) as u8;
    let halo = imageproc::morphology::dilate(digit, imageproc::distance_transform::Norm::LInf, reach);
    let (mut inside, mut paper) = (Vec::new(), Vec::new());
    for (((l, (x, y, d)), m), near) in
        ink.levels.pixels().zip(digit.enumerate_pixels()).zip(ink.mask.pixels()).zip(halo.pixels())
    {
        if d.0[0] > 0 {
            inside.push(l.0[0]);
        } else if m.0[0] == 0 && near.0[0] == 0 && !added(x, y) {
            paper.push(l.0[0]);
        }
    }
    let at = |v: &mut Vec<u8>, share: f64| {
        v.sort_unstable();
        v.get((share * v.len().saturating_sub(1) as f64) as usize).copied().map_or(0.0, f64::from)
    };
    at(&mut inside, 0.5) >= MIN_STANDOUT * at(&mut paper, 0.9).max(1.0)
}

/// The picture scaled so that its longer side is [`WORK`] pixels.
fn working_copy(gray: &GrayImage) -> GrayImage {
    scaled_to(gray, WORK)
}

/// `gray` resized (aspect kept) so that its longer side is `longer` pixels.
pub(crate) fn scaled_to(gray: &GrayImage, longer: u32) -> GrayImage {
    let (w, h) = gray.dimensions();
    let scale = f64::from(longer) / f64::from(w.max(h));
    let size = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    imageops::resize(gray, size(w), size(h), FilterType::Triangle)
}

/// MNIST's recipe on light ink: crop, fit into 20×20, centre of mass to the centre of 28×28.
fn mnist_box(ink: &GrayImage) -> [u8; INPUT] {
    let Some((x, y, w, h)) = bounding_box(ink, INK_THRESHOLD) else { return [0; INPUT] };
    let cropped = imageops::crop_imm(ink, x, y, w, h).to_image();
    let scale = f64::from(FIT) / f64::from(w.max(h));
    let fit_w = ((f64::from(w) * scale).round() as u32).clamp(1, FIT);
    let fit_h = ((f64::from(h) * scale).round() as u32).clamp(1, FIT);
    let fitted = imageops::resize(&cropped, fit_w, fit_h, FilterType::Triangle);

    let (cx, cy) = centre_of_mass(&fitted);
    let offset = |centre: f64, size: u32| {
        let ideal = (f64::from(SIDE) / 2.0 - centre).round() as i64;
        ideal.clamp(0, i64::from(SIDE - size))
    };
    let mut canvas = GrayImage::new(SIDE, SIDE);
    imageops::overlay(&mut canvas, &fitted, offset(cx, fit_w), offset(cy, fit_h));
    // Like every MNIST digit, the brightest pixel is full white after the resampling blur.
    let peak = f64::from(canvas.pixels().map(|p| p.0[0]).max().unwrap_or(255).max(1));
    let mut out = [0u8; INPUT];
    for (o, p) in out.iter_mut().zip(canvas.pixels()) {
        *o = (f64::from(p.0[0]) * 255.0 / peak).round().min(255.0) as u8;
    }
    out
}

/// `(x, y, width, height)` of the pixels brighter than `threshold`.
pub(crate) fn bounding_box(ink: &GrayImage, threshold: u8) -> Option<(u32, u32, u32, u32)> {
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in ink.enumerate_pixels() {
        if p.0[0] > threshold {
            let (x0, y0, x1, y1) = bounds.unwrap_or((x, y, x, y));
            bounds = Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y)));
        }
    }
    bounds.map(|(x0, y0, x1, y1)| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// Intensity-weighted centre `(x, y)` of an image, in pixel indices (MNIST's digits average (14, 14)).
fn centre_of_mass(image: &GrayImage) -> (f64, f64) {
    let (mut total, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for (x, y, p) in image.enumerate_pixels() {
        let v = f64::from(p.0[0]);
        total += v;
        sx += v * f64::from(x);
        sy += v * f64::from(y);
    }
    if total == 0.0 {
        (f64::from(image.width() - 1) / 2.0, f64::from(image.height() - 1) / 2.0)
    } else {
        (sx / total, sy / total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Classifier;
    use trainer::mnist::{Source, Split};

    /// An MNIST image blown up `factor` times, optionally dark-on-light and placed off-centre on a larger canvas.
    fn photo_of(image: &[u8; INPUT], factor: u32, dark_on_light: bool) -> GrayImage {
        let small = GrayImage::from_raw(SIDE, SIDE, image.to_vec()).unwrap();
        let big = imageops::resize(&small, SIDE * factor, SIDE * factor, FilterType::Triangle);
        let mut canvas = GrayImage::new(SIDE * factor + 37, SIDE * factor + 11);
        imageops::overlay(&mut canvas, &big, 30, 3);
        if dark_on_light {
            imageops::invert(&mut canvas);
        }
        canvas
    }

    #[test]
    fn pictures_of_test_digits_are_recognised_like_the_originals() {
        let test = Source::bundled().load(Split::Test).unwrap();
        let model = trainer::model_file::default_model().unwrap();
        let n = 300;
        let (mut agree, mut correct, mut rejected) = (0, 0, Vec::new());
        for (i, (image, &label)) in test.images.iter().zip(&test.labels).take(n).enumerate() {
            let photo = photo_of(image, 2 + (i as u32 % 4), i % 2 == 0);
            let Found::Digit(input) = preprocess(&photo).unwrap() else {
                rejected.push(i);
                continue;
            };
            let digit = model.classify(&input).digit;
            agree += usize::from(digit == model.classify(image).digit);
            correct += usize::from(digit == label);
        }
        // The shape check turns away about 0.5 % of real digits by design (test image 247, an
        // odd 4, is one); more than 1 % would be a regression.
        assert!(rejected.len() * 100 <= n, "test images {rejected:?} turned away as not a digit");
        // Measured with the default model: the originals get 291/300 right, and these pictures
        // 291/300, all with the same answer as the original.
        assert!(correct * 100 >= n * 92, "only {correct}/{n} correct after preprocessing");
        assert!(agree * 100 >= n * 95, "only {agree}/{n} agree with the original images");
    }

    #[test]
    fn output_is_centred_and_fits_twenty_pixels() {
        // A light-on-dark "1", a bar 60×300 pixels, in the top-left part of a big picture.
        let mut gray = GrayImage::new(1000, 700);
        for y in 10..310 {
            for x in 20..80 {
                gray.put_pixel(x, y, Luma([200]));
            }
        }
        let Found::Digit(out) = preprocess(&gray).unwrap() else { panic!("the bar was rejected") };
        let ink = GrayImage::from_raw(SIDE, SIDE, out.to_vec()).unwrap();
        let (x, y, w, h) = bounding_box(&ink, INK_THRESHOLD).unwrap();
        assert_eq!(h, 20, "{x} {y} {w}");
        assert!((3..=5).contains(&w), "{x} {y} {w}");
        let (cx, cy) = centre_of_mass(&ink);
        assert!((cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5, "centre {cx} {cy}");
        assert_eq!(ink.get_pixel(x + w / 2, y + 10).0[0], 255, "contrast stretched to full ink");
    }

    #[test]
    fn flat_pictures_are_blank() {
        assert_eq!(
            preprocess(&GrayImage::from_pixel(50, 50, Luma([255]))).unwrap(),
            Found::NotADigit(NotADigit::Blank)
        );
        assert!(preprocess(&GrayImage::new(0, 5)).is_err());
    }

    /// Found by the pad's fuzz target: a PGM of no pixels ran into the
    /// transparency step's contrast test (an overflow) before any size check.
    #[test]
    fn a_picture_of_no_pixels_is_refused_with_its_size() {
        let e = from_bytes(b"P5 0 4 255\n").unwrap_err();
        assert!(format!("{e:#}").contains("the image is empty (0×4 pixels)"), "{e:#}");
    }
}
