//! Any bytes as a response frame (what the host reads from a device): never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::protocol::{decode_frame, encode_frame, Response, MAX_RESPONSE_FRAME};

fuzz_target!(|data: &[u8]| {
    let mut frame = data.to_vec();
    if let Ok(response) = decode_frame::<Response>(&mut frame) {
        let mut buf = [0u8; MAX_RESPONSE_FRAME];
        let encoded = encode_frame(&response, &mut buf).expect("a decoded response re-encodes");
        let n = encoded.len() - 1;
        assert_eq!(decode_frame::<Response>(&mut encoded[..n]), Ok(response));
    }
});
