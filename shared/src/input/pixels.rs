//! A 28×28 image as the network reads it: its nonzero pixels, in ascending order.
//!
//! Images are stored in one of two byte forms — raw (784 bytes, one per pixel)
//! or zero-run encoded (a nonzero byte stands for itself, `0, n` for n zero
//! pixels, n in 1..=255) — and both forward passes read either form through
//! [`NonzeroPixels::for_each_nonzero`]. The device classifies straight from the received bytes
//! (no 784-byte copy), the host from its raw arrays, with the same code.
use crate::dims::{INPUT, SIDE};

/// An image's bytes in one of the two forms, checked to describe exactly 784 pixels.
/// Two are equal when they describe the same pixels, whatever their forms.
#[derive(Clone, Copy, Debug)]
pub struct PixelBytes<'a> {
    bytes: &'a [u8],
}

impl PartialEq for PixelBytes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.to_array() == other.to_array()
    }
}

impl Eq for PixelBytes<'_> {}

impl<'a> PixelBytes<'a> {
    /// Raw pixels, one byte each.
    pub const fn raw(pixels: &'a [u8; INPUT]) -> PixelBytes<'a> {
        PixelBytes { bytes: pixels }
    }

    /// Bytes in either form; `None` unless they describe exactly 784 pixels.
    /// Exactly 784 bytes are raw; anything else is read as zero runs.
    pub fn new(bytes: &'a [u8]) -> Option<PixelBytes<'a>> {
        if bytes.len() == INPUT {
            return Some(PixelBytes { bytes });
        }
        let mut count = 0usize;
        let mut input = bytes.iter();
        while let Some(&b) = input.next() {
            count += if b != 0 {
                1
            } else {
                match input.next() {
                    Some(&run) if run > 0 => usize::from(run),
                    _ => return None,
                }
            };
            if count > INPUT {
                return None;
            }
        }
        (count == INPUT).then_some(PixelBytes { bytes })
    }

    /// The bytes as they travel.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The image row by row (28 pixels each, [`Rows::next_into`]), decoding
    /// zero runs as it goes: how the deskew reads a received image without a
    /// 784-byte copy.
    pub fn rows(&self) -> Rows<'a> {
        match <&[u8; INPUT]>::try_from(self.bytes) {
            Ok(raw) => Rows::Raw(raw.as_chunks::<SIDE>().0.iter()),
            Err(_) => Rows::Runs { bytes: self.bytes.iter(), zeros: 0, left: SIDE },
        }
    }

    /// Calls `f(x, y, pixel)` for every nonzero pixel in order, with its
    /// column and row: raw bytes four at a time, zero runs skipped whole. How
    /// the deskew measures the ink of a received image.
    #[inline(always)]
    pub fn for_each_inked(&self, mut f: impl FnMut(i32, i32, i32)) {
        if let Ok(raw) = <&[u8; INPUT]>::try_from(self.bytes) {
            for (y, row) in (0i32..).zip(raw.as_chunks::<SIDE>().0) {
                for (x, quad) in (0i32..).step_by(4).zip(row.as_chunks::<4>().0) {
                    if u32::from_ne_bytes(*quad) != 0 {
                        for (x, &p) in (x..).zip(quad) {
                            if p != 0 {
                                f(x, y, i32::from(p));
                            }
                        }
                    }
                }
            }
            return;
        }
        // `new` checked that the runs and pixels add up to exactly 784: y stays below 28.
        let (mut x, mut y) = (0i32, 0i32);
        let mut bytes = self.bytes.iter();
        while let Some(&b) = bytes.next() {
            x += if b != 0 {
                f(x, y, i32::from(b));
                1
            } else {
                bytes.next().map_or(0, |&run| i32::from(run))
            };
            while x >= SIDE as i32 {
                (x, y) = (x - SIDE as i32, y + 1);
            }
        }
    }

    /// All 784 pixels.
    pub fn to_array(&self) -> [u8; INPUT] {
        if let Ok(raw) = <&[u8; INPUT]>::try_from(self.bytes) {
            return *raw;
        }
        // Zero runs, which `new` checked add up to exactly 784 pixels.
        let mut pixels = [0u8; INPUT];
        let mut at = 0usize;
        let mut bytes = self.bytes.iter();
        while let Some(&b) = bytes.next() {
            if b != 0 {
                if let Some(slot) = pixels.get_mut(at) {
                    *slot = b;
                }
                at += 1;
            } else {
                let Some(&run) = bytes.next() else { break };
                at += usize::from(run);
            }
        }
        pixels
    }
}

/// Writes the zero-run form of `pixels` into `out`; `None` if it would not be
/// shorter than the 784 raw bytes (then send those).
pub fn zero_run_encode(pixels: &[u8; INPUT], out: &mut [u8; INPUT]) -> Option<usize> {
    let mut len = 0;
    let mut rest = pixels.iter().peekable();
    while let Some(&p) = rest.next() {
        let chunk: &[u8] = if p != 0 {
            &[p]
        } else {
            let mut run: u8 = 1;
            while run < u8::MAX && rest.next_if_eq(&&0).is_some() {
                run += 1;
            }
            &[0, run]
        };
        if len + chunk.len() >= INPUT {
            return None;
        }
        out.get_mut(len..len + chunk.len())?.copy_from_slice(chunk);
        len += chunk.len();
    }
    Some(len)
}

/// The bytes a host sends for `pixels` (docs/format.md §3.3): the zero-run
/// form, written into `buf`, when it is shorter; else the 784 raw bytes.
pub fn wire_form<'a>(pixels: &'a [u8; INPUT], buf: &'a mut [u8; INPUT]) -> &'a [u8] {
    match zero_run_encode(pixels, buf) {
        Some(len) => buf.get(..len).unwrap_or(pixels),
        None => pixels,
    }
}

/// A source of an image's nonzero pixels in ascending index order: the
/// received bytes ([`PixelBytes`]), or an image being preprocessed on the way
/// in (`preprocess::Normalised`). Both forward passes read their input
/// through this, so the first layer's sums are formed the same way whatever
/// the source.
pub trait NonzeroPixels {
    /// Calls `f(pixel, row)` for every nonzero pixel in ascending index order,
    /// with `rows[index]`: the first layer's loop, written once for host and device.
    fn for_each_nonzero<T>(self, rows: &[T; INPUT], f: impl FnMut(u8, &T));
}

impl NonzeroPixels for PixelBytes<'_> {
    /// Raw bytes are scanned four at a time (one 32-bit test skips four blank
    /// pixels); zero runs skip their rows without looking at them.
    #[inline(always)]
    fn for_each_nonzero<T>(self, rows: &[T; INPUT], mut f: impl FnMut(u8, &T)) {
        if let Ok(raw) = <&[u8; INPUT]>::try_from(self.bytes) {
            for_each_nonzero_in(raw, rows, f);
            return;
        }
        // `new` checked that the runs and pixels add up to exactly 784, so the
        // rows never run out early; if they did, the walk would just stop.
        let mut rows: &[T] = rows;
        let mut bytes = self.bytes.iter();
        while let Some(&b) = bytes.next() {
            if b != 0 {
                let Some((row, rest)) = rows.split_first() else { return };
                f(b, row);
                rows = rest;
            } else {
                let Some(&run) = bytes.next() else { return };
                rows = rows.get(usize::from(run)..).unwrap_or_default();
            }
        }
    }
}

