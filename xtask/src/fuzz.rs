//! `cargo xtask fuzz`: every fuzz target for a while, starting from the seed corpus.
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell::{cargo, sh};

/// The cargo-fuzz targets in `fuzz/fuzz_targets`.
pub const TARGETS: [&str; 7] =
    ["weights_file", "request_frame", "response_frame", "idx", "kaggle_csv", "picture", "pad_request"];

#[derive(clap::Args)]
pub struct Args {
    /// Seconds per target.
    #[arg(long, default_value_t = 30)]
    pub seconds: u32,
    /// Only this target.
    #[arg(long)]
    pub target: Option<String>,
    /// Build with the dev profile: overflow checks and debug assertions on, the
    /// dependencies optimised (`fuzz/Cargo.toml`); CI's smoke run uses it.
    #[arg(long)]
    pub dev: bool,
}

fn has_nightly() -> bool {
    Command::new("cargo").args(["+nightly", "--version"]).output().is_ok_and(|o| o.status.success())
}

/// Installs the nightly toolchain if it is missing; false if that is impossible here.
pub fn ensure_nightly() -> bool {
    if has_nightly() {
        return true;
    }
    let installed = Command::new("rustup")
        .args(["toolchain", "install", "nightly", "--profile", "minimal"])
        .status()
        .is_ok_and(|s| s.success());
    installed && has_nightly()
}

pub fn run(args: Args) -> Result<()> {
    if !ensure_nightly() {
        bail!("fuzzing needs the nightly toolchain and it cannot be installed: rustup toolchain install nightly");
    }
    let has_fuzz = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !has_fuzz {
        sh(cargo().args(["install", "cargo-fuzz", "--locked"]), None).context("cannot install cargo-fuzz")?;
    }
    let dir = board::paths::repo_root().join("fuzz");
    let work = board::paths::repo_root().join("target/fuzz-corpus");
    let targets: Vec<&str> = match &args.target {
        Some(t) if TARGETS.contains(&t.as_str()) => vec![t.as_str()],
        Some(t) => bail!("unknown fuzz target {t:?}; targets: {}", TARGETS.join(", ")),
        None => TARGETS.to_vec(),
    };
    for target in targets {
        // New inputs go to a scratch corpus; the committed seeds stay small.
        let scratch = work.join(target);
        std::fs::create_dir_all(&scratch)?;
        let mut cmd = Command::new("cargo");
        cmd.args(["+nightly", "fuzz", "run", target])
            .args(args.dev.then_some("--dev"))
            .arg(&scratch)
            .arg(format!("corpus/{target}"))
            .args(["--", &format!("-max_total_time={}", args.seconds), "-print_final_stats=1"]);
        sh(&mut cmd, Some(&dir))?;
    }
    Ok(())
}
