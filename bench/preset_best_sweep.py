#!/usr/bin/env python3
"""How `--preset best` was chosen: candidate settings against the previous preset,
paired seed by seed (each seed draws its own 5,000-image validation split, the same
for every candidate), judged on validation accuracy only. Test accuracy is printed
for the record and never used to choose.

    cargo build --release -p host && python3 bench/preset_best_sweep.py [--seeds 15]
"""
import argparse, json, statistics, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "target" / "release" / "tiny-mnist"
CANDIDATES = {
    "previous (lr 0.05 x 0.93)": ["--learning-rate", "0.05", "--lr-decay", "0.93", "--weight-decay", "0"],
    "lr 0.1 x 0.92": ["--learning-rate", "0.1", "--lr-decay", "0.92", "--weight-decay", "0"],
    "lr 0.1 x 0.9": ["--learning-rate", "0.1", "--lr-decay", "0.9", "--weight-decay", "0"],
    "lr 0.1 x 0.9, wd 1e-4 (adopted)": ["--learning-rate", "0.1", "--lr-decay", "0.9", "--weight-decay", "1e-4"],
}


def run(args, seed, tmp):
    metrics = Path(tmp) / "m.json"
    # Every candidate spells out what it changes; the rest is `--preset best` (40 epochs, batch 16, He init),
    # with the 5,000-image validation split it was chosen on (the preset itself then trains on all 60,000).
    cmd = [str(HOST), "train", "--preset", "best", "--validation", "5000", "--no-progress", "--seed", str(seed),
           "-o", str(Path(tmp) / "w.bin"), "--metrics", str(metrics), *args]
    subprocess.run(cmd, check=True, capture_output=True)
    m = json.loads(metrics.read_text())
    return 100 * m["validation_accuracy"], 100 * m["test_accuracy"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=15)
    seeds = range(1, p.parse_args().seeds + 1)
    if not HOST.exists():
        sys.exit(f"{HOST} is missing: run `cargo build --release -p host` first")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in CANDIDATES.items():
            results[name] = [run(args, s, tmp) for s in seeds]
            print(f"{name:34} validation {statistics.mean(v for v, _ in results[name]):.2f} %", flush=True)
    base = results[next(iter(CANDIDATES))]
    print(f"\npaired over seeds 1-{len(seeds)}, against the previous preset:")
    for name, rs in results.items():
        diff = [v - b for (v, _), (b, _) in zip(rs, base)]
        se = statistics.stdev(diff) / len(diff) ** 0.5 if len(diff) > 1 else float("nan")
        print(f"{name:34} validation {statistics.mean(v for v, _ in rs):.2f} % "
              f"({statistics.mean(diff):+.2f} ± {se:.2f}, better on {sum(d > 0 for d in diff)}/{len(diff)} seeds); "
              f"test, for the record: {statistics.mean(t for _, t in rs):.2f} %")


if __name__ == "__main__":
    main()
