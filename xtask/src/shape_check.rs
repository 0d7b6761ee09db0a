//! `cargo xtask shape-check`: trains the picture preprocessing's last test of
//! "not a digit" (`pictures::photo::shape`) on MNIST's training digits and
//! the tuned fonts, and writes `models/shape-check.bin`, which the CLI embeds.
use anyhow::{Context, Result};
use pictures::synthetic::fonts::{self, Role};
use pictures::synthetic::shape_training;
use trainer::mnist::{Source, Split};

pub fn run() -> Result<()> {
    crate::setup::ensure_fonts()?;
    let tuned: Vec<_> = fonts::load()?.into_iter().filter(|f| f.role == Role::Tuned).collect();
    let train = Source::bundled().load(Split::Train)?;
    let started = std::time::Instant::now();
    let (check, report) = shape_training::train(&train.images, &tuned, 7)?;
    println!(
        "trained on {} digits and {} pictures that are not digits in {:.0} s; threshold {:.3}, set so that at most \
         0.5 % of each set of validation digit pictures ({}) fall above it",
        report.positives,
        report.negatives,
        started.elapsed().as_secs_f64(),
        check.threshold,
        report.digits_away.iter().map(|(seen, _)| seen).sum::<usize>()
    );
    for ((seen, away), set) in report.digits_away.iter().zip(["MNIST photos", "tuned fonts"]) {
        println!(
            "validation digits turned away, {set}: {away} of {seen} ({:.2} %)",
            100.0 * *away as f64 / (*seen).max(1) as f64
        );
    }
    println!("\n| validation pictures | reached the check | turned away by it |\n|---|---|---|");
    for (kind, seen, away) in &report.kinds {
        println!("| {} | {seen} | {:.1} % |", kind.name(), 100.0 * *away as f64 / (*seen).max(1) as f64);
    }
    let path = board::paths::repo_root().join("models/shape-check.bin");
    std::fs::write(&path, check.to_bytes()).with_context(|| format!("writing {}", path.display()))?;
    println!("\nwrote {}", path.display());
    Ok(())
}
