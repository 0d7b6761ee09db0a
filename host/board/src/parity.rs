//! Host/device agreement: the device's answer must equal `shared::forward`'s, bit for bit.
use std::time::Instant;

use anyhow::{bail, Result};
use shared::wire::protocol::{DeviceInfo, PROTOCOL_VERSION};
use shared::{Classifier, Prediction};

use crate::device::{Device, Endpoint};
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

impl Report {
    /// The device's accuracy on the labelled images, in percent.
    pub fn device_accuracy(&self) -> f64 {
        self.device_correct as f64 / self.compared.max(1) as f64 * 100.0
    }

    /// `N images in S s (R images/s), B bit-exact, max difference U ULP`.
    pub fn summary(&self) -> String {
        format!(
            "{} images in {:.2} s ({:.0} images/s), {} bit-exact, max difference {} ULP",
            self.compared,
            self.seconds,
            self.compared as f64 / self.seconds.max(1e-9),
            self.bit_exact,
            self.max_ulps
        )
    }

    /// The verdict every parity run ends with: `parity BOARD: B/N bit-exact`.
    pub fn verdict(&self, board: &str) -> String {
        format!("parity {board}: {}/{} bit-exact", self.bit_exact, self.compared)
    }

    /// An error naming how many images differ and the first of them (`name`
    /// gives its position's name, `class` a digit's), or `Ok` if none does.
    pub fn ensure_bit_exact(&self, name: impl Fn(usize) -> String, class: impl Fn(u8) -> String) -> Result<()> {
        if let Some(m) = &self.first_mismatch {
            bail!(
                "host and device disagree on {} images; first at {}: host {} p={:?}, device {} p={:?} ({} ULP apart)",
                self.compared - self.bit_exact,
                name(m.index),
                class(m.host.digit),
                m.host.probabilities,
                class(m.device.digit),
                m.device.probabilities,
                m.max_ulps
            );
        }
        Ok(())
    }
}

/// Refuses a device that cannot agree with the host: another protocol,
/// another board than the emulator booted, another model (`name` and
/// `checksum`: the host's, as messages name it and as its file's CRC).
pub fn check_device(endpoint: &Endpoint, info: &DeviceInfo, name: &str, checksum: u32) -> Result<()> {
    if info.protocol_version != PROTOCOL_VERSION {
        bail!(
            "the device speaks protocol version {}, this tiny-mnist speaks {PROTOCOL_VERSION}; \
             build the firmware from the same checkout as the host",
            info.protocol_version
        );
    }
    if let Endpoint::Emulated(board) = endpoint {
        if info.board.as_str() != board.name {
            bail!(
                "the firmware says it is for {}, not {}; build it with `cargo xtask firmware --board {}`",
                info.board,
                board.name,
                board.name
            );
        }
    }
    if info.model_checksum != checksum {
        bail!(
            "the device runs another model (crc {:08x}) than the host's {name} (crc {:08x}), so they cannot \
             agree; pass the --model the firmware embeds, or embed this one: `tiny-mnist export -m <file>`, \
             then `cargo xtask firmware --board <board>`",
            info.model_checksum,
            checksum
        );
    }
    Ok(())
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

    fn info(protocol_version: u16, board: &str, model_checksum: u32) -> DeviceInfo {
        DeviceInfo { protocol_version, format_version: 1, model_checksum, board: board.try_into().unwrap() }
    }

    /// A device that cannot agree with the host is refused before any image, saying why.
    #[test]
    fn protocol_board_and_model_are_checked() {
        let model = trainer::model_file::default_model().unwrap();
        let lm3s = Endpoint::parse("emu:lm3s6965evb").unwrap();
        let check = |i: &DeviceInfo| check_device(&lm3s, i, "m", model.checksum);
        let ok = info(PROTOCOL_VERSION, "lm3s6965evb", model.checksum);
        assert!(check(&ok).is_ok());
        let err = |i: &DeviceInfo| check(i).unwrap_err().to_string();
        assert!(err(&info(PROTOCOL_VERSION + 1, "lm3s6965evb", model.checksum)).contains("speaks protocol version 2"));
        assert!(err(&info(PROTOCOL_VERSION, "mps2-an386", model.checksum)).contains("says it is for mps2-an386"));
        assert!(err(&info(PROTOCOL_VERSION, "lm3s6965evb", 7)).contains("runs another model (crc 00000007)"));
    }

    #[test]
    fn ulp_distance() {
        assert_eq!(ulps(1.0, 1.0), 0);
        assert_eq!(ulps(1.0, f32::from_bits(1.0f32.to_bits() + 3)), 3);
        assert_eq!(ulps(0.0, -0.0), 0);
        assert_eq!(ulps(f32::from_bits(1), -f32::from_bits(1)), 2);
    }
}
