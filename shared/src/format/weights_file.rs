//! The weight file: a fixed header, the postcard body, a CRC-32.
//!
//! ```text
//! offset  size   field
//! 0       8      magic  b"TNYMNIST"
//! 8       2      format version (u16 LE)
//! 10      2×3    input, hidden, output sizes (u16 LE)
//! 16      4      body length in bytes (u32 LE)
//! 20      8      training seed (u64 LE)
//! 28      4      epochs (u32 LE)
//! 32      4      validation accuracy (f32 LE, 0–1)
//! 36      4      test accuracy (f32 LE, 0–1)
//! 40      1      class set (0 digits, 1 Fashion-MNIST)
//! 41      1      preprocessing (0 none, 1 deskew: `crate::input`)
//! 42      22     reserved, zero
//! 64      31840  body: postcard(Weights) = 7960 f32 LE, w1, b1, w2, b2
//! 31904   4      CRC-32/ISO-HDLC of bytes 0..31904 (u32 LE)
//! ```
//!
//! Header and body are postcard, with fixed-width integers, so every field sits
//! at a fixed offset: the firmware turns the file into a `static` [`Weights`]
//! at compile time with [`decode_const`] and reads it in place from flash.
use serde::{Deserialize, Serialize};

use super::classes::Classes;
use crate::input::Preprocessing;
use crate::network::{Weights, HIDDEN, INPUT, OUTPUT, PARAMETER_COUNT};

/// First bytes of every weight file.
pub const MAGIC: [u8; 8] = *b"TNYMNIST";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 64;
/// Size of the postcard body: every parameter as a 4-byte float.
pub const BODY_LEN: usize = PARAMETER_COUNT * 4;
/// Size of the trailing checksum.
pub const CHECKSUM_LEN: usize = 4;
/// Where the class-set byte sits in the header.
const CLASSES_OFFSET: usize = 40;
/// Where the preprocessing byte sits in the header (0, "none", in files older than it).
pub const PREPROCESSING_OFFSET: usize = 41;
/// Size of a whole weight file.
pub const FILE_LEN: usize = HEADER_LEN + BODY_LEN + CHECKSUM_LEN;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Where a model came from; stored in the header, informational only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Random seed the trainer used.
    #[serde(with = "postcard::fixint::le")]
    pub seed: u64,
    /// Epochs (or full-batch iterations) trained.
    #[serde(with = "postcard::fixint::le")]
    pub epochs: u32,
    /// Accuracy on the held-out validation split, 0–1.
    pub validation_accuracy: f32,
    /// Accuracy on the dataset's test images, 0–1.
    pub test_accuracy: f32,
    /// What the ten outputs mean.
    pub classes: Classes,
    /// What the model does to an image before its first layer.
    pub preprocessing: Preprocessing,
}

/// The fixed 64-byte header, exactly as postcard lays it out (it is only written
/// this way; readers use the fixed offsets, which must also work in `const`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
struct Header {
    magic: [u8; 8],
    #[serde(with = "postcard::fixint::le")]
    version: u16,
    #[serde(with = "postcard::fixint::le")]
    input: u16,
    #[serde(with = "postcard::fixint::le")]
    hidden: u16,
    #[serde(with = "postcard::fixint::le")]
    output: u16,
    #[serde(with = "postcard::fixint::le")]
    body_len: u32,
    info: ModelInfo,
    reserved: [u8; 22],
}

