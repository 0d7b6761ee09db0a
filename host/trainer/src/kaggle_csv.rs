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

/// True for the paths [`load`] reads: `.csv` files, or gzipped `.csv.gz`.
pub fn is_csv_path(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    (name.ends_with(".csv") || name.ends_with(".csv.gz")) && path.is_file()
}

/// Reads a Kaggle-style CSV file, gzipped or not. Images without labels (the
/// competition's test file) get label 0 and `labelled == false`.
pub fn load(path: &Path) -> Result<(Dataset, bool), CsvError> {
    let io = |source| CsvError::Io { path: path.to_owned(), source };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        return parse(path, &crate::gzip::gunzip(&raw).map_err(io)?);
    }
    parse(path, &raw)
}

/// Parses CSV bytes (RFC 4180: quoted fields, CRLF, a UTF-8 byte-order mark); see [`load`].
pub fn parse(path: &Path, text: &[u8]) -> Result<(Dataset, bool), CsvError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
    let mut records = reader.byte_records();
    let bad_header = || CsvError::BadHeader { path: path.to_owned() };
    let header = records.next().ok_or_else(bad_header)?.map_err(|_| bad_header())?;
    let first = header.get(0).map(<[u8]>::trim_ascii).unwrap_or_default();
    let labelled = match header.len() {
        n if n == INPUT + 1 && first == b"label" => true,
        n if n == INPUT && first == b"pixel0" => false,
        _ => return Err(bad_header()),
    };
    let mut data = Dataset::default();
    let mut images = Vec::new();
    for record in records {
        let bad = |line: usize, problem: String| CsvError::BadLine { path: path.to_owned(), line, problem };
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            bad(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        let mut values = record.iter().map(|f| {
            std::str::from_utf8(f)
                .ok()
                .and_then(|s| s.trim().parse::<u8>().ok())
                .ok_or_else(|| bad(line, format!("{:?} is not a number 0-255", String::from_utf8_lossy(f))))
        });
        let label = if labelled {
            let label = values.next().ok_or_else(|| bad(line, "empty line".into()))??;
            if label > 9 {
                return Err(bad(line, format!("label {label} is not a digit 0-9")));
            }
            label
        } else {
            0
        };
        let mut image: Pixels = [0; INPUT];
        let mut count = 0;
        for value in values {
            let value = value?;
            let slot = image.get_mut(count).ok_or_else(|| bad(line, format!("more than {INPUT} pixels")))?;
            *slot = value;
            count += 1;
        }
        if count != INPUT {
            return Err(bad(line, format!("{count} pixels, expected {INPUT}")));
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

    /// What spreadsheets write: a UTF-8 byte-order mark, quoted header names and values.
    #[test]
    fn byte_order_mark_and_quotes_are_read() {
        let quoted = csv(true, &[(4, 9)]).replace("label", "\"label\"").replace("pixel0,", "\"pixel0\",");
        let mut text = b"\xef\xbb\xbf".to_vec();
        text.extend_from_slice(quoted.replacen("\n4,", "\n\"4\",", 1).as_bytes());
        let (d, labelled) = parse(Path::new("t.csv"), &text).unwrap();
        assert!(labelled);
        assert_eq!((d.labels[0], d.images[0][0]), (4, 9));
    }

    #[test]
    fn gzipped_files_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, csv(true, &[(2, 5)]).as_bytes()).unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        assert!(is_csv_path(&path));
        let (d, _) = load(&path).unwrap();
        assert_eq!(d.labels, [2]);
    }
}
