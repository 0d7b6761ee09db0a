//! Pictures a user would take, made from MNIST test digits: a digit written
//! in dark ink on paper, photographed under one condition at a time (uneven
//! light, noise, specks, a frame, ruled lines, a box, blur, JPEG, low
//! resolution, light on dark), and pictures that hold no single digit. The
//! same photos are made of digits in handwriting fonts ([`fonts`]).
//! `cargo xtask pictures` measures the picture preprocessing on them.
pub mod fonts;
pub mod shape_training;
pub mod shapes;

use anyhow::Result;
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use shared::{Classifier, INPUT};

use crate::photo::{preprocess, Found, NotADigit};
use trainer::model_file::Model;

/// What the tool answered for one picture: the digit and its probability, or "not a digit".
pub type Answer = Option<(u8, f32)>;

/// The model's answer for a picture, through the whole picture preprocessing.
pub fn answer(model: &Model, picture: &GrayImage) -> Result<Answer> {
    Ok(verdict(model, picture)?.ok())
}

/// The model's answer for a picture, or why it is not a digit.
pub fn verdict(model: &Model, picture: &GrayImage) -> Result<Result<(u8, f32), NotADigit>> {
    Ok(match preprocess(picture)? {
        Found::Digit(input) => {
            let p = model.network.classify(&model.info.preprocessing.apply(&input));
            Ok((p.digit, p.probabilities[usize::from(p.digit)]))
        }
        Found::NotADigit(why) => Err(why),
    })
}

/// Photo number `i` of a digit under `condition`: made from its own seed, so
/// any subset of a set gives the same pictures.
pub fn nth_digit_picture(image: &[u8; INPUT], condition: Condition, i: usize, seed: u64) -> GrayImage {
    digit_picture(&mnist_ink(image), condition, &mut condition_rng(condition, 0, i, seed))
}

/// Photo number `i` of the handwriting-font digits ([`fonts::nth_font_digit`])
/// under `condition`, with its digit and its font's index: under every
/// condition the same digit drawn the same way.
pub fn nth_font_picture(
    fonts: &[fonts::HandwritingFont],
    condition: Condition,
    i: usize,
    seed: u64,
) -> (GrayImage, u8, usize) {
    let (ink, digit, font) = fonts::nth_font_digit(fonts, i, seed);
    (digit_picture(&ink, condition, &mut condition_rng(condition, 1, i, seed)), digit, font)
}

/// The random stream of picture `i` of `set` (0: MNIST digits, 1: fonts) under `condition`.
fn condition_rng(condition: Condition, set: u64, i: usize, seed: u64) -> ChaCha8Rng {
    let c = Condition::ALL.iter().position(|&k| k == condition).unwrap_or(0) as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((set << 61) | (c << 32) | i as u64);
    rng
}

/// An MNIST digit as ink (255 = full ink), 28×28.
fn mnist_ink(image: &[u8; INPUT]) -> GrayImage {
    GrayImage::from_raw(28, 28, image.to_vec()).unwrap_or_default()
}

/// Picture number `i` of the kind `kind`: two-digit pictures take digits
/// `2i` and `2i + 1` of `images`, letters and symbols come from `fonts` in
/// turn (as [`fonts::nth_glyph`]).
pub fn nth_non_digit_picture(
    kind: NonDigit,
    images: &[[u8; INPUT]],
    fonts: &[fonts::HandwritingFont],
    i: usize,
    seed: u64,
) -> GrayImage {
    let k = NonDigit::ALL.iter().position(|&n| n == kind).unwrap_or(0) as u64;
    let blank = [0u8; INPUT];
    let n = images.len().max(1);
    let digit = |j: usize| mnist_ink(images.get(j % n).unwrap_or(&blank));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 63) | (k << 32) | i as u64);
    let on_paper = |ink: &[&GrayImage], rng: &mut ChaCha8Rng| clean_photo(ink, rng).0;
    if let Some(ink) = one_shape(kind, fonts, i, &mut rng) {
        // One shape, photographed as the digits are: under one condition, at random.
        let condition = Condition::ALL[rng.gen_range(0..Condition::ALL.len())];
        return digit_picture(&ink, condition, &mut rng);
    }
    match kind {
        NonDigit::TwoDigits => on_paper(&[&digit(2 * i), &digit(2 * i + 1)], &mut rng),
        NonDigit::DigitAndLetter => {
            let letter = fonts::nth_glyph(fonts, fonts::CAPITALS, i, &mut rng);
            on_paper(&[&digit(i), &letter], &mut rng)
        }
        _ => paper_picture(kind, &mut rng),
    }
}

