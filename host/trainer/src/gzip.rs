//! Gzip, as the datasets come: every member of the file, each with its CRC-32
//! and size checked (`MultiGzDecoder`), for IDX and CSV files alike.

/// Decompresses every member of a gzip file.
pub fn gunzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(raw), &mut bytes)?;
    Ok(bytes)
}