impl NonzeroPixels for &[u8; INPUT] {
    /// A raw image: as [`PixelBytes::raw`] reads it.
    #[inline(always)]
    fn for_each_nonzero<T>(self, rows: &[T; INPUT], f: impl FnMut(u8, &T)) {
        for_each_nonzero_in(self, rows, f);
    }
}

/// `f(pixel, row)` for the nonzero pixels of `pixels`, in order, with the
/// matching `rows` entry; four pixels per 32-bit test.
#[inline(always)]
pub fn for_each_nonzero_in<T, const N: usize>(pixels: &[u8; N], rows: &[T; N], mut f: impl FnMut(u8, &T)) {
    let (pixel_quads, _) = pixels.as_chunks::<4>();
    let (row_quads, _) = rows.as_chunks::<4>();
    for (quad, rows) in pixel_quads.iter().zip(row_quads) {
        if u32::from_ne_bytes(*quad) != 0 {
            for (&pixel, row) in quad.iter().zip(rows) {
                if pixel != 0 {
                    f(pixel, row);
                }
            }
        }
    }
}

/// An image's rows in order ([`PixelBytes::rows`]).
pub enum Rows<'a> {
    /// Rows of raw bytes, borrowed.
    Raw(core::slice::Iter<'a, [u8; SIDE]>),
    /// Rows decoded from zero runs.
    Runs {
        /// What is left to decode.
        bytes: core::slice::Iter<'a, u8>,
        /// Zeros of a run not yet given out (a run may span rows).
        zeros: usize,
        /// Rows not yet given out.
        left: usize,
    },
}