/// Why a byte string is not a usable weight file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FormatError {
    /// Fewer (or more) bytes than a weight file has.
    WrongLength {
        /// Bytes a weight file of this format has.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The file does not start with [`MAGIC`].
    BadMagic,
    /// Written by a different format version.
    UnsupportedVersion {
        /// Version found in the file.
        found: u16,
    },
    /// Layer sizes differ from this build's network.
    WrongDimensions {
        /// `[input, hidden, output]` found in the file.
        found: [u16; 3],
    },
    /// The stored CRC-32 does not match the contents.
    ChecksumMismatch {
        /// CRC stored in the file.
        stored: u32,
        /// CRC of the contents.
        computed: u32,
    },
    /// The header names a class set this build does not know.
    UnknownClasses {
        /// The class-set byte found.
        found: u8,
    },
    /// A header accuracy is not a fraction in [0, 1].
    BadAccuracy {
        /// The value found.
        found: f32,
    },
    /// The header names a preprocessing this build does not know.
    UnknownPreprocessing {
        /// The preprocessing byte found.
        found: u8,
    },
    /// A weight is NaN or infinite.
    NonFiniteWeight {
        /// Index of the parameter in file order (w1, b1, w2, b2).
        index: usize,
    },
    /// (f32) Finite weights so large that a sum could leave f32's range for
    /// some image, making a logit infinite or NaN (`docs/format.md` §1.5).
    UnboundedSums {
        /// 1: a hidden unit's sums; 2: an output's.
        layer: u8,
        /// The unit (0–9).
        unit: u8,
    },
    /// (int8) A first-layer bias beyond [`crate::network::int8::B1_LIMIT`]:
    /// its sums could leave 32 bits.
    BiasOutOfRange {
        /// The hidden unit (0–9).
        unit: u8,
    },
    /// (int8) The output scale is not a positive normal number.
    BadOutputScale,
    /// The buffer given to [`encode`] is too small.
    BufferTooSmall,
}

impl FormatError {
    /// A one-line description with a hint; usable in `const` contexts.
    pub const fn message(&self) -> &'static str {
        match self {
            FormatError::WrongLength { .. } => {
                "weight file has the wrong length: truncated, damaged or not a weight file; write it again \
                 (`tiny-mnist train` or `quantize`) or restore your copy"
            }
            FormatError::BadMagic => "not a weight file: bad magic bytes (expected \"TNYMNIST\")",
            FormatError::UnsupportedVersion { .. } => "weight file of an unknown format version",
            FormatError::WrongDimensions { .. } => {
                "weight file has different layer sizes than this 784-10-10 network; retrain with `tiny-mnist train`"
            }
            FormatError::ChecksumMismatch { .. } => {
                "weight file checksum mismatch: the file is damaged; write it again (`tiny-mnist train` or \
                 `quantize`) or restore your copy"
            }
            FormatError::BadAccuracy { .. } => "weight file header records an accuracy outside 0-100 %: it is damaged",
            FormatError::UnknownClasses { .. } => {
                "weight file names an unknown class set; it was written by a newer version of this tool"
            }
            FormatError::UnknownPreprocessing { .. } => {
                "weight file names an unknown input preprocessing; it was written by a newer version of this tool"
            }
            FormatError::NonFiniteWeight { .. } => "weight file contains a NaN or infinite weight; retrain the model",
            FormatError::UnboundedSums { .. } => {
                "weight file's weights are so large that a sum could overflow for some image (a logit would be \
                 infinite or NaN, and boards could disagree); retrain the model"
            }
            FormatError::BiasOutOfRange { .. } => {
                "int8 weight file has a first-layer bias so large that its sums could overflow 32 bits; \
                 quantize the model again with `tiny-mnist quantize`"
            }
            FormatError::BadOutputScale => {
                "int8 weight file's output scale is not a positive normal number; quantize the model again"
            }
            FormatError::BufferTooSmall => "output buffer too small for a weight file",
        }
    }
}

