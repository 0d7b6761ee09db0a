//! The last test of "not a digit": does the 28×28 shape the steps before
//! made look like a digit at all? A letter, a symbol or a drawing passes
//! every geometric test (one shape, digit-sized, standing out of the paper)
//! and the 784→10→10 network, which only knows ten answers, still gives it a
//! digit, often at p > 0.99. This is a second, host-only network,
//! 784→[`HIDDEN`]→1, trained on digits against letters, symbols and drawings
//! (`cargo xtask shape-check`, `pictures::synthetic::shape_training`), whose
//! threshold was chosen on validation pictures so that 0.5 % of real digits
//! fall below it. Its weights are `models/shape-check.bin`.
use std::sync::OnceLock;

use anyhow::{bail, ensure, Result};
use shared::INPUT;

/// Hidden units of the shape check.
pub const HIDDEN: usize = 64;
/// The file's first bytes.
const MAGIC: &[u8; 8] = b"TMSHAPE1";
/// The committed shape check, compiled in.
const COMMITTED: &[u8] = include_bytes!("../../../../models/shape-check.bin");
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A trained shape check: a one-hidden-layer network scoring "not a digit".
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeCheck {
    /// Input-major first layer: `w1[pixel * HIDDEN + unit]`.
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    pub w2: Vec<f32>,
    pub b2: f32,
    /// Scores above it are "not a digit".
    pub threshold: f32,
}

impl ShapeCheck {
    /// How unlike a digit `input` is (a logit: above [`ShapeCheck::threshold`], not a digit).
    pub fn score(&self, input: &[u8; INPUT]) -> f32 {
        let mut hidden: [f32; HIDDEN] = self.b1[..].try_into().unwrap_or([0.0; HIDDEN]);
        for (pixel, &value) in input.iter().enumerate() {
            if value != 0 {
                let x = f32::from(value) / 255.0;
                for (h, w) in hidden.iter_mut().zip(&self.w1[pixel * HIDDEN..(pixel + 1) * HIDDEN]) {
                    *h += w * x;
                }
            }
        }
        hidden.iter().zip(&self.w2).map(|(h, w)| h.max(0.0) * w).sum::<f32>() + self.b2
    }

    /// Whether `input` passes: its score at most the threshold.
    pub fn looks_like_a_digit(&self, input: &[u8; INPUT]) -> bool {
        self.score(input) <= self.threshold
    }

    /// The file: magic, then little-endian f32s (w1, b1, w2, b2, threshold), then a CRC-32 of all before it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        for v in self.w1.iter().chain(&self.b1).chain(&self.w2).chain([&self.b2, &self.threshold]) {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let crc = CRC.checksum(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Reads [`ShapeCheck::to_bytes`], checking its length, magic and CRC.
    pub fn from_bytes(bytes: &[u8]) -> Result<ShapeCheck> {
        let floats = INPUT * HIDDEN + 2 * HIDDEN + 2;
        ensure!(
            bytes.len() == 8 + 4 * floats + 4,
            "a shape check is {} bytes, not {}",
            8 + 4 * floats + 4,
            bytes.len()
        );
        ensure!(&bytes[..8] == MAGIC, "not a shape check (no {} at its start)", String::from_utf8_lossy(MAGIC));
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if CRC.checksum(body).to_le_bytes() != crc {
            bail!("the shape check's CRC-32 does not match its bytes");
        }
        let v: Vec<f32> = body[8..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let (w1, rest) = v.split_at(INPUT * HIDDEN);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, rest) = rest.split_at(HIDDEN);
        Ok(ShapeCheck { w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: rest[0], threshold: rest[1] })
    }
}

/// The committed shape check (`models/shape-check.bin`), read once.
pub fn committed() -> &'static ShapeCheck {
    static CHECK: OnceLock<ShapeCheck> = OnceLock::new();
    // The file is compiled in and its reading tested (`the_committed_shape_check_reads`).
    CHECK.get_or_init(|| ShapeCheck::from_bytes(COMMITTED).expect("models/shape-check.bin is a shape check"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_shape_check_reads_and_round_trips() {
        let check = ShapeCheck::from_bytes(COMMITTED).unwrap();
        assert_eq!(ShapeCheck::from_bytes(&check.to_bytes()).unwrap(), check);
        let mut corrupt = COMMITTED.to_vec();
        corrupt[100] ^= 1;
        assert!(format!("{:#}", ShapeCheck::from_bytes(&corrupt).unwrap_err()).contains("CRC"));
        assert!(ShapeCheck::from_bytes(&COMMITTED[..50]).is_err());
    }
}
