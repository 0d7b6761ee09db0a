//! Reading and writing weight files on disk; the format itself lives in `shared`.
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use shared::format::int8_file;
use shared::format::weights_file::{self, ModelInfo, FILE_LEN};
use shared::input::deskew::Normalised;
use shared::input::strokes::StrokeMaps;
use shared::QuantizedWeights;
use shared::{Classifier, ModelKind, Weights};

/// The network in a weight file: f32 or int8.
pub enum Network {
    /// The float network (`shared::forward`).
    F32(Box<Weights>),
    /// The quantized network (`shared::forward_int8`).
    Int8(Box<QuantizedWeights>),
}

impl Classifier for Network {
    fn classify_pixels(&self, image: shared::PixelBytes<'_>) -> shared::Prediction {
        match self {
            Network::F32(w) => w.classify_pixels(image),
            Network::Int8(q) => q.classify_pixels(image),
        }
    }

    fn classify_normalised(&self, image: Normalised<'_>) -> shared::Prediction {
        match self {
            Network::F32(w) => w.classify_normalised(image),
            Network::Int8(q) => q.classify_normalised(image),
        }
    }

    fn classify_strokes(&self, image: StrokeMaps<'_>) -> shared::Prediction {
        match self {
            Network::F32(w) => w.classify_strokes(image),
            Network::Int8(q) => q.classify_strokes(image),
        }
    }

    fn predict_class(&self, image: &[u8; shared::INPUT]) -> u8 {
        match self {
            Network::F32(w) => w.predict_class(image),
            Network::Int8(q) => q.predict_class(image),
        }
    }
}

impl Network {
    /// The first layer's weights as floats (int8 weights in units of their scale), for pictures.
    pub fn first_layer(&self) -> Box<[[f32; shared::HIDDEN]; shared::INPUT]> {
        match self {
            Network::F32(w) => Box::new(w.w1),
            Network::Int8(q) => Box::new(q.w1.map(|row| row.map(f32::from))),
        }
    }

    /// Which kind of network it is.
    pub fn kind(&self) -> ModelKind {
        match self {
            Network::F32(_) => ModelKind::F32,
            Network::Int8(_) => ModelKind::Int8,
        }
    }
}

/// A model classifies as its file says: preprocessing (from the header), then the network.
impl Classifier for Model {
    /// `image` is taken as already deskewed.
    fn classify_normalised(&self, image: Normalised<'_>) -> shared::Prediction {
        self.network.classify_normalised(image)
    }

    /// `image` is taken as already the stroke maps.
    fn classify_strokes(&self, image: StrokeMaps<'_>) -> shared::Prediction {
        self.network.classify_strokes(image)
    }

    fn classify_pixels(&self, image: shared::PixelBytes<'_>) -> shared::Prediction {
        self.as_classifier().classify_pixels(image)
    }

    fn predict_class(&self, image: &[u8; shared::INPUT]) -> u8 {
        self.as_classifier().predict_class(image)
    }
}

impl Model {
    /// One line saying which model this is, as every command prints it and
    /// an exported C library's header repeats it; `name` is its path (or the built-in one's name).
    pub fn describe(&self, name: &str) -> String {
        format!(
            "model {name}: {}, {}, crc {:08x}, seed {}, {} epochs, test accuracy {:.2} %",
            self.network.kind().name(),
            self.info.classes,
            self.checksum,
            self.info.seed,
            self.info.epochs,
            self.info.test_accuracy * 100.0
        )
    }

    /// The network behind the preprocessing its header names.
    fn as_classifier(&self) -> shared::model::Model<'_, Network> {
        shared::model::Model::new(self.info.preprocessing, &self.network)
    }
}

/// A model loaded from disk.
pub struct Model {
    /// The network.
    pub network: Network,
    /// What the header says about it.
    pub info: ModelInfo,
    /// CRC-32 of the file: the identity a device reports.
    pub checksum: u32,
}

