//! `cargo xtask pictures`: the picture preprocessing measured on photos made
//! from MNIST test digits (`pictures::synthetic`), one condition at a time, and on
//! digits in handwriting fonts (`pictures::synthetic::fonts`), and on pictures
//! with no single digit: accuracy per condition against the same digits as
//! MNIST gives them (for fonts: against their clean photos), accuracy per
//! font, and how often each kind of picture is turned away.
use std::path::Path;

use anyhow::{ensure, Result};
use pictures::photo::{preprocess, Found};
use pictures::synthetic::fonts::{self, HandwritingFont, Role};
use pictures::synthetic::{
    digit_answers, font_answers, non_digit_answers, nth_digit_picture, nth_font_picture, nth_non_digit_picture, Answer,
    Condition, NonDigit,
};
use rayon::prelude::*;
use shared::Classifier;
use trainer::mnist::{Source, Split};

#[derive(clap::Args)]
pub struct Args {
    /// Test digits per condition (the first N of the test set).
    #[arg(long, default_value_t = 1000)]
    pub images: usize,
    /// Handwriting-font digits per condition and set of fonts (tuned, held out): every font and
    /// digit in turn, each drawn anew (950: each of the 19 tuned fonts' ten digits drawn five ways).
    #[arg(long, default_value_t = 950)]
    pub font_digits: usize,
    /// Pictures of each kind with no single digit.
    #[arg(long, default_value_t = 300)]
    pub non_digits: usize,
    /// Seeds of the picture maker: each gives its own pictures; the table shows the mean and the spread.
    #[arg(long, num_args = 1.., default_values_t = [1, 2, 3])]
    pub seed: Vec<u64>,
    /// Also write `pictures.png` here: four pictures of each kind (first seed), each beside what the network sees.
    #[arg(long)]
    pub save: Option<std::path::PathBuf>,
}

/// `mean ± half the range` of percentages.
fn spread(values: &[f64]) -> String {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    if values.len() > 1 {
        format!("{mean:.1} ± {:.1} %", (hi - lo) / 2.0)
    } else {
        format!("{mean:.1} %")
    }
}

/// Whether `answer` is `digit` (not turned away, not another digit).
fn is_right(answer: &Answer, digit: u8) -> bool {
    answer.is_some_and(|(d, _)| d == digit)
}

/// How many of `answers` are the right digit.
fn right(answers: &[(Answer, u8)]) -> usize {
    answers.iter().filter(|(a, digit)| is_right(a, *digit)).count()
}

/// One row of a table per condition: right, against each seed's `baseline`, turned away.
fn print_row(condition: Condition, per_seed: &[Vec<(Answer, u8)>], baseline: &[f64]) {
    let (mut right_share, mut delta, mut away) = (Vec::new(), Vec::new(), Vec::new());
    for (answers, base) in per_seed.iter().zip(baseline) {
        let r = percent(right(answers), answers.len());
        right_share.push(r);
        delta.push(r - base);
        away.push(percent(answers.iter().filter(|(a, _)| a.is_none()).count(), answers.len()));
    }
    let delta = spread(&delta).replace(" %", " pp");
    println!("| {} | {} | {} | {} |", condition.name(), spread(&right_share), delta, spread(&away));
}

fn percent(k: usize, of: usize) -> f64 {
    100.0 * k as f64 / of.max(1) as f64
}

