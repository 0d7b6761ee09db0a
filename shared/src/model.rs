//! A model as a weight file describes it: its preprocessing, then a network.
use crate::input::deskew::{Markers, Normalised};
use crate::input::pixels::PixelBytes;
use crate::input::strokes::StrokeMaps;
use crate::input::Preprocessing;
use crate::network::{Classifier, Prediction};
use crate::INPUT;

/// A network behind its preprocessing.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a, C: ?Sized> {
    /// The preprocessing.
    pub preprocessing: Preprocessing,
    /// The network.
    pub network: &'a C,
    /// Called around each piece of the preprocessing's work ([`Markers::NONE`] on the host).
    pub markers: Markers,
}

impl<'a, C: ?Sized> Model<'a, C> {
    /// `network` behind `preprocessing`, unmarked.
    pub const fn new(preprocessing: Preprocessing, network: &'a C) -> Self {
        Model { preprocessing, network, markers: Markers::NONE }
    }
}

/// The one place a model's preprocessing is chosen. Generic, so the firmware's
/// copy (its preprocessing a constant) keeps only its own arm; each arm calls a
/// network pass compiled in this crate.
impl<C: Classifier + ?Sized> Classifier for Model<'_, C> {
    /// The received bytes, preprocessed on the way into the first layer.
    /// Inlined, so a constant preprocessing (the firmware's) leaves one arm.
    #[inline(always)]
    fn classify_pixels(&self, image: PixelBytes<'_>) -> Prediction {
        match self.preprocessing {
            Preprocessing::None => self.network.classify_pixels(image),
            Preprocessing::Deskew => self.network.classify_normalised(Normalised::new(image, self.markers)),
            Preprocessing::Strokes => self.network.classify_strokes(StrokeMaps::new(image, self.markers)),
        }
    }

    /// `image` is taken as already deskewed.
    fn classify_normalised(&self, image: Normalised<'_>) -> Prediction {
        self.network.classify_normalised(image)
    }

    /// `image` is taken as already the stroke maps.
    fn classify_strokes(&self, image: StrokeMaps<'_>) -> Prediction {
        self.network.classify_strokes(image)
    }

    fn predict_class(&self, image: &[u8; INPUT]) -> u8 {
        self.network.predict_class(&self.preprocessing.apply(image))
    }
}