/// Loads and validates a weight file (f32 or int8, told apart by the magic).
pub fn load(path: &Path) -> Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read weight file {}", path.display()))?;
    decode(&bytes).with_context(|| format!("{}", path.display()))
}

/// The committed default model, compiled into the binary.
pub fn default_model() -> Result<Model> {
    decode(crate::bundled::DEFAULT_MODEL).context(crate::bundled::DEFAULT_MODEL_NAME)
}

/// Validates and decodes the bytes of a weight file.
pub fn decode(bytes: &[u8]) -> Result<Model> {
    match ModelKind::of(bytes) {
        ModelKind::Int8 => {
            let (q, info) = int8_file::decode(bytes)?;
            let checksum = int8_file::model_checksum(bytes)?;
            Ok(Model { network: Network::Int8(Box::new(q)), info, checksum })
        }
        ModelKind::F32 => {
            let (weights, info) = weights_file::decode(bytes)?;
            let checksum = weights_file::model_checksum(bytes)?;
            Ok(Model { network: Network::F32(Box::new(weights)), info, checksum })
        }
    }
}

/// Loads a weight file that must be f32.
pub fn load_f32(path: &Path) -> Result<(Box<Weights>, ModelInfo)> {
    let model = load(path)?;
    match model.network {
        Network::F32(w) => Ok((w, model.info)),
        Network::Int8(_) => anyhow::bail!("{} is an int8 model; this needs the f32 model it came from", path.display()),
    }
}

/// Encodes an int8 weight file in memory.
pub fn encode_int8(q: &QuantizedWeights, info: &ModelInfo) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; int8_file::FILE_LEN];
    int8_file::encode(q, info, &mut bytes).context("cannot encode int8 weights")?;
    Ok(bytes)
}

/// The bytes of a loaded model, re-encoded (identical to the file it came from).
pub fn encode_model(model: &Model) -> Result<Vec<u8>> {
    match &model.network {
        Network::F32(w) => encode(w, &model.info),
        Network::Int8(q) => encode_int8(q, &model.info),
    }
}

/// Encodes a weight file in memory.
pub fn encode(weights: &Weights, info: &ModelInfo) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; FILE_LEN];
    weights_file::encode(weights, info, &mut bytes).context("cannot encode weights")?;
    Ok(bytes)
}

/// The file an output path writes: the path itself, or where a symlink points
/// (the link is kept and its target replaced). Refuses what is not a regular
/// file — a device such as `/dev/full`, a FIFO, a directory — and says why,
/// so that commands can check their outputs before doing any work.
pub fn output_target(path: &Path) -> Result<std::path::PathBuf> {
    // Follow symbolic links (a chain of them too) to the file they name, which may not exist yet.
    let mut target = path.to_owned();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let dest =
                    std::fs::read_link(&target).with_context(|| format!("cannot read link {}", target.display()))?;
                target = target.parent().map_or_else(|| dest.clone(), |dir| dir.join(&dest));
            }
            _ => break,
        }
    }
    match std::fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => anyhow::bail!(
            "{} is not a regular file (a directory, device or pipe); give the path of a file to write",
            path.display()
        ),
        _ => {
            let dir = match target.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            check_writable_dir(dir).with_context(|| format!("cannot write {}", path.display()))?;
            Ok(target)
        }
    }
}

/// Refuses, before any work, a directory of outputs (`--plots`) that is a
/// file or that cannot be written.
pub fn output_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("{} is a file, not a directory; give a directory for the pictures", dir.display());
    }
    check_writable_dir(dir).with_context(|| format!("cannot write into {}", dir.display()))
}

/// Whether a file can be created in `dir`, or in its nearest existing
/// ancestor when it does not exist yet (it is created when written): one
/// empty file is made there and removed at once. The error is the system's
/// reason without the probe's own name.
fn check_writable_dir(dir: &Path) -> Result<()> {
    let existing = dir.ancestors().find(|d| d.as_os_str().is_empty() || d.exists()).unwrap_or(Path::new("."));
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    if !existing.is_dir() {
        anyhow::bail!("{} is not a directory", existing.display());
    }
    tempfile::tempfile_in(existing).map(drop).map_err(|e| anyhow::anyhow!("{}: {}", existing.display(), reason(&e)))
}

