//! Any bytes as a response frame (what the host reads from a device): never a
//! panic; whatever decodes re-encodes stably (compared as bytes, since a
//! probability may be NaN and NaN != NaN).
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::wire::protocol::{decode_frame, encode_frame, Response, MAX_RESPONSE_FRAME};

fn reencode(response: &Response) -> Vec<u8> {
    let mut buf = [0u8; MAX_RESPONSE_FRAME];
    encode_frame(response, &mut buf).expect("a decoded response re-encodes").to_vec()
}

fuzz_target!(|data: &[u8]| {
    let mut frame = data.to_vec();
    if let Ok(response) = decode_frame::<Response>(&mut frame) {
        let first = reencode(&response);
        let mut again = first.clone();
        let n = again.len() - 1;
        let back = decode_frame::<Response>(&mut again[..n]).expect("re-encoded response decodes");
        assert_eq!(reencode(&back), first);
    }
});
