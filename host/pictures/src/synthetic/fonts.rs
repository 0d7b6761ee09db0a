//! Digits written in handwriting fonts that Debian ships (`fonts-*`), each
//! drawn a little differently every time (slant, turn, width), as
//! ink ready for [`super::digit_picture`]: the test sets' handwriting that is
//! not MNIST's.
use ab_glyph::{Font, FontVec, PxScale};
use anyhow::{bail, Context, Result};
use image::{imageops, GrayImage, Luma};
use imageproc::geometric_transformations::{warp, Interpolation, Projection};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::photo::{bounding_box, scaled_to};

/// One font file of a Debian package.
pub struct FontFile {
    /// Its name in tables.
    pub name: &'static str,
    /// The Debian package that installs it.
    pub package: &'static str,
    /// Where the package puts it.
    pub path: &'static str,
    /// Whether choices of the picture preprocessing were made looking at it.
    pub role: Role,
}

/// Whether a font was looked at when the picture preprocessing was tuned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Every choice of the preprocessing (and of "not a digit") was measured on it.
    Tuned,
    /// Added after the preprocessing was tuned, and only ever reported: how
    /// the tool does on handwriting no choice looked at.
    HeldOut,
}

const fn font(name: &'static str, package: &'static str, path: &'static str) -> FontFile {
    FontFile { name, package, path, role: Role::Tuned }
}

const fn held_out(name: &'static str, package: &'static str, path: &'static str) -> FontFile {
    FontFile { name, package, path, role: Role::HeldOut }
}

