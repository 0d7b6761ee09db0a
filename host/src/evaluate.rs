//! Accuracy and confusion matrix, using `shared::forward` — the device's function.
use crate::mnist::Dataset;
use shared::{Classifier, OUTPUT};

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

/// Classifies every example.
pub fn evaluate(model: &(impl Classifier + ?Sized), data: &Dataset) -> Evaluation {
    let mut confusion = [[0u32; OUTPUT]; OUTPUT];
    for (image, &label) in data.images.iter().zip(&data.labels) {
        let digit = model.classify(image).digit;
        confusion[usize::from(label)][usize::from(digit)] += 1;
    }
    let correct = (0..OUTPUT).map(|d| confusion[d][d] as usize).sum();
    Evaluation { confusion, total: data.len(), correct }
}

/// Fraction of examples `model` classifies correctly.
pub fn accuracy(model: &(impl Classifier + ?Sized), data: &Dataset) -> f64 {
    evaluate(model, data).accuracy()
}
