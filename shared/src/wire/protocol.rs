//! Everything that crosses the UART: postcard messages in COBS frames.
//!
//! A frame is `cobs(postcard(message))` followed by a `0x00` delimiter. The host
//! may send a lone `0x00` before a request to flush whatever garbage the
//! device has half-received; empty frames are ignored. Every non-empty frame
//! the device receives gets exactly one [`Response`], in order.
use serde::{Deserialize, Serialize};

use super::framing::{self, max_encoded_len};
use crate::input::pixels::{wire_form, PixelBytes};
use crate::network::{Prediction, INPUT};

/// Bumped whenever a message's encoding changes.
pub const PROTOCOL_VERSION: u16 = 1;

/// Longest board name a device reports.
pub const BOARD_NAME_LEN: usize = 24;

/// Largest encoded request: a raw image (784 bytes + a 2-byte length) and the
/// variant tag, plus COBS overhead (1 byte per 254) and the delimiter.
pub const MAX_REQUEST_FRAME: usize = max_encoded_len(1 + 2 + INPUT) + 1;

/// Largest encoded response, with COBS overhead and delimiter.
pub const MAX_RESPONSE_FRAME: usize = max_encoded_len(1 + 1 + 40 + 2 * 2 + 4 + 1 + BOARD_NAME_LEN) + 1;

/// A request from the host. An image is borrowed from the bytes it was decoded from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request<'a> {
    /// Ask who the device is and which model it runs.
    Info,
    /// Classify one 28×28 image.
    #[serde(borrow)]
    Classify(PixelBytes<'a>),
    /// Ask for resource use so far.
    Stats,
}

/// A device's answer to one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Answer to [`Request::Info`].
    Info(DeviceInfo),
    /// Answer to [`Request::Classify`]: exactly what `shared::forward` returns.
    Prediction(Prediction),
    /// The frame could not be served.
    Error(FrameError),
    /// Answer to [`Request::Stats`].
    Stats(DeviceStats),
}

/// Resource use measured on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStats {
    /// Most stack ever used since boot, in bytes (from stack painting; 0 if unknown).
    pub stack_peak: u32,
    /// Stack available, in bytes.
    pub stack_size: u32,
}

/// Who the device is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The device's [`PROTOCOL_VERSION`].
    pub protocol_version: u16,
    /// The weight file format version the firmware was built with.
    pub format_version: u16,
    /// CRC-32 of the embedded weight file: compare with the host's file.
    pub model_checksum: u32,
    /// Which board (and so which float unit) is answering.
    pub board: heapless::String<BOARD_NAME_LEN>,
}

/// Why a frame got no real answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameError {
    /// The frame was longer than [`MAX_REQUEST_FRAME`]; it was discarded.
    Oversized,
    /// The frame was not valid COBS.
    BadFraming,
    /// The frame ended before the message did.
    Truncated,
    /// The frame decoded to something that is not a valid request.
    Malformed,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FrameError::Oversized => "frame too long",
            FrameError::BadFraming => "frame is not valid COBS",
            FrameError::Truncated => "frame ended before the message did",
            FrameError::Malformed => "frame does not hold a valid request",
        })
    }
}

/// An image travels as a byte string in the shorter of [`PixelBytes`]'s two
/// forms: exactly 784 bytes are raw pixels, anything else zero runs. MNIST
/// digits are about 80 % zeros, so a request shrinks from ~790 to ~250 bytes
/// and the emulated UART moves 3× more images. The device reads the pixels
/// straight out of its frame buffer.
impl Serialize for PixelBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes = self.as_bytes();
        match <&[u8; INPUT]>::try_from(bytes) {
            Ok(raw) => serializer.serialize_bytes(wire_form(raw, &mut [0u8; INPUT])),
            Err(_) => serializer.serialize_bytes(bytes),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for PixelBytes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = PixelBytes<'de>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("784 pixels, raw or zero-run encoded")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(self, v: &'de [u8]) -> Result<PixelBytes<'de>, E> {
                PixelBytes::new(v).ok_or_else(|| E::invalid_length(v.len(), &self))
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