/// The handwriting fonts of the test sets, tuned ones first. Not
/// `fonts-femkeklaver`: its digits are outlines (hollow lettering), not a
/// pen's strokes (11 % right).
pub const FONT_FILES: &[FontFile] = &[
    font("DKG", "fonts-dkg-handwriting", "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"),
    font("DKG italic", "fonts-dkg-handwriting", "/usr/share/fonts/truetype/fifthhorseman/dkgIt.ttf"),
    font("Breip", "fonts-breip", "/usr/share/fonts/truetype/breip/Breip.ttf"),
    font("Because We Build", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf"),
    font("Because We Connect", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeConnect-Regular.otf"),
    font("Because We Create", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf"),
    font("Because We Learn", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf"),
    font("Because We Mentor", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf"),
    font("Because We Organize", "fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf"),
    font("Humor Sans", "fonts-humor-sans", "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf"),
    font("Klee One", "fonts-klee", "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"),
    font("Rufscript", "fonts-rufscript", "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf"),
    font("Comic Neue", "fonts-comic-neue", "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf"),
    font("Comic Neue italic", "fonts-comic-neue", "/usr/share/fonts/opentype/comic-neue/ComicNeue-Italic.otf"),
    font("Dancing Script", "fonts-dancingscript", "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf"),
    font("Kristi", "fonts-kristi", "/usr/share/fonts/truetype/kristi/Kristi.ttf"),
    font("Kaushan Script", "fonts-kaushanscript", "/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf"),
    font("Seto", "fonts-seto", "/usr/share/fonts/truetype/seto/setofont.ttf"),
    font("Kiloji", "fonts-kiloji", "/usr/share/fonts/truetype/kiloji/kiloji.ttf"),
    held_out("Ecolier", "fonts-ecolier-court", "/usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf"),
    held_out("Nanum Pen", "fonts-nanum-extra", "/usr/share/fonts/truetype/nanum/NanumPen.ttf"),
    held_out("Nanum Brush", "fonts-nanum-extra", "/usr/share/fonts/truetype/nanum/NanumBrush.ttf"),
    held_out("Nanum Barun Pen", "fonts-nanum-extra", "/usr/share/fonts/truetype/nanum/NanumBarunpenR.ttf"),
    held_out("Purisa", "fonts-tlwg-purisa-ttf", "/usr/share/fonts/truetype/tlwg/Purisa.ttf"),
    held_out("Purisa oblique", "fonts-tlwg-purisa-ttf", "/usr/share/fonts/truetype/tlwg/Purisa-Oblique.ttf"),
    held_out("Domestic Manners", "fonts-dustin", "/usr/share/fonts/truetype/dustin/Domestic_Manners.ttf"),
    held_out("Tomson Talks", "fonts-tomsontalks", "/usr/share/fonts/truetype/tomsontalks/TomsonTalks.ttf"),
    held_out("Isabella", "fonts-isabella", "/usr/share/fonts/truetype/isabella/Isabella.ttf"),
    held_out("Andika", "fonts-sil-andika", "/usr/share/fonts/truetype/andika/Andika-Regular.ttf"),
    held_out("Andika italic", "fonts-sil-andika", "/usr/share/fonts/truetype/andika/Andika-Italic.ttf"),
    held_out("Lobster", "fonts-lobster", "/usr/share/fonts/opentype/lobster/lobster.otf"),
    held_out("Cabin Sketch", "fonts-cabinsketch", "/usr/share/fonts/truetype/cabinsketch/CabinSketch-Regular.ttf"),
    held_out("Stay Puft", "fonts-staypuft", "/usr/share/fonts/truetype/staypuft/StayPuft.ttf"),
    held_out("Kouzan", "fonts-kouzan-mouhitsu", "/usr/share/fonts/truetype/kouzan-mouhitsu/kouzan-mouhitsu.ttf"),
];

/// The Debian packages of [`FONT_FILES`] not installed here, each once.
pub fn missing_packages() -> Vec<&'static str> {
    let mut missing: Vec<_> =
        FONT_FILES.iter().filter(|f| !std::path::Path::new(f.path).exists()).map(|f| f.package).collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// Capital letters a person would not read as a digit: not B D G I O Q S Z.
pub const CAPITALS: &str = "ACEFHJKLMNPRTUVWXY";
/// Small letters a person would not read as a digit: not b g i l o q s z.
pub const SMALLS: &str = "acdefhjkmnprtuvwxy";
/// Symbols people write (a font without one of them gives the next).
pub const SYMBOLS: &str = "+×?#!%&@*=";

/// Character number `i` of `chars` in `fonts`: font `i % fonts`, character
/// `(i / fonts) % chars`, or the next one the font has.
pub fn nth_char(fonts: &[HandwritingFont], chars: &str, i: usize) -> Option<(usize, char)> {
    let font = i % fonts.len().max(1);
    let has = |c: char| fonts.get(font).is_some_and(|f| has_glyph(f, c));
    let chars: Vec<char> = chars.chars().collect();
    let first = i / fonts.len().max(1);
    let c = (0..chars.len()).map(|k| chars[(first + k) % chars.len()]).find(|&c| has(c))?;
    Some((font, c))
}

/// [`nth_char`] drawn as [`glyph_ink`] (nothing if no font has it).
pub fn nth_glyph(fonts: &[HandwritingFont], chars: &str, i: usize, rng: &mut impl Rng) -> GrayImage {
    match nth_char(fonts, chars, i) {
        Some((font, c)) => glyph_ink(&fonts[font], c, rng),
        None => GrayImage::new(INK_SIDE, INK_SIDE),
    }
}

/// A loaded handwriting font.
pub struct HandwritingFont {
    pub name: &'static str,
    pub role: Role,
    font: FontVec,
}

/// Every font of [`FONT_FILES`]; an error names the packages to install when some are missing.
pub fn load() -> Result<Vec<HandwritingFont>> {
    let missing = missing_packages();
    if !missing.is_empty() {
        bail!(
            "the handwriting fonts of the picture test sets are not installed: sudo apt-get install {} \
             (cargo xtask ci and cargo xtask pictures install them themselves)",
            missing.join(" ")
        );
    }
    FONT_FILES
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f.path).with_context(|| format!("reading {}", f.path))?;
            let font =
                FontVec::try_from_vec(bytes).with_context(|| format!("{} is not a font ab_glyph reads", f.path))?;
            Ok(HandwritingFont { name: f.name, role: f.role, font })
        })
        .collect()
}

/// Side of the ink square [`digit_ink`] returns: MNIST's 28 at 8× (the
/// photos are 4–7× MNIST, so the ink is only ever scaled down).
pub const INK_SIDE: u32 = 224;

/// Handwriting-font sample number `i`: font `i % fonts`, digit `(i / fonts) % 10`,
/// drawn from its own seed, so any subset of a set gives the same pictures.
pub fn nth_font_digit(fonts: &[HandwritingFont], i: usize, seed: u64) -> (GrayImage, u8, usize) {
    let font = i % fonts.len().max(1);
    let digit = ((i / fonts.len().max(1)) % 10) as u8;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 62) | i as u64);
    (digit_ink(&fonts[font], digit, &mut rng), digit, font)
}

