//! Any bytes given as a weight file: an error or weights, never a panic, and
//! the compile-time decoder agrees with the postcard one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::weights_file::{decode, decode_const};

fuzz_target!(|data: &[u8]| {
    let runtime = decode(data);
    let constant = decode_const(data);
    match (&runtime, &constant) {
        (Ok((a, _)), Ok(b)) => assert!(a.parameters().map(f32::to_bits).eq(b.parameters().map(f32::to_bits))),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("decoders disagree: {runtime:?} vs {constant:?}"),
    }
});
