//! The embedded model: decoded at compile time into a `static` in flash.
//!
//! `build.rs` sets `model_int8` when the weight file is an int8 one.
#[cfg(model_int8)]
use shared::quantized::{decode_const, model_checksum, QuantizedWeights as Network};
#[cfg(not(model_int8))]
use shared::weights_file::{decode_const, model_checksum};
#[cfg(not(model_int8))]
use shared::Weights as Network;

use crate::measure::{measured, preprocessing};
use shared::preprocess::Preprocessing;
use shared::weights_file::preprocessing_const;
use shared::{Classifier, PixelBytes, Prediction};

/// The weight file `build.rs` validated; only read at compile time.
const FILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/weights.bin"));

/// The network's parameters, read in place from flash (no RAM copy).
pub static WEIGHTS: Network = match decode_const(FILE) {
    Ok(w) => w,
    // build.rs has already rejected a bad file with a clearer message.
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};

/// What the model does to an image before its first layer (header byte 41).
pub const PREPROCESSING: Preprocessing = match preprocessing_const(FILE) {
    Ok(p) => p,
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};

/// The model as the weight file describes it: its preprocessing, then the
/// network. The preprocessing is a compile-time constant, so a model without
/// one carries none of its code.
pub struct Model;

impl Classifier for Model {
    fn classify_pixels(&self, image: PixelBytes<'_>) -> Prediction {
        // The markers count the network alone; the preprocessing has its own.
        match PREPROCESSING {
            Preprocessing::None => measured(|| WEIGHTS.classify_pixels(image)),
            Preprocessing::Deskew => {
                let input = preprocessing(|| shared::preprocess::normalise(&image.to_array()));
                measured(|| WEIGHTS.classify(&input))
            }
        }
    }
}

/// CRC-32 of the weight file: the model's identity, reported by `Info`.
pub const CHECKSUM: u32 = match model_checksum(FILE) {
    Ok(c) => c,
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};