impl Rows<'_> {
    /// Writes the next row into `row`, zeros once the rows have run out: the
    /// deskew's window decodes each source row once, in place.
    pub fn next_into(&mut self, row: &mut [u8; SIDE]) {
        match self {
            Rows::Raw(rows) => match rows.next() {
                Some(next) => *row = *next,
                None => *row = [0; SIDE],
            },
            Rows::Runs { bytes, zeros, left } => {
                *row = [0; SIDE];
                let Some(rest) = left.checked_sub(1) else { return };
                *left = rest;
                let mut at = 0;
                while at < SIDE {
                    if *zeros > 0 {
                        let n = (*zeros).min(SIDE - at);
                        at += n;
                        *zeros -= n;
                        continue;
                    }
                    // `new` checked the runs; bytes that end early leave zeros.
                    match bytes.next() {
                        Some(&0) => *zeros = bytes.next().map_or(0, |&n| usize::from(n)),
                        Some(&p) => {
                            if let Some(slot) = row.get_mut(at) {
                                *slot = p;
                            }
                            at += 1;
                        }
                        None => break,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digit_like() -> [u8; INPUT] {
        core::array::from_fn(|i| if (i / SIDE) % 7 == 3 && i % SIDE > 5 { (i % 250) as u8 + 1 } else { 0 })
    }

    fn nonzero(image: PixelBytes) -> Vec<(usize, u8)> {
        let rows: [usize; INPUT] = core::array::from_fn(|i| i);
        let mut seen = Vec::new();
        image.for_each_nonzero(&rows, |p, &i| seen.push((i, p)));
        seen
    }

    #[test]
    fn both_forms_give_the_same_nonzero_pixels() {
        for pixels in [digit_like(), [0; INPUT], [255; INPUT], core::array::from_fn(|i| (i % 2) as u8 * 200)] {
            let expected: Vec<(usize, u8)> = pixels.iter().copied().enumerate().filter(|&(_, p)| p != 0).collect();
            assert_eq!(nonzero(PixelBytes::raw(&pixels)), expected);
            let mut buf = [0u8; INPUT];
            if let Some(len) = zero_run_encode(&pixels, &mut buf) {
                let encoded = PixelBytes::new(&buf[..len]).unwrap();
                assert_eq!(nonzero(encoded), expected);
                assert_eq!(encoded.to_array(), pixels);
            }
        }
    }

    #[test]
    fn rows_are_visited_in_order_for_both_forms() {
        let rows: [usize; INPUT] = core::array::from_fn(|i| i);
        for pixels in [digit_like(), [0; INPUT], [255; INPUT], core::array::from_fn(|i| (i % 3) as u8 * 100)] {
            let expected: Vec<(u8, usize)> =
                pixels.iter().enumerate().filter(|(_, p)| **p != 0).map(|(i, p)| (*p, i)).collect();
            let mut seen = Vec::new();
            PixelBytes::raw(&pixels).for_each_nonzero(&rows, |p, &i| seen.push((p, i)));
            assert_eq!(seen, expected);
            let mut buf = [0u8; INPUT];
            if let Some(len) = zero_run_encode(&pixels, &mut buf) {
                seen.clear();
                PixelBytes::new(&buf[..len]).unwrap().for_each_nonzero(&rows, |p, &i| seen.push((p, i)));
                assert_eq!(seen, expected);
            }
        }
    }

    #[test]
    fn rows_decode_both_forms() {
        // All 28 rows, then two more: zeros past the last.
        let decode = |image: PixelBytes| {
            let mut rows = image.rows();
            (0..SIDE + 2)
                .map(|_| {
                    let mut row = [7; SIDE];
                    rows.next_into(&mut row);
                    row
                })
                .collect::<Vec<_>>()
        };
        for pixels in [digit_like(), [0; INPUT], [255; INPUT], core::array::from_fn(|i| (i % 3) as u8 * 100)] {
            let mut expected: Vec<[u8; SIDE]> = pixels.as_chunks::<SIDE>().0.to_vec();
            expected.extend([[0; SIDE]; 2]);
            assert_eq!(decode(PixelBytes::raw(&pixels)), expected);
            let mut buf = [0u8; INPUT];
            if let Some(len) = zero_run_encode(&pixels, &mut buf) {
                assert_eq!(decode(PixelBytes::new(&buf[..len]).unwrap()), expected);
            }
        }
    }

    #[test]
    fn malformed_zero_runs_are_refused() {
        assert_eq!(PixelBytes::new(&[0, 0]), None, "run of zero");
        assert_eq!(PixelBytes::new(&[0]), None, "run without a length");
        assert_eq!(PixelBytes::new(&[0, 255, 0, 255, 0, 255, 0, 255]), None, "1,020 pixels");
        assert_eq!(PixelBytes::new(&[0, 255, 0, 255, 0, 255, 0, 18]), None, "783 pixels");
        assert!(PixelBytes::new(&[0, 255, 0, 255, 0, 255, 0, 19]).is_some(), "784 zeros");
        assert!(PixelBytes::new(&[]).is_none());
    }
}
