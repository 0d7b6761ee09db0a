//! Which ink is the digit: ruled lines and frames taken out, then the main
//! connected component and the pieces near it (a stroke broken by a line);
//! specks elsewhere drop out. Pictures that hold no plausible single digit
//! are answered with why.
use image::{GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};

/// Why a picture is not read as a digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotADigit {
    /// No ink at all: a blank or flat picture.
    Blank,
    /// The ink is scattered (noise, texture) rather than one shape.
    Scattered,
    /// The largest shape is a dot, far smaller than a digit in its picture.
    TooSmall,
    /// The shape is much wider than tall: a dash or a line.
    Line,
    /// Two or more digit-sized shapes side by side.
    SeveralShapes,
    /// One shape, but not like any digit: a letter, a symbol, a drawing ([`super::shape`]).
    UnlikeADigit,
}

impl NotADigit {
    /// A short machine-readable name (`--json`).
    pub fn name(self) -> &'static str {
        match self {
            NotADigit::Blank => "blank",
            NotADigit::Scattered => "scattered",
            NotADigit::TooSmall => "too-small",
            NotADigit::Line => "line",
            NotADigit::SeveralShapes => "several-shapes",
            NotADigit::UnlikeADigit => "unlike-a-digit",
        }
    }
}

impl std::fmt::Display for NotADigit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotADigit::Blank => "the picture is blank",
            NotADigit::Scattered => "the ink is scattered over the picture (noise?), not one shape",
            NotADigit::TooSmall => "the only shape is a dot, too small to be a digit",
            NotADigit::Line => "the shape is a dash or a line, much wider than any digit",
            NotADigit::SeveralShapes => "there are several shapes side by side (more than one digit?)",
            NotADigit::UnlikeADigit => "the shape does not look like a digit (a letter, a symbol or a drawing?)",
        })
    }
}

/// A ruled line at most this thick (working pixels) is bridged where a stroke crosses it.
const MAX_LINE_WIDTH: i64 = 8;

/// A run of ink this long (as a share of the picture's side) is a ruled line or a frame.
const LINE_SHARE: f64 = 0.9;
/// Ink covering more of the picture than this is not one drawn digit. A
/// digit scanned at 8 px, blown up, is that fat: inside the second try's
/// margin its ink covers 36–40 % of the picture (0.35 refused a fifth of them;
/// on validation digits 0.40 read the most, 0.45 let worse first tries through).
pub const MAX_INK_SHARE: f64 = 0.40;
/// [`MAX_INK_SHARE`] in the second try, inside a margin of paper: a font's
/// thin strokes scanned at 8 px blur into a narrow picture's whole width and
/// cover 40–49 % of it. Noise and blank paper are still refused (validation:
/// the same share of every non-digit kind turned away at 0.40 and 0.50).
pub const MAX_INK_SHARE_FRAMED: f64 = 0.50;
/// The digit's longer side is at least this share of the picture's longer side.
const MIN_SIDE_SHARE: f64 = 0.08;
/// Wider than this many times its height: a dash, not a digit (MNIST's widest test digit is 1.8).
const MAX_ASPECT: f64 = 2.5;

/// `(x, y, width, height)` of a box.
pub type Bounds = (u32, u32, u32, u32);