/// `digit` in `font` as ink (255 = full ink) on a square of [`INK_SIDE`],
/// its longer side 20/28 of it and centred, as MNIST frames a digit: slanted
/// by up to ±12°, turned by up to ±6°, 85–115 % as wide.
pub fn digit_ink(font: &HandwritingFont, digit: u8, rng: &mut impl Rng) -> GrayImage {
    glyph_ink(font, char::from(b'0' + digit), rng)
}

/// Whether `font` has a glyph of its own for `c` (not the missing-glyph box).
pub fn has_glyph(font: &HandwritingFont, c: char) -> bool {
    font.font.glyph_id(c).0 != 0
}

/// Any character `c` of `font` as [`digit_ink`] draws a digit.
pub fn glyph_ink(font: &HandwritingFont, c: char, rng: &mut impl Rng) -> GrayImage {
    let glyph = font.font.glyph_id(c).with_scale(PxScale::from(300.0));
    let Some(outline) = font.font.outline_glyph(glyph) else {
        return GrayImage::new(INK_SIDE, INK_SIDE);
    };
    let bounds = outline.px_bounds();
    let side = (bounds.width().max(bounds.height()) * 1.8) as u32 + 2;
    let (x0, y0) = ((side as f32 - bounds.width()) / 2.0, (side as f32 - bounds.height()) / 2.0);
    let mut drawn = GrayImage::new(side, side);
    outline.draw(|x, y, coverage| {
        let (x, y) = (x0 as u32 + x, y0 as u32 + y);
        if x < side && y < side {
            drawn.put_pixel(x, y, Luma([(coverage.clamp(0.0, 1.0) * 255.0).round() as u8]));
        }
    });

    let centre = side as f32 / 2.0;
    let slant = rng.gen_range(-12f32..12.0).to_radians().tan();
    let turn = rng.gen_range(-6f32..6.0).to_radians();
    let width = rng.gen_range(0.85f32..1.15);
    let shape = Projection::from_matrix([width, -slant, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
        .unwrap_or(Projection::scale(1.0, 1.0));
    let about_centre = Projection::translate(centre, centre)
        * Projection::rotate(turn)
        * shape
        * Projection::translate(-centre, -centre);
    let warped = warp(&drawn, &about_centre, Interpolation::Bilinear, Luma([0]));
    fit_in_mnist_frame(&warped)
}

/// The ink's bounding box scaled so that its longer side is 20/28 of
/// [`INK_SIDE`], centred on a square of that side.
fn fit_in_mnist_frame(ink: &GrayImage) -> GrayImage {
    let mut frame = GrayImage::new(INK_SIDE, INK_SIDE);
    // The warp's faint bilinear fringe stays outside the box.
    let Some((x, y, w, h)) = bounding_box(ink, 32) else { return frame };
    let scaled = scaled_to(&imageops::crop_imm(ink, x, y, w, h).to_image(), INK_SIDE * 20 / 28);
    let (sw, sh) = scaled.dimensions();
    imageops::overlay(&mut frame, &scaled, i64::from((INK_SIDE - sw) / 2), i64::from((INK_SIDE - sh) / 2));
    frame
}
