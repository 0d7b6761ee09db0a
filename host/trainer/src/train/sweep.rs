//! Training once per learning rate and keeping the model that does best on
//! validation: how the reference method (`--preset seed`) picks its rate.
use super::{train, Config, EpochReport, TrainError, Trained};
use crate::dataset::Dataset;

/// What a sweep reports as it goes.
pub enum SweepEvent<'a> {
    /// Training with this learning rate begins.
    Starting {
        /// The rate.
        rate: f32,
    },
    /// An epoch (or part of one) is done.
    Epoch(&'a EpochReport),
    /// Training with this learning rate is done.
    Finished {
        /// The rate.
        rate: f32,
        /// Its model's validation accuracy, if there is a validation split.
        validation_accuracy: Option<f64>,
    },
}

/// The sweep's outcome.
pub struct Sweep {
    /// The learning rate chosen.
    pub rate: f32,
    /// Its model.
    pub trained: Trained,
    /// Every rate tried with its validation accuracy.
    pub tried: Vec<(f32, Option<f64>)>,
    /// Training time over all rates, evaluation and loading left out.
    pub train_seconds: f64,
}

/// Trains `config` once per rate of `rates` (just `config.learning_rate` if
/// empty) and keeps the best on `validation`. Choosing among several rates
/// needs a validation split.
pub fn sweep(
    config: &Config,
    rates: &[f32],
    data: &Dataset,
    train_indices: &[usize],
    validation: &Dataset,
    monitor: Option<&Dataset>,
    on_event: &mut dyn FnMut(SweepEvent<'_>),
) -> Result<Sweep, TrainError> {
    let rates = if rates.is_empty() { std::slice::from_ref(&config.learning_rate) } else { rates };
    let mut best: Option<(f32, Trained)> = None;
    let (mut tried, mut train_seconds) = (Vec::new(), 0.0);
    for &rate in rates {
        on_event(SweepEvent::Starting { rate });
        let cfg = Config { learning_rate: rate, ..config.clone() };
        let trained = train(&cfg, data, train_indices, validation, monitor, &mut |r| on_event(SweepEvent::Epoch(r)))?;
        train_seconds += trained.history.last().map_or(0.0, |r| r.train_seconds);
        on_event(SweepEvent::Finished { rate, validation_accuracy: trained.validation_accuracy });
        tried.push((rate, trained.validation_accuracy));
        if best.as_ref().is_none_or(|(_, b)| trained.validation_accuracy > b.validation_accuracy) {
            best = Some((rate, trained));
        }
    }
    // `rates` is never empty, so neither is `best`.
    let (rate, trained) = best.expect("at least one rate");
    Ok(Sweep { rate, trained, tried, train_seconds })
}
