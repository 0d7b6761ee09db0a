//! Training the shape check ([`crate::photo::shape`]): digits against the
//! things people hand a digit reader that are not digits, all as the
//! geometric steps ([`find_digit`]) make them. Only the tuned fonts and
//! seeds of their own are used, so `cargo xtask pictures` (seeds 1–3, the
//! MNIST test digits, the held-out fonts) reports on pictures it never saw.
use anyhow::{ensure, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use shared::INPUT;

use super::fonts::HandwritingFont;
use super::{nth_digit_picture, nth_font_picture, nth_non_digit_picture, Condition, NonDigit};
use crate::photo::shape::{ShapeCheck, HIDDEN};
use crate::photo::{find_digit, Found};

/// The picture seeds of the training and validation pictures (the benchmark uses 1–3).
const TRAIN_SEED: u64 = 101;
const VALIDATION_SEED: u64 = 102;
/// The share of validation digits the threshold lets fall above it.
const REJECTED_DIGITS: f64 = 0.005;
/// The kinds the check learns to turn away (the others are turned away before it).
pub const LEARNED: [NonDigit; 10] = [
    NonDigit::Capital,
    NonDigit::Small,
    NonDigit::Symbol,
    NonDigit::Scribble,
    NonDigit::Smiley,
    NonDigit::Star,
    NonDigit::Heart,
    NonDigit::Arrow,
    NonDigit::Shadow,
    NonDigit::Noise,
];

/// What training measured on the validation pictures.
pub struct Report {
    pub digits: usize,
    pub positives: usize,
    pub negatives: usize,
    /// Per learned kind: validation pictures that reached the check, and how many it turned away.
    pub kinds: Vec<(NonDigit, usize, usize)>,
}

/// The 28×28 the geometric steps make of each picture they accept.
fn accepted(pictures: impl ParallelIterator<Item = image::GrayImage>) -> Result<Vec<[u8; INPUT]>> {
    let found: Vec<Found> = pictures.map(|p| find_digit(&p)).collect::<Result<_>>()?;
    Ok(found.into_iter().filter_map(|f| if let Found::Digit(d) = f { Some(*d) } else { None }).collect())
}

/// Digit pictures: MNIST training digits `range` under every condition in turn, and `fonts` digits.
fn digit_pictures(
    mnist: &[[u8; INPUT]],
    range: std::ops::Range<usize>,
    fonts: &[HandwritingFont],
    font_digits: usize,
    seed: u64,
) -> Result<Vec<[u8; INPUT]>> {
    let conditions = Condition::ALL.len();
    let mut all =
        accepted(range.into_par_iter().map(|j| nth_digit_picture(&mnist[j], Condition::ALL[j % conditions], j, seed)))?;
    all.extend(accepted(
        (0..font_digits)
            .into_par_iter()
            .map(|i| nth_font_picture(fonts, Condition::ALL[(i / 7) % conditions], i, seed).0),
    )?);
    Ok(all)
}

/// Trains the shape check on `mnist` (the training split) and the tuned `fonts`.
pub fn train(mnist: &[[u8; INPUT]], fonts: &[HandwritingFont]) -> Result<(ShapeCheck, Report)> {
    ensure!(mnist.len() >= 60_000 && !fonts.is_empty(), "the shape check trains on MNIST's 60,000 and the tuned fonts");
    let mut positives: Vec<[u8; INPUT]> = mnist[..40_000].to_vec();
    positives.extend(digit_pictures(mnist, 50_000..56_000, fonts, fonts.len() * 200, TRAIN_SEED)?);
    let mut negatives = Vec::new();
    for kind in LEARNED {
        negatives.extend(accepted(
            (0..1000).into_par_iter().map(|i| nth_non_digit_picture(kind, mnist, fonts, i, TRAIN_SEED)),
        )?);
    }
    let check = fit(&positives, &negatives);

    let validation = digit_pictures(mnist, 56_000..60_000, fonts, fonts.len() * 100, VALIDATION_SEED)?;
    let mut scores: Vec<f32> = validation.par_iter().map(|d| check.score(d)).collect();
    scores.sort_by(f32::total_cmp);
    let at = ((1.0 - REJECTED_DIGITS) * (scores.len() - 1) as f64).round() as usize;
    let check = ShapeCheck { threshold: scores[at], ..check };
    let kinds = LEARNED
        .iter()
        .map(|&kind| {
            let seen = accepted(
                (0..300).into_par_iter().map(|i| nth_non_digit_picture(kind, mnist, fonts, i, VALIDATION_SEED)),
            )?;
            let away = seen.iter().filter(|d| !check.looks_like_a_digit(d)).count();
            Ok((kind, seen.len(), away))
        })
        .collect::<Result<_>>()?;
    let report = Report { digits: validation.len(), positives: positives.len(), negatives: negatives.len(), kinds };
    Ok((check, report))
}

/// Logistic regression through one ReLU layer, Adam, classes weighted equally.
fn fit(positives: &[[u8; INPUT]], negatives: &[[u8; INPUT]]) -> ShapeCheck {
    const EPOCHS: usize = 20;
    const BATCH: usize = 128;
    const RATE: f32 = 1e-3;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let he = Normal::new(0.0, (2.0f32 / 200.0).sqrt()).unwrap_or_else(|_| unreachable!());
    let mut params = vec![0.0f32; INPUT * HIDDEN + 2 * HIDDEN + 1];
    for w in &mut params[..INPUT * HIDDEN] {
        *w = he.sample(&mut rng);
    }
    for w in &mut params[INPUT * HIDDEN + HIDDEN..INPUT * HIDDEN + 2 * HIDDEN] {
        *w = Normal::new(0.0, (1.0 / HIDDEN as f32).sqrt()).map_or(0.0, |n| n.sample(&mut rng));
    }
    let (mut m, mut v) = (vec![0.0f32; params.len()], vec![0.0f32; params.len()]);
    let weight = [0.5 / positives.len() as f32, 0.5 / negatives.len() as f32];
    let mut order: Vec<(bool, usize)> =
        (0..positives.len()).map(|i| (false, i)).chain((0..negatives.len()).map(|i| (true, i))).collect();
    let scale = order.len() as f32 / BATCH as f32;
    let mut step = 0;
    for _ in 0..EPOCHS {
        order.shuffle(&mut rng);
        for batch in order.chunks(BATCH) {
            let mut grad = vec![0.0f32; params.len()];
            for &(negative, i) in batch {
                let image = if negative { &negatives[i] } else { &positives[i] };
                accumulate(&params, image, negative, weight[usize::from(negative)] * scale, &mut grad);
            }
            step += 1;
            let (c1, c2) = (1.0 - 0.9f32.powi(step), 1.0 - 0.999f32.powi(step));
            for (((p, g), m), v) in params.iter_mut().zip(&grad).zip(&mut m).zip(&mut v) {
                *m = 0.9 * *m + 0.1 * g;
                *v = 0.999 * *v + 0.001 * g * g;
                *p -= RATE * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
            }
        }
    }
    let (w1, rest) = params.split_at(INPUT * HIDDEN);
    let (b1, rest) = rest.split_at(HIDDEN);
    let (w2, b2) = rest.split_at(HIDDEN);
    ShapeCheck { w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: b2[0], threshold: 0.0 }
}

/// Adds one example's gradient of the weighted cross-entropy to `grad`.
fn accumulate(params: &[f32], image: &[u8; INPUT], negative: bool, weight: f32, grad: &mut [f32]) {
    let (w1, rest) = params.split_at(INPUT * HIDDEN);
    let (b1, rest) = rest.split_at(HIDDEN);
    let (w2, b2) = rest.split_at(HIDDEN);
    let inked: Vec<(usize, f32)> =
        image.iter().enumerate().filter(|(_, &v)| v != 0).map(|(i, &v)| (i, f32::from(v) / 255.0)).collect();
    let mut hidden: [f32; HIDDEN] = b1.try_into().unwrap_or([0.0; HIDDEN]);
    for &(pixel, x) in &inked {
        for (h, w) in hidden.iter_mut().zip(&w1[pixel * HIDDEN..(pixel + 1) * HIDDEN]) {
            *h += w * x;
        }
    }
    let z = hidden.iter().zip(w2).map(|(h, w)| h.max(0.0) * w).sum::<f32>() + b2[0];
    let p = 1.0 / (1.0 + (-z).exp());
    let dz = weight * (p - f32::from(u8::from(negative)));
    let (g1, rest) = grad.split_at_mut(INPUT * HIDDEN);
    let (gb1, rest) = rest.split_at_mut(HIDDEN);
    let (gw2, gb2) = rest.split_at_mut(HIDDEN);
    gb2[0] += dz;
    let mut dh = [0.0f32; HIDDEN];
    for k in 0..HIDDEN {
        gw2[k] += dz * hidden[k].max(0.0);
        dh[k] = if hidden[k] > 0.0 { dz * w2[k] } else { 0.0 };
        gb1[k] += dh[k];
    }
    for &(pixel, x) in &inked {
        for (g, d) in g1[pixel * HIDDEN..(pixel + 1) * HIDDEN].iter_mut().zip(&dh) {
            *g += d * x;
        }
    }
}
