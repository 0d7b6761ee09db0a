//! The application: read frames from a serial link, answer each one.
//!
//! Written once against `embedded-io`, so every board (emulated or real)
//! only supplies something that implements `Read + Write`.
use embedded_io::{Read, Write};
use shared::format::weights_file::FORMAT_VERSION;
use shared::wire::protocol::{
    decode_frame, encode_frame, DeviceInfo, DeviceStats, FrameEvent, FrameReader, Request, Response, MAX_REQUEST_FRAME,
    MAX_RESPONSE_FRAME, PROTOCOL_VERSION,
};
use shared::Classifier;

/// Bytes taken from the UART per read call.
const RX_CHUNK: usize = 32;

/// What a device says about itself.
pub fn device_info(board: &str, model_checksum: u32) -> DeviceInfo {
    let mut name = heapless::String::new();
    for c in board.chars() {
        if name.push(c).is_err() {
            break;
        }
    }
    DeviceInfo { protocol_version: PROTOCOL_VERSION, format_version: FORMAT_VERSION, model_checksum, board: name }
}

/// The protocol state of one link: frame assembly and answers.
pub struct Server<'a, C: Classifier> {
    reader: FrameReader<MAX_REQUEST_FRAME>,
    weights: &'a C,
    info: DeviceInfo,
    stats: fn() -> DeviceStats,
}

impl<'a, C: Classifier> Server<'a, C> {
    /// A server answering with `weights`, introducing itself with `info` and
    /// reporting resource use with `stats`. Built once, in place: it holds the
    /// frame buffer, and every move would cost a copy of it on the stack.
    pub fn new(weights: &'a C, info: DeviceInfo, stats: fn() -> DeviceStats) -> Self {
        Server { reader: FrameReader::new(), weights, info, stats }
    }

    /// Takes one received byte; returns the response when it ends a frame.
    pub fn on_byte(&mut self, byte: u8) -> Option<Response> {
        Some(match self.reader.push(byte)? {
            FrameEvent::Oversized => Response::Error(shared::wire::protocol::FrameError::Oversized),
            FrameEvent::Frame(frame) => match decode_frame::<Request>(frame) {
                Ok(Request::Info) => Response::Info(self.info.clone()),
                Ok(Request::Stats) => Response::Stats((self.stats)()),
                // Classified straight from the frame buffer: no 784-byte image copy.
                // (`model::Model` puts the measurement markers around the network.)
                Ok(Request::Classify(image)) => Response::Prediction(self.weights.classify_pixels(image)),
                Err(e) => Response::Error(e),
            },
        })
    }

    /// Serves `link` forever. Link errors (overruns, framing) are dropped:
    /// the bytes they cost show up as a bad frame, which gets an error answer.
    pub fn serve<L: Read + Write>(&mut self, link: &mut L) -> ! {
        let mut rx = [0u8; RX_CHUNK];
        let mut tx = [0u8; MAX_RESPONSE_FRAME];
        loop {
            let received = link.read(&mut rx).unwrap_or(0);
            for &byte in rx.iter().take(received) {
                if let Some(response) = self.on_byte(byte) {
                    // Every response fits MAX_RESPONSE_FRAME; a failed write has no one to report to.
                    if let Ok(frame) = encode_frame(&response, &mut tx) {
                        let _ = link.write_all(frame);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a failed test")]
mod tests {
    use super::*;
    use shared::wire::protocol::FrameError;
    use shared::PixelBytes;

    fn frame(request: &Request) -> Vec<u8> {
        let mut buf = [0u8; MAX_REQUEST_FRAME];
        encode_frame(request, &mut buf).unwrap().to_vec()
    }

    fn feed<C: Classifier>(server: &mut Server<C>, bytes: &[u8]) -> Vec<Response> {
        bytes.iter().filter_map(|&b| server.on_byte(b)).collect()
    }

    #[test]
    fn answers_info_classify_and_garbage() {
        let weights = &crate::model::WEIGHTS;
        let no_stats = || DeviceStats { stack_peak: 0, stack_size: 0 };
        let mut server = Server::new(weights, device_info("test", crate::model::CHECKSUM), no_stats);
        let image: [u8; shared::INPUT] = core::array::from_fn(|i| (i * 7 % 256) as u8);
        let mut stream = frame(&Request::Info);
        stream.extend([1, 2, 3, 0]); // garbage
        stream.extend(frame(&Request::Classify(PixelBytes::raw(&image))));
        let responses = feed(&mut server, &stream);
        assert_eq!(responses.len(), 3);
        assert!(matches!(&responses[0], Response::Info(i) if i.model_checksum == crate::model::CHECKSUM));
        assert!(matches!(responses[1], Response::Error(FrameError::BadFraming | FrameError::Malformed)));
        assert_eq!(responses[2], Response::Prediction(weights.classify(&image)));
    }

    #[test]
    #[cfg(not(model_int8))]
    fn const_decoded_weights_match_the_runtime_decoder() {
        let bytes = include_bytes!(concat!(env!("OUT_DIR"), "/weights.bin"));
        let (runtime, _) = shared::format::weights_file::decode(bytes).unwrap();
        assert!(runtime.parameters().map(f32::to_bits).eq(crate::model::WEIGHTS.parameters().map(f32::to_bits)));
    }
}
