//! Any bytes as an IDX file on disk, through the path users run: gunzip (every
//! member) or a plain copy, then the image and label parsers. An error or a
//! dataset, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-idx.gz");
    let Ok(bytes) = trainer::mnist::decode_idx(path, data) else { return };
    if let Ok(labels) = trainer::mnist::parse_labels(path, bytes.as_slice()) {
        assert!(labels.iter().all(|&l| l < 10));
    }
    let len = bytes.as_slice().len();
    if let Ok(images) = trainer::mnist::images_from(path, bytes) {
        assert!(images.len() * shared::INPUT + 16 <= len);
    }
});