/// The system's reason for an I/O error, without the path a library may have
/// added (a temporary file's, which the user never gave).
fn reason(e: &std::io::Error) -> std::io::Error {
    e.raw_os_error().map_or_else(|| std::io::Error::from(e.kind()), std::io::Error::from_raw_os_error)
}

/// Refuses, before any work, an output that is the same file as an input or
/// as another output: a tab-completion slip such as `eval -m m.bin
/// --predictions m.bin` would otherwise replace the model for good. Each path
/// comes with the flag that named it, for the message; an input not given is
/// `None`. Symbolic links and (on Unix) hard links count as the same file.
pub fn check_distinct(inputs: &[(&str, Option<&Path>)], outputs: &[(&str, &Path)]) -> Result<()> {
    let given = inputs.iter().filter_map(|&(flag, path)| Some((flag, path?)));
    for (n, &(flag, output)) in outputs.iter().enumerate() {
        for (other_flag, other) in given.clone().chain(outputs[..n].iter().copied()) {
            if same_file(output, other) {
                anyhow::bail!(
                    "{flag} {} is the same file as {other_flag} {}; writing it would destroy that file: \
                     give another path",
                    output.display(),
                    other.display()
                );
            }
        }
    }
    Ok(())
}

/// Whether two paths name one file (the second may be an output not written yet).
fn same_file(a: &Path, b: &Path) -> bool {
    // Where each would be read or written: links followed, the directory made absolute.
    let place = |p: &Path| -> Option<std::path::PathBuf> {
        let target = output_target(p).ok()?;
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(dir).ok()?.join(target.file_name()?))
    };
    if let (Some(a), Some(b)) = (place(a), place(b)) {
        if a == b {
            return true;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    false
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target. A crash leaves either
/// the old file or the new one, never half of one. A symlink is written
/// through (the file it points to is replaced); anything but a regular file
/// is refused. A new file gets the mode the umask allows (as `>` in a shell
/// would), a replaced one keeps its own.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = output_target(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode asked for at creation is masked by the umask, as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // The system's reason, not the temporary file's name (the user never gave it).
    let mut tmp =
        builder.tempfile_in(dir).map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), reason(&e)))?;
    if let Ok(existing) = std::fs::metadata(&target) {
        tmp.as_file().set_permissions(existing.permissions()).context("cannot keep the file's permissions")?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(&target).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Encodes and writes a weight file atomically.
pub fn save(path: &Path, weights: &Weights, info: &ModelInfo) -> Result<()> {
    write_atomically(path, &encode(weights, info)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/model.bin");
        let mut w = Box::new(Weights::ZERO);
        w.b2[3] = 1.5;
        let info = ModelInfo { seed: 7, ..Default::default() };
        save(&path, &w, &info).unwrap();
        let (weights, _) = load_f32(&path).unwrap();
        let m = load(&path).unwrap();
        assert_eq!(*weights, *w);
        assert_eq!(m.info, info);

        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let err = format!("{:#}", load(&path).err().unwrap());
        assert!(err.contains("checksum mismatch") && err.contains("model.bin"), "{err}");

        let err = format!("{:#}", load(&dir.path().join("nope.bin")).err().unwrap());
        assert!(err.contains("cannot read weight file") && err.contains("nope.bin"), "{err}");
    }

    #[test]
    fn refuses_to_write_non_finite_weights_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        save(&path, &Weights::ZERO, &ModelInfo::default()).unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut w = Box::new(Weights::ZERO);
        w.w1[3][4] = f32::NAN;
        assert!(save(&path, &w, &ModelInfo::default()).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    }
}
