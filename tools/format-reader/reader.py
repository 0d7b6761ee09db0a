#!/usr/bin/env python3
"""A second implementation of tiny-mnist's weight files and forward pass,
written from docs/format.md alone (Python 3 and NumPy, nothing from the Rust code).

    reader.py MODEL.bin IMAGES-idx3-ubyte[.gz]

prints one line per image: the digit, then the ten probabilities as the hex
bits of their f32 values. tests/tests/format_reader.rs compares these lines
with the Rust host's answers for both committed models on all 10,000 test images.
"""
import gzip
import struct
import sys
import zlib

import numpy as np

F32 = np.float32
KINDS = {b"TNYMNIST": ("f32", 31840), b"TNYMNSQ8": ("int8", 8024)}


def read_model(path):
    """Validates a weight file (docs/format.md §1.5) and returns (kind, tensors)."""
    data = open(path, "rb").read()
    if len(data) < 64:
        raise ValueError(f"{path}: {len(data)} bytes, shorter than a header")
    kind_len = KINDS.get(data[0:8])
    if kind_len is None:
        raise ValueError(f"{path}: bad magic {data[0:8]!r}")
    kind, body_len = kind_len
    version, n_in, n_hidden, n_out, stated_len = struct.unpack_from("<HHHHI", data, 8)
    if version != 1 or (n_in, n_hidden, n_out) != (784, 10, 10):
        raise ValueError(f"{path}: version {version}, sizes {n_in}-{n_hidden}-{n_out}")
    if len(data) != 64 + body_len + 4 or stated_len != body_len:
        raise ValueError(f"{path}: wrong length {len(data)}")
    (stored_crc,) = struct.unpack_from("<I", data, 64 + body_len)
    if zlib.crc32(data[: 64 + body_len]) != stored_crc:
        raise ValueError(f"{path}: CRC mismatch")
    validation, test = struct.unpack_from("<ff", data, 32)
    if data[40] not in (0, 1) or data[41] not in (0, 1, 2) or not (0 <= validation <= 1 and 0 <= test <= 1):
        raise ValueError(f"{path}: bad class set, preprocessing or accuracy")
    preprocessing = data[41]
    if kind == "f32":
        values = np.frombuffer(data, dtype="<f4", count=7960, offset=64).astype(F32)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{path}: non-finite weight")
        w1 = values[0:7840].reshape(784, 10)  # input-major
        b1 = values[7840:7850]
        w2 = values[7850:7950].reshape(10, 10)  # output-major
        b2 = values[7950:7960]
        # §1.5: no sum can leave f32's range, for any image (binary64 bounds).
        w1d, b1d, w2d, b2d = (t.astype(np.float64) for t in (w1, b1, w2, b2))
        if np.any(np.abs(b1d) + np.abs(w1d).sum(axis=0) > 1e30):
            raise ValueError(f"{path}: a hidden unit's sums are unbounded")
        reach = np.maximum(0.0, b1d + np.maximum(w1d, 0.0).sum(axis=0))
        if np.any(np.abs(b2d) + (np.abs(w2d) * reach).sum(axis=1) > 1e30):
            raise ValueError(f"{path}: an output's sums are unbounded")
        return kind, preprocessing, (w1, b1, w2, b2)
    w1 = np.frombuffer(data, dtype="i1", count=7840, offset=64).astype(np.int64).reshape(784, 10)
    b1 = np.frombuffer(data, dtype="<i4", count=10, offset=7904).astype(np.int64)
    w2 = np.frombuffer(data, dtype="i1", count=100, offset=7944).astype(np.int64).reshape(10, 10)
    b2 = np.frombuffer(data, dtype="<i4", count=10, offset=8044).astype(np.int64)
    (scale,) = np.frombuffer(data, dtype="<f4", count=1, offset=8084).astype(F32)
    # §1.5: the first layer's sums fit 32 bits for any image; the scale is a positive normal f32.
    if np.any(np.abs(b1) > 2**31 - 1 - 784 * 255 * 128):
        raise ValueError(f"{path}: a first-layer bias is out of range")
    exponent = (bits(scale) >> 23) & 0xFF
    if bits(scale) >> 31 or exponent in (0, 0xFF):
        raise ValueError(f"{path}: the output scale is not a positive normal number")
    return kind, preprocessing, (w1, b1, w2, b2, scale)


def read_images(path):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, count, rows, cols = struct.unpack_from(">IIII", data, 0)
    assert magic == 0x803 and (rows, cols) == (28, 28)
    return np.frombuffer(data, dtype=np.uint8, count=count * 784, offset=16).reshape(count, 784)


def tdiv(a, b):
    """Integer division rounding toward zero (as Rust's `/`), elementwise."""
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q)


def isqrt(n):
    """Floor of the square root of each non-negative int64, exactly."""
    r = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    r = np.where(r * r > n, r - 1, r)
    return np.where((r + 1) * (r + 1) <= n, r + 1, r)


