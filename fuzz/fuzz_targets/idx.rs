//! Any bytes as IDX image and label files: an error or a dataset, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    if let Ok(images) = host::mnist::parse_images(path, data) {
        assert!(images.len() * 784 + 16 <= data.len());
    }
    if let Ok(labels) = host::mnist::parse_labels(path, data) {
        assert!(labels.iter().all(|&l| l < 10));
    }
});
