//! The committed footprint snapshot (`bench/snapshot.json`) and the gate CI
//! runs against it: flash, static RAM, peak stack and mean instructions per
//! inference for every board and model. A figure that grows by more than 2 %
//! fails CI unless the same commit updates the snapshot (and says why).
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// How much a figure may grow before the gate fails.
const ALLOWANCE: f64 = 0.02;

/// `--snapshot`: compare with the committed figures, or replace them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Fail when a figure grew by more than 2 %.
    Check,
    /// Write the measured figures as the new snapshot.
    Update,
    /// Check, and add the rows of boards and models the snapshot does not have yet (a new board).
    Bless,
}

/// One board × model's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub board: String,
    pub model: String,
    pub flash: u64,
    pub static_ram: u64,
    pub peak_stack: u64,
    /// The network's, mean over the snapshot's first `images` test images.
    pub mean_instructions: f64,
    /// The model's input preprocessing (0 without one), mean over the same images.
    #[serde(default)]
    pub mean_preprocessing: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    /// Test images the instruction means are taken over (the first ones).
    images: usize,
    rows: Vec<Row>,
}

fn path() -> PathBuf {
    board::paths::repo_root().join("bench/snapshot.json")
}

/// Compares `rows` (measured over the first `images` test images) with the
/// snapshot, or writes them as the snapshot.
pub fn apply(mode: Mode, images: usize, rows: &[Row]) -> Result<()> {
    let path = path();
    if mode == Mode::Update {
        let snapshot = Snapshot { images, rows: rows.to_vec() };
        let mut json = serde_json::to_string_pretty(&snapshot)?;
        json.push('\n');
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
        println!("\nwrote {} ({} rows, {images} images); commit it and say why", path.display(), rows.len());
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let snapshot: Snapshot =
        serde_json::from_str(&text).with_context(|| format!("{} is not a snapshot", path.display()))?;
    if snapshot.images != images {
        bail!("the snapshot counts {} images; measure with --images {}", snapshot.images, snapshot.images);
    }
    let (known, new): (Vec<Row>, Vec<Row>) =
        rows.iter().cloned().partition(|r| snapshot.rows.iter().any(|o| o.board == r.board && o.model == r.model));
    if mode == Mode::Bless && !new.is_empty() {
        let failures = compare(&snapshot.rows, &known);
        if !failures.is_empty() {
            bail!("not blessing new rows while {} figure(s) grew:\n  {}", failures.len(), failures.join("\n  "));
        }
        let added: Vec<String> = new.iter().map(|r| format!("{} {}", r.board, r.model)).collect();
        let snapshot = Snapshot { images, rows: snapshot.rows.into_iter().chain(new).collect() };
        let mut json = serde_json::to_string_pretty(&snapshot)?;
        json.push('\n');
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
        println!("\nadded {} to {}; commit it with the new board", added.join(", "), path.display());
        return Ok(());
    }
    let failures = compare(&snapshot.rows, rows);
    if !failures.is_empty() {
        bail!(
            "{} figure(s) grew by more than {:.0} %:\n  {}\nmake them smaller, or run `cargo xtask measure --images {images} \
             --snapshot update` and commit bench/snapshot.json with the change, saying why",
            failures.len(),
            ALLOWANCE * 100.0,
            failures.join("\n  ")
        );
    }
    println!("\nsnapshot gate: {} rows within {:.0} % of {}", rows.len(), ALLOWANCE * 100.0, path.display());
    Ok(())
}

/// The figures of `measured` that grew past the allowance over `committed`, or have no row there.
fn compare(committed: &[Row], measured: &[Row]) -> Vec<String> {
    let mut failures = Vec::new();
    for row in measured {
        let Some(old) = committed.iter().find(|o| o.board == row.board && o.model == row.model) else {
            failures.push(format!(
                "{} {}: not in the snapshot (a new board? `cargo xtask measure --images 1000 --snapshot bless` adds its rows)",
                row.board, row.model
            ));
            continue;
        };
        let figures = [
            ("flash", old.flash as f64, row.flash as f64),
            ("static RAM", old.static_ram as f64, row.static_ram as f64),
            ("peak stack", old.peak_stack as f64, row.peak_stack as f64),
            ("mean instructions", old.mean_instructions, row.mean_instructions),
            ("mean preprocessing instructions", old.mean_preprocessing, row.mean_preprocessing),
        ];
        for (name, before, now) in figures {
            if now > before * (1.0 + ALLOWANCE) {
                let growth = if before > 0.0 { (now / before - 1.0) * 100.0 } else { f64::INFINITY };
                failures.push(format!("{} {} {name}: {before:.0} -> {now:.0} (+{growth:.1} %)", row.board, row.model));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(flash: u64, instructions: f64) -> Row {
        Row {
            board: "b".into(),
            model: "int8".into(),
            flash,
            static_ram: 4,
            peak_stack: 1000,
            mean_instructions: instructions,
            mean_preprocessing: 0.0,
        }
    }

    #[test]
    fn growth_past_two_percent_fails_and_less_passes() {
        let committed = [row(10_000, 5_000.0)];
        assert!(compare(&committed, &[row(10_200, 5_100.0)]).is_empty(), "2 % exactly is allowed");
        assert!(compare(&committed, &[row(9_000, 4_000.0)]).is_empty(), "shrinking is fine");
        let failures = compare(&committed, &[row(10_201, 5_200.0)]);
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[1].contains("mean instructions: 5000 -> 5200 (+4.0 %)"), "{failures:?}");
        let other = Row { board: "new".into(), ..row(1, 1.0) };
        assert!(compare(&committed, &[other])[0].contains("not in the snapshot"));
    }
}
