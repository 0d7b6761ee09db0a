//! Accuracy and confusion matrix, using `shared::forward` — the device's function.
use crate::mnist::Dataset;
use rayon::prelude::*;
use shared::{Classifier, INPUT, OUTPUT};

/// How a model did on a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// `confusion[true][predicted]` counts.
    pub confusion: [[u32; OUTPUT]; OUTPUT],
    /// Examples evaluated.
    pub total: usize,
    /// Examples classified correctly.
    pub correct: usize,
}

impl Evaluation {
    /// Fraction correct, 0–1.
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// Classifies every example, in chunks on all cores (counting does not
/// depend on the order, so the result is the same on any machine).
pub fn evaluate(model: &(impl Classifier + Sync + ?Sized), data: &Dataset) -> Evaluation {
    let count = |(images, labels): (&[[u8; INPUT]], &[u8])| {
        let mut confusion = [[0u32; OUTPUT]; OUTPUT];
        for (image, &label) in images.iter().zip(labels) {
            let digit = model.predict_class(image);
            confusion[usize::from(label)][usize::from(digit)] += 1;
        }
        confusion
    };
    let add = |mut a: [[u32; OUTPUT]; OUTPUT], b: [[u32; OUTPUT]; OUTPUT]| {
        a.iter_mut().flatten().zip(b.iter().flatten()).for_each(|(a, b)| *a += b);
        a
    };
    const CHUNK: usize = 1_000;
    let confusion = data
        .images
        .par_chunks(CHUNK)
        .zip(data.labels.par_chunks(CHUNK))
        .map(count)
        .reduce(|| [[0u32; OUTPUT]; OUTPUT], add);
    let correct = (0..OUTPUT).map(|d| confusion[d][d] as usize).sum();
    Evaluation { confusion, total: data.len(), correct }
}

/// Fraction of examples `model` classifies correctly.
pub fn accuracy(model: &(impl Classifier + Sync + ?Sized), data: &Dataset) -> f64 {
    evaluate(model, data).accuracy()
}
