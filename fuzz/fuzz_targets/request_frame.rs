//! Any byte stream into the firmware's frame reader and request decoder:
//! never a panic; whatever decodes re-encodes to something that decodes the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::wire::protocol::{decode_frame, encode_frame, FrameEvent, FrameReader, Request, MAX_REQUEST_FRAME};

fuzz_target!(|data: &[u8]| {
    let mut reader = FrameReader::<MAX_REQUEST_FRAME>::new();
    for &byte in data {
        if let Some(FrameEvent::Frame(frame)) = reader.push(byte) {
            if let Ok(request) = decode_frame::<Request>(frame) {
                let mut buf = [0u8; MAX_REQUEST_FRAME];
                let encoded = encode_frame(&request, &mut buf).expect("a decoded request re-encodes");
                let n = encoded.len() - 1;
                assert_eq!(decode_frame::<Request>(&mut encoded[..n]), Ok(request));
            }
        }
    }
});
