//! MNIST in IDX format (raw or gzipped), images kept as `u8`.
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use shared::{Classes, INPUT};

pub use crate::dataset::{Dataset, Images, Pixels};

/// Which half of MNIST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

impl Split {
    fn file_stems(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }
}

/// SHA-256 of the decompressed bundled files (from `data/mnist/README.md`).
const BUNDLED_SHA256: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    ("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    ("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
];

fn digest_for(table: &[(&str, &'static str)], stem: &str) -> Option<&'static str> {
    table.iter().find(|(name, _)| *name == stem).map(|(_, digest)| *digest)
}

/// SHA-256 of Fashion-MNIST's decompressed label files (train, test): a
/// directory holding either is Fashion-MNIST, whatever it is called.
const FASHION_LABELS_SHA256: [&str; 2] = [
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
];

/// The class set of an IDX label file, recognised by its contents.
fn classes_of_labels(bytes: &[u8]) -> Classes {
    let digest = format!("{:x}", Sha256::digest(bytes));
    if FASHION_LABELS_SHA256.contains(&digest.as_str()) {
        Classes::Fashion
    } else {
        Classes::Digits
    }
}

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Neither `<stem>` nor `<stem>.gz` exists.
    #[error("missing IDX file: {0} (or .gz); a dataset directory holds MNIST's four IDX files")]
    Missing(PathBuf),
    /// The file could not be read or decompressed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The IDX magic number is not the expected one.
    #[error("{path}: not an IDX {kind} file (magic {found:#010x}, expected {expected:#010x})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        kind: &'static str,
        /// Magic found.
        found: u32,
        /// Magic expected.
        expected: u32,
    },
    /// Images are not 28×28.
    #[error("{path}: images are {rows}x{cols}, this network needs 28x28")]
    WrongImageSize {
        /// The file.
        path: PathBuf,
        /// Rows per image.
        rows: u32,
        /// Columns per image.
        cols: u32,
    },
    /// The file is shorter than its header says.
    #[error("{path}: truncated: header promises {expected} bytes, file has {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header implies.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// Image and label counts differ.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A label is not a digit 0–9.
    #[error("{path}: label {label} at index {index} is not 0-9")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Position.
        index: usize,
        /// Value.
        label: u8,
    },
    /// `--data` names something that is neither a directory nor a CSV file.
    #[error("{0}: not a dataset; --data takes a directory of IDX files (gzipped or not) or a Kaggle-style .csv or .csv.gz file")]
    NotADataset(PathBuf),
    /// `--data` names nothing.
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    /// A Kaggle-style CSV file could not be used.
    #[error(transparent)]
    Csv(#[from] crate::kaggle_csv::CsvError),
    /// A CSV file without labels where labels are needed.
    #[error("{0}: has no label column (a competition test file?); training and evaluation need labels")]
    Unlabelled(PathBuf),
    /// A bundled file's content differs from the published MNIST.
    #[error(
        "{path}: SHA-256 {found} differs from the bundled MNIST's {expected}; restore data/ with `git checkout data/` and rebuild"
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// Digest found.
        found: String,
        /// Digest expected.
        expected: String,
    },
}

/// Where to load MNIST from.
#[derive(Clone, Debug)]
pub struct Source {
    location: Location,
    /// Check SHA-256 against the bundled MNIST (off for other datasets).
    verify: bool,
}

#[derive(Clone, Debug)]
enum Location {
    /// The copy compiled into the binary ([`crate::bundled::MNIST`]).
    Bundled,
    /// A directory holding the four IDX files, or a Kaggle-style `.csv` file.
    Path(PathBuf),
}

impl Source {
    /// The bundled MNIST (compiled in, so no checkout is needed), verified.
    pub fn bundled() -> Source {
        Source { location: Location::Bundled, verify: true }
    }

    /// A directory of IDX files or a `.csv` file; `verify` checks the files
    /// against the bundled MNIST's digests.
    pub fn at(path: PathBuf, verify: bool) -> Source {
        Source { location: Location::Path(path), verify }
    }

    /// Any directory with IDX files or CSV file, or the bundled MNIST if `None`.
    pub fn from_option(path: Option<PathBuf>) -> Source {
        path.map_or_else(Source::bundled, |path| Source::at(path, false))
    }

