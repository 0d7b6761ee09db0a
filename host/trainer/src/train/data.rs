//! The training data as the trainer reads it: the validation split, and each
//! image as the list of its nonzero pixels.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shared::{Weights, INPUT};

use super::config::ConfigError;
use super::first_layer::{self, Nonzero};
use super::pixel_lists;
use crate::dataset::Dataset;

/// Splits `data` with a seeded shuffle into training indices and a
/// validation set (the training images are not copied).
pub fn split(data: &Dataset, validation: usize, seed: u64) -> Result<(Vec<usize>, Dataset), ConfigError> {
    if validation >= data.len() {
        return Err(ConfigError::NoTrainingImages { validation, total: data.len() });
    }
    let mut order: Vec<usize> = (0..data.len()).collect();
    // A different stream from the one that draws weights, so both stay independent.
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    let train = order.split_off(validation);
    Ok((train, data.select(&order)))
}

/// Training images as lists of their nonzero pixels (about 150 of 784), built
/// once per run so that every pass touches only what contributes. Each list
/// is ascending, and where its high rows (`SPLIT_ROW` on) start is kept too.
pub(super) struct SparseImages {
    pixels: Vec<Nonzero>,
    /// Where each image's list is in `pixels`.
    spans: Vec<Span>,
}

/// An image's list is `pixels[start..end]`, its high rows from `split` on.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: usize,
    split: usize,
    end: usize,
}

impl SparseImages {
    /// Builds the lists on all the pool's threads: one pass counts each
    /// image's nonzero pixels, a second writes every image into its own
    /// place in one shared vector.
    pub(super) fn new(data: &Dataset, indices: &[usize]) -> Self {
        Self::shifted(data, indices, &[])
    }

    /// As `new`, with image `k` moved by `shifts[k]` (columns, rows) pixels,
    /// ink moved off the edge dropped; no shift where `shifts` is short.
    pub(super) fn shifted(data: &Dataset, indices: &[usize], shifts: &[(i8, i8)]) -> Self {
        use rayon::prelude::*;
        let image = |k: usize| -> std::borrow::Cow<'_, [u8; INPUT]> {
            let original = &data.images[indices[k]];
            match shifts.get(k) {
                Some(&(dx, dy)) if (dx, dy) != (0, 0) => std::borrow::Cow::Owned(pixel_lists::shift(original, dx, dy)),
                _ => std::borrow::Cow::Borrowed(original),
            }
        };
        let counts: Vec<usize> =
            (0..indices.len()).into_par_iter().map(|k| pixel_lists::count_nonzero_pixels(&image(k))).collect();
        let mut pixels = vec![Nonzero::default(); counts.iter().sum()];
        // One piece of `pixels` per image, and where it starts.
        let starts: Vec<usize> = counts
            .iter()
            .scan(0, |end, &n| {
                *end += n;
                Some(*end - n)
            })
            .collect();
        let spans = cut_into(&mut pixels, &counts)
            .into_par_iter()
            .zip(starts)
            .enumerate()
            .map(|(k, (piece, start))| {
                pixel_lists::write_nonzero_pixels(&image(k), piece);
                let split = start + first_layer::pixels_in(piece, 0, first_layer::SPLIT_ROW).len();
                Span { start, split, end: start + piece.len() }
            })
            .collect();
        SparseImages { pixels, spans }
    }

    pub(super) fn image(&self, i: usize) -> &[Nonzero] {
        let span = self.spans[i];
        &self.pixels[span.start..span.end]
    }

    /// Image `i`'s pixels in the rows from `first` on (0 or `SPLIT_ROW`).
    pub(super) fn rows_from(&self, i: usize, first: usize) -> &[Nonzero] {
        let span = self.spans[i];
        if first == 0 {
            &self.pixels[span.start..span.split]
        } else {
            &self.pixels[span.split..span.end]
        }
    }
}

/// `buffer` cut into consecutive pieces of `sizes` (which must not add up to
/// more than its length), so that each piece can be filled on its own thread.
fn cut_into<'a, T>(mut buffer: &'a mut [T], sizes: &[usize]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let (piece, rest) = buffer.split_at_mut(size);
        pieces.push(piece);
        buffer = rest;
    }
    pieces
}

/// The fraction of `images` that `weights` classifies as `labels` says:
/// `shared`'s classifier fed each image's nonzero pixels, listed once per run,
/// instead of all 784 bytes at every evaluation. The same class for every
/// image as `evaluate::accuracy` gives (see `Weights::predict_class_nonzero`).
pub(super) fn sparse_accuracy(weights: &Weights, images: &SparseImages, labels: &[u8]) -> f64 {
    use rayon::prelude::*;
    let nonzero = |i: usize| images.image(i).iter().map(|p| (usize::from(p.index), p.value));
    let correct = (0..labels.len())
        .into_par_iter()
        .with_min_len(500)
        .filter(|&i| weights.predict_class_nonzero(nonzero(i)) == labels[i])
        .count();
    correct as f64 / labels.len().max(1) as f64
}
