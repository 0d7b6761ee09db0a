//! The contract between the trainer on the desktop and the firmware on the board.
//!
//! Everything both sides must agree on lives here and nowhere else:
//! - [`boards`]: the boards the firmware runs on and how each is emulated,
//! - [`classes`]: what the ten outputs mean (digits or Fashion-MNIST),
//! - [`dims`]: the network's fixed sizes (28×28 → 10 → 10),
//! - [`framing`]: COBS, the framing of every UART message,
//! - [`int_math`]: exact integer division and square root for the fixed-point code,
//! - [`int_softmax`]: the int8 network's softmax, in integers,
//! - [`model_kind`]: f32 or int8, which decoder a weight file goes to,
//! - [`network`]: the fixed 784→10→10 network and its one `forward` pass,
//! - [`pixels`]: an image's nonzero pixels, read from raw or zero-run bytes,
//! - [`preprocess`]: deskew and size normalisation a model can ask for,
//! - [`quantized`]: the int8 version of the network and its file,
//! - [`soft_float`]: bit-exact f32 multiply and add for cores without an FPU,
//! - [`weights_file`]: the on-disk / in-flash weight format,
//! - [`protocol`]: every type that crosses the UART.
//!
//! The crate is `no_std`, allocation-free and free of `unsafe`, so the same
//! code runs on a Cortex-M0+ and on the host, bit for bit.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Nothing input can reach may panic: no unwrap, expect, panicking index or panic!.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod boards;
pub mod classes;
pub mod dims;
pub mod framing;
pub mod int_math;
pub mod int_softmax;
pub mod model_kind;
pub mod network;
pub mod pixels;
pub mod preprocess;
pub mod protocol;
pub mod quantized;
pub mod soft_float;
pub mod weights_file;

pub use classes::Classes;
pub use dims::{HIDDEN, INPUT, OUTPUT, SIDE};
pub use model_kind::ModelKind;
pub use network::{forward, Classifier, Prediction, Weights};
pub use pixels::PixelBytes;
pub use quantized::{forward_int8, QuantizedWeights};
