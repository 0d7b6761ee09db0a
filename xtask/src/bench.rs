//! `cargo xtask bench`: the trainer against the NumPy reference, side by side in one run.
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::shell::{cargo, sh};

#[derive(clap::Args)]
pub struct Args {
    /// Timed runs of the default `tiny-mnist train` (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Full-batch iterations of the NumPy reference (500 is the reference programs').
    #[arg(long, default_value_t = 500)]
    numpy_iterations: u32,
    /// Skip the NumPy reference.
    #[arg(long)]
    no_numpy: bool,
}

struct Run {
    wall: f64,
    metrics: Value,
}

fn host_train(dir: &Path, name: &str, extra: &[&str]) -> Result<Run> {
    let host = board::paths::repo_root().join("target/release/tiny-mnist");
    let out = dir.join(format!("{name}.bin"));
    let metrics = dir.join(format!("{name}.json"));
    let started = Instant::now();
    let status = Command::new(&host)
        .args(["train", "--no-progress", "-o"])
        .arg(&out)
        .arg("--metrics")
        .arg(&metrics)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("cannot run host train")?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("host train {extra:?} failed");
    }
    let metrics = serde_json::from_slice(&std::fs::read(&metrics)?)?;
    Ok(Run { wall, metrics })
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// How often the time-to-accuracy run evaluates the test set.
const REPORTS_PER_EPOCH: u32 = 10;

/// Seconds of training (and the epoch) before the first evaluation whose test accuracy reached `goal`.
fn time_to(metrics: &Value, goal: f64) -> Option<(f64, f64)> {
    metrics["history"].as_array()?.iter().find_map(|r| {
        (r["monitor_accuracy"].as_f64()? >= goal).then(|| Some((r["train_seconds"].as_f64()?, r["epoch"].as_f64()?)))?
    })
}

pub fn run(args: Args) -> Result<()> {
    sh(cargo().args(["build", "--release", "-p", "tiny-mnist"]), None)?;
    let dir = board::paths::repo_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;

    eprintln!("\ntiming {} runs of the default `tiny-mnist train`", args.runs.max(1));
    let runs: Vec<Run> =
        (0..args.runs.max(1)).map(|i| host_train(&dir, &format!("default-{i}"), &[])).collect::<Result<_>>()?;
    let m = &runs[0].metrics;
    let wall = median(runs.iter().map(|r| r.wall).collect());
    let train_s = median(runs.iter().map(|r| num(&r.metrics, "train_seconds")).collect());
    let load_s = median(runs.iter().map(|r| num(&r.metrics, "load_seconds")).collect());
    let rss = runs.iter().map(|r| num(&r.metrics, "peak_rss_mib")).fold(0.0, f64::max);
    let epochs = num(m, "epochs");
    let images = num(m, "training_images");
    let one_thread: Vec<Run> = (0..args.runs.max(1))
        .map(|i| host_train(&dir, &format!("one-thread-{i}"), &["--threads", "1"]))
        .collect::<Result<_>>()?;
    let one_thread_wall = median(one_thread.iter().map(|r| r.wall).collect());
    let one_thread_train = median(one_thread.iter().map(|r| num(&r.metrics, "train_seconds")).collect());
    let monitored =
        host_train(&dir, "monitored", &["--monitor-test", "--reports-per-epoch", &REPORTS_PER_EPOCH.to_string()])?;
    let to_92 = time_to(&monitored.metrics, 0.92);
    let best = host_train(&dir, "best", &["--preset", "best"])?;

    println!("\n== host train (default), median of {} runs ==", runs.len());
    println!("whole command wall time      {wall:.3} s   (load {load_s:.3} s, training {train_s:.3} s)");
    println!("  with --threads 1           {one_thread_wall:.3} s   (training {one_thread_train:.3} s)");
    println!("time per epoch               {:.1} ms", train_s / epochs * 1000.0);
    println!("training images per second   {:.0}", images * epochs / train_s);
    println!(
        "time to first eval >= 92 %   {}   (test set evaluated every 1/{REPORTS_PER_EPOCH} epoch, evaluation time excluded)",
        to_92.map_or("never".into(), |(t, epoch)| format!("{t:.3} s, at epoch {epoch:.1}"))
    );
    println!("test accuracy                {:.2} %", num(m, "test_accuracy") * 100.0);
    println!("peak RSS                     {rss:.1} MiB");
    let best_validation = best.metrics["validation_accuracy"]
        .as_f64()
        .map_or("trained on every image, no validation split".into(), |v| format!("{:.2} % validation", v * 100.0));
    println!(
        "--preset best                {:.2} % test ({best_validation}), {:.2} s wall",
        num(&best.metrics, "test_accuracy") * 100.0,
        best.wall
    );

    if args.no_numpy {
        return Ok(());
    }
    crate::setup::ensure_numpy()?;
    let script = board::paths::repo_root().join("bench/numpy_reference.py");
    eprintln!("\nrunning the NumPy reference ({} full-batch iterations at lr 0.1 and 1.0)", args.numpy_iterations);
    let out = Command::new(crate::setup::python())
        .arg(&script)
        .args(["--iterations", &args.numpy_iterations.to_string()])
        .output()
        .context("cannot run the project's python3 (target/python)")?;
    if !out.status.success() {
        bail!("NumPy reference failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let reference: Value = serde_json::from_slice(&out.stdout).context("NumPy reference output")?;
    println!(
        "\n== NumPy reference (bench/numpy_reference.py, numpy {}) ==",
        reference["numpy"].as_str().unwrap_or("?")
    );
    for r in reference["runs"].as_array().into_iter().flatten() {
        let t = num(r, "train_seconds");
        println!(
            "lr {:<4} {} iterations: {:.1} s, test accuracy {:.2} %, time to 92 % {}   -> ours is {:.0}x faster \
             ({:.2} % vs {:.2} %)",
            num(r, "learning_rate"),
            num(r, "iterations"),
            t,
            num(r, "test_accuracy") * 100.0,
            r["seconds_to_92"].as_f64().map_or("never".into(), |s| format!("{s:.1} s")),
            t / train_s,
            num(m, "test_accuracy") * 100.0,
            num(r, "test_accuracy") * 100.0,
        );
    }
    Ok(())
}
