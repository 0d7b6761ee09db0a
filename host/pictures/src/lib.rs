//! Pictures a person hands the CLI: a photo or drawing to the 28×28 input
//! MNIST's recipe makes, or the reason it is not a digit ([`photo`]); and,
//! behind the `synthetic` feature, photos made from test digits and from
//! digits in handwriting fonts to measure that on ([`synthetic`]); and what
//! the network sees of an image, drawn for a person ([`view`]).
pub mod photo;
#[cfg(feature = "synthetic")]
pub mod synthetic;
pub mod view;