    /// The path a user gave, or `None` for the bundled MNIST.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            Location::Bundled => None,
            Location::Path(p) => Some(p),
        }
    }

    /// How messages name this dataset.
    pub fn name(&self) -> String {
        self.path().map_or_else(|| crate::bundled::MNIST_NAME.to_owned(), |p| p.display().to_string())
    }

    /// Where the test set comes from when training on this source: itself, but
    /// the bundled MNIST for a CSV file (a Kaggle CSV is one training set).
    pub fn test_source(&self) -> Source {
        if self.is_csv() {
            Source::bundled()
        } else {
            self.clone()
        }
    }

    /// True if this is a Kaggle-style CSV file (`.csv`, or gzipped `.csv.gz`) rather than an IDX directory.
    pub fn is_csv(&self) -> bool {
        self.path().is_some_and(crate::kaggle_csv::is_csv_path)
    }

    /// Loads one split. A CSV file has no splits: both are the whole file.
    pub fn load(&self, split: Split) -> Result<Dataset, DataError> {
        if self.is_csv() {
            let path = self.path().unwrap_or(Path::new(""));
            let (data, labelled) = crate::kaggle_csv::load(path)?;
            if !labelled {
                return Err(DataError::Unlabelled(path.to_owned()));
            }
            return Ok(data);
        }
        if let Some(path) = self.path() {
            if !path.exists() {
                return Err(DataError::NotFound(path.to_owned()));
            }
            if !path.is_dir() {
                return Err(DataError::NotADataset(path.to_owned()));
            }
        }
        let (image_stem, label_stem) = split.file_stems();
        let (images, labels) = std::thread::scope(|s| {
            let images = s.spawn(|| self.read_verified(image_stem));
            let labels = self.read_verified(label_stem);
            (images.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), labels)
        });
        let (image_path, images) = images?;
        let (label_path, labels) = labels?;
        let images = images_from(&image_path, images)?;
        let classes = classes_of_labels(labels.as_slice());
        let labels = parse_labels(&label_path, labels.as_slice())?;
        if images.len() != labels.len() {
            return Err(DataError::CountMismatch { images: images.len(), labels: labels.len() });
        }
        Ok(Dataset { images, labels, classes })
    }

    /// Reads and decompresses an IDX file, checking a bundled file's
    /// SHA-256 (published for the decompressed content, so any gzip of it passes).
    fn read_verified(&self, stem: &str) -> Result<(PathBuf, IdxBytes), DataError> {
        let (path, bytes) = match &self.location {
            Location::Bundled => bundled_idx_file(stem)?,
            Location::Path(dir) => read_idx_file(dir, stem)?,
        };
        if self.verify {
            if let Some(expected) = digest_for(&BUNDLED_SHA256, stem) {
                let found = format!("{:x}", Sha256::digest(bytes.as_slice()));
                if found != expected {
                    return Err(DataError::ChecksumMismatch { path, found, expected: expected.to_string() });
                }
            }
        }
        Ok((path, bytes))
    }
}

/// The bytes of an IDX file; an image file's body becomes [`Images`] without a copy.
pub struct IdxBytes {
    bytes: Vec<u8>,
}

impl IdxBytes {
    /// A copy of `bytes`.
    pub fn copy_of(bytes: &[u8]) -> IdxBytes {
        IdxBytes { bytes: bytes.to_vec() }
    }

    /// The file's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads `<dir>/<stem>.gz` or `<dir>/<stem>` as it is on disk.
fn read_idx_raw(dir: &Path, stem: &str) -> Result<(PathBuf, Vec<u8>), DataError> {
    let candidates = [dir.join(format!("{stem}.gz")), dir.join(stem)];
    let path = candidates.iter().find(|p| p.exists()).ok_or_else(|| DataError::Missing(dir.join(stem)))?.clone();
    let raw = fs::read(&path).map_err(|source| DataError::Io { path: path.clone(), source })?;
    Ok((path, raw))
}

/// One of the bundled MNIST files, decompressed.
fn bundled_idx_file(stem: &str) -> Result<(PathBuf, IdxBytes), DataError> {
    let path = PathBuf::from(format!("{} {stem}.gz", crate::bundled::MNIST_NAME));
    let raw = crate::bundled::MNIST.iter().find(|(name, _)| *name == stem).map(|(_, raw)| *raw);
    let raw = raw.ok_or_else(|| DataError::Missing(path.clone()))?;
    let bytes = decode_idx(&path, raw)?;
    Ok((path, bytes))
}

/// Decompresses a gzipped file's bytes, or copies a raw one's: what every IDX file a user names goes through.
pub fn decode_idx(path: &Path, raw: &[u8]) -> Result<IdxBytes, DataError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(raw).map_err(|source| DataError::Io { path: path.to_owned(), source })
    } else {
        Ok(IdxBytes::copy_of(raw))
    }
}

/// Reads `<dir>/<stem>` or `<dir>/<stem>.gz`, decompressing if gzipped.
pub fn read_idx_file(dir: &Path, stem: &str) -> Result<(PathBuf, IdxBytes), DataError> {
    let (path, raw) = read_idx_raw(dir, stem)?;
    let bytes = decode_idx(&path, &raw)?;
    Ok((path, bytes))
}

