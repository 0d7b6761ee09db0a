//! The picture preprocessing on photos made from test digits (`pictures::synthetic`):
//! a guard on what `cargo xtask pictures` measures in full (1,000 digits × 3
//! seeds there; 300 digits, one seed here, so the bounds leave room for the
//! smaller sample). The handwriting fonts must be installed (`cargo xtask ci`
//! installs them; otherwise the test says which packages).
use pictures::synthetic::{digit_answers, font_answers, fonts, non_digit_answers, Condition, NonDigit};
use shared::Classifier;
use trainer::mnist::{Source, Split};

#[test]
fn every_condition_stays_near_the_mnist_originals_and_non_digits_are_turned_away() {
    let model = trainer::model_file::default_model().unwrap();
    let test = Source::bundled().load(Split::Test).unwrap();
    let n = 300;
    let (images, labels) = (&test.images[..n], &test.labels[..n]);
    let originals = images
        .iter()
        .zip(labels)
        .filter(|(i, &l)| model.network.classify(&model.info.preprocessing.apply(i)).digit == l)
        .count();
    let mut turned_away = 0;
    for condition in Condition::ALL {
        let answers = digit_answers(&model, images, labels, condition, 1).unwrap();
        let right = answers.iter().filter(|(a, l)| a.is_some_and(|(d, _)| d == *l)).count();
        turned_away += answers.iter().filter(|(a, _)| a.is_none()).count();
        // 3 pp is the README's target over 3,000 pictures; 300 allow a little more.
        let allowed = 15;
        assert!(right + allowed >= originals, "{}: {right}/{n} right, the originals {originals}/{n}", condition.name());
    }
    let digits = n * Condition::ALL.len();
    assert!(turned_away * 100 <= digits, "{turned_away} of {digits} real digits turned away as not a digit");
    let fonts: Vec<_> = fonts::load().unwrap().into_iter().filter(|f| f.role == fonts::Role::Tuned).collect();
    for kind in NonDigit::ALL {
        let answers = non_digit_answers(&model, &test.images, &fonts, kind, 50, 1).unwrap();
        let away = answers.iter().filter(|a| a.is_err()).count();
        // `cargo xtask pictures` measures each kind over 300 pictures × 3 seeds (docs/pictures.md).
        // Scribbles are only partly caught by the shape check (75 % there), symbols 96 %.
        let least = match kind {
            NonDigit::Scribble => 28,
            NonDigit::Symbol => 43,
            _ => 45,
        };
        assert!(away >= least, "{}: only {away}/50 turned away", kind.name());
    }
}

#[test]
fn handwriting_fonts_stay_near_their_clean_photos_under_every_condition() {
    let model = trainer::model_file::default_model().unwrap();
    let fonts: Vec<_> = fonts::load().unwrap().into_iter().filter(|f| f.role == fonts::Role::Tuned).collect();
    let n = 10 * fonts.len(); // each font's ten digits once
    let right = |condition| {
        let answers = font_answers(&model, &fonts, n, condition, 1).unwrap();
        let right = answers.iter().filter(|(a, d, _)| a.is_some_and(|(g, _)| g == *d)).count();
        (right, answers.iter().filter(|(a, _, _)| a.is_none()).count())
    };
    let (clean, _) = right(Condition::Clean);
    // `cargo xtask pictures` measures about 92 % over 950 digits × 3 seeds.
    assert!(clean * 100 >= 85 * n, "clean photos of font digits: {clean}/{n} right");
    let mut turned_away = 0;
    for condition in Condition::ALL {
        let (r, away) = right(condition);
        turned_away += away;
        // 3 pp is the README's target over 2,850 pictures; 190 allow a little more. Blur and small
        // scans lose the most (5 of these 190; small scans 2.6 pp in `cargo xtask pictures`).
        let allowed = 10;
        assert!(r + allowed >= clean, "{}: {r}/{n} right, the clean photos {clean}/{n}", condition.name());
    }
    let digits = n * Condition::ALL.len();
    assert!(turned_away * 100 <= digits, "{turned_away} of {digits} font digits turned away as not a digit");
}
