//! Drawings people hand a digit reader that are not digits — scribbles,
//! smileys, stars, hearts, arrows — as ink (255 = full ink) on a square of
//! [`INK_SIDE`], framed as MNIST frames a digit, drawn with a pen of random
//! width, each a little different every time.
use std::f32::consts::TAU;

use image::{GrayImage, Luma};
use rand::Rng;

use super::fonts::INK_SIDE;

/// A point in the frame: `(0, 0)` its top left, `(1, 1)` its bottom right.
type Point = (f32, f32);

/// A scribble: one smooth stroke that turns at random, 2 to 6 loops' worth.
pub fn scribble(rng: &mut impl Rng) -> GrayImage {
    let steps = rng.gen_range(60..160);
    let (mut x, mut y, mut heading) = (0.5f32, 0.5f32, rng.gen_range(0.0..TAU));
    let mut turn = 0.0f32;
    let mut path = Vec::with_capacity(steps);
    for _ in 0..steps {
        turn = (turn + rng.gen_range(-0.15..0.15)).clamp(-0.45, 0.45);
        heading += turn;
        x += 0.03 * heading.cos();
        y += 0.03 * heading.sin();
        // Kept on the page: the stroke turns back at the frame's edge.
        if !(0.0..=1.0).contains(&x) || !(0.0..=1.0).contains(&y) {
            heading += std::f32::consts::PI;
            x = x.clamp(0.0, 1.0);
            y = y.clamp(0.0, 1.0);
        }
        path.push((x, y));
    }
    drawn(&[path], rng)
}

/// A smiley: a circle, two eyes and a smile.
pub fn smiley(rng: &mut impl Rng) -> GrayImage {
    let eye = rng.gen_range(0.03..0.06);
    let smile = rng.gen_range(0.5..0.9);
    let mut paths = vec![arc((0.5, 0.5), 0.5, 0.5, 0.0, TAU)];
    for x in [0.35, 0.65] {
        paths.push(arc((x, 0.38), eye, eye, 0.0, TAU));
    }
    let half = rng.gen_range(0.7..1.2);
    paths.push(arc(
        (0.5, 0.5),
        0.3,
        0.3 * smile,
        std::f32::consts::FRAC_PI_2 - half,
        std::f32::consts::FRAC_PI_2 + half,
    ));
    drawn(&paths, rng)
}

/// A five- to seven-pointed star, drawn as its outline.
pub fn star(rng: &mut impl Rng) -> GrayImage {
    let points = rng.gen_range(5..=7);
    let inner = rng.gen_range(0.35..0.5);
    let start = rng.gen_range(0.0..TAU);
    let outline: Vec<Point> = (0..=2 * points)
        .map(|k| {
            let r = if k % 2 == 0 { 0.5 } else { 0.5 * inner };
            let a = start + k as f32 * TAU / (2 * points) as f32;
            (0.5 + r * a.cos(), 0.5 + r * a.sin())
        })
        .collect();
    drawn(&[outline], rng)
}

/// A heart, drawn as its outline.
pub fn heart(rng: &mut impl Rng) -> GrayImage {
    let outline: Vec<Point> = (0..=96)
        .map(|k| {
            let t = k as f32 * TAU / 96.0;
            let x = 16.0 * t.sin().powi(3);
            let y = 13.0 * t.cos() - 5.0 * (2.0 * t).cos() - 2.0 * (3.0 * t).cos() - (4.0 * t).cos();
            (0.5 + x / 34.0, 0.45 - y / 34.0)
        })
        .collect();
    drawn(&[outline], rng)
}

/// An arrow: a shaft and a head, pointing anywhere.
pub fn arrow(rng: &mut impl Rng) -> GrayImage {
    let a = rng.gen_range(0.0..TAU);
    let (dx, dy) = (a.cos() * 0.5, a.sin() * 0.5);
    let (tail, tip) = ((0.5 - dx, 0.5 - dy), (0.5 + dx, 0.5 + dy));
    let mut barb = |side: f32| {
        let b = a + std::f32::consts::PI + side * rng.gen_range(0.4..0.7);
        let len = rng.gen_range(0.2..0.35);
        vec![tip, (tip.0 + len * b.cos(), tip.1 + len * b.sin())]
    };
    let (left, right) = (barb(1.0), barb(-1.0));
    drawn(&[vec![tail, tip], left, right], rng)
}

/// Points along an ellipse's arc from angle `from` to `to`.
fn arc(centre: Point, rx: f32, ry: f32, from: f32, to: f32) -> Vec<Point> {
    (0..=64)
        .map(|k| {
            let a = from + (to - from) * k as f32 / 64.0;
            (centre.0 + rx * a.cos(), centre.1 + ry * a.sin())
        })
        .collect()
}

/// `paths` drawn with one pen (3–9 % of the frame wide), scaled into MNIST's
/// 20/28 of the square with the longer side filled, as a digit is framed.
fn drawn(paths: &[Vec<Point>], rng: &mut impl Rng) -> GrayImage {
    let all = paths.iter().flatten();
    let (x0, y0, x1, y1) = all.fold((f32::MAX, f32::MAX, f32::MIN, f32::MIN), |(a, b, c, d), &(x, y)| {
        (a.min(x), b.min(y), c.max(x), d.max(y))
    });
    let frame = INK_SIDE as f32 * 20.0 / 28.0;
    let scale = frame / (x1 - x0).max(y1 - y0).max(1e-3);
    let (ox, oy) = ((INK_SIDE as f32 - (x1 - x0) * scale) / 2.0, (INK_SIDE as f32 - (y1 - y0) * scale) / 2.0);
    let radius = frame * rng.gen_range(0.03..0.09) / 2.0;
    let mut ink = GrayImage::new(INK_SIDE, INK_SIDE);
    for path in paths {
        let to_ink = |&(x, y): &Point| (ox + (x - x0) * scale, oy + (y - y0) * scale);
        for pair in path.windows(2) {
            let (a, b) = (to_ink(&pair[0]), to_ink(&pair[1]));
            let steps = ((b.0 - a.0).hypot(b.1 - a.1) / (radius / 2.0).max(0.5)).ceil().max(1.0) as usize;
            for s in 0..=steps {
                let t = s as f32 / steps as f32;
                pen(&mut ink, a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, radius);
            }
        }
    }
    ink
}

/// A round pen's dab of full ink at `(cx, cy)`.
fn pen(ink: &mut GrayImage, cx: f32, cy: f32, r: f32) {
    let (lo_x, hi_x) = ((cx - r).floor().max(0.0) as u32, ((cx + r).ceil() as u32).min(INK_SIDE - 1));
    let (lo_y, hi_y) = ((cy - r).floor().max(0.0) as u32, ((cy + r).ceil() as u32).min(INK_SIDE - 1));
    for y in lo_y..=hi_y {
        for x in lo_x..=hi_x {
            if (x as f32 - cx).hypot(y as f32 - cy) <= r {
                ink.put_pixel(x, y, Luma([255]));
            }
        }
    }
}
