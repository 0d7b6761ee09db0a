//! The exported library, built by this machine's C compiler, answers as the
//! host does on all 10,000 test images: the digit and every probability's
//! bit pattern, for the committed f32 and int8 models, models trained here
//! and now with each preprocessing, and their int8 quantizations. The images
//! go in as a board receives them (zero runs when shorter), so the pixel
//! forms' reader is checked too, with malformed strings beside them.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use shared::format::weights_file::ModelInfo;
use shared::input::Preprocessing;
use shared::Classifier;
use trainer::model_file::{Model, Network};

/// Builds the library for `model` with the harness; the executable's path.
fn build(model: &Model, dir: &Path) -> PathBuf {
    build_with(model, dir, "harness")
}

/// Builds the library for `model` with `tests/{harness}.c`.
fn build_with(model: &Model, dir: &Path, harness: &str) -> PathBuf {
    c_export::write(model, "test model", dir).expect("export");
    let exe = dir.join(harness);
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/{harness}.c"));
    let out = Command::new("cc")
        .args(["-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Wconversion", "-pedantic", "-Werror"])
        .arg(format!("-I{}", dir.display()))
        .args([harness, dir.join("tiny_mnist.c"), dir.join("tiny_mnist_weights.c")])
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc (a C compiler is needed)");
    assert!(out.status.success(), "cc failed:\n{}", String::from_utf8_lossy(&out.stderr));
    exe
}

/// Every test image as a length-prefixed pixel string, in the form the host sends.
fn requests(images: &[[u8; shared::INPUT]]) -> Vec<u8> {
    let mut stream = Vec::new();
    for image in images {
        let mut buf = [0u8; shared::INPUT];
        let bytes = shared::input::pixels::wire_form(image, &mut buf);
        stream.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        stream.extend_from_slice(bytes);
    }
    stream
}

fn run(exe: &Path, input: &[u8]) -> Vec<String> {
    String::from_utf8(run_bytes(exe, input)).expect("text").lines().map(str::to_owned).collect()
}

fn run_bytes(exe: &Path, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(exe).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("run harness");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("harness output");
    writer.join().expect("writer").expect("write requests");
    assert!(out.status.success(), "harness failed");
    out.stdout
}

fn host_line(model: &Model, image: &[u8; shared::INPUT]) -> String {
    let p = model.classify(image);
    std::iter::once(p.digit.to_string())
        .chain(p.probabilities.iter().map(|x| format!("{:08x}", x.to_bits())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn trained(preprocessing: Preprocessing) -> Model {
    let all = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Train).expect("training set");
    let all = all.preprocessed(preprocessing);
    let config = trainer::train::Config { epochs: 1, seed: 11, ..trainer::train::Config::default() };
    let (train, validation) = trainer::train::split(&all, config.validation, config.seed).expect("split");
    let result = trainer::train::train(&config, &all, &train, &validation, None, &mut |_| {}).expect("train");
    let info = ModelInfo { seed: 11, epochs: 1, preprocessing, ..ModelInfo::default() };
    let bytes = trainer::model_file::encode(&result.weights, &info).expect("encode");
    trainer::model_file::decode(&bytes).expect("decode")
}

fn quantized(model: &Model) -> Model {
    let Network::F32(w) = &model.network else { panic!("an f32 model") };
    let bytes = trainer::model_file::encode_int8(&shared::network::int8::quantize(w), &model.info).expect("encode");
    trainer::model_file::decode(&bytes).expect("decode")
}

#[test]
fn the_c_library_gives_the_hosts_bits_on_every_test_image() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let load = |name: &str| trainer::model_file::load(&root.join(name)).expect("committed model");
    let fresh: Vec<Model> = Preprocessing::ALL.into_iter().map(trained).collect();
    let mut models =
        vec![("default f32", load("models/default.bin")), ("default int8", load("models/default-int8.bin"))];
    for model in fresh {
        let name = model.info.preprocessing.name();
        models.push((name, quantized(&model)));
        models.push((name, model));
    }
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).expect("test set");
    let mut input = requests(&test.images);
    // Malformed pixel strings: too few pixels, a run past the end, a run of 0, a lone 0.
    for bad in [&[7u8, 7][..], &[0, 255, 0, 255, 0, 255, 0, 255], &[0, 0], &[5, 0]] {
        input.extend_from_slice(&(bad.len() as u16).to_le_bytes());
        input.extend_from_slice(bad);
    }
    for (name, model) in &models {
        let dir = tempfile::tempdir().expect("temporary directory");
        let lines = run(&build(model, dir.path()), &input);
        assert_eq!(lines.len(), test.len() + 4, "{name}");
        let differ: Vec<String> = test
            .images
            .iter()
            .zip(&lines)
            .enumerate()
            .filter_map(|(i, (image, line))| {
                let host = host_line(model, image);
                (*line != host).then(|| format!("image {i}: C {line}, host {host}"))
            })
            .collect();
        let kind = if matches!(model.network, Network::Int8(_)) { "int8" } else { "f32" };
        assert!(differ.is_empty(), "{name} {kind}: {} of 10000 differ; first: {}", differ.len(), differ[0]);
        assert!(lines[test.len()..].iter().all(|l| l == "malformed"), "{name}: {:?}", &lines[test.len()..]);
        println!("{name} {kind}: 10000/10000 bit-exact (digit and probability bits)");
    }
}

/// The device side of the protocol in C answers every frame of
/// [`c_export::conformance`] as the Rust firmware does, byte for byte.
#[test]
fn the_c_link_answers_every_frame_as_the_firmware_does() {
    use shared::wire::protocol::{encode_frame, MAX_RESPONSE_FRAME};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = trainer::model_file::load(&root.join("models/default-int8.bin")).expect("committed model");
    let dir = tempfile::tempdir().expect("temporary directory");
    let exe = build_with(&model, dir.path(), "link");
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).expect("test set");
    let exchanges = c_export::conformance::exchanges(&model, &test.images[..1000], "c-library");
    let stream: Vec<u8> = exchanges.iter().flat_map(|e| e.bytes.iter().copied()).collect();
    let got = run_bytes(&exe, &stream);
    let mut got = got.split_inclusive(|&b| b == 0);
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for (i, exchange) in exchanges.iter().enumerate() {
        let Some(answer) = &exchange.answer else { continue };
        *kinds.entry(c_export::conformance::kind(answer)).or_default() += 1;
        let mut buf = [0u8; MAX_RESPONSE_FRAME];
        let want = encode_frame(answer, &mut buf).expect("encode");
        assert_eq!(got.next(), Some(&want[..]), "exchange {i}: {:02x?}", exchange.bytes);
    }
    assert_eq!(got.next(), None, "answers nobody asked for");
    assert!(kinds.len() == 7 && kinds.values().all(|&n| n >= 10), "every kind of answer, often: {kinds:?}");
    println!("{} answers identical to the firmware's: {kinds:?}", kinds.values().sum::<usize>());
}