/// Decompresses a gzip file, all its members (`cat a.gz b.gz` is one file to
/// `gunzip`, and so here), checking each member's CRC-32 and size.
fn gunzip(raw: &[u8]) -> std::io::Result<IdxBytes> {
    Ok(IdxBytes { bytes: crate::gzip::gunzip(raw)? })
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn header(path: &Path, bytes: &[u8], len: usize) -> Result<Vec<u32>, DataError> {
    (0..len).map(|i| be_u32(bytes, i * 4)).collect::<Option<Vec<u32>>>().ok_or(DataError::Truncated {
        path: path.to_owned(),
        expected: len * 4,
        found: bytes.len(),
    })
}

/// Checks an IDX3 image file's header and length; returns the image count.
fn image_count(path: &Path, bytes: &[u8]) -> Result<usize, DataError> {
    let magic = header(path, bytes, 1)?[0];
    if magic != IMAGES_MAGIC {
        return Err(DataError::BadMagic {
            path: path.to_owned(),
            kind: "images",
            found: magic,
            expected: IMAGES_MAGIC,
        });
    }
    let h = header(path, bytes, 4)?;
    let (count, rows, cols) = (h[1] as usize, h[2], h[3]);
    if rows as usize != shared::SIDE || cols as usize != shared::SIDE {
        return Err(DataError::WrongImageSize { path: path.to_owned(), rows, cols });
    }
    let expected = count.saturating_mul(INPUT).saturating_add(IMAGES_HEADER);
    if bytes.len() < expected {
        return Err(DataError::Truncated { path: path.to_owned(), expected, found: bytes.len() });
    }
    Ok(count)
}

/// Bytes before the first image of an IDX3 file: magic, count, rows, columns.
const IMAGES_HEADER: usize = 16;

/// Parses an IDX3 image file of 28×28 images.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<Vec<Pixels>, DataError> {
    let count = image_count(path, bytes)?;
    let body = &bytes[IMAGES_HEADER..IMAGES_HEADER + count * INPUT];
    Ok(body.as_chunks::<INPUT>().0.to_vec())
}

/// [`parse_images`] for a file already in memory as [`IdxBytes`]: the images
/// stay where they are, after the header.
pub fn images_from(path: &Path, bytes: IdxBytes) -> Result<Images, DataError> {
    let count = image_count(path, bytes.as_slice())?;
    Ok(Images::in_place(bytes.bytes, IMAGES_HEADER, count))
}

