//! Pictures as people hand them over (`predict --image`, the pad): any bytes
//! through `photo::from_bytes` (format detection, the size check, the
//! decoders), and small pictures of any size and kind (gray, gray with alpha,
//! RGB, RGBA), made from the bytes and encoded as PNG, through the whole
//! preprocessing. An answer or an error, never a panic.
#![no_main]
use std::io::Cursor;

use image::{DynamicImage, ImageFormat};
use libfuzzer_sys::fuzz_target;
use pictures::photo::{from_bytes, Found};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let _ = from_bytes(rest);
        return;
    }
    let [width, height, kind, pixels @ ..] = rest else { return };
    if pixels.is_empty() {
        return;
    }
    let (width, height) = (u32::from(*width % 96) + 1, u32::from(*height % 96) + 1);
    let channels = usize::from(kind % 4) + 1;
    let bytes: Vec<u8> = (0..(width * height) as usize * channels).map(|i| pixels[i % pixels.len()]).collect();
    let picture = match channels {
        1 => image::GrayImage::from_raw(width, height, bytes).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(width, height, bytes).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(width, height, bytes).map(DynamicImage::ImageRgb8),
        _ => image::RgbaImage::from_raw(width, height, bytes).map(DynamicImage::ImageRgba8),
    };
    let Some(picture) = picture else { return };
    let mut png = Vec::new();
    if picture.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).is_err() {
        return;
    }
    match from_bytes(&png) {
        Ok(Found::Digit(input)) => assert_eq!(input.len(), shared::INPUT),
        Ok(Found::NotADigit(why)) => assert!(!why.to_string().is_empty()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
