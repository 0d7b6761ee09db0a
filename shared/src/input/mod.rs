//! What the first layer reads: an image's nonzero pixels, as received
//! ([`pixels`]) or as a model preprocessing streams them in ([`deskew`]).
//!
//! A weight file records the preprocessing its model was trained with (header
//! byte 41, [`Preprocessing`]); files written before it existed hold 0 there,
//! which is [`Preprocessing::None`]. `model::Model` runs a network behind it.
pub mod deskew;
pub mod pixels;
pub mod strokes;

use serde::{Deserialize, Serialize};

use crate::dims::INPUT;
use deskew::normalise;
use strokes::stroke_maps;

/// What a model does to an image before its first layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preprocessing {
    /// The image as it comes (MNIST's own centring).
    #[default]
    None,
    /// [`normalise`]: deskew, size normalisation, centre of mass at (14, 14).
    Deskew,
    /// [`stroke_maps`]: the deskewed image's edges by direction, summed over cells.
    Strokes,
}

impl Preprocessing {
    /// Every preprocessing, in the order of their header codes.
    pub const ALL: [Preprocessing; 3] = [Preprocessing::None, Preprocessing::Deskew, Preprocessing::Strokes];

    /// The header byte's meaning, or `None` for a code this build does not know.
    pub const fn from_code(code: u8) -> Option<Preprocessing> {
        match code {
            0 => Some(Preprocessing::None),
            1 => Some(Preprocessing::Deskew),
            2 => Some(Preprocessing::Strokes),
            _ => None,
        }
    }

    /// How the command line and messages name it.
    pub const fn name(self) -> &'static str {
        match self {
            Preprocessing::None => "none",
            Preprocessing::Deskew => "deskew",
            Preprocessing::Strokes => "strokes",
        }
    }

    /// Pieces of work a device brackets with its preprocessing markers per image.
    pub const fn pieces(self) -> usize {
        match self {
            Preprocessing::None => 0,
            Preprocessing::Deskew => deskew::PIECES,
            Preprocessing::Strokes => strokes::PIECES,
        }
    }

    /// The whole image the network sees (the host's pictures, datasets and plots;
    /// the same bytes a device streams into the first layer).
    pub fn apply(self, image: &[u8; INPUT]) -> [u8; INPUT] {
        match self {
            Preprocessing::None => *image,
            Preprocessing::Deskew => normalise(image),
            Preprocessing::Strokes => stroke_maps(image),
        }
    }
}

/// What the tests of both preprocessings use.
#[cfg(test)]
pub(crate) mod testing {
    use super::deskew::Markers;
    use std::cell::Cell;

    /// A small deterministic generator for test images.
    pub fn xorshift(mut state: u32) -> impl FnMut() -> u32 {
        move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        }
    }

    thread_local! {
        static STARTS: Cell<usize> = const { Cell::new(0) };
        static ENDS: Cell<usize> = const { Cell::new(0) };
    }

    /// The markers' starts and ends while `work` runs with counting markers.
    pub fn pieces(work: impl FnOnce(Markers)) -> (usize, usize) {
        fn bump(counter: &'static std::thread::LocalKey<Cell<usize>>) {
            counter.with(|c| c.set(c.get() + 1));
        }
        let counting = Markers { start: || bump(&STARTS), end: || bump(&ENDS) };
        let before = (STARTS.with(Cell::get), ENDS.with(Cell::get));
        work(counting);
        (STARTS.with(Cell::get) - before.0, ENDS.with(Cell::get) - before.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for p in Preprocessing::ALL {
            assert_eq!(Preprocessing::from_code(p as u8), Some(p));
        }
        assert_eq!(Preprocessing::from_code(3), None);
    }
}
