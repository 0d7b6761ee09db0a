//! Any bytes as a Kaggle-style CSV file: an error or a dataset, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok((dataset, _)) = trainer::kaggle_csv::parse(Path::new("fuzz.csv"), data) {
        assert_eq!(dataset.images.len(), dataset.labels.len());
        assert!(dataset.labels.iter().all(|&l| l < 10));
    }
});
