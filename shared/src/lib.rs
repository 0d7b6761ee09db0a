//! The contract between the trainer on the desktop and the firmware on the board.
//!
//! Everything both sides must agree on lives here and nowhere else, in four rooms:
//! - [`network`]: the fixed 784→10→10 network, f32 and int8 ([`network::int8`]),
//!   each with its one forward pass, and the exact arithmetic they use
//!   ([`network::soft_float`], [`network::int_softmax`]),
//! - [`input`]: what the first layer reads: an image's nonzero pixels
//!   ([`input::pixels`]) and the model preprocessing streamed into it ([`input::deskew`]),
//! - [`format`]: the weight files, f32 and int8, and the class sets,
//! - [`wire`]: every type that crosses the UART and its COBS framing,
//!
//! and beside them [`model`] (a network behind its preprocessing, as a file
//! describes it), [`boards`] (the boards the firmware runs on and how each is
//! emulated), [`dims`] (the fixed sizes) and [`int_math`] (exact integer
//! division and square root).
//!
//! The crate is `no_std`, allocation-free and free of `unsafe`, so the same
//! code runs on a Cortex-M0+ and on the host, bit for bit.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Nothing input can reach may panic: no unwrap, expect, panicking index or panic!.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod boards;
pub mod dims;
pub mod format;
pub mod input;
pub mod int_math;
pub mod model;
pub mod network;
pub mod wire;

pub use dims::{HIDDEN, INPUT, OUTPUT, SIDE};
pub use format::classes::Classes;
pub use format::model_kind::ModelKind;
pub use input::pixels::PixelBytes;
pub use network::int8::{forward_int8, QuantizedWeights};
pub use network::{forward, Classifier, Prediction, Weights};