/// Encodes `message` as one COBS frame, delimiter included; returns the frame.
/// `buf` must hold the frame ([`MAX_REQUEST_FRAME`], [`MAX_RESPONSE_FRAME`]).
pub fn encode_frame<'a, T: Serialize>(message: &T, buf: &'a mut [u8]) -> Result<&'a mut [u8], postcard::Error> {
    let len = postcard::to_slice(message, buf)?.len();
    // Move the message to the back, then COBS-encode it into the front.
    let start = buf.len() - len;
    for i in (0..len).rev() {
        let byte = buf.get(i).copied().unwrap_or(0);
        if let Some(slot) = buf.get_mut(start + i) {
            *slot = byte;
        }
    }
    let frame_len = framing::encode_in_place(buf, start, start + len).ok_or(postcard::Error::SerializeBufferFull)?;
    buf.get_mut(..frame_len).ok_or(postcard::Error::SerializeBufferFull)
}

/// Decodes one frame (without its delimiter) in place.
pub fn decode_frame<'a, T: Deserialize<'a>>(frame: &'a mut [u8]) -> Result<T, FrameError> {
    let len = framing::decode_in_place(frame).ok_or(FrameError::BadFraming)?;
    let payload = frame.get(..len).ok_or(FrameError::BadFraming)?;
    #[cfg(target_pointer_width = "64")]
    if length_too_long_for_32_bits(payload) {
        return Err(FrameError::Malformed);
    }
    match postcard::take_from_bytes(payload) {
        Ok((message, [])) => Ok(message),
        // A message followed by more bytes is not the message that was sent.
        Ok((_, _trailing)) => Err(FrameError::Malformed),
        Err(postcard::Error::DeserializeUnexpectedEnd) => Err(FrameError::Truncated),
        Err(_) => Err(FrameError::Malformed),
    }
}

/// Whether the request's byte-string length (after the variant index) is a
/// varint a 32-bit device refuses: postcard reads a length as a `usize`, at
/// most 5 bytes with the last below 16 on the boards, 10 on a 64-bit host.
/// Without this a host would call `Truncated` what every board calls
/// `Malformed` (docs/format.md §3.2).
#[cfg(target_pointer_width = "64")]
fn length_too_long_for_32_bits(payload: &[u8]) -> bool {
    /// A `u32` varint at the front of some bytes, as postcard reads one.
    enum Varint {
        /// Its value and its length in bytes.
        Whole(u32, usize),
        /// The bytes end inside it.
        Cut,
        /// More than 5 bytes, or a fifth above 15.
        TooLong,
    }
    fn varint(bytes: &[u8]) -> Varint {
        let mut value = 0u32;
        for (i, &b) in bytes.iter().enumerate().take(5) {
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return if i == 4 && b > 0x0f { Varint::TooLong } else { Varint::Whole(value, i + 1) };
            }
        }
        if bytes.len() >= 5 {
            Varint::TooLong
        } else {
            Varint::Cut
        }
    }
    // Variant 1 is Classify; its byte string's length follows.
    match varint(payload) {
        Varint::Whole(1, n) => matches!(varint(payload.get(n..).unwrap_or_default()), Varint::TooLong),
        _ => false,
    }
}

/// What [`FrameReader::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameEvent<'a> {
    /// A complete frame (delimiter stripped), ready for [`decode_frame`].
    Frame(&'a mut [u8]),
    /// A frame longer than the buffer ended; its bytes were dropped.
    Oversized,
}

/// Splits a byte stream into COBS frames in a fixed buffer.
///
/// Unlike postcard's `CobsAccumulator`, an oversized frame is dropped as a
/// whole up to its delimiter (one error, not one per buffer-full), and empty
/// frames are skipped, so the host can send a `0x00` to resynchronise.
pub struct FrameReader<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflowed: bool,
}

impl<const N: usize> Default for FrameReader<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameReader<N> {
    /// An empty reader.
    pub const fn new() -> Self {
        FrameReader { buf: [0; N], len: 0, overflowed: false }
    }

