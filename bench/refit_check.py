#!/usr/bin/env python3
"""Does refitting on every training image help? Answered without the test set.

For each seed, 5,000 of MNIST's 60,000 training images are set aside as a held-out
set H (never trained on). `--preset best` is then trained on the other 55,000 twice:
as usual (5,000 of them held out for validation, so 50,000 trained on) and refitted
(`--validation 0`, all 55,000). Both are scored on H, paired seed by seed. This is the
same step as going from `--preset best` to a refit on all 60,000, one size smaller.

    cargo build --release -p host && python3 bench/refit_check.py [--seeds 10]
"""
import argparse, gzip, json, statistics, subprocess, sys, tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "target" / "release" / "tiny-mnist"
MNIST = ROOT / "data" / "mnist"
HELD_OUT = 5_000


def read_idx(name):
    return gzip.open(MNIST / f"{name}.gz").read()


def write_split(directory, images, labels, keep, stem):
    count = len(keep)
    (directory / f"{stem}-images-idx3-ubyte").write_bytes(
        np.array([0x803, count, 28, 28], ">u4").tobytes() + images[keep].tobytes())
    (directory / f"{stem}-labels-idx1-ubyte").write_bytes(
        np.array([0x801, count], ">u4").tobytes() + labels[keep].tobytes())


def held_out_accuracy(directory, seed, extra, tmp):
    metrics = Path(tmp) / "m.json"
    cmd = [str(HOST), "train", "--preset", "best", "--no-progress", "--seed", str(seed), "--data", str(directory),
           "-o", str(Path(tmp) / "w.bin"), "--metrics", str(metrics), *extra]
    subprocess.run(cmd, check=True, capture_output=True)
    return 100 * json.loads(metrics.read_text())["test_accuracy"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10)
    seeds = range(1, p.parse_args().seeds + 1)
    if not HOST.exists():
        sys.exit(f"{HOST} is missing: run `cargo build --release -p host` first")
    images = np.frombuffer(read_idx("train-images-idx3-ubyte"), np.uint8, offset=16).reshape(-1, 784)
    labels = np.frombuffer(read_idx("train-labels-idx1-ubyte"), np.uint8, offset=8)
    usual, refit = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            order = np.random.default_rng(seed).permutation(len(labels))
            directory = Path(tmp) / f"seed{seed}"
            directory.mkdir()
            write_split(directory, images, labels, np.sort(order[HELD_OUT:]), "train")
            write_split(directory, images, labels, np.sort(order[:HELD_OUT]), "t10k")
            usual.append(held_out_accuracy(directory, seed, ["--validation", "5000"], tmp))
            refit.append(held_out_accuracy(directory, seed, ["--validation", "0"], tmp))
            print(f"seed {seed:2}: held-out {usual[-1]:.2f} % trained on 50,000, {refit[-1]:.2f} % refitted on 55,000",
                  flush=True)
    diff = [r - u for u, r in zip(usual, refit)]
    se = statistics.stdev(diff) / len(diff) ** 0.5
    print(f"\nmean held-out accuracy: {statistics.mean(usual):.2f} % -> {statistics.mean(refit):.2f} % "
          f"({statistics.mean(diff):+.2f} ± {se:.2f} pp, better on {sum(d > 0 for d in diff)}/{len(diff)} seeds)")


if __name__ == "__main__":
    main()
