//! Host/device agreement: the device's answer must equal `shared::forward`'s, bit for bit.
use std::time::Instant;

use anyhow::Result;
use shared::{Classifier, Prediction};

use crate::device::Device;
use trainer::mnist::Pixels;

/// Distance between two floats in units in the last place.
pub fn ulps(a: f32, b: f32) -> u64 {
    // Map the sign-magnitude bit patterns onto a monotonic integer line.
    let key = |x: f32| {
        let bits = x.to_bits() as i64;
        if bits & 0x8000_0000 != 0 {
            0x8000_0000 - bits
        } else {
            bits
        }
    };
    key(a).abs_diff(key(b))
}

/// The first image on which host and device differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Position in the compared set.
    pub index: usize,
    /// What the host says.
    pub host: Prediction,
    /// What the device says.
    pub device: Prediction,
    /// Largest probability difference, in ULPs.
    pub max_ulps: u64,
}

/// Outcome of a comparison run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Images sent.
    pub compared: usize,
    /// Images where digit and every probability bit pattern agree.
    pub bit_exact: usize,
    /// Images where the device's digit equals the label.
    pub device_correct: usize,
    /// The first disagreement, if any.
    pub first_mismatch: Option<Mismatch>,
    /// Largest ULP difference seen over all images.
    pub max_ulps: u64,
    /// Wall time of the exchange.
    pub seconds: f64,
}

/// Compares one answer with the host's.
pub fn bit_exact(host: &Prediction, device: &Prediction) -> bool {
    host.digit == device.digit
        && host.probabilities.iter().zip(&device.probabilities).all(|(a, b)| a.to_bits() == b.to_bits())
}

/// Sends every image, compares each answer with the host's `model.classify(image)`.
pub fn compare(
    device: &mut Device,
    model: &(impl Classifier + ?Sized),
    images: &[Pixels],
    labels: Option<&[u8]>,
    window: usize,
    mut on_result: impl FnMut(usize, &Prediction, &Prediction),
) -> Result<Report> {
    let started = Instant::now();
    let mut report =
        Report { compared: 0, bit_exact: 0, device_correct: 0, first_mismatch: None, max_ulps: 0, seconds: 0.0 };
    device.classify_all(images, window, |i, answer| {
        let host = model.classify(&images[i]);
        on_result(i, &host, &answer);
        report.compared += 1;
        let max_ulps =
            host.probabilities.iter().zip(&answer.probabilities).map(|(&a, &b)| ulps(a, b)).max().unwrap_or(0);
        report.max_ulps = report.max_ulps.max(max_ulps);
        if bit_exact(&host, &answer) {
            report.bit_exact += 1;
        } else if report.first_mismatch.is_none() {
            report.first_mismatch = Some(Mismatch { index: i, host, device: answer, max_ulps });
        }
        if labels.is_some_and(|l| l[i] == answer.digit) {
            report.device_correct += 1;
        }
        Ok(())
    })?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulp_distance() {
        assert_eq!(ulps(1.0, 1.0), 0);
        assert_eq!(ulps(1.0, f32::from_bits(1.0f32.to_bits() + 3)), 3);
        assert_eq!(ulps(0.0, -0.0), 0);
        assert_eq!(ulps(f32::from_bits(1), -f32::from_bits(1)), 2);
    }
}
