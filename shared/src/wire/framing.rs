//! COBS (consistent overhead byte stuffing), the framing of every message on the UART.
//!
//! Written here rather than taken from the `cobs` crate or postcard's COBS
//! flavour because theirs index slices directly: the bounds checks drag
//! `core::fmt`'s panic machinery into the firmware (about 1.5 KB of flash,
//! a tenth of the int8 image). These use checked access only, and decode in
//! place. The `cobs` crate stays as the reference the tests compare against.

/// Longest encoding of `len` bytes: one code byte per 254 data bytes, plus one.
pub const fn max_encoded_len(len: usize) -> usize {
    len + len / 254 + 1
}

/// Decodes one frame (without its `0x00` delimiter) in place; returns the
/// decoded length, or `None` if the frame is not valid COBS. Decoded bytes
/// never overtake encoded ones, so one buffer serves both.
pub fn decode_in_place(frame: &mut [u8]) -> Option<usize> {
    let mut read = 0;
    let mut write = 0;
    while let Some(&code) = frame.get(read) {
        if code == 0 {
            return None;
        }
        read += 1;
        for _ in 1..code {
            let byte = *frame.get(read)?;
            if byte == 0 {
                return None;
            }
            *frame.get_mut(write)? = byte;
            read += 1;
            write += 1;
        }
        if code != 0xFF && read < frame.len() {
            *frame.get_mut(write)? = 0;
            write += 1;
        }
    }
    Some(write)
}

/// Encodes `buf[start..end]` into the front of `buf`, then the `0x00`
/// delimiter; returns the frame's length. Encoding in place works because the
/// data sits at least `max_encoded_len(n) - n + 1` bytes behind the front:
/// `None` if it does not, or if `buf` is too short.
pub fn encode_in_place(buf: &mut [u8], start: usize, end: usize) -> Option<usize> {
    if start < max_encoded_len(end.checked_sub(start)?) - (end - start) {
        return None;
    }
    let mut code_at = 0;
    let mut write = 1;
    let mut code: u8 = 1;
    for read in start..end {
        if code == 0xFF {
            // A full block of 254 bytes ends here, without a zero, when more data follows.
            *buf.get_mut(code_at)? = code;
            code_at = write;
            write += 1;
            code = 1;
        }
        let byte = *buf.get(read)?;
        if byte == 0 {
            *buf.get_mut(code_at)? = code;
            code_at = write;
            write += 1;
            code = 1;
        } else {
            *buf.get_mut(write)? = byte;
            write += 1;
            code += 1;
        }
    }
    *buf.get_mut(code_at)? = code;
    *buf.get_mut(write)? = 0;
    Some(write + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(data: &[u8]) -> Vec<u8> {
        let room = max_encoded_len(data.len()) + 1;
        let mut buf = vec![0u8; room + data.len()];
        buf[room..].copy_from_slice(data);
        let n = encode_in_place(&mut buf, room, room + data.len()).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn matches_the_cobs_crate_both_ways() {
        // (The cobs crate encodes nothing as nothing; ours gives [1], also valid. Messages are never empty.)
        let cases: Vec<Vec<u8>> = vec![
            vec![0],
            vec![0, 0],
            vec![1, 2, 0, 3],
            (1..=254).collect(),
            (1..=255).collect(),
            (0..=255).cycle().take(1000).collect(),
            vec![7; 600],
        ];
        for data in cases {
            let ours = encode(&data);
            let mut reference = vec![0u8; max_encoded_len(data.len())];
            let n = cobs::encode(&data, &mut reference);
            assert_eq!(&ours[..ours.len() - 1], &reference[..n], "encode {} bytes", data.len());
            assert_eq!(*ours.last().unwrap(), 0, "delimiter");
            let mut frame = ours[..ours.len() - 1].to_vec();
            let len = decode_in_place(&mut frame).unwrap();
            assert_eq!(&frame[..len], &data[..]);
        }
    }

    #[test]
    fn invalid_frames_are_refused() {
        assert_eq!(decode_in_place(&mut [5, 1, 2]), None, "block says 4 bytes, has 2");
        assert_eq!(decode_in_place(&mut [3, 0, 1]), None, "zero inside");
        assert_eq!(decode_in_place(&mut [0]), None, "zero code");
        assert_eq!(encode_in_place(&mut [0u8; 4], 0, 4), None, "no room in front");
        assert_eq!(encode(&[]), [1, 0]);
        assert_eq!(decode_in_place(&mut [1]), Some(0));
    }
}