pub fn run(args: Args) -> Result<()> {
    crate::setup::ensure_fonts()?;
    let fonts = fonts::load()?;
    let model = trainer::model_file::default_model()?;
    let test = Source::bundled().load(Split::Test)?;
    let n = args.images.min(test.len());
    ensure!(n > 0 && !args.seed.is_empty(), "--images and --seed must not be empty");
    let (images, labels) = (&test.images[..n], &test.labels[..n]);
    let classify = |image: &[u8; shared::INPUT]| model.network.classify(&model.info.preprocessing.apply(image));
    let originals = (0..n).into_par_iter().filter(|&i| classify(&images[i]).digit == labels[i]).count();
    if let Some(dir) = &args.save {
        save_examples(dir, images, &fonts, args.seed[0])?;
    }

    println!(
        "\nPictures made from the first {n} MNIST test digits, seeds {:?}, default model; the same digits as MNIST \
         gives them: {:.1} % right.\n",
        args.seed,
        percent(originals, n)
    );
    println!("| condition | right | against the MNIST originals | turned away as not a digit |");
    println!("|---|---|---|---|");
    let mut all_digits: Vec<(Answer, u8)> = Vec::new();
    let baseline = vec![percent(originals, n); args.seed.len()];
    for condition in Condition::ALL {
        let per_seed: Vec<_> = args
            .seed
            .iter()
            .map(|&seed| digit_answers(&model, images, labels, condition, seed))
            .collect::<Result<_>>()?;
        print_row(condition, &per_seed, &baseline);
        all_digits.extend(per_seed.into_iter().flatten());
    }

    let f = args.font_digits;
    let (tuned, held_out): (Vec<_>, Vec<_>) = fonts.into_iter().partition(|font| font.role == Role::Tuned);
    for (set, role) in [(&tuned, "tuned"), (&held_out, "held out: no choice of the preprocessing looked at them")] {
        all_digits.extend(font_table(&model, set, role, f, &args.seed)?);
    }

    let m = args.non_digits;
    println!(
        "\nPictures with no single digit ({m} of each per seed; letters and symbols from the tuned fonts, then from \
         the held-out ones):\n"
    );
    println!("| picture | turned away as not a digit | the most common reason | let through most often |");
    println!("|---|---|---|---|");
    let mut all_others: Vec<Answer> = Vec::new();
    let kinds = NonDigit::ALL
        .iter()
        .map(|&k| (k, &tuned, ""))
        .chain(NonDigit::ALL.iter().filter(|k| k.uses_fonts()).map(|&k| (k, &held_out, ", held-out fonts")));
    for (kind, set, which) in kinds {
        let (mut away, mut reasons) = (Vec::new(), std::collections::BTreeMap::new());
        let mut through = std::collections::BTreeMap::new();
        for &seed in &args.seed {
            let answers = non_digit_answers(&model, &test.images, set, kind, m, seed)?;
            away.push(percent(answers.iter().filter(|a| a.is_err()).count(), m));
            for (i, _) in answers.iter().enumerate().filter(|(_, a)| a.is_ok()) {
                if let Some((_, c)) = kind.chars().and_then(|chars| fonts::nth_char(set, chars, i)) {
                    *through.entry(c).or_insert(0usize) += 1;
                }
            }
            for why in answers.iter().filter_map(|a| a.err()) {
                *reasons.entry(why.name()).or_insert(0usize) += 1;
            }
            all_others.extend(answers.into_iter().map(Result::ok));
        }
        let common = reasons.iter().max_by_key(|(_, &n)| n).map_or("–", |(name, _)| name);
        let mut through: Vec<_> = through.into_iter().collect();
        through.sort_by_key(|&(c, n)| (std::cmp::Reverse(n), c));
        let through: Vec<String> = through.iter().take(5).map(|(c, n)| format!("{c} ({n})")).collect();
        println!("| {}{which} | {} | {common} | {} |", kind.name(), spread(&away), through.join(", "));
    }

    // Would a floor on the answer's probability help? Turned away: by the preprocessing, or below the floor.
    println!("\nWith a floor on the answer's probability as well (every condition and seed together):\n");
    println!("| floor | real digits turned away | pictures with no single digit turned away |");
    println!("|---|---|---|");
    for floor in [0.0f32, 0.5, 0.6, 0.7, 0.8, 0.9] {
        let below = |a: &Answer| a.is_none_or(|(_, p)| p < floor);
        let false_rejections = all_digits.iter().filter(|(a, _)| below(a)).count();
        let caught = all_others.iter().filter(|a| below(a)).count();
        println!(
            "| {floor:.1} | {:.2} % | {:.2} % |",
            percent(false_rejections, all_digits.len()),
            percent(caught, all_others.len())
        );
    }
    Ok(())
}

