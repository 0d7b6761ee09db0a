//! Frames of every kind a board may receive, each with the answer the Rust
//! firmware gives it (worked out with `shared`'s frame reader and decoder, as
//! the firmware's own are): Info, Stats and Classify (raw and zero runs), and
//! every kind of damage — random bytes, valid COBS around broken postcard
//! (cut short, lengthened, mutated), overlong varints, frames of 791 to 3,000
//! bytes, a block running past its frame, lone delimiters. The C library's
//! link is held to them on the host (its tests) and on the Uno (`cargo xtask uno`).
use shared::wire::framing::{encode_in_place, max_encoded_len};
use shared::wire::protocol::{
    decode_frame, DeviceInfo, DeviceStats, FrameError, FrameEvent, FrameReader, Request, Response, MAX_REQUEST_FRAME,
    PROTOCOL_VERSION,
};
use shared::{Classifier, PixelBytes, INPUT};
use trainer::model_file::Model;

/// Bytes sent in one go (one delimiter, at the end), and what comes back:
/// nothing for an empty frame, else one response.
pub struct Exchange {
    pub bytes: Vec<u8>,
    pub answer: Option<Response>,
}

/// What the answers' kinds are: each must come up for the check to mean something.
pub fn kind(answer: &Response) -> &'static str {
    match answer {
        Response::Info(_) => "info",
        Response::Prediction(_) => "prediction",
        Response::Stats(_) => "stats",
        Response::Error(FrameError::Oversized) => "oversized",
        Response::Error(FrameError::BadFraming) => "bad framing",
        Response::Error(FrameError::Truncated) => "truncated",
        Response::Error(FrameError::Malformed) => "malformed",
    }
}

/// For each of `images`: a Classify (zero runs, or raw every other one), now
/// and then a Stats, and one damaged frame; then the edge cases. `board` is
/// the name the device answers Info with; its Stats are 0 (not measured).
pub fn exchanges(model: &Model, images: &[[u8; INPUT]], board: &str) -> Vec<Exchange> {
    let mut next = xorshift(0x2545_f491);
    let mut sent: Vec<Vec<u8>> = vec![vec![0]]; // what the host sends first
    for (i, image) in images.iter().enumerate() {
        let classify = message(&Request::Classify(PixelBytes::raw(image)));
        if i % 2 == 0 {
            sent.push(frame(&classify));
        } else {
            // The same image as 784 raw bytes: variant 1, the length 784 as a varint, the pixels.
            sent.push(frame(&[&[1, 0x90, 0x06][..], &image[..]].concat()));
        }
        sent.push(frame(&message(&Request::Info)));
        if i % 10 == 0 {
            sent.push(frame(&message(&Request::Stats)));
        }
        let valid = [message(&Request::Info), message(&Request::Stats), classify];
        let mut damaged = valid[(next() % 3) as usize].clone();
        match next() % 6 {
            0 => damaged.truncate((next() as usize) % damaged.len()),
            1 => damaged.push(next() as u8),
            2 => {
                let at = (next() as usize) % damaged.len();
                damaged[at] = next() as u8;
            }
            3 => damaged = (0..(next() % 40)).map(|_| next() as u8).collect(),
            4 => {
                // Random nonzero bytes, as the garbage test of every board sends.
                let len = 1 + (next() as usize) % 900;
                sent.push((0..len).map(|_| 1 + (next() % 255) as u8).chain([0]).collect());
                continue;
            }
            _ => damaged = [1u8].into_iter().chain((0..(next() % 8)).map(|_| 0x80 | next() as u8)).collect(),
        }
        sent.push(frame(&damaged));
    }
    for len in [MAX_REQUEST_FRAME - 1, MAX_REQUEST_FRAME, MAX_REQUEST_FRAME + 1, 3000] {
        sent.push(std::iter::repeat_n(0x11, len).chain([0]).collect());
    }
    sent.push(vec![0x05, 0x01, 0x02, 0]); // a block running past the frame's end
    sent.push(vec![0]);

    let info = DeviceInfo {
        protocol_version: PROTOCOL_VERSION,
        format_version: 1,
        model_checksum: model.checksum,
        board: board.try_into().unwrap_or_default(),
    };
    let mut reader = FrameReader::<MAX_REQUEST_FRAME>::new();
    sent.into_iter()
        .map(|bytes| {
            let mut answer = None;
            for &b in &bytes {
                answer = match reader.push(b) {
                    Some(FrameEvent::Oversized) => Some(Response::Error(FrameError::Oversized)),
                    Some(FrameEvent::Frame(frame)) => Some(match decode_frame::<Request>(frame) {
                        Ok(Request::Info) => Response::Info(info.clone()),
                        Ok(Request::Classify(image)) => Response::Prediction(model.classify_pixels(image)),
                        Ok(Request::Stats) => Response::Stats(DeviceStats { stack_peak: 0, stack_size: 0 }),
                        Err(e) => Response::Error(e),
                    }),
                    None => answer,
                };
            }
            Exchange { bytes, answer }
        })
        .collect()
}

/// A request's postcard bytes.
fn message(request: &Request) -> Vec<u8> {
    let mut buf = [0u8; 800];
    postcard::to_slice(request, &mut buf).map(|m| m.to_vec()).unwrap_or_default()
}

/// `payload` as the host sends it: COBS, then the delimiter.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; max_encoded_len(payload.len()) + 1 + payload.len()];
    let start = buf.len() - payload.len();
    buf[start..].copy_from_slice(payload);
    let len = encode_in_place(&mut buf, start, start + payload.len()).unwrap_or(0);
    buf.truncate(len);
    buf
}

/// A small deterministic generator: the same frames on every run.
fn xorshift(mut state: u32) -> impl FnMut() -> u32 {
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}
