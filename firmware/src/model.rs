//! The embedded model: decoded at compile time into a `static` in flash.
//!
//! `build.rs` sets `model_int8` when the weight file is an int8 one.
#[cfg(model_int8)]
use shared::format::int8_file::{decode_const, model_checksum};
#[cfg(not(model_int8))]
use shared::format::weights_file::{decode_const, model_checksum};
#[cfg(model_int8)]
use shared::QuantizedWeights as Network;
#[cfg(not(model_int8))]
use shared::Weights as Network;

use crate::measure::{measured, PREPROCESSING_MARKERS};
use shared::format::weights_file::preprocessing_const;
use shared::input::deskew::Normalised;
use shared::input::strokes::StrokeMaps;
use shared::input::Preprocessing;
use shared::{Classifier, PixelBytes, Prediction};

/// The weight file `build.rs` validated; only read at compile time.
const FILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/weights.bin"));

/// The network, decoded at compile time.
const DECODED: Network = match decode_const(FILE) {
    Ok(w) => w,
    // build.rs has already rejected a bad file with a clearer message.
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};

/// The network's parameters, read in place from flash (no RAM copy).
pub static WEIGHTS: Network = DECODED;

/// An int8 model on the M4F: its first layer laid out for the kernel. Only one
/// of the two layouts is referenced, so only one is linked.
#[cfg(all(m4f, model_int8))]
static M4F_INT8: crate::m4f::int8::Int8Network = crate::m4f::int8::Int8Network::new(&DECODED);

/// What the model does to an image before its first layer (header byte 41).
pub const PREPROCESSING: Preprocessing = match preprocessing_const(FILE) {
    Ok(p) => p,
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};

/// The model as the weight file describes it: its preprocessing, then the
/// network, counted between the inference markers.
pub struct Model;

impl Classifier for Model {
    fn classify_normalised(&self, image: Normalised<'_>) -> Prediction {
        measured(|| WEIGHTS.classify_normalised(image))
    }

    fn classify_strokes(&self, image: StrokeMaps<'_>) -> Prediction {
        measured(|| WEIGHTS.classify_strokes(image))
    }

    /// The preprocessing's pieces inside carry their own markers, so it is
    /// counted apart too; it streams into the first layer, so no 784-byte
    /// image is held.
    fn classify_pixels(&self, image: PixelBytes<'_>) -> Prediction {
        // On the M4F, a stroke-map model's first layer runs in its kernel.
        #[cfg(m4f)]
        if PREPROCESSING == Preprocessing::Strokes {
            let maps = StrokeMaps::new(image, PREPROCESSING_MARKERS);
            #[cfg(model_int8)]
            return measured(|| M4F_INT8.classify_strokes(maps));
            #[cfg(not(model_int8))]
            return measured(|| crate::m4f::f32::classify_strokes(&WEIGHTS, maps));
        }
        // On the M3, a stroke-map model's first layer runs in its kernel.
        #[cfg(m3)]
        if PREPROCESSING == Preprocessing::Strokes {
            let maps = StrokeMaps::new(image, PREPROCESSING_MARKERS);
            #[cfg(model_int8)]
            return measured(|| crate::m3::int8::classify_strokes(&WEIGHTS, maps));
            #[cfg(not(model_int8))]
            return measured(|| crate::m3::f32::classify_strokes(&WEIGHTS, maps));
        }
        let model =
            shared::model::Model { preprocessing: PREPROCESSING, network: &WEIGHTS, markers: PREPROCESSING_MARKERS };
        measured(|| model.classify_pixels(image))
    }
}

/// An inference with no work in it, only its markers: what every count
/// includes besides the work (the firmware runs it once at boot).
pub fn empty_pass() {
    measured(|| {
        for _ in 0..PREPROCESSING.pieces() {
            (PREPROCESSING_MARKERS.start)();
            (PREPROCESSING_MARKERS.end)();
        }
    });
}

/// CRC-32 of the weight file: the model's identity, reported by `Info`.
pub const CHECKSUM: u32 = match model_checksum(FILE) {
    Ok(c) => c,
    #[allow(clippy::panic)]
    Err(e) => panic!("{}", e.message()),
};
