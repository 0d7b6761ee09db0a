//! Zeroed buffers for the few big arrays (MNIST's 47 MB of training images,
//! 8 MB of test images, the trainer's 33 MB of pixel lists), in anonymous
//! memory marked for transparent huge pages. Writing a fresh 4 KB page costs a
//! page fault, about 2 µs on the VM this is developed on: the 21,000 of these
//! arrays were a tenth of `train`'s wall time. With 2 MB pages the kernel takes
//! a few dozen faults, and the trainer's random reads of the pixel lists miss
//! the TLB less. Where the mapping or the hint is refused, plain heap memory
//! does the job.
use std::ops::{Deref, DerefMut};

use bytemuck::Pod;

/// Below this a buffer cannot hold a whole huge page, so the heap serves it.
const HUGE_PAGE: usize = 2 << 20;

/// `len` zeroed values of a plain-bytes type, in huge pages where the system offers them.
pub struct Zeroed<T: Pod>(Storage<T>);

/// Zeroed bytes.
pub type ZeroedBytes = Zeroed<u8>;

enum Storage<T> {
    /// A page-aligned mapping, so any `T` of alignment up to 4 KB fits its start.
    Mapped {
        map: memmap2::MmapMut,
        len: usize,
    },
    Heap(Vec<T>),
}

impl<T: Pod> Zeroed<T> {
    /// `len` zeroed values.
    pub fn new(len: usize) -> Self {
        let bytes = len.saturating_mul(size_of::<T>());
        if bytes >= HUGE_PAGE {
            if let Ok(map) = memmap2::MmapMut::map_anon(bytes) {
                // Only a hint: without it the pages are 4 KB, and nothing else changes.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return Zeroed(Storage::Mapped { map, len });
            }
        }
        Zeroed(Storage::Heap(vec![T::zeroed(); len]))
    }

    /// True if the values are in a mapping (not heap memory); for tests.
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Storage::Mapped { .. })
    }
}

impl<T: Pod> From<Vec<T>> for Zeroed<T> {
    /// Values already on the heap, kept there (no copy).
    fn from(values: Vec<T>) -> Self {
        Zeroed(Storage::Heap(values))
    }
}

impl<T: Pod> Deref for Zeroed<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.0 {
            Storage::Mapped { map, len } => bytemuck::cast_slice(&map[..len * size_of::<T>()]),
            Storage::Heap(values) => values,
        }
    }
}

impl<T: Pod> DerefMut for Zeroed<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Storage::Mapped { map, len } => bytemuck::cast_slice_mut(&mut map[..*len * size_of::<T>()]),
            Storage::Heap(values) => values,
        }
    }
}

/// `buffer` cut into consecutive pieces of `sizes` (which must not add up
/// to more than its length), so that each piece can be filled on its own
/// thread.
pub fn cut_into<'a, T>(mut buffer: &'a mut [T], sizes: &[usize]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let (piece, rest) = buffer.split_at_mut(size);
        pieces.push(piece);
        buffer = rest;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_big_buffers_are_zeroed_and_writable() {
        for len in [0, 1, 4096, HUGE_PAGE - 1, HUGE_PAGE, 3 * HUGE_PAGE + 5] {
            let mut bytes = ZeroedBytes::new(len);
            assert_eq!(bytes.len(), len);
            assert!(bytes.iter().all(|&b| b == 0));
            if let Some(last) = bytes.last_mut() {
                *last = 7;
                assert_eq!(bytes[len - 1], 7);
            }
        }
        assert!(!ZeroedBytes::new(HUGE_PAGE - 1).is_mapped());
        #[cfg(target_os = "linux")]
        assert!(ZeroedBytes::new(HUGE_PAGE).is_mapped());
    }

    #[test]
    fn cut_into_gives_consecutive_pieces() {
        let mut values = [0, 1, 2, 3, 4, 5];
        let pieces = cut_into(&mut values, &[2, 0, 3]);
        assert_eq!(pieces, [&mut [0, 1][..], &mut [][..], &mut [2, 3, 4][..]]);
    }

    #[test]
    fn typed_buffers_hold_their_values() {
        for len in [3, HUGE_PAGE / 4 + 1] {
            let mut values = Zeroed::<[u16; 2]>::new(len);
            assert_eq!(values.len(), len);
            assert!(values.iter().all(|&v| v == [0, 0]));
            values[len - 1] = [1, 2];
            assert_eq!(values.last(), Some(&[1, 2]));
        }
    }
}