/// The ink of the kinds that are one shape: a letter or a symbol of `fonts`
/// ([`fonts::nth_glyph`]), or a drawing ([`shapes`]).
fn one_shape(kind: NonDigit, fonts: &[fonts::HandwritingFont], i: usize, rng: &mut impl Rng) -> Option<GrayImage> {
    Some(match kind {
        NonDigit::Capital | NonDigit::Small | NonDigit::Symbol => fonts::nth_glyph(fonts, kind.chars()?, i, rng),
        NonDigit::Scribble => shapes::scribble(rng),
        NonDigit::Smiley => shapes::smiley(rng),
        NonDigit::Star => shapes::star(rng),
        NonDigit::Heart => shapes::heart(rng),
        NonDigit::Arrow => shapes::arrow(rng),
        _ => return None,
    })
}

/// The answers for photos of `images` (with their `labels`) under `condition`.
pub fn digit_answers(
    model: &Model,
    images: &[[u8; INPUT]],
    labels: &[u8],
    condition: Condition,
    seed: u64,
) -> Result<Vec<(Answer, u8)>> {
    (0..images.len().min(labels.len()))
        .into_par_iter()
        .map(|i| Ok((answer(model, &nth_digit_picture(&images[i], condition, i, seed))?, labels[i])))
        .collect()
}

/// The answers for the first `count` handwriting-font photos under `condition`,
/// each with its digit and its font's index.
pub fn font_answers(
    model: &Model,
    fonts: &[fonts::HandwritingFont],
    count: usize,
    condition: Condition,
    seed: u64,
) -> Result<Vec<(Answer, u8, usize)>> {
    (0..count)
        .into_par_iter()
        .map(|i| {
            let (picture, digit, font) = nth_font_picture(fonts, condition, i, seed);
            Ok((answer(model, &picture)?, digit, font))
        })
        .collect()
}

/// The answers for `count` pictures of the kind `kind`, each a digit or why not.
pub fn non_digit_answers(
    model: &Model,
    images: &[[u8; INPUT]],
    fonts: &[fonts::HandwritingFont],
    kind: NonDigit,
    count: usize,
    seed: u64,
) -> Result<Vec<Result<(u8, f32), NotADigit>>> {
    (0..count).into_par_iter().map(|i| verdict(model, &nth_non_digit_picture(kind, images, fonts, i, seed))).collect()
}

/// What happens to a clean photo of a digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Dark ink on even paper.
    Clean,
    /// Light ink on a dark background (a blackboard, an inverted scan).
    LightOnDark,
    /// The paper darkens from 250 to about 90 across the picture.
    UnevenLight,
    /// Gaussian noise, σ = 20 grey levels.
    Noise,
    /// One to four dark specks away from the digit.
    Specks,
    /// A dark frame 4 % of the picture wide around its edge.
    Frame,
    /// Ruled lines across the page, through the digit.
    RuledLines,
    /// A box drawn around the digit.
    Box,
    /// Out of focus: Gaussian blur, σ = 2.5 % of the picture.
    Blur,
    /// Saved as JPEG at quality 15.
    Jpeg,
    /// Taken at a sixth of the size and scaled back up.
    LowResolution,
    /// Written with a fine pen: the paper grows into the ink until the stroke is
    /// about one MNIST pixel wide (by at most one on each side).
    FinePen,
    /// Cropped tight to the ink on one to four sides (which, at random): the
    /// digit touches the picture's edge there.
    TightCrop,
    /// A small scan: the ink's box (with a twentieth of margin) at 8 to 20
    /// pixels on its longer side, scaled up with nearest-neighbour or a smooth
    /// filter (at random): grey, blocky strokes that touch the edges.
    SmallScan,
}

