//! The two kinds of weight file, f32 and int8, told apart by their magic:
//! the one place that decides which decoder a file goes to.
use super::weights_file::FormatError;
use super::{int8_file, weights_file};

/// Which network a weight file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// `shared::Weights`, read by `weights_file`.
    F32,
    /// `shared::QuantizedWeights`, read by `quantized`.
    Int8,
}

impl ModelKind {
    /// The kind `bytes` says it is. Anything without the int8 magic goes to the f32
    /// decoder, whose errors say what is wrong with it (a bad magic included).
    pub fn of(bytes: &[u8]) -> ModelKind {
        if bytes.starts_with(&int8_file::MAGIC) {
            ModelKind::Int8
        } else {
            ModelKind::F32
        }
    }

    /// Validates `bytes` as a whole weight file of its kind and returns the kind.
    pub fn check(bytes: &[u8]) -> Result<ModelKind, FormatError> {
        let kind = ModelKind::of(bytes);
        match kind {
            ModelKind::Int8 => int8_file::decode_const(bytes).map(|_| kind),
            ModelKind::F32 => weights_file::decode_const(bytes).map(|_| kind),
        }
    }

    /// "f32" or "int8", as tools print it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::F32 => "f32",
            ModelKind::Int8 => "int8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_models_are_told_apart() {
        let f32_file = include_bytes!("../../../models/default.bin");
        let int8_file = include_bytes!("../../../models/default-int8.bin");
        assert_eq!(ModelKind::check(f32_file), Ok(ModelKind::F32));
        assert_eq!(ModelKind::check(int8_file), Ok(ModelKind::Int8));
        assert_eq!(
            ModelKind::check(b"TNYMNSQ8 but short"),
            Err(FormatError::WrongLength { expected: int8_file::FILE_LEN, found: 18 })
        );
        assert!(ModelKind::check(b"not a model").is_err());
    }
}
