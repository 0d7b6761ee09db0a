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

/// Reads a 28×28 PGM (binary P5 or ASCII P2), its values scaled to 0–255.
pub fn parse_pgm(bytes: &[u8]) -> anyhow::Result<[u8; INPUT]> {
    use anyhow::{bail, Context};
    if !bytes.starts_with(b"P5") && !bytes.starts_with(b"P2") {
        bail!("not a PGM file (expected P5 or P2)");
    }
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Pnm)
        .context("not a readable PGM file")?
        .to_luma8();
    if image.dimensions() != (SIDE as u32, SIDE as u32) {
        bail!("PGM is {}x{}; this network reads {SIDE}x{SIDE} images", image.width(), image.height());
    }
    let mut pixels = [0u8; INPUT];
    pixels.copy_from_slice(image.as_raw());
    Ok(pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_pgm(image: &[u8; INPUT]) -> Vec<u8> {
        let mut out = format!("P5\n{SIDE} {SIDE}\n255\n").into_bytes();
        out.extend_from_slice(image);
        out
    }

    #[test]
    fn pgm_round_trip_and_errors() {
        let image: [u8; INPUT] = core::array::from_fn(|i| (i % 256) as u8);
        assert_eq!(parse_pgm(&to_pgm(&image)).unwrap(), image);
        let ascii = format!("P2\n# comment\n28 28\n15\n{}", "15 ".repeat(INPUT));
        assert_eq!(parse_pgm(ascii.as_bytes()).unwrap(), [255; INPUT]);
        let big = [b"P5\n32 32\n255\n".as_slice(), &[0; 32 * 32]].concat();
        assert!(parse_pgm(&big).unwrap_err().to_string().contains("32x32"));
        assert!(parse_pgm(&to_pgm(&image)[..100]).is_err());
        assert!(parse_pgm(b"GIF89a").is_err());
    }

    #[test]
    fn draws_fourteen_lines() {
        let text = image_to_text(&[255; INPUT]);
        assert_eq!(text.lines().count(), 14);
        assert!(text.lines().all(|l| l.chars().count() == 28 && l.chars().all(|c| c == '█')));
    }
}
