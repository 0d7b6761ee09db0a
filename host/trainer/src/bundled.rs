//! Files compiled into the binary, so that an installed `tiny-mnist` (from
//! `cargo install --path host`) trains, evaluates and predicts outside a
//! checkout: the bundled MNIST (11 MB of gzip) and the committed default model.

/// `data/mnist`'s four gzipped IDX files, by file stem.
pub const MNIST: [(&str, &[u8]); 4] = [
    ("train-images-idx3-ubyte", include_bytes!("../../../data/mnist/train-images-idx3-ubyte.gz")),
    ("train-labels-idx1-ubyte", include_bytes!("../../../data/mnist/train-labels-idx1-ubyte.gz")),
    ("t10k-images-idx3-ubyte", include_bytes!("../../../data/mnist/t10k-images-idx3-ubyte.gz")),
    ("t10k-labels-idx1-ubyte", include_bytes!("../../../data/mnist/t10k-labels-idx1-ubyte.gz")),
];

/// How messages name the bundled MNIST.
pub const MNIST_NAME: &str = "bundled MNIST";

/// `models/default.bin`: the model every command uses without `--model`.
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../../models/default.bin");

/// How messages name [`DEFAULT_MODEL`].
pub const DEFAULT_MODEL_NAME: &str = "built-in models/default.bin";