impl core::fmt::Display for FormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())?;
        match *self {
            FormatError::WrongLength { expected, found } => write!(f, " ({found} bytes, expected {expected})"),
            // Versions count up from 1; anything far above is a damaged header, not a newer tool.
            FormatError::UnsupportedVersion { found } if found > FORMAT_VERSION && found < 100 => {
                write!(f, " (version {found}, from a newer tiny-mnist; this build reads version {FORMAT_VERSION})")
            }
            FormatError::UnsupportedVersion { found } => {
                write!(f, " ({found}; this build reads version {FORMAT_VERSION}): the header is damaged")
            }
            FormatError::BadAccuracy { found } => write!(f, " ({found})"),
            FormatError::WrongDimensions { found: [i, h, o] } => {
                write!(f, " (file is {i}-{h}-{o})")
            }
            FormatError::ChecksumMismatch { stored, computed } => {
                write!(f, " (stored {stored:#010x}, computed {computed:#010x})")
            }
            FormatError::NonFiniteWeight { index } => write!(f, " (parameter {index})"),
            FormatError::UnboundedSums { layer, unit } => {
                write!(f, " ({} {unit})", if layer == 1 { "hidden unit" } else { "output" })
            }
            FormatError::BiasOutOfRange { unit } => write!(f, " (hidden unit {unit})"),
            FormatError::UnknownClasses { found } => write!(f, " (class set {found})"),
            FormatError::UnknownPreprocessing { found } => write!(f, " (preprocessing {found})"),
            _ => Ok(()),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FormatError {}

/// Writes `weights` and `info` into `out` as a weight file; returns its length.
pub fn encode(weights: &Weights, info: &ModelInfo, out: &mut [u8]) -> Result<usize, FormatError> {
    if out.len() < FILE_LEN {
        return Err(FormatError::BufferTooSmall);
    }
    if let Some(index) = weights.parameters().position(|w| !w.is_finite()) {
        return Err(FormatError::NonFiniteWeight { index });
    }
    // What the loader would refuse is never written.
    check_bounds(weights)?;
    encode_container(MAGIC, weights, BODY_LEN, info, out)
}

/// Checks the header and checksum, decodes the body: [`decode_const`] and the header's model info.
pub fn decode(bytes: &[u8]) -> Result<(Weights, ModelInfo), FormatError> {
    let weights = decode_const(bytes)?;
    Ok((weights, container_info(bytes)?))
}

/// Validates everything but the weights' values; returns the header's model info.
pub fn check(bytes: &[u8]) -> Result<ModelInfo, FormatError> {
    check_const(bytes)?;
    container_info(bytes)
}

/// The CRC-32 stored at the end of a valid file: the model's identity on the wire.
pub const fn model_checksum(bytes: &[u8]) -> Result<u32, FormatError> {
    match check_const(bytes) {
        Ok(()) => Ok(container_checksum(bytes, BODY_LEN)),
        Err(e) => Err(e),
    }
}

// The readers run after the length check; a read past the end gives 0
// rather than a panic, so even a caller that skipped the check cannot crash.
pub(crate) const fn read_u8(bytes: &[u8], at: usize) -> u8 {
    match bytes.split_at_checked(at) {
        Some((_, [a, ..])) => *a,
        _ => 0,
    }
}

pub(crate) const fn read_u16(bytes: &[u8], at: usize) -> u16 {
    match bytes.split_at_checked(at) {
        Some((_, [a, b, ..])) => u16::from_le_bytes([*a, *b]),
        _ => 0,
    }
}

pub(crate) const fn read_u32(bytes: &[u8], at: usize) -> u32 {
    match bytes.split_at_checked(at) {
        Some((_, [a, b, c, d, ..])) => u32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

pub(crate) const fn read_u64(bytes: &[u8], at: usize) -> u64 {
    (read_u32(bytes, at) as u64) | ((read_u32(bytes, at + 4) as u64) << 32)
}

pub(crate) const fn read_f32(bytes: &[u8], at: usize) -> f32 {
    f32::from_bits(read_u32(bytes, at))
}

/// Header and checksum validation that also runs at compile time.
const fn check_const(bytes: &[u8]) -> Result<(), FormatError> {
    check_container(bytes, MAGIC, BODY_LEN)
}

/// Validates a file of this container layout — `magic`, version, the
/// network's dimensions, a `body_len`-byte body and a CRC-32 — at compile
/// time or at run time. Shared by the f32 and the int8 weight files.
pub(crate) const fn check_container(bytes: &[u8], magic: [u8; 8], body_len: usize) -> Result<(), FormatError> {
    let file_len = HEADER_LEN + body_len + CHECKSUM_LEN;
    if bytes.len() < HEADER_LEN {
        return Err(FormatError::WrongLength { expected: file_len, found: bytes.len() });
    }
    if read_u64(bytes, 0) != u64::from_le_bytes(magic) {
        return Err(FormatError::BadMagic);
    }
    let version = read_u16(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(FormatError::UnsupportedVersion { found: version });
    }
    let dims = [read_u16(bytes, 10), read_u16(bytes, 12), read_u16(bytes, 14)];
    if dims[0] as usize != INPUT || dims[1] as usize != HIDDEN || dims[2] as usize != OUTPUT {
        return Err(FormatError::WrongDimensions { found: dims });
    }
    if bytes.len() != file_len || read_u32(bytes, 16) as usize != body_len {
        return Err(FormatError::WrongLength { expected: file_len, found: bytes.len() });
    }
    let Some((contents, _)) = bytes.split_at_checked(HEADER_LEN + body_len) else {
        return Err(FormatError::WrongLength { expected: file_len, found: bytes.len() });
    };
    let computed = CRC32.checksum(contents);
    let stored = read_u32(bytes, HEADER_LEN + body_len);
    if computed != stored {
        return Err(FormatError::ChecksumMismatch { stored, computed });
    }
    let classes = read_u8(bytes, CLASSES_OFFSET);
    if Classes::from_code(classes).is_none() {
        return Err(FormatError::UnknownClasses { found: classes });
    }
    let preprocessing = read_u8(bytes, PREPROCESSING_OFFSET);
    if Preprocessing::from_code(preprocessing).is_none() {
        return Err(FormatError::UnknownPreprocessing { found: preprocessing });
    }
    Ok(())
}

/// Writes header, postcard body and CRC-32 into `out`; returns the length.
pub(crate) fn encode_container<T: Serialize>(
    magic: [u8; 8],
    body: &T,
    body_len: usize,
    info: &ModelInfo,
    out: &mut [u8],
) -> Result<usize, FormatError> {
    let header = Header {
        magic,
        version: FORMAT_VERSION,
        input: INPUT as u16,
        hidden: HIDDEN as u16,
        output: OUTPUT as u16,
        body_len: body_len as u32,
        info: *info,
        reserved: [0; 22],
    };
    let (contents, rest) = out.split_at_mut_checked(HEADER_LEN + body_len).ok_or(FormatError::BufferTooSmall)?;
    let (head, body_out) = contents.split_at_mut(HEADER_LEN);
    let written = postcard::to_slice(&header, head).map_err(|_| FormatError::BufferTooSmall)?;
    debug_assert_eq!(written.len(), HEADER_LEN);
    let written = postcard::to_slice(body, body_out).map_err(|_| FormatError::BufferTooSmall)?;
    debug_assert_eq!(written.len(), body_len);
    let crc = CRC32.checksum(contents);
    rest.get_mut(..CHECKSUM_LEN).ok_or(FormatError::BufferTooSmall)?.copy_from_slice(&crc.to_le_bytes());
    Ok(HEADER_LEN + body_len + CHECKSUM_LEN)
}

/// The header's model info of a file [`check_container`] accepted, read at the
/// same fixed offsets as the checks (postcard writes the header; a test checks
/// that its layout is the table at the top of this file).
pub(crate) fn container_info(bytes: &[u8]) -> Result<ModelInfo, FormatError> {
    let classes = read_u8(bytes, CLASSES_OFFSET);
    for found in [read_f32(bytes, 32), read_f32(bytes, 36)] {
        if !(0.0..=1.0).contains(&found) {
            return Err(FormatError::BadAccuracy { found });
        }
    }
    Ok(ModelInfo {
        seed: read_u64(bytes, 20),
        epochs: read_u32(bytes, 28),
        validation_accuracy: read_f32(bytes, 32),
        test_accuracy: read_f32(bytes, 36),
        classes: Classes::from_code(classes).ok_or(FormatError::UnknownClasses { found: classes })?,
        preprocessing: preprocessing_const(bytes)?,
    })
}

/// The preprocessing a weight file's model expects; usable in `const`
/// contexts (the firmware picks its input path at compile time).
pub const fn preprocessing_const(bytes: &[u8]) -> Result<Preprocessing, FormatError> {
    let found = read_u8(bytes, PREPROCESSING_OFFSET);
    match Preprocessing::from_code(found) {
        Some(p) => Ok(p),
        None => Err(FormatError::UnknownPreprocessing { found }),
    }
}

/// The stored CRC-32 of a file [`check_container`] accepted.
pub(crate) const fn container_checksum(bytes: &[u8], body_len: usize) -> u32 {
    read_u32(bytes, HEADER_LEN + body_len)
}

/// Decodes a weight file at compile time, reading the fixed offsets directly.
///
/// The firmware uses it as `static WEIGHTS: Weights = match decode_const(..)`,
/// which places the weights in flash with no RAM copy and no runtime parsing.
pub const fn decode_const(bytes: &[u8]) -> Result<Weights, FormatError> {
    if let Err(e) = check_const(bytes) {
        return Err(e);
    }
    // File order: w1, b1, w2, b2, each row-major.
    let mut body = BodyReader { bytes, at: HEADER_LEN };
    let mut w = Weights::ZERO;
    w.w1 = match body.f32_matrix() {
        Ok(m) => m,
        Err(e) => return Err(e),
    };
    w.b1 = match body.f32_matrix::<1, HIDDEN>() {
        Ok([row]) => row,
        Err(e) => return Err(e),
    };
    w.w2 = match body.f32_matrix() {
        Ok(m) => m,
        Err(e) => return Err(e),
    };
    w.b2 = match body.f32_matrix::<1, OUTPUT>() {
        Ok([row]) => row,
        Err(e) => return Err(e),
    };
    match check_bounds(&w) {
        Ok(()) => Ok(w),
        Err(e) => Err(e),
    }
}

/// The largest magnitude a sum of the forward pass may reach over all inputs
/// (pixels 0–255, so `x` in [0, 1]): far below f32's 3.4e38, so that with the
/// roundings on the way no sum overflows and no logit is infinite or NaN.
pub const SUM_BOUND: f64 = 1e30;

/// `docs/format.md` §1.5's bounds ([`sum_bounds`]) at most [`SUM_BOUND`]:
/// every hidden unit's `|b1| + Σ|w1|`, and every output's `|b2| + Σ_j A_j·|w2|`
/// with `A_j = max(0, b1 + Σ max(w1, 0))` (the most a hidden unit can give),
/// in f64 (finite: the weights are, and 7,960 of them cannot reach f64's range).
#[allow(clippy::indexing_slicing, reason = "every index is bounded by its loop condition on the array's own length")]
const fn check_bounds(w: &Weights) -> Result<(), FormatError> {
    let (hidden, outputs) = sum_bounds(w);
    let mut j = 0;
    while j < HIDDEN {
        if hidden[j] > SUM_BOUND {
            return Err(FormatError::UnboundedSums { layer: 1, unit: j as u8 });
        }
        j += 1;
    }
    let mut k = 0;
    while k < OUTPUT {
        if outputs[k] > SUM_BOUND {
            return Err(FormatError::UnboundedSums { layer: 2, unit: k as u8 });
        }
        k += 1;
    }
    Ok(())
}

/// §1.5's two bounds, per unit: each hidden unit's `|b1| + Σ|w1|` and each
/// output's `|b2| + Σ_j A_j·|w2|` (what [`check_bounds`] holds to [`SUM_BOUND`]).
#[allow(clippy::indexing_slicing, reason = "every index is bounded by its loop condition on the array's own length")]
pub const fn sum_bounds(w: &Weights) -> ([f64; HIDDEN], [f64; OUTPUT]) {
    let (mut hidden, mut reach) = ([0.0f64; HIDDEN], [0.0f64; HIDDEN]);
    let mut j = 0;
    while j < HIDDEN {
        let (mut magnitude, mut most) = ((w.b1[j] as f64).abs(), w.b1[j] as f64);
        let mut i = 0;
        while i < INPUT {
            let v = w.w1[i][j] as f64;
            magnitude += v.abs();
            most += if v > 0.0 { v } else { 0.0 };
            i += 1;
        }
        hidden[j] = magnitude;
        reach[j] = if most > 0.0 { most } else { 0.0 };
        j += 1;
    }
    let mut outputs = [0.0f64; OUTPUT];
    let mut k = 0;
    while k < OUTPUT {
        let mut magnitude = (w.b2[k] as f64).abs();
        let mut j = 0;
        while j < HIDDEN {
            magnitude += reach[j] * (w.w2[k][j] as f64).abs();
            j += 1;
        }
        outputs[k] = magnitude;
        k += 1;
    }
    (hidden, outputs)
}

/// Reads a weight file's body in file order, at compile time: the one place the
/// f32 and int8 decoders walk their tensors.
pub(crate) struct BodyReader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

#[allow(clippy::indexing_slicing, reason = "every index is bounded by its loop condition on the array's own length")]
impl BodyReader<'_> {
    /// `R × C` little-endian f32, row-major; a NaN or infinity is an error naming its index.
    pub(crate) const fn f32_matrix<const R: usize, const C: usize>(&mut self) -> Result<[[f32; C]; R], FormatError> {
        let mut m = [[0.0; C]; R];
        let mut r = 0;
        while r < R {
            let mut c = 0;
            while c < C {
                m[r][c] = read_f32(self.bytes, self.at);
                if !m[r][c].is_finite() {
                    return Err(FormatError::NonFiniteWeight { index: (self.at - HEADER_LEN) / 4 });
                }
                self.at += 4;
                c += 1;
            }
            r += 1;
        }
        Ok(m)
    }

    /// `R × C` bytes as `i8`, row-major.
    pub(crate) const fn i8_matrix<const R: usize, const C: usize>(&mut self) -> [[i8; C]; R] {
        let mut m = [[0; C]; R];
        let mut r = 0;
        while r < R {
            let mut c = 0;
            while c < C {
                m[r][c] = read_u8(self.bytes, self.at) as i8;
                self.at += 1;
                c += 1;
            }
            r += 1;
        }
        m
    }

    /// `N` little-endian `i32`.
    pub(crate) const fn i32_vector<const N: usize>(&mut self) -> [i32; N] {
        let mut v = [0; N];
        let mut i = 0;
        while i < N {
            v[i] = read_u32(self.bytes, self.at) as i32;
            self.at += 4;
            i += 1;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny known model: every weight distinct and exactly representable.
    fn known_model() -> (Weights, ModelInfo) {
        let mut w = Weights::ZERO;
        for (n, p) in w.parameters_mut().enumerate() {
            *p = (n as f32 - 4000.0) / 1024.0;
        }
        let info =
            ModelInfo { seed: 42, epochs: 3, validation_accuracy: 0.5, test_accuracy: 0.25, ..Default::default() };
        (w, info)
    }

    fn encoded(w: &Weights, info: &ModelInfo) -> Vec<u8> {
        let mut buf = vec![0u8; FILE_LEN];
        assert_eq!(encode(w, info, &mut buf), Ok(FILE_LEN));
        buf
    }

    #[test]
    fn golden_header_bytes() {
        let (w, info) = known_model();
        let bytes = encoded(&w, &info);
        #[rustfmt::skip]
        let expected_header: [u8; HEADER_LEN] = [
            b'T', b'N', b'Y', b'M', b'N', b'I', b'S', b'T', // magic
            1, 0,                   // version
            0x10, 0x03, 10, 0, 10, 0, // 784, 10, 10
            0x60, 0x7c, 0, 0,       // body length 31840
            42, 0, 0, 0, 0, 0, 0, 0, // seed
            3, 0, 0, 0,             // epochs
            0, 0, 0, 0x3f,          // 0.5
            0, 0, 0x80, 0x3e,       // 0.25
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(bytes[..HEADER_LEN], expected_header);
        // Body: first parameter, (0 - 4000) / 1024.
        assert_eq!(bytes[64..68], (-4000.0f32 / 1024.0).to_le_bytes());
        // Last parameter, b2[9], is parameter 7959.
        assert_eq!(bytes[FILE_LEN - 8..FILE_LEN - 4], ((7959.0f32 - 4000.0) / 1024.0).to_le_bytes());
        // CRC-32 cross-checked with Python's zlib.crc32 over the same bytes.
        assert_eq!(bytes[FILE_LEN - 4..], [79, 8, 156, 45]);
    }

    #[test]
    fn round_trip_and_const_decoder_agree_bit_for_bit() {
        let (w, info) = known_model();
        let bytes = encoded(&w, &info);
        let (decoded, decoded_info) = decode(&bytes).unwrap();
        assert_eq!(decoded_info, info);
        let const_decoded = decode_const(&bytes).unwrap();
        let a: Vec<u32> = decoded.parameters().map(f32::to_bits).collect();
        let b: Vec<u32> = const_decoded.parameters().map(f32::to_bits).collect();
        let c: Vec<u32> = w.parameters().map(f32::to_bits).collect();
        assert_eq!(a, c);
        assert_eq!(b, c);
        assert_eq!(model_checksum(&bytes), Ok(u32::from_le_bytes(bytes[FILE_LEN - 4..].try_into().unwrap())));
    }

    /// A valid file whose parameter `index` (file order) is `value`, CRC recomputed.
    fn with_parameter(index: usize, value: f32) -> Vec<u8> {
        let (w, info) = known_model();
        let mut bytes = encoded(&w, &info);
        bytes[HEADER_LEN + 4 * index..HEADER_LEN + 4 * index + 4].copy_from_slice(&value.to_le_bytes());
        let crc = CRC32.checksum(&bytes[..HEADER_LEN + BODY_LEN]);
        bytes[HEADER_LEN + BODY_LEN..].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Finite weights that could overflow a sum for some image are refused by
    /// the decoder (host and firmware build alike) and never written.
    #[test]
    fn weights_that_could_overflow_are_refused() {
        let (b1, w2, b2) = (INPUT * HIDDEN, INPUT * HIDDEN + HIDDEN, INPUT * HIDDEN + HIDDEN + OUTPUT * HIDDEN);
        for (index, value, layer, unit) in [
            // A hidden unit's bias or one weight alone past the bound.
            (b1 + 2, 2e30, 1, 2),
            (7 * HIDDEN + 4, -3e30, 1, 4),
            // An output's bias, or a weight times the most its hidden unit can give.
            (b2 + 9, -1.5e30, 2, 9),
            (w2 + 3 * HIDDEN + 1, 1e29, 2, 3),
        ] {
            let bytes = with_parameter(index, value);
            let expected = FormatError::UnboundedSums { layer, unit };
            assert_eq!(decode_const(&bytes).unwrap_err(), expected, "parameter {index} = {value}");
            assert_eq!(decode(&bytes).unwrap_err(), expected);
            assert_eq!(crate::ModelKind::check(&bytes).unwrap_err(), expected);
        }
        // Large but bounded: accepted.
        assert!(decode_const(&with_parameter(b2, 9e29)).is_ok());
        let (mut w, info) = known_model();
        w.b1[0] = 1e31;
        assert_eq!(encode(&w, &info, &mut vec![0; FILE_LEN]), Err(FormatError::UnboundedSums { layer: 1, unit: 0 }));
    }

    #[test]
    fn each_decode_error() {
        let (w, info) = known_model();
        let good = encoded(&w, &info);

        assert_eq!(decode(&good[..10]).unwrap_err(), FormatError::WrongLength { expected: FILE_LEN, found: 10 });
        assert_eq!(
            decode(&good[..FILE_LEN - 1]).unwrap_err(),
            FormatError::WrongLength { expected: FILE_LEN, found: FILE_LEN - 1 }
        );

        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(decode(&bad).unwrap_err(), FormatError::BadMagic);

        let mut bad = good.clone();
        bad[8] = 2;
        assert_eq!(decode(&bad).unwrap_err(), FormatError::UnsupportedVersion { found: 2 });

        let mut bad = good.clone();
        bad[12] = 16;
        assert_eq!(decode(&bad).unwrap_err(), FormatError::WrongDimensions { found: [784, 16, 10] });

        let mut bad = good.clone();
        bad[1000] ^= 1;
        assert!(matches!(decode(&bad).unwrap_err(), FormatError::ChecksumMismatch { .. }));
        assert!(matches!(decode_const(&bad).unwrap_err(), FormatError::ChecksumMismatch { .. }));

        // A NaN with a valid checksum: only the value check can catch it.
        let mut bad = good.clone();
        bad[HEADER_LEN + 4 * 5..HEADER_LEN + 4 * 6].copy_from_slice(&f32::NAN.to_le_bytes());
        let crc = CRC32.checksum(&bad[..HEADER_LEN + BODY_LEN]);
        bad[HEADER_LEN + BODY_LEN..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&bad).unwrap_err(), FormatError::NonFiniteWeight { index: 5 });
        assert_eq!(decode_const(&bad).unwrap_err(), FormatError::NonFiniteWeight { index: 5 });

        // A class set from the future, with a valid checksum.
        let mut bad = good.clone();
        bad[CLASSES_OFFSET] = 9;
        let crc = CRC32.checksum(&bad[..HEADER_LEN + BODY_LEN]);
        bad[HEADER_LEN + BODY_LEN..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&bad).unwrap_err(), FormatError::UnknownClasses { found: 9 });
    }

    #[test]
    fn class_set_is_stored_in_its_header_byte() {
        let (w, info) = known_model();
        let info = ModelInfo { classes: Classes::Fashion, ..info };
        let bytes = encoded(&w, &info);
        assert_eq!(bytes[CLASSES_OFFSET], 1);
        assert_eq!(decode(&bytes).unwrap().1.classes, Classes::Fashion);
    }

    #[test]
    fn encode_refuses_non_finite_weights_and_small_buffers() {
        let (mut w, info) = known_model();
        let mut buf = vec![0u8; FILE_LEN];
        assert_eq!(encode(&w, &info, &mut buf[..100]), Err(FormatError::BufferTooSmall));
        w.b2[0] = f32::INFINITY;
        assert_eq!(encode(&w, &info, &mut buf), Err(FormatError::NonFiniteWeight { index: PARAMETER_COUNT - 10 }));
    }

    #[test]
    fn errors_explain_themselves() {
        let msg = FormatError::UnsupportedVersion { found: 7 }.to_string();
        assert!(msg.contains("version 7, from a newer tiny-mnist"), "{msg}");
        let msg = FormatError::UnsupportedVersion { found: 30840 }.to_string();
        assert!(msg.contains("30840") && msg.contains("the header is damaged"), "{msg}");
    }
}