    /// Takes one byte; returns an event when a frame ends.
    pub fn push(&mut self, byte: u8) -> Option<FrameEvent<'_>> {
        if byte == 0 {
            let len = core::mem::take(&mut self.len);
            if core::mem::take(&mut self.overflowed) {
                return Some(FrameEvent::Oversized);
            }
            return self.buf.get_mut(..len).filter(|f| !f.is_empty()).map(FrameEvent::Frame);
        }
        match self.buf.get_mut(self.len) {
            Some(slot) if !self.overflowed => {
                *slot = byte;
                self.len += 1;
            }
            _ => self.overflowed = true,
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoded request, detached from the frame buffer it borrows from.
    #[derive(Debug, PartialEq)]
    #[allow(clippy::large_enum_variant, reason = "test helper")]
    enum Owned {
        Info,
        Classify([u8; INPUT]),
        Stats,
    }

    fn owned(r: Request) -> Owned {
        match r {
            Request::Info => Owned::Info,
            Request::Classify(p) => Owned::Classify(p.to_array()),
            Request::Stats => Owned::Stats,
        }
    }

    fn digit_like() -> [u8; INPUT] {
        let mut pixels = [0u8; INPUT];
        for row in 5..20 {
            for col in 10..16 {
                pixels[row * 28 + col] = (row * 10 + col) as u8;
            }
        }
        pixels
    }

    fn frame_of<T: Serialize>(m: &T) -> Vec<u8> {
        let mut buf = [0u8; MAX_REQUEST_FRAME];
        encode_frame(m, &mut buf).unwrap().to_vec()
    }

    fn read_frames<const N: usize>(bytes: &[u8]) -> Vec<Result<Owned, FrameError>> {
        let mut reader = FrameReader::<N>::new();
        let mut out = Vec::new();
        for &b in bytes {
            match reader.push(b) {
                Some(FrameEvent::Frame(f)) => out.push(decode_frame(f).map(owned)),
                Some(FrameEvent::Oversized) => out.push(Err(FrameError::Oversized)),
                None => {}
            }
        }
        out
    }

    #[test]
    fn golden_bytes() {
        assert_eq!(frame_of(&Request::Info), [0x01, 0x01, 0x00]);
        let p = Prediction { digit: 7, probabilities: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5] };
        let mut buf = [0u8; MAX_RESPONSE_FRAME];
        let frame = encode_frame(&Response::Prediction(p), &mut buf).unwrap();
        #[rustfmt::skip]
        let expected = [
            0x03, 0x01, 0x07, // block [tag 1, digit 7], then a zero
            // 29 more zeros (seven 0.0s and the low half of 1.0) are empty blocks
            0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
            0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
            0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
            0x03, 0x80, 0x3f, // top half of 1.0
            0x01, 0x01, 0x01, 0x01, 0x01, 0x01, // 0.0 and the low bytes of 0.5
            0x02, 0x3f, 0x00, // top byte of 0.5, delimiter
        ];
        assert_eq!(frame.to_vec(), expected.to_vec());
        // One pixel of 9 at index 1: tag, length 11, then 0,1 | 9 | 782 zeros as 255+255+255+17.
        let mut pixels = [0u8; INPUT];
        pixels[1] = 9;
        let payload = postcard::to_allocvec(&Request::Classify(PixelBytes::raw(&pixels))).unwrap();
        assert_eq!(payload, [1, 11, 0, 1, 9, 0, 255, 0, 255, 0, 255, 0, 17]);
    }

    #[test]
    fn images_round_trip_raw_and_compressed() {
        let noisy = core::array::from_fn(|i| (i % 2) as u8 * 200);
        for image in [digit_like(), [0; INPUT], [255; INPUT], noisy] {
            let frame = frame_of(&Request::Classify(PixelBytes::raw(&image)));
            assert!(frame.len() <= MAX_REQUEST_FRAME);
            assert_eq!(read_frames::<MAX_REQUEST_FRAME>(&frame), [Ok(Owned::Classify(image))]);
        }
        assert!(frame_of(&Request::Classify(PixelBytes::raw(&digit_like()))).len() < 200);
    }

