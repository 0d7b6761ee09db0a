//! The Kaggle "digit recognizer" CSV: a header line, then one image per line
//! as `label,pixel0,...,pixel783` (the test file has no label column).
use std::path::{Path, PathBuf};

use shared::INPUT;

use crate::dataset::{Dataset, Pixels};

/// Why a CSV file could not be read as images.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The header is not `label,pixel0..pixel783` or `pixel0..pixel783`.
    #[error("{path}: the first line should be `label,pixel0,...,pixel783` (Kaggle digit recognizer format)")]
    BadHeader {
        /// The file.
        path: PathBuf,
    },
    /// A line has the wrong number of fields or a bad value.
    #[error("{path}:{line}: {problem}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// No images at all.
    #[error("{path}: no images after the header")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Reads a Kaggle-style CSV file. Images without labels (the competition's
/// test file) get label 0 and `labelled == false`.
pub fn load(path: &Path) -> Result<(Dataset, bool), CsvError> {
    let text = std::fs::read(path).map_err(|source| CsvError::Io { path: path.to_owned(), source })?;
    parse(path, &text)
}

/// Parses CSV bytes; see [`load`].
pub fn parse(path: &Path, text: &[u8]) -> Result<(Dataset, bool), CsvError> {
    let mut lines = text.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let header = lines.next().unwrap_or_default();
    let fields = header.split(|&b| b == b',').count();
    let labelled = match fields {
        n if n == INPUT + 1 && header.starts_with(b"label") => true,
        n if n == INPUT && header.starts_with(b"pixel0") => false,
        _ => return Err(CsvError::BadHeader { path: path.to_owned() }),
    };
    let mut data = Dataset::default();
    let mut images = Vec::new();
    for (n, line) in lines.enumerate() {
        let line_no = n + 2;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let bad = |problem: String| CsvError::BadLine { path: path.to_owned(), line: line_no, problem };
        let mut values = line.split(|&b| b == b',').map(|f| {
            std::str::from_utf8(f)
                .ok()
                .and_then(|s| s.trim().parse::<u8>().ok())
                .ok_or_else(|| bad(format!("{:?} is not a number 0-255", String::from_utf8_lossy(f))))
        });
        let label = if labelled {
            let label = values.next().ok_or_else(|| bad("empty line".into()))??;
            if label > 9 {
                return Err(bad(format!("label {label} is not a digit 0-9")));
            }
            label
        } else {
            0
        };
        let mut image: Pixels = [0; INPUT];
        let mut count = 0;
        for value in values {
            let value = value?;
            let slot = image.get_mut(count).ok_or_else(|| bad(format!("more than {INPUT} pixels")))?;
            *slot = value;
            count += 1;
        }
        if count != INPUT {
            return Err(bad(format!("{count} pixels, expected {INPUT}")));
        }
        images.push(image);
        data.labels.push(label);
    }
    if data.is_empty() {
        return Err(CsvError::Empty { path: path.to_owned() });
    }
    data.images = images.into();
    Ok((data, labelled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(labelled: bool, rows: &[(u8, u8)]) -> String {
        let mut s = String::new();
        if labelled {
            s.push_str("label,");
        }
        s.push_str(&(0..INPUT).map(|i| format!("pixel{i}")).collect::<Vec<_>>().join(","));
        s.push_str("\r\n");
        for &(label, value) in rows {
            if labelled {
                s.push_str(&format!("{label},"));
            }
            s.push_str(&vec![value.to_string(); INPUT].join(","));
            s.push('\n');
        }
        s
    }

    #[test]
    fn reads_labelled_and_unlabelled_files() {
        let (d, labelled) = parse(Path::new("t.csv"), csv(true, &[(3, 0), (9, 255)]).as_bytes()).unwrap();
        assert!(labelled);
        assert_eq!(d.labels, [3, 9]);
        assert_eq!(d.images[1][783], 255);
        let (d, labelled) = parse(Path::new("t.csv"), csv(false, &[(0, 7)]).as_bytes()).unwrap();
        assert!(!labelled);
        assert_eq!(d.images[0][0], 7);
    }

    #[test]
    fn clear_errors() {
        let p = Path::new("t.csv");
        assert!(matches!(parse(p, b"a,b,c\n1,2,3"), Err(CsvError::BadHeader { .. })));
        assert!(matches!(parse(p, csv(true, &[]).as_bytes()), Err(CsvError::Empty { .. })));
        let mut bad = csv(true, &[(1, 1)]);
        bad.push_str("12,0,0\n");
        let err = parse(p, bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("t.csv:3") && err.contains("label 12"), "{err}");
        let mut short = csv(true, &[]);
        short.push_str("1,0,0,0\n");
        assert!(parse(p, short.as_bytes()).unwrap_err().to_string().contains("3 pixels"));
        let mut junk = csv(true, &[]);
        junk.push_str("1,");
        junk.push_str(&vec!["300"; INPUT].join(","));
        assert!(parse(p, junk.as_bytes()).unwrap_err().to_string().contains("not a number"));
    }
}
