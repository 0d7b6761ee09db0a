//! `cargo xtask pictures`: the picture preprocessing measured on photos made
//! from MNIST test digits (`host::synthetic`), one condition at a time, and on
//! pictures with no single digit: accuracy per condition against the same
//! digits as MNIST gives them, and how often each kind of picture is turned away.
use anyhow::{ensure, Result};
use host::image_input::{preprocess, Found};
use host::mnist::{Source, Split};
use host::synthetic::{digit_picture, non_digit_picture, Condition, NonDigit};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use shared::Classifier;

#[derive(clap::Args)]
pub struct Args {
    /// Test digits per condition (the first N of the test set).
    #[arg(long, default_value_t = 1000)]
    pub images: usize,
    /// Pictures of each kind with no single digit.
    #[arg(long, default_value_t = 300)]
    pub non_digits: usize,
    /// Seed of the picture maker.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the first ten pictures of each kind, and what the network sees of them, as PNGs here.
    #[arg(long)]
    pub save: Option<std::path::PathBuf>,
}

/// Writes `picture` and the 28×28 input made of it (scaled up 4×) under `dir` as `stem.png` and `stem-input.png`.
fn save(dir: &std::path::Path, stem: &str, picture: &image::GrayImage, found: &Found) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    picture.save(dir.join(format!("{stem}.png")))?;
    if let Found::Digit(input) = found {
        let small = image::GrayImage::from_raw(28, 28, input.to_vec()).unwrap_or_default();
        image::imageops::resize(&small, 112, 112, image::imageops::FilterType::Nearest)
            .save(dir.join(format!("{stem}-input.png")))?;
    }
    Ok(())
}

/// What the tool answered for one picture: the digit and its probability, or turned away.
type Answer = Option<(u8, f32)>;

pub fn run(args: Args) -> Result<()> {
    let model = host::model_file::default_model()?;
    let test = Source::bundled().load(Split::Test)?;
    let n = args.images.min(test.len());
    ensure!(n > 0, "--images must be at least 1");
    let classify = |image: &[u8; shared::INPUT]| model.network.classify(&model.info.preprocessing.apply(image));
    let answer = |found: Found| -> Answer {
        match found {
            Found::Digit(input) => {
                let p = classify(&input);
                Some((p.digit, p.probabilities[usize::from(p.digit)]))
            }
            Found::NotADigit(_) => None,
        }
    };
    let originals = (0..n).into_par_iter().filter(|&i| classify(&test.images[i]).digit == test.labels[i]).count();
    let percent = |k: usize, of: usize| 100.0 * k as f64 / of.max(1) as f64;

    println!("\nPictures made from the first {n} MNIST test digits (seed {}), default model:\n", args.seed);
    println!(
        "| condition | right | turned away as not a digit | against the MNIST originals ({:.1} %) |",
        percent(originals, n)
    );
    println!("|---|---|---|---|");
    let mut all_digits: Vec<(Answer, u8)> = Vec::new();
    for (c, condition) in Condition::ALL.iter().enumerate() {
        let answers: Vec<(Answer, u8)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ ((c as u64) << 32) ^ i as u64);
                let picture = digit_picture(&test.images[i], *condition, &mut rng);
                let found = preprocess(&picture)?;
                if let Some(dir) = args.save.as_deref().filter(|_| i < 10) {
                    save(dir, &format!("{c:02}-{i}"), &picture, &found)?;
                }
                Ok((answer(found), test.labels[i]))
            })
            .collect::<Result<_>>()?;
        let right = answers.iter().filter(|(a, label)| a.is_some_and(|(d, _)| d == *label)).count();
        let away = answers.iter().filter(|(a, _)| a.is_none()).count();
        println!(
            "| {} | {:.1} % | {:.1} % | {:+.1} pp |",
            condition.name(),
            percent(right, n),
            percent(away, n),
            percent(right, n) - percent(originals, n)
        );
        all_digits.extend(answers);
    }

    let m = args.non_digits;
    println!("\nPictures with no single digit ({m} of each):\n");
    println!("| picture | turned away as not a digit |");
    println!("|---|---|");
    let mut all_others: Vec<Answer> = Vec::new();
    for (k, kind) in NonDigit::ALL.iter().enumerate() {
        let answers: Vec<Answer> = (0..m)
            .into_par_iter()
            .map(|i| {
                let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ (0xdead << 32) ^ ((k as u64) << 24) ^ i as u64);
                let (a, b) = (&test.images[(2 * i) % test.len()], &test.images[(2 * i + 1) % test.len()]);
                let picture = non_digit_picture(*kind, [a, b], &mut rng);
                let found = preprocess(&picture)?;
                if let Some(dir) = args.save.as_deref().filter(|_| i < 10) {
                    save(dir, &format!("non-{k}-{i}"), &picture, &found)?;
                }
                Ok(answer(found))
            })
            .collect::<Result<_>>()?;
        let away = answers.iter().filter(|a| a.is_none()).count();
        println!("| {} | {:.1} % |", kind.name(), percent(away, m));
        all_others.extend(answers);
    }

    // Would a confidence floor help? Turned away = rejected by the preprocessing, or answered below it.
    let digits = all_digits.len();
    println!("\nAdding a floor on the answer's probability (all conditions together):\n");
    println!("| floor | real digits turned away | non-digits turned away |");
    println!("|---|---|---|");
    for floor in [0.0f32, 0.5, 0.6, 0.7, 0.8, 0.9] {
        let below = |a: &Answer| a.is_none_or(|(_, p)| p < floor);
        let false_rejections = all_digits.iter().filter(|(a, _)| below(a)).count();
        let caught = all_others.iter().filter(|a| below(a)).count();
        println!(
            "| {floor:.1} | {:.2} % | {:.1} % |",
            percent(false_rejections, digits),
            percent(caught, all_others.len())
        );
    }
    Ok(())
}
