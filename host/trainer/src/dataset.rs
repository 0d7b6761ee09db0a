//! Images and labels in memory, whatever file they came from (IDX or CSV).
use shared::{Classes, INPUT};

/// One 28×28 image, row-major.
pub type Pixels = [u8; INPUT];

/// Images, read as 784-byte rows straight out of the buffer they were
/// decompressed into (an IDX file's images start after its 16-byte header,
/// so they are not moved over it).
pub struct Images {
    bytes: Vec<u8>,
    start: usize,
    count: usize,
}

impl Images {
    /// `count` images of 784 bytes starting at byte `start` of `bytes` (after a file header).
    pub fn in_place(bytes: Vec<u8>, start: usize, count: usize) -> Images {
        assert!(start + count * INPUT <= bytes.len(), "images beyond the end of their buffer");
        Images { bytes, start, count }
    }
}

impl std::ops::Deref for Images {
    type Target = [Pixels];
    fn deref(&self) -> &[Pixels] {
        self.bytes[self.start..][..self.count * INPUT].as_chunks::<INPUT>().0
    }
}

impl From<Vec<Pixels>> for Images {
    fn from(images: Vec<Pixels>) -> Self {
        let count = images.len();
        Images { bytes: images.into_flattened(), start: 0, count }
    }
}

impl FromIterator<Pixels> for Images {
    fn from_iter<I: IntoIterator<Item = Pixels>>(iter: I) -> Self {
        iter.into_iter().collect::<Vec<_>>().into()
    }
}

impl Clone for Images {
    fn clone(&self) -> Self {
        self.to_vec().into()
    }
}

impl Default for Images {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl PartialEq for Images {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Images({} of 28x28)", self.len())
    }
}

/// Images with their labels.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// The images.
    pub images: Images,
    /// The label of each image, 0–9.
    pub labels: Vec<u8>,
    /// What the labels mean: Fashion-MNIST is recognised by its label files.
    pub classes: Classes,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            images: indices.iter().map(|&i| self.images[i]).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes,
        }
    }

    /// The same images as the network sees them after `preprocessing`, on all cores.
    pub fn preprocessed(self, preprocessing: shared::input::Preprocessing) -> Dataset {
        if preprocessing == shared::input::Preprocessing::None {
            return self;
        }
        use rayon::prelude::*;
        let images: Vec<Pixels> = self.images.par_iter().map(|image| preprocessing.apply(image)).collect();
        Dataset { images: images.into(), ..self }
    }
}