/// A connected shape: its pixel count and bounding box (inclusive).
#[derive(Clone, Copy, Debug)]
struct Shape {
    label: u32,
    area: u32,
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl Shape {
    fn width(&self) -> u32 {
        self.x1 - self.x0 + 1
    }

    fn height(&self) -> u32 {
        self.y1 - self.y0 + 1
    }

    fn contains(&self, other: &Shape) -> bool {
        self.x0 < other.x0 && self.y0 < other.y0 && self.x1 > other.x1 && self.y1 > other.y1
    }

    /// The gap between the two boxes, the larger of its horizontal and vertical parts (0 if they overlap).
    fn gap(&self, other: &Shape) -> u32 {
        let dx = other.x0.saturating_sub(self.x1).max(self.x0.saturating_sub(other.x1));
        let dy = other.y0.saturating_sub(self.y1).max(self.y0.saturating_sub(other.y1));
        dx.max(dy)
    }

    /// The box around both.
    fn union(&self, other: &Shape) -> Shape {
        Shape {
            label: self.label,
            area: self.area + other.area,
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// Side by side: overlapping in height by half the smaller one, apart in width.
    fn beside(&self, other: &Shape) -> bool {
        let overlap = self.y1.min(other.y1) as i64 - self.y0.max(other.y0) as i64 + 1;
        let apart = self.x1 < other.x0 || other.x1 < self.x0;
        apart && overlap * 2 >= i64::from(self.height().min(other.height()))
    }
}

/// The digit's ink alone (everything else cleared) and its bounding box, or
/// why there is none; ink over `max_share` of the picture is scattered.
pub fn isolate(mask: &GrayImage, max_share: f64) -> Result<(GrayImage, Bounds), NotADigit> {
    let (w, h) = mask.dimensions();
    let mut mask = mask.clone();
    // Frames first: a box nearly as wide as the picture would otherwise lose its
    // long sides to the line removal and leave two bars beside the digit.
    remove_frames(&mut mask);
    remove_lines(&mut mask);
    let inked = mask.pixels().filter(|p| p.0[0] > 0).count();
    if inked == 0 {
        return Err(NotADigit::Blank);
    }
    if inked as f64 > max_share * f64::from(w) * f64::from(h) {
        return Err(NotADigit::Scattered);
    }
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    let mut shapes = shapes(&labels);
    shapes.sort_by_key(|s| std::cmp::Reverse(s.area));
    let Some(&main) = shapes.first() else { return Err(NotADigit::Blank) };
    let big = |s: &Shape| s.area * 8 >= main.area && s.height() * 2 >= main.height();
    if shapes.iter().skip(1).any(|s| big(s) && main.beside(s)) {
        return Err(NotADigit::SeveralShapes);
    }
    // Pieces of the same digit (a stroke cut by a ruled line, a pen lifted): not specks, and
    // within a fifth of the digit's size of what has been gathered so far.
    let mut gathered = main;
    let mut digit = vec![main.label];
    loop {
        let margin = gathered.width().max(gathered.height()) / 5;
        let next = shapes.iter().find(|s| {
            !digit.contains(&s.label) && s.area * 30 >= main.area && gathered.gap(s) <= margin && !main.beside(s)
        });
        let Some(piece) = next else { break };
        gathered = gathered.union(piece);
        digit.push(piece.label);
    }
    let (x0, y0, x1, y1) = (gathered.x0, gathered.y0, gathered.x1, gathered.y1);
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    if f64::from(bw.max(bh)) < MIN_SIDE_SHARE * f64::from(w.max(h)) {
        return Err(if shapes.len() > 20 { NotADigit::Scattered } else { NotADigit::TooSmall });
    }
    if f64::from(bw) > MAX_ASPECT * f64::from(bh) {
        return Err(NotADigit::Line);
    }
    // Many shapes as large as the digit's own pieces: noise rather than a digit on paper.
    let elsewhere: u32 = shapes.iter().filter(|s| !digit.contains(&s.label)).map(|s| s.area).sum();
    if elsewhere > gathered.area {
        return Err(NotADigit::Scattered);
    }
    let keep = digit;
    let only = GrayImage::from_fn(w, h, |x, y| {
        let label = labels.get_pixel(x, y).0[0];
        Luma([if label != 0 && keep.contains(&label) { 255 } else { 0 }])
    });
    Ok((only, (x0, y0, bw, bh)))
}

/// Clears every shape that holds another of at least a tenth of its size
/// inside its box: a box drawn around the digit, a frame around the picture.
fn remove_frames(mask: &mut GrayImage) {
    let labels = connected_components(&*mask, Connectivity::Eight, Luma([0u8]));
    let shapes = shapes(&labels);
    let framed: Vec<u32> = shapes
        .iter()
        .filter(|s| shapes.iter().any(|t| s.contains(t) && t.area * 10 >= s.area))
        .map(|s| s.label)
        .collect();
    if framed.is_empty() {
        return;
    }
    for (p, label) in mask.pixels_mut().zip(labels.pixels()) {
        if framed.contains(&label.0[0]) {
            p.0[0] = 0;
        }
    }
}

/// Clears rows and columns of ink that run across nearly the whole picture:
/// ruled lines, the edge of a page, a frame around the picture; except where a
/// stroke crosses them, so that the line does not cut the digit in two.
fn remove_lines(mask: &mut GrayImage) {
    let (w, h) = mask.dimensions();
    let long = |side: u32| (LINE_SHARE * f64::from(side)).ceil() as u32;
    let mut clear = Vec::new();
    for (outer, inner, horizontal) in [(h, w, true), (w, h, false)] {
        for a in 0..outer {
            let mut run = 0;
            for b in 0..=inner {
                let (x, y) = if horizontal { (b, a) } else { (a, b) };
                if b < inner && mask.get_pixel(x, y).0[0] > 0 {
                    run += 1;
                    continue;
                }
                if run >= long(inner) {
                    clear.extend((b - run..b).map(|c| if horizontal { (c, a) } else { (a, c) }));
                }
                run = 0;
            }
        }
    }
    let original = mask.clone();
    for &(x, y) in &clear {
        mask.put_pixel(x, y, Luma([0]));
    }
    // Where a stroke crosses a line, ink is on both sides of it: the line's pixels there are the stroke's.
    let at = |image: &GrayImage, x: i64, y: i64| {
        let (x, y) = (u32::try_from(x).ok(), u32::try_from(y).ok());
        x.zip(y).and_then(|(x, y)| image.get_pixel_checked(x, y)).map_or(0, |p| p.0[0])
    };
    let cleared = |x, y| at(mask, x, y) == 0 && at(&original, x, y) > 0;
    let ink = |x, y| at(mask, x, y) > 0;
    let crossed: Vec<(u32, u32)> = clear
        .iter()
        .filter(|&&(x, y)| {
            let (x, y) = (i64::from(x), i64::from(y));
            [(0, 1), (1, 0)].iter().any(|&(dx, dy)| {
                let beyond = |sign: i64| {
                    (1..=MAX_LINE_WIDTH).map(|k| (x + sign * k * dx, y + sign * k * dy)).find(|&(a, b)| !cleared(a, b))
                };
                matches!((beyond(-1), beyond(1)), (Some(a), Some(b)) if ink(a.0, a.1) && ink(b.0, b.1))
            })
        })
        .copied()
        .collect();
    for (x, y) in crossed {
        mask.put_pixel(x, y, Luma([255]));
    }
}

/// Area and bounding box of every labelled shape.
fn shapes(labels: &image::ImageBuffer<Luma<u32>, Vec<u32>>) -> Vec<Shape> {
    let mut by_label: std::collections::BTreeMap<u32, Shape> = std::collections::BTreeMap::new();
    for (x, y, p) in labels.enumerate_pixels() {
        let label = p.0[0];
        if label == 0 {
            continue;
        }
        let s = by_label.entry(label).or_insert(Shape { label, area: 0, x0: x, y0: y, x1: x, y1: y });
        s.area += 1;
        s.x0 = s.x0.min(x);
        s.y0 = s.y0.min(y);
        s.x1 = s.x1.max(x);
        s.y1 = s.y1.max(y);
    }
    by_label.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas() -> GrayImage {
        GrayImage::new(200, 200)
    }

    fn fill(mask: &mut GrayImage, x: std::ops::Range<u32>, y: std::ops::Range<u32>) {
        for yy in y {
            for xx in x.clone() {
                mask.put_pixel(xx, yy, Luma([255]));
            }
        }
    }

    /// A "1": a bar 12 wide and 100 tall in the middle.
    fn one() -> GrayImage {
        let mut m = canvas();
        fill(&mut m, 94..106, 50..150);
        m
    }

    #[test]
    fn a_digit_alone_is_kept_whole() {
        let (only, bbox) = isolate(&one(), MAX_INK_SHARE).unwrap();
        assert_eq!(bbox, (94, 50, 12, 100));
        assert_eq!(only, one());
    }

    #[test]
    fn specks_lines_and_frames_drop_out() {
        let mut m = one();
        fill(&mut m, 5..9, 5..9); // a speck in a corner
        fill(&mut m, 0..200, 170..173); // a ruled line
        fill(&mut m, 0..200, 0..3); // a frame's edges
        fill(&mut m, 0..3, 0..200);
        let (only, bbox) = isolate(&m, MAX_INK_SHARE).unwrap();
        assert_eq!(bbox, (94, 50, 12, 100));
        assert_eq!(only, one());
    }

    #[test]
    fn a_box_drawn_around_the_digit_drops_out() {
        let mut m = one();
        for (x, y) in [(30..170, 30..33), (30..170, 167..170), (30..33, 30..170), (167..170, 30..170)] {
            fill(&mut m, x, y);
        }
        assert_eq!(isolate(&m, MAX_INK_SHARE).unwrap().1, (94, 50, 12, 100));
    }

    #[test]
    fn a_line_crossing_the_digit_leaves_the_digit() {
        let mut m = one();
        fill(&mut m, 0..200, 99..102);
        let (digit, bbox) = isolate(&m, MAX_INK_SHARE).unwrap();
        assert_eq!(bbox, (94, 50, 12, 100), "both halves kept");
        let crossing = (99..102).all(|y| (94..106).all(|x| digit.get_pixel(x, y).0[0] > 0));
        assert!(crossing, "the stroke is whole where the line crossed it");
        assert!((0..94).chain(106..200).all(|x| digit.get_pixel(x, 100).0[0] == 0), "the line is gone");
    }

    #[test]
    fn what_is_not_a_digit_says_why() {
        assert_eq!(isolate(&canvas(), MAX_INK_SHARE).unwrap_err(), NotADigit::Blank);
        let mut dot = canvas();
        fill(&mut dot, 100..106, 100..106);
        assert_eq!(isolate(&dot, MAX_INK_SHARE).unwrap_err(), NotADigit::TooSmall);
        let mut dash = canvas();
        fill(&mut dash, 40..160, 95..105);
        assert_eq!(isolate(&dash, MAX_INK_SHARE).unwrap_err(), NotADigit::Line);
        let mut two = canvas();
        fill(&mut two, 40..52, 50..150);
        fill(&mut two, 140..152, 50..150);
        assert_eq!(isolate(&two, MAX_INK_SHARE).unwrap_err(), NotADigit::SeveralShapes);
        let checker = GrayImage::from_fn(200, 200, |x, y| Luma([if (x / 2 + y / 2) % 2 == 0 { 255 } else { 0 }]));
        assert_eq!(isolate(&checker, MAX_INK_SHARE).unwrap_err(), NotADigit::Scattered);
    }
}