/// The table of digits in `fonts` per condition and the table per font;
/// returns every answer for the probability floor's table.
fn font_table(
    model: &trainer::model_file::Model,
    fonts: &[HandwritingFont],
    role: &str,
    f: usize,
    seeds: &[u64],
) -> Result<Vec<(Answer, u8)>> {
    let font_answers_per_seed = |condition| -> Result<Vec<Vec<(Answer, u8, usize)>>> {
        seeds.iter().map(|&seed| font_answers(model, fonts, f, condition, seed)).collect()
    };
    let without_font = |answers: Vec<Vec<(Answer, u8, usize)>>| -> Vec<Vec<(Answer, u8)>> {
        answers.into_iter().map(|a| a.into_iter().map(|(a, d, _)| (a, d)).collect()).collect()
    };
    let clean = font_answers_per_seed(Condition::Clean)?;
    let clean_right: Vec<f64> = without_font(clean.clone()).iter().map(|a| percent(right(a), f)).collect();
    println!(
        "\nDigits in {} handwriting fonts, {role} ({f} per condition and seed: each font and digit in turn, drawn \
         with its own slant, turn and width); their clean photos: {}.\n",
        fonts.len(),
        spread(&clean_right)
    );
    println!("| condition | right | against the clean photos | turned away as not a digit |");
    println!("|---|---|---|---|");
    let mut per_font = vec![(0usize, 0usize); fonts.len()];
    let mut all = Vec::new();
    for condition in Condition::ALL {
        let per_seed = if condition == Condition::Clean { clean.clone() } else { font_answers_per_seed(condition)? };
        for (a, d, font) in per_seed.iter().flatten() {
            per_font[*font].0 += usize::from(is_right(a, *d));
            per_font[*font].1 += 1;
        }
        let per_seed = without_font(per_seed);
        print_row(condition, &per_seed, &clean_right);
        all.extend(per_seed.into_iter().flatten());
    }
    println!("\nPer font ({role}), every condition and seed together:\n");
    println!("| font | right |");
    println!("|---|---|");
    for (font, (k, of)) in fonts.iter().zip(&per_font) {
        println!("| {} | {:.1} % |", font.name, percent(*k, *of));
    }
    Ok(all)
}

/// One sheet, `pictures.png` in `dir`: a row per condition and per kind of
/// non-digit, four pictures each, every one beside what the network sees of it
/// (blank where the picture was turned away).
fn save_examples(dir: &Path, images: &[[u8; shared::INPUT]], fonts: &[HandwritingFont], seed: u64) -> Result<()> {
    use image::imageops::{overlay, resize, FilterType};
    const CELL: u32 = 96;
    let rows: Vec<Vec<image::GrayImage>> = Condition::ALL
        .iter()
        .map(|c| (0..4).map(|i| nth_digit_picture(&images[i % images.len()], *c, i, seed)).collect())
        .chain(Condition::ALL.iter().map(|c| (0..4).map(|i| nth_font_picture(fonts, *c, 37 * i, seed).0).collect()))
        .chain(
            NonDigit::ALL
                .iter()
                .map(|k| (0..4).map(|i| nth_non_digit_picture(*k, images, fonts, 5 * i, seed)).collect()),
        )
        .collect();
    let mut sheet = image::GrayImage::from_pixel(8 * (CELL + 8), rows.len() as u32 * (CELL + 8), image::Luma([128]));
    for (r, row) in rows.iter().enumerate() {
        for (i, picture) in row.iter().enumerate() {
            let (x, y) = (i64::from(2 * i as u32 * (CELL + 8)), i64::from(r as u32 * (CELL + 8)));
            let (w, h) = picture.dimensions();
            let scale = f64::from(CELL) / f64::from(w.max(h));
            let shown =
                resize(picture, (f64::from(w) * scale) as u32, (f64::from(h) * scale) as u32, FilterType::Triangle);
            overlay(&mut sheet, &shown, x, y);
            let input = match preprocess(picture)? {
                Found::Digit(input) => image::GrayImage::from_raw(28, 28, input.to_vec()).unwrap_or_default(),
                Found::NotADigit(_) => image::GrayImage::from_pixel(28, 28, image::Luma([128])),
            };
            overlay(&mut sheet, &resize(&input, CELL, CELL, FilterType::Nearest), x + i64::from(CELL + 8), y);
        }
    }
    std::fs::create_dir_all(dir)?;
    sheet.save(dir.join("pictures.png"))?;
    Ok(())
}
