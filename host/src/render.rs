//! Drawing a 28×28 image in the terminal with Unicode half blocks.
use shared::{INPUT, SIDE};

/// Renders an image as 14 lines of 28 characters, two pixel rows per line.
///
/// Uses shade characters rather than colours so it survives pipes and logs.
pub fn image_to_text(image: &[u8; INPUT]) -> String {
    const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];
    let shade = |p: u8| SHADES[usize::from(p) * (SHADES.len() - 1) / 255];
    let mut out = String::new();
    for row in (0..SIDE).step_by(2) {
        for col in 0..SIDE {
            let top = image[row * SIDE + col];
            let bottom = image[(row + 1) * SIDE + col];
            out.push(shade(top.max(bottom)));
        }
        out.push('\n');
    }
    out
}

/// Reads a binary (P5) or ASCII (P2) 28×28 PGM with maxval ≤ 255.
pub fn parse_pgm(bytes: &[u8]) -> anyhow::Result<[u8; INPUT]> {
    use anyhow::{bail, Context};
    let mut fields = Vec::new();
    let mut at = 0;
    // Header: magic, width, height, maxval, separated by whitespace; '#' starts a comment.
    while fields.len() < 4 {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'#') {
            if bytes[at] == b'#' {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            } else {
                at += 1;
            }
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if start == at {
            bail!("not a PGM file: header ends early");
        }
        fields.push(std::str::from_utf8(&bytes[start..at]).context("not a PGM file")?.to_owned());
    }
    let magic = fields[0].as_str();
    let num = |s: &str| s.parse::<u32>().with_context(|| format!("not a PGM file: bad number {s:?}"));
    let (w, h, max) = (num(&fields[1])?, num(&fields[2])?, num(&fields[3])?);
    if (w as usize, h as usize) != (SIDE, SIDE) {
        bail!("PGM is {w}x{h}; this network reads {SIDE}x{SIDE} images");
    }
    if max == 0 || max > 255 {
        bail!("PGM maxval {max} not supported (1-255)");
    }
    let scale = |v: u32| ((v.min(max) * 255 + max / 2) / max) as u8;
    let mut image = [0u8; INPUT];
    match magic {
        "P5" => {
            let body = bytes.get(at + 1..at + 1 + INPUT).context("PGM pixel data is truncated")?;
            for (p, &b) in image.iter_mut().zip(body) {
                *p = scale(u32::from(b));
            }
        }
        "P2" => {
            let text = std::str::from_utf8(&bytes[at..]).context("PGM pixel data is not text")?;
            let values: Vec<&str> = text.split_ascii_whitespace().collect();
            if values.len() < INPUT {
                bail!("PGM pixel data is truncated: {} of {INPUT} values", values.len());
            }
            for (p, v) in image.iter_mut().zip(values) {
                *p = scale(num(v)?);
            }
        }
        _ => bail!("not a PGM file (magic {magic:?}, expected P5 or P2)"),
    }
    Ok(image)
}

/// Encodes an image as a binary PGM.
pub fn to_pgm(image: &[u8; INPUT]) -> Vec<u8> {
    let mut out = format!("P5\n{SIDE} {SIDE}\n255\n").into_bytes();
    out.extend_from_slice(image);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgm_round_trip_and_errors() {
        let image: [u8; INPUT] = core::array::from_fn(|i| (i % 256) as u8);
        assert_eq!(parse_pgm(&to_pgm(&image)).unwrap(), image);
        let ascii = format!("P2\n# comment\n28 28\n15\n{}", "15 ".repeat(INPUT));
        assert_eq!(parse_pgm(ascii.as_bytes()).unwrap(), [255; INPUT]);
        assert!(parse_pgm(b"P5\n32 32\n255\n").unwrap_err().to_string().contains("32x32"));
        assert!(parse_pgm(&to_pgm(&image)[..100]).unwrap_err().to_string().contains("truncated"));
        assert!(parse_pgm(b"GIF89a").is_err());
    }

    #[test]
    fn draws_fourteen_lines() {
        let text = image_to_text(&[255; INPUT]);
        assert_eq!(text.lines().count(), 14);
        assert!(text.lines().all(|l| l.chars().count() == 28 && l.chars().all(|c| c == '█')));
    }
}