impl Condition {
    /// Every condition, clean first.
    pub const ALL: [Condition; 14] = [
        Condition::Clean,
        Condition::LightOnDark,
        Condition::UnevenLight,
        Condition::Noise,
        Condition::Specks,
        Condition::Frame,
        Condition::RuledLines,
        Condition::Box,
        Condition::Blur,
        Condition::Jpeg,
        Condition::LowResolution,
        Condition::FinePen,
        Condition::TightCrop,
        Condition::SmallScan,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Condition::Clean => "clean (dark ink on paper)",
            Condition::LightOnDark => "light on dark",
            Condition::UnevenLight => "uneven lighting",
            Condition::Noise => "noise (σ 20)",
            Condition::Specks => "specks",
            Condition::Frame => "dark frame",
            Condition::RuledLines => "ruled lines",
            Condition::Box => "box around the digit",
            Condition::Blur => "blur",
            Condition::Jpeg => "JPEG, quality 15",
            Condition::LowResolution => "low resolution scaled up",
            Condition::FinePen => "fine pen",
            Condition::TightCrop => "cropped tight on 1-4 sides",
            Condition::SmallScan => "small scan (8-20 px) scaled up",
        }
    }
}

/// Pictures that hold no single digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonDigit {
    /// Paper and nothing else (a little noise, uneven light).
    Blank,
    /// Blank paper under a soft shadow or a strong gradient of light.
    Shadow,
    /// Noise all over, σ = 45.
    Noise,
    /// One dot.
    Dot,
    /// One horizontal stroke.
    Dash,
    /// Two digits side by side.
    TwoDigits,
    /// A digit with a capital letter beside it.
    DigitAndLetter,
    /// A capital letter that does not look like a digit ([`fonts::CAPITALS`]).
    Capital,
    /// A small letter that does not look like a digit ([`fonts::SMALLS`]).
    Small,
    /// A symbol: + × ? # ! % & @ * = ([`fonts::SYMBOLS`]).
    Symbol,
    /// A scribble.
    Scribble,
    /// A smiley.
    Smiley,
    /// A star.
    Star,
    /// A heart.
    Heart,
    /// An arrow.
    Arrow,
}

impl NonDigit {
    /// Every kind.
    pub const ALL: [NonDigit; 15] = [
        NonDigit::Blank,
        NonDigit::Shadow,
        NonDigit::Noise,
        NonDigit::Dot,
        NonDigit::Dash,
        NonDigit::TwoDigits,
        NonDigit::DigitAndLetter,
        NonDigit::Capital,
        NonDigit::Small,
        NonDigit::Symbol,
        NonDigit::Scribble,
        NonDigit::Smiley,
        NonDigit::Star,
        NonDigit::Heart,
        NonDigit::Arrow,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            NonDigit::Blank => "blank paper",
            NonDigit::Shadow => "a shadow or gradient on blank paper",
            NonDigit::Noise => "noise",
            NonDigit::Dot => "a dot",
            NonDigit::Dash => "a dash",
            NonDigit::TwoDigits => "two digits side by side",
            NonDigit::DigitAndLetter => "a digit with a letter beside it",
            NonDigit::Capital => "a capital letter",
            NonDigit::Small => "a small letter",
            NonDigit::Symbol => "a symbol",
            NonDigit::Scribble => "a scribble",
            NonDigit::Smiley => "a smiley",
            NonDigit::Star => "a star",
            NonDigit::Heart => "a heart",
            NonDigit::Arrow => "an arrow",
        }
    }

    /// The characters its pictures are drawn from, for the kinds of one character.
    pub fn chars(self) -> Option<&'static str> {
        match self {
            NonDigit::Capital => Some(fonts::CAPITALS),
            NonDigit::Small => Some(fonts::SMALLS),
            NonDigit::Symbol => Some(fonts::SYMBOLS),
            _ => None,
        }
    }

    /// Whether its pictures are drawn from the fonts (and so differ between tuned and held-out fonts).
    pub fn uses_fonts(self) -> bool {
        matches!(self, NonDigit::Capital | NonDigit::Small | NonDigit::Symbol | NonDigit::DigitAndLetter)
    }
}

