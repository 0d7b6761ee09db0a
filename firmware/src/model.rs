//! The embedded model: decoded at compile time into a `static` in flash.
//!
//! `build.rs` sets `model_int8` when the weight file is an int8 one.
#[cfg(model_int8)]
use shared::quantized::{decode_const, model_checksum, QuantizedWeights as Network};
#[cfg(not(model_int8))]
use shared::weights_file::{decode_const, model_checksum};
#[cfg(not(model_int8))]
use shared::Weights as Network;

/// The weight file `build.rs` validated; only read at compile time.
const FILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/weights.bin"));

/// The network's parameters, read in place from flash (no RAM copy).
pub static WEIGHTS: Network = match decode_const(FILE) {
    Ok(w) => w,
    // build.rs has already rejected a bad file with a clearer message.
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};

/// CRC-32 of the weight file: the model's identity, reported by `Info`.
pub const CHECKSUM: u32 = match model_checksum(FILE) {
    Ok(c) => c,
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};
