//! An image as the list of its nonzero pixels (the trainer's unit of work),
//! and the shift augmentation that moves an image before it is listed.
use shared::INPUT;

use super::first_layer::Nonzero;

/// One bit per nonzero byte of `x`: bit 8k+7 is set where byte k is nonzero.
fn nonzero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // Adding 0x7f to a byte's low seven bits carries into bit 7 unless they are all zero.
    (((x & LOW7) + LOW7) | x) & !LOW7
}

/// Each 8-pixel run of an image with its offset and the mask of its nonzero
/// pixels (see [`nonzero_bytes`]); most runs of a digit are blank.
fn runs(image: &[u8; INPUT]) -> impl Iterator<Item = (usize, u64, &[u8; 8])> {
    image.as_chunks::<8>().0.iter().enumerate().map(|(c, run)| (c * 8, nonzero_bytes(u64::from_le_bytes(*run)), run))
}

/// How many pixels of an image are nonzero.
pub fn count_nonzero_pixels(image: &[u8; INPUT]) -> usize {
    runs(image).map(|(_, mask, _)| mask.count_ones() as usize).sum()
}

/// Writes the nonzero pixels of an image as `(index, value)`, ascending,
/// into `out`, which has room for exactly [`count_nonzero_pixels`] of them.
pub fn write_nonzero_pixels(image: &[u8; INPUT], out: &mut [Nonzero]) {
    let mut slots = out.iter_mut();
    for (at, mut mask, run) in runs(image) {
        while mask != 0 {
            let i = (mask.trailing_zeros() / 8) as usize;
            mask &= mask - 1;
            let (Some(slot), Some(&p)) = (slots.next(), run.get(i)) else { return };
            *slot = Nonzero::new((at + i) as u16, p);
        }
    }
}

/// Appends the nonzero pixels of an image as `(index, value)`, ascending.
pub fn extend_nonzero_pixels(image: &[u8; INPUT], out: &mut Vec<Nonzero>) {
    let start = out.len();
    out.resize(start + count_nonzero_pixels(image), Nonzero::default());
    write_nonzero_pixels(image, &mut out[start..]);
}

/// The image moved `dx` columns right and `dy` rows down (negative: left,
/// up); what moves off the edge is dropped, what comes in is blank.
pub fn shift(image: &[u8; INPUT], dx: i8, dy: i8) -> [u8; INPUT] {
    const SIDE: isize = shared::SIDE as isize;
    let mut out = [0u8; INPUT];
    let (dx, dy) = (isize::from(dx), isize::from(dy));
    for row in 0..SIDE {
        let from_row = row - dy;
        if !(0..SIDE).contains(&from_row) {
            continue;
        }
        for col in 0..SIDE {
            let from_col = col - dx;
            if (0..SIDE).contains(&from_col) {
                out[(row * SIDE + col) as usize] = image[(from_row * SIDE + from_col) as usize];
            }
        }
    }
    out
}

/// The nonzero pixels of an image as `(index, value)`, ascending.
pub fn nonzero_pixels(image: &[u8; INPUT]) -> Vec<Nonzero> {
    let mut out = Vec::new();
    extend_nonzero_pixels(image, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn nonzero_pixel_lists_match_a_plain_scan() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for density in [0.0, 0.05, 0.3, 1.0] {
            let image: [u8; INPUT] =
                core::array::from_fn(|_| if rng.gen_bool(density) { rng.gen_range(1..=255) } else { 0 });
            let plain: Vec<Nonzero> =
                image.iter().enumerate().filter(|(_, &p)| p != 0).map(|(i, &p)| Nonzero::new(i as u16, p)).collect();
            assert_eq!(count_nonzero_pixels(&image), plain.len());
            assert_eq!(nonzero_pixels(&image), plain);
        }
        assert_eq!(nonzero_bytes(0x0100_8000_0000_7f01), 0x8000_8000_0000_8080);
    }

    #[test]
    fn shift_moves_ink_and_drops_what_leaves() {
        let mut image = [0u8; INPUT];
        image[0] = 9; // top left
        image[28 + 5] = 7; // row 1, column 5
        let moved = shift(&image, 2, 1);
        assert_eq!(moved[28 + 2], 9);
        assert_eq!(moved[2 * 28 + 7], 7);
        assert_eq!(moved.iter().filter(|&&p| p != 0).count(), 2);
        let gone = shift(&image, -1, 0);
        assert_eq!(gone[28 + 4], 7);
        assert_eq!(gone.iter().filter(|&&p| p != 0).count(), 1, "the top-left pixel left the image");
        assert_eq!(shift(&image, 0, 0), image);
    }
}