/// A photo of a digit under `condition`: `ink` (255 = full ink, square, the
/// digit framed as MNIST frames it) written on paper.
pub fn digit_picture(ink: &GrayImage, condition: Condition, rng: &mut impl Rng) -> GrayImage {
    let (mut photo, digit_box) = clean_photo(&[ink], rng);
    let scale = digit_box.2 / 28;
    let (w, h) = photo.dimensions();
    match condition {
        Condition::Clean => {}
        Condition::LightOnDark => imageops::invert(&mut photo),
        Condition::UnevenLight => {
            for (x, _, p) in photo.enumerate_pixels_mut() {
                let light = 1.0 - 0.62 * f64::from(x) / f64::from(w);
                p.0[0] = (f64::from(p.0[0]) * light).round() as u8;
            }
        }
        Condition::Noise => add_noise(&mut photo, 20.0, rng),
        Condition::Specks => {
            for _ in 0..rng.gen_range(1..=4) {
                let r = rng.gen_range(2..=4);
                let (x, y) = loop {
                    let (x, y) = (rng.gen_range(r..w - r), rng.gen_range(r..h - r));
                    if !inside(digit_box, x, y, 2 * r) {
                        break (x, y);
                    }
                };
                disc(&mut photo, x, y, r, 30);
            }
        }
        Condition::Frame => {
            let t = (w.max(h) / 25).max(2);
            rectangle(&mut photo, (0, 0, w, h), t, 25);
        }
        Condition::RuledLines => {
            let spacing = (digit_box.3 / 3).max(8);
            let mut y = rng.gen_range(0..spacing);
            while y + 2 < h {
                for x in 0..w {
                    for dy in 0..2 {
                        photo.put_pixel(x, y + dy, Luma([110]));
                    }
                }
                y += spacing;
            }
        }
        Condition::Box => {
            let (x, y, bw, bh) = digit_box;
            let m = bw.max(bh) / 6;
            let outer = (x.saturating_sub(m), y.saturating_sub(m), (bw + 2 * m).min(w), (bh + 2 * m).min(h));
            let outer = (outer.0, outer.1, outer.2.min(w - outer.0), outer.3.min(h - outer.1));
            rectangle(&mut photo, outer, 3, 40);
        }
        Condition::Blur => photo = imageproc::filter::gaussian_blur_f32(&photo, 0.025 * w.max(h) as f32),
        Condition::Jpeg => {
            let mut bytes = Vec::new();
            let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 15);
            if encoder.encode_image(&photo).is_ok() {
                if let Ok(decoded) = image::load_from_memory(&bytes) {
                    photo = decoded.to_luma8();
                }
            }
        }
        Condition::FinePen => {
            let width = stroke_width(ink) * f64::from(digit_box.2) / f64::from(ink.width().max(1));
            let r = ((width - f64::from(scale)) / 2.0).round().clamp(0.0, f64::from(scale.min(255))) as u8;
            if r > 0 {
                photo = imageproc::morphology::grayscale_dilate(&photo, &imageproc::morphology::Mask::disk(r));
            }
        }
        Condition::LowResolution => {
            let small = imageops::resize(&photo, (w / 6).max(1), (h / 6).max(1), FilterType::Triangle);
            photo = imageops::resize(&small, w, h, FilterType::Triangle);
        }
        Condition::TightCrop => {
            let (x0, y0, x1, y1) = ink_bounds(&photo).unwrap_or((0, 0, w - 1, h - 1));
            // Which sides are cut at the ink: a random non-empty subset of the four.
            let sides = rng.gen_range(1..16u8);
            let (left, top) = (if sides & 1 != 0 { x0 } else { 0 }, if sides & 2 != 0 { y0 } else { 0 });
            let right = if sides & 4 != 0 { x1 + 1 } else { w };
            let bottom = if sides & 8 != 0 { y1 + 1 } else { h };
            photo = imageops::crop_imm(&photo, left, top, right - left, bottom - top).to_image();
        }
        Condition::SmallScan => {
            let longer = rng.gen_range(8..=20u32);
            photo = small_scan(&photo, longer, rng.gen_bool(0.5));
        }
    }
    photo
}

/// `photo` as a small scan: its ink's box (with a twentieth of margin) at
/// `longer` pixels on its longer side, scaled back up with nearest-neighbour
/// or a smooth filter.
pub fn small_scan(photo: &GrayImage, longer: u32, nearest: bool) -> GrayImage {
    let (w, h) = photo.dimensions();
    let (x0, y0, x1, y1) = ink_bounds(photo).unwrap_or((0, 0, w - 1, h - 1));
    let m = (x1 - x0).max(y1 - y0) / 20;
    let (left, top) = (x0.saturating_sub(m), y0.saturating_sub(m));
    let (right, bottom) = ((x1 + m + 1).min(w), (y1 + m + 1).min(h));
    let (cw, ch) = (right - left, bottom - top);
    let crop = imageops::crop_imm(photo, left, top, cw, ch).to_image();
    let size = |v: u32| ((f64::from(v) * f64::from(longer) / f64::from(cw.max(ch))).round() as u32).max(1);
    let small = imageops::resize(&crop, size(cw), size(ch), FilterType::Triangle);
    let filter = if nearest { FilterType::Nearest } else { FilterType::CatmullRom };
    imageops::resize(&small, cw, ch, filter)
}

