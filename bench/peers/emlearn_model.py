"""Writes emlearn's C code for our f32 model: `python3 emlearn_model.py weights.bin out.h`.

weights.bin is the model's parameters as little-endian f32 in our file order
(w1 [784][10], b1 [10], w2 [10][10], b2 [10]); emlearn wants each layer's
weights as [inputs][outputs], so w2 is transposed.
"""
import sys

import numpy
import emlearn.net


def main(weights_path, out_path):
    flat = numpy.fromfile(weights_path, dtype="<f4")
    if flat.size != 784 * 10 + 10 + 10 * 10 + 10:
        sys.exit(f"{weights_path}: {flat.size} parameters, expected 7960")
    w1 = flat[:7840].reshape(784, 10)
    b1 = flat[7840:7850]
    w2 = flat[7850:7950].reshape(10, 10).T
    b2 = flat[7950:]
    code = emlearn.net.c_generate_net_loadable(["relu", "softmax"], [w1, w2], [b1, b2], "peer")
    with open(out_path, "w") as f:
        f.write(code)


if __name__ == "__main__":
    main(*sys.argv[1:])