def deskew(images, wide=False):
    """docs/format.md §2.0 for a batch of images (rows), in exact integers;
    with `wide`, the x scale of §2.3 step 1 (the width normalised too)."""
    one, centre, target = 1 << 16, 14 << 16, 5 << 16
    p = images.astype(np.int64)
    x = np.tile(np.arange(28, dtype=np.int64), 28)
    y = np.repeat(np.arange(28, dtype=np.int64), 28)
    m = p.sum(1)
    sx, sy = (p * x).sum(1), (p * y).sum(1)
    sxy, syy = (p * x * y).sum(1), (p * y * y).sum(1)
    blank = m == 0
    m = np.where(blank, 1, m)
    cx, cy = tdiv(sx << 16, m), tdiv(sy << 16, m)
    mu11, mu02 = m * sxy - sx * sy, m * syy - sy * sy
    alpha = np.where(mu02 > 0, np.clip(tdiv(mu11 << 16, np.where(mu02 > 0, mu02, 1)), -one, one), 0)
    k = np.clip(tdiv(isqrt(mu02) << 32, m * target), one // 2, 2 * one)
    kx = k
    if wide:
        sxx = (p * x * x).sum(1)
        mu20 = m * sxx - sx * sx
        t = np.maximum(mu20 - ((2 * alpha * mu11) >> 16) + ((alpha * ((alpha * mu02) >> 16)) >> 16), 0)
        kx = tdiv(isqrt(t) << 32, m * (7 * one // 2))
        kx = np.minimum(np.maximum(kx, tdiv(7 * k, 10)), tdiv(16 * k, 10))
    out = np.zeros_like(p)
    rows = np.arange(len(p))
    for yo in range(28):
        ys = cy + ((k * (yo * one - centre)) >> 16)
        xs = cx + ((kx * -centre) >> 16) + ((alpha * (ys - cy)) >> 16)
        for xo in range(28):
            x0, y0 = xs >> 16, ys >> 16
            fx, fy = (xs >> 8) & 0xFF, (ys >> 8) & 0xFF

            def at(xx, yy):
                inside = (xx >= 0) & (xx < 28) & (yy >= 0) & (yy < 28)
                index = np.where(inside, yy * 28 + xx, 0)
                return np.where(inside, p[rows, index], 0)

            top = at(x0, y0) * (256 - fx) + at(x0 + 1, y0) * fx
            bottom = at(x0, y0 + 1) * (256 - fx) + at(x0 + 1, y0 + 1) * fx
            out[:, yo * 28 + xo] = (top * (256 - fy) + bottom * fy + (1 << 15)) >> 16
            xs = xs + kx
    return np.where(blank[:, None], p, out).astype(np.uint8)


COS = [128, 118, 91, 49, 0, -49, -91, -118, -128, -118, -91, -49, 0, 49, 91, 118]
SIN = [0, 49, 91, 118, 128, 118, 91, 49, 0, -49, -91, -118, -128, -118, -91, -49]


def strokes(images):
    """docs/format.md §2.3: stroke maps of a batch of images, in exact integers."""
    d = deskew(images, wide=True).astype(np.int64).reshape(-1, 28, 28)
    padded = np.pad(d, ((0, 0), (1, 1), (1, 1)))
    gx = padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]
    gy = padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]
    p = np.stack([gx * COS[k] + gy * SIN[k] for k in range(16)])
    strongest = p.max(axis=0)
    out = np.zeros((len(d), 7, 7, 16), dtype=np.int64)
    for k in range(16):
        response = np.maximum(4 * p[k] - 3 * strongest, 0)
        out[:, :, :, k] = response.reshape(-1, 7, 4, 7, 4).sum(axis=(2, 4))
    return np.minimum((out + (1 << 8)) >> 9, 255).reshape(-1, 784).astype(np.uint8)


def bits(x):
    return np.asarray(x, dtype=F32).view(np.uint32)


def from_bits(b):
    return np.asarray(b, dtype=np.uint32).view(F32)


def scalbnf(y, k):
    """§2.1: multiply by 2^k, pre-scaling by 2^-102 while k < -126 (elementwise; k <= 0 here)."""
    y, k = y.copy(), k.copy()
    for _ in range(2):
        low = k < -126
        y[low] = y[low] * from_bits(0x0C800000)  # 2^-102
        k[low] += 102
    k = np.maximum(k, -126)
    return y * from_bits(((127 + k) << 23).astype(np.uint32))


def expf(x):
    """§2.1's expf for an array of f32 values x <= 0, every step in f32."""
    x = np.asarray(x, dtype=F32)
    hx = bits(x) & np.uint32(0x7FFFFFFF)
    result = np.zeros_like(x)
    big = hx > 0x3EB17218
    k = np.zeros(x.shape, dtype=np.int64)
    far = big & (hx > 0x3F851592)
    k[far] = np.trunc(F32(1.4426950216) * x[far] + F32(-0.5)).astype(np.int64)
    k[big & ~far] = -1
    kf = k.astype(F32)
    hi = np.where(big, x - kf * F32(6.9314575195e-01), x).astype(F32)
    lo = np.where(big, kf * F32(1.4286067653e-06), F32(0)).astype(F32)
    r = np.where(big, hi - lo, x).astype(F32)
    xx = r * r
    c = r - xx * (F32(1.6666625440e-1) + xx * F32(-2.7667332906e-3))
    y = F32(1) + (r * c / (F32(2) - c) - lo + hi)
    y = np.where(k == 0, y, scalbnf(y, k))
    tiny = hx <= 0x39000000
    result = np.where(tiny, F32(1) + x, y)
    return np.where(hx >= 0x42CFF1B5, F32(0), result).astype(F32)


def softmax(z2):
    """§2.1 step 6 for a batch: rows are images."""
    m = z2.max(axis=1, keepdims=True)
    e = expf(z2 - m)
    s = np.zeros(z2.shape[0], dtype=F32)
    for k in range(10):
        s = s + e[:, k]
    return (e / s[:, None]).astype(F32)


def first_argmax(v):
    return np.argmax(v, axis=1)  # NumPy returns the first maximum


def forward_f32(model, images):
    w1, b1, w2, b2 = model
    n = images.shape[0]
    x = F32(1) * images.astype(F32) / F32(255)  # one rounded division per pixel
    z1 = np.tile(b1, (n, 1)).astype(F32)
    for i in range(784):  # ascending pixels, zero pixels skipped
        on = images[:, i] != 0
        if on.any():
            z1[on] = z1[on] + x[on, i][:, None] * w1[i][None, :]
    a1 = np.where(z1 > 0, z1, F32(0)).astype(F32)
    z2 = np.tile(b2, (n, 1)).astype(F32)
    for j in range(10):
        z2 = z2 + w2[:, j][None, :] * a1[:, j][:, None]
    return first_argmax(z2), softmax(z2)


LOG2E_Q31 = 3098164009
LN2_Q31 = 1488522236
TABLE = [round(2**31 * 2 ** (-j / 32)) for j in range(32)]
FRAC = 24
CAP = 32 << FRAC


def int_softmax(acc2, scale):
    """§2.2 step 5 for one image: the softmax in integers (Python ints are exact)."""
    sbits = int(bits(np.array([scale], dtype=F32))[0])
    field = (sbits >> 23) & 0xFF
    if sbits >> 31 or field in (0, 0xFF):
        c, e = 0, 0
    else:
        c, e = ((sbits & 0x7FFFFF | 0x800000) * LOG2E_Q31) >> 24, field - 150
    best = max(acc2)
    exps = []
    for a in acc2:
        d = best - a
        beyond = max(0, d.bit_length() - 32)
        product = (d >> beyond) * c
        shift = e + (FRAC - 7) + beyond
        x = product << shift if shift >= 0 else product >> -shift
        x = min(x, CAP)
        r = x & ((1 << (FRAC - 5)) - 1)
        a1 = (r * LN2_Q31) >> FRAC
        a2 = (a1 * a1) >> 31
        a3 = (a2 * a1) >> 31
        a4 = (a3 * a1) >> 31
        poly = ((1 << 31) + a2 // 2 + a4 // 24) - (a1 + a3 // 6)
        exps.append(((TABLE[(x >> (FRAC - 5)) & 31] * poly) >> 31) >> (x >> FRAC))
    reciprocal = (1 << 62) // sum(exps)
    q = [(v * reciprocal) >> 30 for v in exps]
    # One rounding to f32 (q <= 2^32 is exact in f64), then an exact scaling by 2^-32.
    return np.array([F32(v) for v in q], dtype=F32) * F32(2.0**-32)


def forward_int8(model, images):
    w1, b1, w2, b2, scale = model
    acc1 = b1[None, :] + images.astype(np.int64) @ w1  # exact integers
    a1 = np.maximum(acc1, 0)
    acc2 = b2[None, :] + a1 @ w2.T
    probabilities = np.stack([int_softmax([int(v) for v in row], scale) for row in acc2])
    return first_argmax(acc2), probabilities


def main():
    model_path, images_path = sys.argv[1:3]
    kind, preprocessing, model = read_model(model_path)
    images = read_images(images_path)
    if preprocessing == 1:
        images = deskew(images)
    elif preprocessing == 2:
        images = strokes(images)
    digits, probabilities = (forward_f32 if kind == "f32" else forward_int8)(model, images)
    out = sys.stdout
    for digit, p in zip(digits, bits(probabilities)):
        out.write(f"{digit} " + " ".join(f"{b:08x}" for b in p) + "\n")


if __name__ == "__main__":
    main()
