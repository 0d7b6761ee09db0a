//! The int8 weight file (`TNYMNSQ8`): the f32 file's header and checksum
//! around an i8/i32 body ([`crate::network::int8`]'s parameters).
use crate::format::weights_file::{
    check_container, container_checksum, container_info, encode_container, BodyReader, FormatError, ModelInfo,
    CHECKSUM_LEN, HEADER_LEN,
};
use crate::network::int8::{QuantizedWeights, B1_LIMIT};
use crate::{HIDDEN, INPUT, OUTPUT};

/// First bytes of an int8 weight file.
pub const MAGIC: [u8; 8] = *b"TNYMNSQ8";
/// Size of the int8 body: i8 weights, i32 biases, the f32 output scale.
pub const BODY_LEN: usize = INPUT * HIDDEN + HIDDEN * 4 + OUTPUT * HIDDEN + OUTPUT * 4 + 4;
/// Size of a whole int8 weight file.
pub const FILE_LEN: usize = HEADER_LEN + BODY_LEN + CHECKSUM_LEN;

/// Writes an int8 weight file into `out`; returns its length.
pub fn encode(q: &QuantizedWeights, info: &ModelInfo, out: &mut [u8]) -> Result<usize, FormatError> {
    if !q.output_scale.is_finite() {
        return Err(FormatError::NonFiniteWeight { index: BODY_LEN / 4 });
    }
    // What the loader would refuse is never written.
    check_values(q)?;
    encode_container(MAGIC, q, BODY_LEN, info, out)
}

/// Validates and decodes an int8 weight file.
pub fn decode(bytes: &[u8]) -> Result<(QuantizedWeights, ModelInfo), FormatError> {
    let q = decode_const(bytes)?;
    Ok((q, container_info(bytes)?))
}

/// The CRC-32 of a valid int8 file: the model's identity on the wire.
pub const fn model_checksum(bytes: &[u8]) -> Result<u32, FormatError> {
    match check_container(bytes, MAGIC, BODY_LEN) {
        Ok(()) => Ok(container_checksum(bytes, BODY_LEN)),
        Err(e) => Err(e),
    }
}

/// Decodes an int8 weight file at compile time (the firmware's `static`).
pub const fn decode_const(bytes: &[u8]) -> Result<QuantizedWeights, FormatError> {
    if let Err(e) = check_container(bytes, MAGIC, BODY_LEN) {
        return Err(e);
    }
    // File order: w1, b1, w2, b2, output_scale.
    let mut body = BodyReader { bytes, at: HEADER_LEN };
    let w1 = body.i8_matrix();
    let b1 = body.i32_vector();
    let w2 = body.i8_matrix();
    let b2 = body.i32_vector();
    let output_scale = match body.f32_matrix::<1, 1>() {
        Ok([[scale]]) => scale,
        Err(_) => return Err(FormatError::NonFiniteWeight { index: BODY_LEN / 4 }),
    };
    let q = QuantizedWeights { w1, b1, w2, b2, output_scale };
    match check_values(&q) {
        Ok(()) => Ok(q),
        Err(e) => Err(e),
    }
}

/// `docs/format.md` §1.5 for int8: every `|b1|` at most `B1_LIMIT` (the
/// first layer's sums then fit 32 bits for every image) and a positive normal
/// output scale.
#[allow(clippy::indexing_slicing, reason = "the index is bounded by the loop condition on the array's own length")]
const fn check_values(q: &QuantizedWeights) -> Result<(), FormatError> {
    let mut j = 0;
    while j < HIDDEN {
        if q.b1[j] > B1_LIMIT || q.b1[j] < -B1_LIMIT {
            return Err(FormatError::BiasOutOfRange { unit: j as u8 });
        }
        j += 1;
    }
    if !(q.output_scale.is_normal() && q.output_scale > 0.0) {
        return Err(FormatError::BadOutputScale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::int8::quantize;
    use crate::network::int8::tests::model;

    #[test]
    fn round_trip_and_const_decoder_agree() {
        let q = quantize(&model());
        let info = ModelInfo { seed: 1, ..Default::default() };
        let mut buf = vec![0u8; FILE_LEN];
        assert_eq!(encode(&q, &info, &mut buf), Ok(FILE_LEN));
        let (back, back_info) = decode(&buf).unwrap();
        assert_eq!(back, q);
        assert_eq!(back_info, info);
        // Fixed offsets: w1[0][0] is the first body byte, output_scale the last four.
        assert_eq!(buf[HEADER_LEN] as i8, q.w1[0][0]);
        assert_eq!(buf[FILE_LEN - 8..FILE_LEN - 4], q.output_scale.to_le_bytes());
        // An f32 file is not an int8 file, and the other way round.
        assert_eq!(crate::format::weights_file::decode(&buf).unwrap_err(), FormatError::BadMagic);
    }

    /// What the quantizer never writes and the integers cannot take: a bias
    /// past `B1_LIMIT`, an output scale that is not a positive normal number.
    #[test]
    fn values_the_integers_cannot_take_are_refused() {
        let good = quantize(&model());
        let crafted = |change: &dyn Fn(&mut QuantizedWeights)| {
            let mut q = good.clone();
            change(&mut q);
            // Written as the format says, bypassing `encode`'s own checks.
            let mut buf = vec![0u8; FILE_LEN];
            encode_container(MAGIC, &q, BODY_LEN, &ModelInfo::default(), &mut buf).unwrap();
            buf
        };
        type Change<'a> = &'a dyn Fn(&mut QuantizedWeights);
        let cases: [(Change, FormatError); 6] = [
            (&|q| q.b1[3] = i32::MAX, FormatError::BiasOutOfRange { unit: 3 }),
            (&|q| q.b1[0] = -B1_LIMIT - 1, FormatError::BiasOutOfRange { unit: 0 }),
            (&|q| q.output_scale = 0.0, FormatError::BadOutputScale),
            (&|q| q.output_scale = -1e-6, FormatError::BadOutputScale),
            (&|q| q.output_scale = 1e-40, FormatError::BadOutputScale),
            (&|q| q.output_scale = f32::NAN, FormatError::NonFiniteWeight { index: BODY_LEN / 4 }),
        ];
        for (n, (change, expected)) in cases.into_iter().enumerate() {
            let bytes = crafted(change);
            assert_eq!(decode_const(&bytes).unwrap_err(), expected, "case {n}");
            assert_eq!(crate::ModelKind::check(&bytes).unwrap_err(), expected, "case {n}");
        }
        // At the limit: accepted, and its sums fit 32 bits for the brightest image.
        let edge = crafted(&|q| q.b1 = [B1_LIMIT; HIDDEN]);
        assert!(decode_const(&edge).is_ok());
        assert!(i64::from(B1_LIMIT) + 784 * 255 * 128 <= i64::from(i32::MAX));
        let mut q = good.clone();
        q.output_scale = 0.0;
        assert_eq!(encode(&q, &ModelInfo::default(), &mut vec![0; FILE_LEN]), Err(FormatError::BadOutputScale));
    }
}
