//! Zeroed byte buffers for the few big arrays (MNIST's 47 MB of training
//! images, 8 MB of test images), in anonymous memory marked for transparent
//! huge pages. Writing a fresh 4 KB page costs a page fault, about 2 µs on the
//! VM this is developed on: the 13,000 of these two files were a twentieth of
//! `train`'s wall time. With 2 MB pages the kernel takes a few dozen faults.
//! Where the mapping or the hint is refused, plain heap memory does the job.
use std::ops::{Deref, DerefMut};

/// Below this a buffer cannot hold a whole huge page, so the heap serves it.
const HUGE_PAGE: usize = 2 << 20;

/// `len` zero bytes, in huge pages where the system offers them.
pub struct ZeroedBytes(Storage);

enum Storage {
    Mapped(memmap2::MmapMut),
    Heap(Vec<u8>),
}

impl ZeroedBytes {
    /// `len` zero bytes.
    pub fn new(len: usize) -> ZeroedBytes {
        if len >= HUGE_PAGE {
            if let Ok(map) = memmap2::MmapMut::map_anon(len) {
                // Only a hint: without it the pages are 4 KB, and nothing else changes.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return ZeroedBytes(Storage::Mapped(map));
            }
        }
        ZeroedBytes(Storage::Heap(vec![0; len]))
    }

    /// True if the bytes are a mapping (not heap memory); for tests.
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Storage::Mapped(_))
    }
}

impl From<Vec<u8>> for ZeroedBytes {
    /// Bytes already on the heap, kept there (no copy).
    fn from(bytes: Vec<u8>) -> Self {
        ZeroedBytes(Storage::Heap(bytes))
    }
}

impl Deref for ZeroedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Storage::Mapped(map) => map,
            Storage::Heap(bytes) => bytes,
        }
    }
}

impl DerefMut for ZeroedBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Storage::Mapped(map) => map,
            Storage::Heap(bytes) => bytes,
        }
    }
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
}