/// Parses an IDX1 label file of digits 0–9.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let magic = header(path, bytes, 1)?[0];
    if magic != LABELS_MAGIC {
        return Err(DataError::BadMagic {
            path: path.to_owned(),
            kind: "labels",
            found: magic,
            expected: LABELS_MAGIC,
        });
    }
    let h = header(path, bytes, 2)?;
    let count = h[1] as usize;
    let body = &bytes[8..];
    if body.len() < count {
        return Err(DataError::Truncated { path: path.to_owned(), expected: count + 8, found: bytes.len() });
    }
    let labels = body[..count].to_vec();
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(DataError::BadLabel { path: path.to_owned(), index, label });
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_images(count: u32, rows: u32, cols: u32, body_len: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [IMAGES_MAGIC, count, rows, cols] {
            v.extend(x.to_be_bytes());
        }
        v.extend(std::iter::repeat_n(7u8, body_len));
        v
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [LABELS_MAGIC, labels.len() as u32] {
            v.extend(x.to_be_bytes());
        }
        v.extend(labels);
        v
    }

    fn write_split(dir: &Path, images: &[u8], labels: &[u8], gzip: bool) {
        let (i, l) = Split::Test.file_stems();
        for (stem, bytes) in [(i, images), (l, labels)] {
            if gzip {
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut enc, bytes).unwrap();
                fs::write(dir.join(format!("{stem}.gz")), enc.finish().unwrap()).unwrap();
            } else {
                fs::write(dir.join(stem), bytes).unwrap();
            }
        }
    }

    fn load(images: &[u8], labels: &[u8]) -> Result<Dataset, DataError> {
        let dir = tempfile::tempdir().unwrap();
        write_split(dir.path(), images, labels, false);
        Source::at(dir.path().to_owned(), false).load(Split::Test)
    }

    #[test]
    fn reads_raw_and_gzipped() {
        for gzip in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            write_split(dir.path(), &idx_images(2, 28, 28, 2 * INPUT), &idx_labels(&[3, 9]), gzip);
            let data = Source::at(dir.path().to_owned(), false).load(Split::Test).unwrap();
            assert_eq!(data.labels, [3, 9]);
            assert_eq!(data.images[1][783], 7);
        }
    }

    #[test]
    fn images_from_moves_the_body_over_the_header() {
        let mut bytes = idx_images(3, 28, 28, 0);
        bytes.extend((0..3 * INPUT).map(|i| (i % 251) as u8));
        bytes.extend([1, 2, 3]); // trailing bytes are ignored
        let path = Path::new("x");
        let copied = parse_images(path, &bytes).unwrap();
        assert_eq!(copied.len(), 3);
        assert_eq!(copied[2][783], ((3 * INPUT - 1) % 251) as u8);
        assert_eq!(*images_from(path, IdxBytes::copy_of(&bytes)).unwrap(), copied);
        let short = IdxBytes::copy_of(&bytes[..3 * INPUT]);
        assert!(matches!(images_from(path, short), Err(DataError::Truncated { .. })));
    }

    #[test]
    fn missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Source::at(dir.path().to_owned(), false).load(Split::Train).unwrap_err();
        assert!(matches!(err, DataError::Missing(_)), "{err}");
        assert!(err.to_string().contains("train-"), "{err}");
    }

    #[test]
    fn wrong_magic() {
        let err = load(&idx_labels(&[1]), &idx_labels(&[1])).unwrap_err();
        assert!(matches!(err, DataError::BadMagic { kind: "images", .. }), "{err}");
    }

    #[test]
    fn count_mismatch() {
        let err = load(&idx_images(2, 28, 28, 2 * INPUT), &idx_labels(&[1])).unwrap_err();
        assert!(matches!(err, DataError::CountMismatch { images: 2, labels: 1 }), "{err}");
    }

    #[test]
    fn wrong_image_size() {
        let err = load(&idx_images(1, 32, 32, 1024), &idx_labels(&[1])).unwrap_err();
        assert!(matches!(err, DataError::WrongImageSize { rows: 32, cols: 32, .. }), "{err}");
    }

    #[test]
    fn truncated_body_and_header() {
        let err = load(&idx_images(2, 28, 28, INPUT + 100), &idx_labels(&[1, 2])).unwrap_err();
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");
        let err = load(&idx_images(1, 28, 28, INPUT)[..10], &idx_labels(&[1])).unwrap_err();
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");
        let labels = idx_labels(&[1, 2, 3]);
        let err = load(&idx_images(3, 28, 28, 3 * INPUT), &labels[..9]).unwrap_err();
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        write_split(dir.path(), &idx_images(2, 28, 28, 2 * INPUT), &idx_labels(&[3, 9]), true);
        let (stem, _) = Split::Test.file_stems();
        let path = dir.path().join(format!("{stem}.gz"));
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = Source::at(dir.path().to_owned(), false).load(Split::Test).unwrap_err();
        assert!(matches!(err, DataError::Io { .. } | DataError::Truncated { .. }), "{err}");
    }

    /// `bytes` as one gzip member.
    fn gzip_member(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_files_of_several_members_inflate_whole() {
        let content: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (a, b) = content.split_at(20_000);
        let (b, c) = b.split_at(17);
        assert_eq!(gunzip(&gzip_member(&content)).unwrap().as_slice(), content);
        let file = [gzip_member(a), gzip_member(b), gzip_member(c)].concat();
        assert_eq!(gunzip(&file).unwrap().as_slice(), content);
        // Members of equal size: the last trailer's size is also the first member's.
        let (x, y) = content.split_at(25_000);
        let file = [gzip_member(x), gzip_member(y)].concat();
        assert_eq!(gunzip(&file).unwrap().as_slice(), content);
    }

    #[test]
    fn bad_label() {
        let err = load(&idx_images(1, 28, 28, INPUT), &idx_labels(&[10])).unwrap_err();
        assert!(matches!(err, DataError::BadLabel { label: 10, .. }), "{err}");
    }

    #[test]
    fn bundled_checksum_mismatch_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        write_split(dir.path(), &idx_images(1, 28, 28, INPUT), &idx_labels(&[1]), false);
        let err = Source::at(dir.path().to_owned(), true).load(Split::Test).unwrap_err();
        assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    }

    /// The bundled files re-gzipped (other `.gz` bytes, same content) still
    /// verify, through the content's digest.
    #[test]
    fn regzipped_bundled_files_verify_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let (images, labels) = Split::Test.file_stems();
        for stem in [images, labels] {
            let (_, bytes) = bundled_idx_file(stem).unwrap();
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut enc, bytes.as_slice()).unwrap();
            let gz = enc.finish().unwrap();
            fs::write(dir.path().join(format!("{stem}.gz")), gz).unwrap();
        }
        let test = Source::at(dir.path().to_owned(), true).load(Split::Test).unwrap();
        assert_eq!(test.len(), 10_000);
    }

    #[test]
    fn bundled_mnist_test_set_loads_and_verifies() {
        let test = Source::bundled().load(Split::Test).unwrap();
        assert_eq!(test.len(), 10_000);
        assert_eq!(&test.labels[..5], [7, 2, 1, 0, 4]);
    }
}
