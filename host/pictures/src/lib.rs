//! Pictures a person hands the CLI: a photo or drawing to the 28×28 input
//! MNIST's recipe makes, or the reason it is not a digit ([`photo`]); and,
//! behind the `synthetic` feature, photos made from test digits and from
//! digits in handwriting fonts to measure that on ([`synthetic`]).
pub mod photo;
#[cfg(feature = "synthetic")]
pub mod synthetic;