/// The box of a clean photo's ink: pixels at least 40 levels darker than its
/// lightest (the paper), as `(x0, y0, x1, y1)` inclusive.
fn ink_bounds(photo: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let paper = photo.pixels().map(|p| p.0[0]).max()?;
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in photo.enumerate_pixels() {
        if p.0[0].saturating_add(40) <= paper {
            bounds = Some(match bounds {
                None => (x, y, x, y),
                Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
            });
        }
    }
    bounds
}

/// Paper with no shape drawn on it: blank, shadowed, noisy, a dot, a dash.
fn paper_picture(kind: NonDigit, rng: &mut impl Rng) -> GrayImage {
    let (w, h) = (rng.gen_range(200..320), rng.gen_range(200..320));
    let paper = rng.gen_range(200..245);
    let mut photo = GrayImage::from_pixel(w, h, Luma([paper]));
    match kind {
        NonDigit::Blank => {
            for (x, _, p) in photo.enumerate_pixels_mut() {
                p.0[0] = (f64::from(p.0[0]) * (1.0 - 0.3 * f64::from(x) / f64::from(w))) as u8;
            }
            add_noise(&mut photo, 4.0, rng);
        }
        NonDigit::Shadow => {
            if rng.gen_bool(0.5) {
                // A hand's or a phone's soft shadow: a dark blurred disc reaching in from outside.
                let (cx, cy) = (rng.gen_range(-0.3..1.3) * f64::from(w), rng.gen_range(-0.3..1.3) * f64::from(h));
                let r = rng.gen_range(0.3..0.7) * f64::from(w.max(h));
                let soft = rng.gen_range(0.1..0.3) * f64::from(w.max(h));
                let depth = rng.gen_range(0.35..0.6);
                for (x, y, p) in photo.enumerate_pixels_mut() {
                    let d = (f64::from(x) - cx).hypot(f64::from(y) - cy);
                    let shade = 1.0 - depth / (1.0 + ((d - r) / soft).exp());
                    p.0[0] = (f64::from(p.0[0]) * shade) as u8;
                }
            } else {
                // Light falling off strongly in one direction.
                let a = rng.gen_range(0.0..std::f64::consts::TAU);
                let depth = rng.gen_range(0.4..0.65);
                let (dx, dy) = (a.cos() / f64::from(w), a.sin() / f64::from(h));
                for (x, y, p) in photo.enumerate_pixels_mut() {
                    let t = (0.5 + (f64::from(x) - f64::from(w) / 2.0) * dx + (f64::from(y) - f64::from(h) / 2.0) * dy)
                        .clamp(0.0, 1.0);
                    p.0[0] = (f64::from(p.0[0]) * (1.0 - depth * t)) as u8;
                }
            }
            add_noise(&mut photo, 4.0, rng);
        }
        NonDigit::Noise => add_noise(&mut photo, 45.0, rng),
        NonDigit::Dot => {
            let r = rng.gen_range(3..=6);
            disc(&mut photo, rng.gen_range(20..w - 20), rng.gen_range(20..h - 20), r, 30);
        }
        NonDigit::Dash => {
            let (len, t) = (rng.gen_range(w / 4..w / 2), rng.gen_range(4..10));
            let (x, y) = (rng.gen_range(10..w - len - 10), rng.gen_range(20..h - 20));
            for yy in y..y + t {
                for xx in x..x + len {
                    photo.put_pixel(xx, yy, Luma([35]));
                }
            }
        }
        _ => {}
    }
    photo
}

