//! What the network sees, drawn for a person: the image itself for a model
//! that reads pixels, and for one that reads stroke maps a picture of them:
//! in each of the 7×7 cells, a line along the edge each direction stands for,
//! brighter the larger its byte (the drawing HOG descriptors are usually shown with).
use image::GrayImage;
use shared::input::strokes::{CELLS, COS, DIRECTIONS, SIN};
use shared::input::Preprocessing;
use shared::{INPUT, SIDE};

/// Screen pixels per cell of the stroke maps' picture.
const CELL_PIXELS: u32 = 16;

/// `image` (a 28×28 digit, MNIST's form) as the model's network reads it,
/// drawn white on black: 28×28 for pixels, 112×112 for stroke maps.
pub fn network_view(preprocessing: Preprocessing, image: &[u8; INPUT]) -> GrayImage {
    let input = preprocessing.apply(image);
    match preprocessing {
        Preprocessing::None | Preprocessing::Deskew => {
            GrayImage::from_raw(SIDE as u32, SIDE as u32, input.to_vec()).unwrap_or_default()
        }
        Preprocessing::Strokes => stroke_picture(&input),
    }
}

/// The stroke maps as lines: direction `k` is the gradient's, so the edge runs
/// across it, at `θ_k + 90°`.
fn stroke_picture(maps: &[u8; INPUT]) -> GrayImage {
    let side = CELLS as u32 * CELL_PIXELS;
    let mut picture = GrayImage::new(side, side);
    let strongest = maps.iter().copied().max().unwrap_or(0).max(1);
    for (cell, bytes) in maps.chunks_exact(DIRECTIONS).enumerate() {
        let centre = |i: usize| (i as u32 * CELL_PIXELS + CELL_PIXELS / 2) as f32;
        let (cx, cy) = (centre(cell % CELLS), centre(cell / CELLS));
        for (k, &value) in bytes.iter().enumerate() {
            if value == 0 {
                continue;
            }
            // Along the edge: (−sin θ, cos θ); image rows grow downwards, as gy does.
            let (dx, dy) = (-SIN[k] as f32 / 128.0, COS[k] as f32 / 128.0);
            // Cubed, so a cell's dominant directions stand out of the broad lobes around them.
            let shade = (255.0 * (f32::from(value) / f32::from(strongest)).powi(3)) as u8;
            let half = CELL_PIXELS as f32 / 2.0 - 1.0;
            for step in -(half as i32) * 2..=(half as i32) * 2 {
                let t = step as f32 / 2.0;
                let (x, y) = ((cx + t * dx).round() as u32, (cy + t * dy).round() as u32);
                if let Some(pixel) = picture.get_pixel_mut_checked(x, y) {
                    pixel.0[0] = pixel.0[0].max(shade);
                }
            }
        }
    }
    picture
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vertical bar's maps are drawn as vertical lines, its pixels as itself.
    #[test]
    fn a_vertical_bar_is_drawn_with_vertical_lines() {
        let mut image = [0u8; INPUT];
        for y in 4..24 {
            for x in 12..16 {
                image[y * SIDE + x] = 255;
            }
        }
        assert_eq!(network_view(Preprocessing::None, &image).as_raw().as_slice(), image.as_slice());
        let picture = network_view(Preprocessing::Strokes, &image);
        assert_eq!(picture.dimensions(), (112, 112));
        // Around every cell's centre, more light above and below than left and right.
        let (mut along, mut across) = (0u32, 0u32);
        for cell in 0..(CELLS * CELLS) as u32 {
            let (cx, cy) = ((cell % 7) * 16 + 8, (cell / 7) * 16 + 8);
            for d in 3..7 {
                along += u32::from(picture.get_pixel(cx, cy - d).0[0]) + u32::from(picture.get_pixel(cx, cy + d).0[0]);
                across += u32::from(picture.get_pixel(cx - d, cy).0[0]) + u32::from(picture.get_pixel(cx + d, cy).0[0]);
            }
        }
        assert!(along > 2 * across, "along the bar {along}, across it {across}");
    }
}
