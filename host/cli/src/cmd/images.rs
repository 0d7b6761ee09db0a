//! The images a command is pointed at: test images by index or range, and
//! 28×28 PGMs in MNIST form (`predict` and `classify` read them the same way).
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result};
use trainer::mnist::Dataset;

use crate::render::parse_pgm;

/// A 28×28 PGM in MNIST form, as it is.
pub fn read_pgm(path: &Path) -> Result<trainer::mnist::Pixels> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_pgm(&bytes).with_context(|| format!("{}", path.display()))
}

/// The test images `range` picks (`what` names the option in messages), with their labels.
pub fn test_images(test: &Dataset, range: Range<usize>, what: &str) -> Result<Dataset> {
    if range.is_empty() {
        return Err(super::usage(format!("{what} is empty: the end is exclusive, e.g. 0..100 for the first hundred")));
    }
    if range.end > test.len() {
        return Err(super::usage(format!(
            "{what} is out of range: the test set has {} images (0-{})",
            test.len(),
            test.len().saturating_sub(1)
        )));
    }
    Ok(test.select(&range.collect::<Vec<_>>()))
}

/// `START..END`, end exclusive.
pub fn parse_range(s: &str) -> Result<Range<usize>> {
    let wrong = || super::usage(format!("--range {s:?}: expected START..END, e.g. 0..100"));
    let (a, b) = s.split_once("..").ok_or_else(wrong)?;
    let a: usize = a.trim().parse().map_err(|_| wrong())?;
    let b: usize = b.trim().parse().map_err(|_| wrong())?;
    Ok(a..b)
}