/// Dark ink on paper, the digits side by side, each scaled to 4–7× MNIST's
/// 28 with margins around; with the box `(x, y, w, h)` the first digit's frame covers.
fn clean_photo(digits: &[&GrayImage], rng: &mut impl Rng) -> (GrayImage, (u32, u32, u32, u32)) {
    let scale = rng.gen_range(4..=7);
    let size = 28 * scale;
    let (paper, ink) = (rng.gen_range(200..245u8), rng.gen_range(20..70u8));
    let n = digits.len() as u32;
    let w = size * n + rng.gen_range(size / 3..size);
    let h = size + rng.gen_range(size / 3..size);
    let (x0, y0) = (rng.gen_range(0..w - size * n), rng.gen_range(0..h - size));
    let mut photo = GrayImage::from_pixel(w, h, Luma([paper]));
    for (i, digit) in digits.iter().enumerate() {
        let big = imageops::resize(*digit, size, size, FilterType::CatmullRom);
        for (x, y, p) in big.enumerate_pixels() {
            let v = f64::from(p.0[0]) / 255.0;
            let shade = f64::from(paper) - (f64::from(paper) - f64::from(ink)) * v;
            photo.put_pixel(x0 + i as u32 * size + x, y0 + y, Luma([shade.round() as u8]));
        }
    }
    (photo, (x0, y0, size, size))
}

/// The mean width of the strokes of `ink` in its own pixels: twice the inked
/// area over the length of its edge with the paper (a stroke `w` wide and `l`
/// long has area `w·l` and two edges `l` long). Not `photo::stroke::width`,
/// which counts boundary pixels rather than edges: on the fonts' slanted strokes it
/// reads them wider, and the fine pen built on it went from −1.3 to −2.7 pp.
fn stroke_width(ink: &GrayImage) -> f64 {
    let inked = |x: u32, y: u32| ink.get_pixel_checked(x, y).is_some_and(|p| p.0[0] > 127);
    let (mut area, mut edges) = (0u64, 0u64);
    for y in 0..ink.height() + 1 {
        for x in 0..ink.width() + 1 {
            let here = inked(x, y);
            area += u64::from(here);
            edges += u64::from(here != inked(x + 1, y)) + u64::from(here != inked(x, y + 1));
            edges += u64::from(x == 0 && here) + u64::from(y == 0 && here);
        }
    }
    2.0 * area as f64 / edges.max(1) as f64
}

fn inside((x0, y0, w, h): (u32, u32, u32, u32), x: u32, y: u32, margin: u32) -> bool {
    x + margin >= x0 && x <= x0 + w + margin && y + margin >= y0 && y <= y0 + h + margin
}

fn add_noise(photo: &mut GrayImage, sigma: f64, rng: &mut impl Rng) {
    let Ok(normal) = Normal::new(0.0, sigma) else { return };
    for p in photo.pixels_mut() {
        p.0[0] = (f64::from(p.0[0]) + normal.sample(rng)).round().clamp(0.0, 255.0) as u8;
    }
}

fn disc(photo: &mut GrayImage, cx: u32, cy: u32, r: u32, shade: u8) {
    let (w, h) = photo.dimensions();
    for y in cy.saturating_sub(r)..(cy + r + 1).min(h) {
        for x in cx.saturating_sub(r)..(cx + r + 1).min(w) {
            let (dx, dy) = (i64::from(x) - i64::from(cx), i64::from(y) - i64::from(cy));
            if dx * dx + dy * dy <= i64::from(r * r) {
                photo.put_pixel(x, y, Luma([shade]));
            }
        }
    }
}

/// The outline of a rectangle `t` pixels thick.
fn rectangle(photo: &mut GrayImage, (x0, y0, w, h): (u32, u32, u32, u32), t: u32, shade: u8) {
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            if x < x0 + t || y < y0 + t || x + t >= x0 + w || y + t >= y0 + h {
                photo.put_pixel(x, y, Luma([shade]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stroke_width_of_a_bar_and_a_ring() {
        let bar = GrayImage::from_fn(100, 100, |x, y| {
            Luma([if (20..80).contains(&x) && (40..47).contains(&y) { 255 } else { 0 }])
        });
        assert!((stroke_width(&bar) - 7.0).abs() < 1.0, "{}", stroke_width(&bar));
        let ring = GrayImage::from_fn(100, 100, |x, y| {
            let r = (f64::from(x) - 50.0).hypot(f64::from(y) - 50.0);
            Luma([if (30.0..34.0).contains(&r) { 255 } else { 0 }])
        });
        assert!((stroke_width(&ring) - 4.0).abs() < 1.0, "{}", stroke_width(&ring));
    }
}
