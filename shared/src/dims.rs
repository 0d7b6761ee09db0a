//! The network's fixed dimensions, which everything else is built around.

/// An image is `SIDE × SIDE` pixels (MNIST's 28).
pub const SIDE: usize = 28;
/// Input pixels: a 28×28 grayscale image, row-major.
pub const INPUT: usize = SIDE * SIDE;
/// Hidden ReLU units.
pub const HIDDEN: usize = 10;
/// Output classes (digits 0–9).
pub const OUTPUT: usize = 10;
