#!/usr/bin/env python3
"""The reference NumPy trainer, written from the description in issue 5.

784 -> 10 (ReLU) -> 10 (softmax); weights and biases uniform in [-0.5, 0.5);
X scaled by 1/255; full-batch gradient descent:
    dZ2 = A2 - Y, dW2 = dZ2 A1^T / m, db2 = sum(dZ2) / m,
    dZ1 = W2^T dZ2 * [Z1 > 0], dW1 = dZ1 X^T / m, db1 = sum(dZ1) / m.
1,000 training images are held out as in the reference programs.

Prints one JSON object: per learning rate, training seconds (evaluation excluded),
test accuracy, and the seconds to the first evaluation at >= 92 % (null if never).
"""
import argparse
import gzip
import json
import os
import time

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return read_idx(path)
    raise SystemExit(f"missing {stem} in {data_dir}")


def softmax(z):
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def train(x, y, x_test, y_test, lr, iterations, eval_every, seed):
    rng = np.random.default_rng(seed)
    w1 = rng.random((10, 784)) - 0.5
    b1 = rng.random((10, 1)) - 0.5
    w2 = rng.random((10, 10)) - 0.5
    b2 = rng.random((10, 1)) - 0.5
    m = x.shape[1]
    one_hot = np.zeros((10, m))
    one_hot[y, np.arange(m)] = 1
    train_seconds, first_92 = 0.0, None
    for it in range(1, iterations + 1):
        start = time.perf_counter()
        z1 = w1 @ x + b1
        a1 = np.maximum(z1, 0)
        z2 = w2 @ a1 + b2
        a2 = softmax(z2)
        dz2 = a2 - one_hot
        dw2 = dz2 @ a1.T / m
        db2 = dz2.sum(axis=1, keepdims=True) / m
        dz1 = (w2.T @ dz2) * (z1 > 0)
        dw1 = dz1 @ x.T / m
        db1 = dz1.sum(axis=1, keepdims=True) / m
        w1 -= lr * dw1
        b1 -= lr * db1
        w2 -= lr * dw2
        b2 -= lr * db2
        train_seconds += time.perf_counter() - start
        if first_92 is None and (it % eval_every == 0 or it == iterations):
            if accuracy(w1, b1, w2, b2, x_test, y_test) >= 0.92:
                first_92 = train_seconds
    return {
        "learning_rate": lr,
        "iterations": iterations,
        "train_seconds": train_seconds,
        "test_accuracy": accuracy(w1, b1, w2, b2, x_test, y_test),
        "seconds_to_92": first_92,
    }


def accuracy(w1, b1, w2, b2, x, y):
    a1 = np.maximum(w1 @ x + b1, 0)
    return float(np.mean(np.argmax(w2 @ a1 + b2, axis=0) == y))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data", "mnist"))
    p.add_argument("--iterations", type=int, default=500)
    p.add_argument("--learning-rates", default="0.1,1.0")
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    x = load(a.data, "train-images-idx3-ubyte").reshape(-1, 784).T / 255.0
    y = load(a.data, "train-labels-idx1-ubyte")
    x_test = load(a.data, "t10k-images-idx3-ubyte").reshape(-1, 784).T / 255.0
    y_test = load(a.data, "t10k-labels-idx1-ubyte")
    perm = np.random.default_rng(a.seed).permutation(x.shape[1])
    train_idx = perm[1000:]  # the first 1,000 are the reference programs' hold-out
    runs = [
        train(x[:, train_idx], y[train_idx], x_test, y_test, float(lr), a.iterations, a.eval_every, a.seed)
        for lr in a.learning_rates.split(",")
    ]
    print(json.dumps({"numpy": np.__version__, "runs": runs}))


if __name__ == "__main__":
    main()
