//! Any bytes given as a weight file: an error or weights, never a panic, and
//! the compile-time decoder agrees with the postcard one. Each input is also
//! tried with its checksum fixed up, so the fuzzer gets past the CRC.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::format::weights_file::{decode, decode_const, FILE_LEN};

fn agree(data: &[u8]) {
    let runtime = decode(data);
    let constant = decode_const(data);
    match (&runtime, &constant) {
        (Ok((a, _)), Ok(b)) => assert!(a.parameters().map(f32::to_bits).eq(b.parameters().map(f32::to_bits))),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("decoders disagree: {runtime:?} vs {constant:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    agree(data);
    if data.len() == FILE_LEN {
        let mut fixed = data.to_vec();
        let crc = crc32(&fixed[..FILE_LEN - 4]);
        fixed[FILE_LEN - 4..].copy_from_slice(&crc.to_le_bytes());
        agree(&fixed);
    }
});

/// CRC-32/ISO-HDLC, bitwise: an independent implementation of the file's checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
