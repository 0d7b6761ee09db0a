//! docs/format.md is enough to reimplement the weight files and the forward
//! pass: `tools/format-reader/reader.py`, written from it alone in Python and
//! NumPy, gives the host's answer on every test image for both committed
//! models (both deskew their input), digit and probabilities, bit for bit.
use std::path::Path;
use std::process::Command;

/// A Python 3 with NumPy: the project's own (`target/python`, which `cargo
/// xtask ci` makes), else `python3` on the PATH.
fn python_with_numpy() -> std::path::PathBuf {
    let own = board::paths::repo_root().join("target/python/bin/python3");
    [own, "python3".into()]
        .into_iter()
        .find(|py| {
            let probe = Command::new(py).args(["-c", "import numpy"]).stderr(std::process::Stdio::null()).status();
            probe.is_ok_and(|s| s.success())
        })
        .expect("a python3 with numpy (`cargo xtask ci` makes target/python with it)")
}

fn reader_agrees_with_the_host(model_path: &Path) {
    let root = board::paths::repo_root();
    let images = root.join("data/mnist/t10k-images-idx3-ubyte.gz");
    let out = Command::new(python_with_numpy())
        .arg(root.join("tools/format-reader/reader.py"))
        .arg(model_path)
        .arg(&images)
        .output()
        .expect("run the reader");
    assert!(out.status.success(), "reader failed: {}", String::from_utf8_lossy(&out.stderr));
    let model = trainer::model_file::load(model_path).expect("model");
    let test = e2e::test_set();
    let lines: Vec<String> = String::from_utf8(out.stdout).expect("text").lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), test.len());
    let mut differ = Vec::new();
    for (i, (image, line)) in test.images.iter().zip(&lines).enumerate() {
        // The model as its file describes it: preprocessing (if any), then the network.
        let p = shared::Classifier::classify(&model, image);
        let host_line = std::iter::once(p.digit.to_string())
            .chain(p.probabilities.iter().map(|x| format!("{:08x}", x.to_bits())))
            .collect::<Vec<_>>()
            .join(" ");
        if *line != host_line {
            differ.push(format!("image {i}: reader {line}, host {host_line}"));
        }
    }
    assert!(differ.is_empty(), "{} of 10000 differ; first: {}", differ.len(), differ[0]);
    println!("{}: 10000/10000 identical (digit and probability bits)", model_path.display());
}

#[test]
#[ignore = "needs python3 with numpy; run by `cargo xtask ci`"]
fn the_reader_reproduces_the_f32_model() {
    reader_agrees_with_the_host(&board::paths::default_model());
}

#[test]
#[ignore = "needs python3 with numpy; run by `cargo xtask ci`"]
fn the_reader_reproduces_the_int8_model() {
    reader_agrees_with_the_host(&board::paths::repo_root().join("models/default-int8.bin"));
}

/// A committed model with the little-endian value `value` written at body
/// offset `at`, its CRC made right again: valid in every way but §1.5's bounds.
fn crafted(model: &str, at: usize, value: [u8; 4]) -> std::path::PathBuf {
    let mut bytes = std::fs::read(board::paths::repo_root().join(model)).expect("model");
    bytes[64 + at..68 + at].copy_from_slice(&value);
    let crc_at = bytes.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..crc_at]);
    bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
    let path = e2e::scratch().join(format!("crafted-{at}-{}.bin", u32::from_le_bytes(value)));
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Files that only §1.5's bounds refuse are refused alike by the host, by the
/// check a firmware build runs, and by the reader written from the page.
#[test]
#[ignore = "needs python3 with numpy; run by `cargo xtask ci`"]
fn files_out_of_bounds_are_refused_by_both_implementations() {
    let cases = [
        // b2[5] of the f32 model: a logit that could pass 1e30.
        crafted("models/default.bin", 4 * 7955, 1e31f32.to_le_bytes()),
        // b1[0] of the int8 model: sums that could pass 32 bits.
        crafted("models/default-int8.bin", 7840, i32::MAX.to_le_bytes()),
        // The int8 output scale, negative.
        crafted("models/default-int8.bin", 8020, (-1e-6f32).to_le_bytes()),
    ];
    for path in cases {
        let bytes = std::fs::read(&path).expect("read");
        assert!(trainer::model_file::load(&path).is_err(), "the host loaded {}", path.display());
        assert!(shared::ModelKind::check(&bytes).is_err(), "a firmware build would embed {}", path.display());
        let out = Command::new(python_with_numpy())
            .arg(board::paths::repo_root().join("tools/format-reader/reader.py"))
            .arg(&path)
            .arg(board::paths::repo_root().join("data/mnist/t10k-images-idx3-ubyte.gz"))
            .output()
            .expect("run the reader");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("ValueError"), "the reader read {}: {err}", path.display());
    }
}

/// The reader written from the page gives the host's bits on the crafted
/// models too: §1.5 and §2 define every file the loader accepts.
#[test]
#[ignore = "needs python3 with numpy; run by `cargo xtask ci`"]
fn the_reader_reproduces_the_crafted_models() {
    for (path, _) in e2e::crafted_models() {
        reader_agrees_with_the_host(&path);
    }
}