    #[test]
    fn bad_zero_runs_are_rejected() {
        for bad in [&[0u8, 0][..], &[0, 255, 0, 255, 0, 255, 0, 255], &[5; 783], &[0]] {
            let mut payload = vec![1u8, bad.len() as u8];
            if bad.len() > 127 {
                payload = vec![1, (bad.len() as u8) | 0x80, (bad.len() >> 7) as u8];
            }
            payload.extend_from_slice(bad);
            let mut buf = vec![0u8; 2000];
            let n = cobs::encode(&payload, &mut buf);
            assert_eq!(decode_frame::<Request>(&mut buf[..n]), Err(FrameError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn garbage_between_frames_costs_one_error_each() {
        let mut stream = Vec::new();
        stream.extend(frame_of(&Request::Info));
        stream.extend([0x00, 0x00]); // empty frames: ignored
        stream.extend([0x05, 0xff, 0x00]); // COBS says 4 more bytes, gets 1
        stream.extend([0x02, 0x09, 0x00]); // valid COBS, unknown variant 9
        stream.extend([0x02, 0x01, 0x00]); // Classify with no image
        stream.extend([0x01, 0x02, 0x03, 0x00]); // Info followed by a stray byte
        stream.extend(vec![0x07; 5000]); // oversized
        stream.push(0x00);
        stream.extend(frame_of(&Request::Classify(PixelBytes::raw(&digit_like()))));
        assert_eq!(
            read_frames::<MAX_REQUEST_FRAME>(&stream),
            [
                Ok(Owned::Info),
                Err(FrameError::BadFraming),
                Err(FrameError::Malformed),
                Err(FrameError::Truncated),
                Err(FrameError::Malformed),
                Err(FrameError::Oversized),
                Ok(Owned::Classify(digit_like())),
            ]
        );
    }

    /// The bound is counted by hand (postcard's `MaxSize` is behind its experimental
    /// derive, and its `heapless` impls are for another heapless): every response at
    /// its largest must fit, so a new field that breaks the count fails here.
    #[test]
    fn largest_responses_fit_the_bound() {
        let longest_board = heapless::String::try_from("x".repeat(BOARD_NAME_LEN).as_str()).unwrap();
        let largest = [
            Response::Info(DeviceInfo {
                protocol_version: u16::MAX,
                format_version: u16::MAX,
                model_checksum: u32::MAX,
                board: longest_board,
            }),
            Response::Prediction(Prediction { digit: u8::MAX, probabilities: [f32::MAX; 10] }),
            Response::Error(FrameError::Malformed),
            Response::Stats(DeviceStats { stack_peak: u32::MAX, stack_size: u32::MAX }),
        ];
        for response in largest {
            let mut buf = [0u8; MAX_RESPONSE_FRAME];
            assert!(encode_frame(&response, &mut buf).is_ok(), "{response:?} does not fit {MAX_RESPONSE_FRAME} bytes");
        }
    }

    #[test]
    fn device_info_round_trips() {
        let info = Response::Info(DeviceInfo {
            protocol_version: PROTOCOL_VERSION,
            format_version: 1,
            model_checksum: 0xdead_beef,
            board: heapless::String::try_from("mps2-an386").unwrap(),
        });
        let mut buf = [0u8; MAX_RESPONSE_FRAME];
        let frame = encode_frame(&info, &mut buf).unwrap();
        let n = frame.len() - 1;
        assert_eq!(decode_frame::<Response>(&mut frame[..n]), Ok(info));
    }

    /// A Classify's byte-string length is a 32-bit varint on every target, as
    /// on the boards: a host gives the answers a board gives.
    #[test]
    fn a_length_varint_past_32_bits_is_malformed_everywhere() {
        let decode = |payload: &[u8]| {
            let mut buf = [0u8; 16];
            let start = 16 - payload.len();
            buf[start..].copy_from_slice(payload);
            let len = framing::encode_in_place(&mut buf, start, 16).unwrap();
            decode_frame::<Request>(&mut buf[..len - 1]).map(|_| ())
        };
        assert_eq!(decode(&[1, 0xff, 0xff, 0xff, 0xff, 0xff]), Err(FrameError::Malformed));
        assert_eq!(decode(&[1, 0x80, 0x80, 0x80, 0x80, 0x10]), Err(FrameError::Malformed));
        assert_eq!(decode(&[0x81, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]), Err(FrameError::Malformed));
        assert_eq!(decode(&[1, 0xff, 0xff, 0xff, 0xff]), Err(FrameError::Truncated));
        assert_eq!(decode(&[1, 0x80, 0x80, 0x80, 0x80, 0x0f]), Err(FrameError::Truncated));
        assert_eq!(decode(&[2, 0xff, 0xff, 0xff, 0xff, 0xff]), Err(FrameError::Malformed));
    }
}
