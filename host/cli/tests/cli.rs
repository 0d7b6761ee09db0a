//! The CLI as a user meets it: clear one-line errors, non-zero exits, no panics.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiny-mnist")).args(args).output().expect("run tiny-mnist")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_clean_failure(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "panic: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

#[test]
fn missing_model_file() {
    assert_clean_failure(&host(&["eval", "--model", "/nonexistent/model.bin"]), "cannot read weight file");
}

#[test]
fn corrupt_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.bin");
    let mut bytes = std::fs::read(board::paths::default_model()).unwrap();
    bytes[5000] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    assert_clean_failure(&host(&["eval", "--model", path.to_str().unwrap()]), "checksum mismatch");
    std::fs::write(&path, b"hello").unwrap();
    assert_clean_failure(&host(&["predict", "--index", "0", "--model", path.to_str().unwrap()]), "wrong length");
}

#[test]
fn wrong_flags_and_values() {
    let o = host(&["train", "--epochz", "3"]);
    assert_clean_failure(&o, "unexpected argument");
    assert_clean_failure(&host(&["predict", "--index", "10000"]), "out of range");
    assert_clean_failure(&host(&["classify", "--device", "qemu:nonexistent-board"]), "unknown board");
    assert_clean_failure(&host(&["classify", "--device", "/dev/nonexistent-tty", "--index", "0"]), "not found");
    assert_clean_failure(&host(&["train", "--data", "/nonexistent"]), "no such file or directory");
}

#[test]
fn busy_serial_port_is_named_as_busy() {
    // A pty pair stands in for a USB serial adapter; a second program holds the port open.
    let (_master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let path = serialport::SerialPort::name(&slave).expect("pty name");
    let _holder = serialport::new(&path, 115_200).open().expect("first open");
    let o = host(&["classify", "--device", &path, "--index", "0", "--timeout", "1"]);
    assert_clean_failure(&o, "is busy: another program has it open");
}

#[test]
fn diverging_training_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.bin");
    let o = host(&["train", "--epochs", "1", "--learning-rate", "1e30", "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, "diverged");
    assert!(!out.exists());
}

#[test]
fn train_is_reproducible_and_writes_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let train = |name: &str| {
        let out = dir.path().join(name);
        let metrics = dir.path().join(format!("{name}.json"));
        let o = host(&[
            "train",
            "--epochs",
            "1",
            "--seed",
            "5",
            "-o",
            out.to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        (std::fs::read(out).unwrap(), std::fs::read_to_string(metrics).unwrap())
    };
    let (a, metrics) = train("a.bin");
    let (b, _) = train("b.bin");
    assert_eq!(a, b, "same options and seed must give the same bytes");
    for key in ["\"test_accuracy\"", "\"validation_accuracy\"", "\"train_seconds\"", "\"epochs\""] {
        assert!(metrics.contains(key), "{key} missing from {metrics}");
    }
    // Only the four files asked for: no temporary file left behind.
    let mut names: Vec<_> = dir.path().read_dir().unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["a.bin", "a.bin.json", "b.bin", "b.bin.json"].map(std::ffi::OsString::from));
}

#[test]
fn training_on_every_image_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (out, metrics) = (dir.path().join("all.bin"), dir.path().join("all.json"));
    let (out, metrics) = (out.to_str().unwrap(), metrics.to_str().unwrap());
    let o = host(&["train", "--epochs", "1", "--validation", "0", "-o", out, "--metrics", metrics]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(printed.contains("no validation split, test accuracy"), "{printed}");
    assert!(stderr(&o).contains("training on all 60000 images"), "{}", stderr(&o));
    let metrics: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(metrics).unwrap()).unwrap();
    assert!(metrics["validation_accuracy"].is_null(), "{metrics}");
    assert!(metrics["test_accuracy"].as_f64().unwrap() > 0.85, "{metrics}");
    // The seed preset picks its learning rate on the validation split, so it needs one.
    let o = host(&["train", "--preset", "seed", "--validation", "0", "-o", out]);
    assert_clean_failure(&o, "--validation 0 leaves none");
}

#[test]
fn eval_predict_export_work() {
    let model = board::paths::default_model();
    let m = model.to_str().unwrap();
    let o = host(&["eval", "--model", m]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("test accuracy") && out.contains("confusion matrix"), "{out}");

    let o = host(&["predict", "--index", "0", "--model", m]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("predicted 7 (label 7)"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("exported.bin");
    let o = host(&["export", "--model", m, "--to", dest.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(Path::new(m)).unwrap());
}

#[test]
fn quantize_writes_an_int8_model_that_eval_and_predict_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.bin");
    let model = board::paths::default_model();
    let o = host(&["quantize", "--model", model.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("int8 test accuracy"), "{text}");
    let o = host(&["eval", "--model", out.to_str().unwrap()]);
    assert!(o.status.success() && stderr(&o).contains(": int8,"), "{}", stderr(&o));
    // An int8 model cannot be quantized again.
    let o = host(&["quantize", "--model", out.to_str().unwrap(), "-o", dir.path().join("qq.bin").to_str().unwrap()]);
    assert_clean_failure(&o, "int8 model");
}

#[test]
fn committed_int8_model_is_within_a_third_of_a_point_of_its_f32_source() {
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).unwrap();
    let (f32_model, _) = trainer::model_file::load_f32(&board::paths::default_model()).unwrap();
    let int8 = trainer::model_file::load(&board::paths::repo_root().join("models/default-int8.bin")).unwrap();
    let f = trainer::evaluate::accuracy(&*f32_model, &test);
    let q = trainer::evaluate::accuracy(&int8.network, &test);
    assert!((f - q).abs() <= 0.003, "f32 {f}, int8 {q}");
    // And it is the quantization of exactly that model.
    let requantized = shared::network::int8::quantize(&f32_model);
    assert!(matches!(int8.network, trainer::model_file::Network::Int8(ref w) if **w == requantized));
}

#[test]
fn kaggle_csv_files_work_for_eval_and_train() {
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).unwrap();
    let mut csv = String::from("label,");
    csv.push_str(&(0..784).map(|i| format!("pixel{i}")).collect::<Vec<_>>().join(","));
    csv.push('\n');
    for (image, label) in test.images.iter().zip(&test.labels).take(300) {
        csv.push_str(&label.to_string());
        for p in image {
            csv.push_str(&format!(",{p}"));
        }
        csv.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.csv");
    std::fs::write(&path, csv).unwrap();
    let p = path.to_str().unwrap();
    let o = host(&["eval", "--model", board::paths::default_model().to_str().unwrap(), "--data", p]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("/300)"), "{out}{}", stderr(&o));
    let model = dir.path().join("m.bin");
    let o = host(&["train", "--epochs", "1", "--validation", "50", "--data", p, "-o", model.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("training on 250 images"), "{}", stderr(&o));
    // The preset's 5,000-image validation split does not fit: said in terms of the preset.
    let o = host(&["train", "--epochs", "1", "--data", p, "-o", model.to_str().unwrap()]);
    assert_clean_failure(&o, "--preset default holds out 5000 for validation; pass a smaller --validation");
    // What spreadsheets write: a byte-order mark and quoted names; and the same file gzipped.
    let text = std::fs::read_to_string(&path).unwrap();
    let quoted = format!("\u{feff}\"label\",\"pixel0\"{}", text.strip_prefix("label,pixel0").unwrap());
    let bom = dir.path().join("bom.csv");
    std::fs::write(&bom, &quoted).unwrap();
    let gz = dir.path().join("train.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for file in [&bom, &gz] {
        let o = host(&["eval", "--data", file.to_str().unwrap()]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && out.contains("/300)"), "{}: {out}{}", file.display(), stderr(&o));
    }
    std::fs::write(&path, "label,pixel0\n1,2\n").unwrap();
    assert_clean_failure(&host(&["eval", "--data", p]), "Kaggle digit recognizer format");
}

#[test]
fn json_output_for_scripts() {
    let m = board::paths::default_model();
    let o = host(&["eval", "--json", "--model", m.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("eval --json prints JSON");
    assert_eq!(v["total"], 10_000);
    assert_eq!(v["confusion"].as_array().map(Vec::len), Some(10));
    let o = host(&["predict", "--json", "--index", "0", "--model", m.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("predict --json prints JSON");
    assert_eq!(v["digit"], 7);
    assert_eq!(v["label"], 7);
    assert_eq!(v["probabilities"].as_array().map(Vec::len), Some(10));
}

#[test]
fn predict_reads_ordinary_pictures() {
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).unwrap();
    let m = board::paths::default_model();
    let dir = tempfile::tempdir().unwrap();
    // Test image 0 (a 7) as a 112x112 dark-on-light PNG and JPEG, the way a phone photo of paper looks.
    let small = image::GrayImage::from_raw(28, 28, test.images[0].to_vec()).unwrap();
    let mut big = image::imageops::resize(&small, 112, 112, image::imageops::FilterType::Triangle);
    image::imageops::invert(&mut big);
    for name in ["seven.png", "seven.jpg"] {
        let path = dir.path().join(name);
        big.save(&path).unwrap();
        let o = host(&["predict", "--json", "--image", path.to_str().unwrap(), "--model", m.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["digit"], 7, "{name}");
        assert_eq!(v["image"].as_array().map(Vec::len), Some(784));
        let o = host(&["predict", "--image", path.to_str().unwrap(), "--model", m.to_str().unwrap()]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("predicted 7") && out.contains(['▓', '█']), "the picture is shown: {out}");
    }
    let not_an_image = dir.path().join("notes.png");
    std::fs::write(&not_an_image, "not a picture").unwrap();
    assert_clean_failure(&host(&["predict", "--image", not_an_image.to_str().unwrap()]), "image this tool can decode");
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(40, 40, image::Luma([255])).save(&blank).unwrap();
    // Not a digit is an answer, not an error: it says why, and `--json` carries it.
    let o = host(&["predict", "--image", blank.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not a digit: the picture is blank"));
    let o = host(&["predict", "--json", "--image", blank.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["digit"], serde_json::Value::Null);
    assert_eq!(v["not_a_digit"]["reason"], "blank");
}

#[test]
fn train_and_eval_draw_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let model = dir.path().join("m.bin");
    let (p, m) = (plots.to_str().unwrap(), model.to_str().unwrap());
    let o = host(&["train", "--epochs", "2", "--plots", p, "-o", m]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (name, size) in [
        ("learning_curves.png", (1200, 500)),
        ("confusion.png", (880, 770)),
        ("misclassified.png", (1440, 996)),
        ("hidden_weights.png", (1240, 596)),
    ] {
        let picture = image::open(plots.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((picture.width(), picture.height()), size, "{name}");
        std::fs::remove_file(plots.join(name)).unwrap();
    }
    let o = host(&["eval", "--model", m, "--plots", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in ["confusion.png", "misclassified.png", "hidden_weights.png"] {
        assert!(image::open(plots.join(name)).is_ok(), "eval drew {name}");
    }
    assert!(!plots.join("learning_curves.png").exists(), "eval has no training history");
}

#[test]
fn outputs_that_are_not_regular_files_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // A directory, as the model and as --metrics: refused before the data loads ("training on" never printed).
    let o = host(&["train", "-o", d]);
    assert_clean_failure(&o, "not a regular file");
    assert!(!stderr(&o).contains("training on"), "{}", stderr(&o));
    let model = dir.path().join("m.bin");
    let o = host(&["train", "-o", model.to_str().unwrap(), "--metrics", d]);
    assert_clean_failure(&o, "--metrics");
    assert!(!model.exists(), "nothing written when an output is refused");
    // A device and a FIFO stay what they are.
    if Path::new("/dev/full").exists() {
        assert_clean_failure(&host(&["export", "--to", "/dev/full"]), "not a regular file");
        assert!(!std::fs::metadata("/dev/full").unwrap().is_file());
    }
    let fifo = dir.path().join("fifo");
    if Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        assert_clean_failure(&host(&["export", "--to", fifo.to_str().unwrap()]), "not a regular file");
        assert!(!std::fs::metadata(&fifo).unwrap().is_file(), "the FIFO is still a FIFO");
    }
}

#[cfg(unix)]
#[test]
fn symlinked_outputs_are_written_through_and_modes_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.bin");
    let link = dir.path().join("link.bin");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = host(&["export", "--to", link.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is kept");
    assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(board::paths::default_model()).unwrap());
    // A new file gets what the umask allows, as a file this test creates does.
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&target), mode(&reference));
    // A replaced file keeps its own mode.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(host(&["export", "--to", link.to_str().unwrap()]).status.success());
    assert_eq!(mode(&target), 0o600);
}

#[test]
fn negative_numbers_reach_the_range_checks() {
    assert_clean_failure(&host(&["train", "--learning-rate", "-0.1"]), "--learning-rate must be positive");
    assert_clean_failure(&host(&["train", "--momentum", "-1"]), "--momentum must be in [0, 1)");
    assert_clean_failure(&host(&["train", "--epochs", "0"]), "--epochs must be at least 1");
    // `--preset best` trains with Adam, which keeps its own momentum.
    assert_clean_failure(
        &host(&["train", "--preset", "best", "--momentum", "0.9"]),
        "--momentum is for --optimizer sgd",
    );
}

/// `tiny-mnist` run from `dir`.
fn host_in(dir: &Path, args: &[&str]) -> Output {
    let exe = Path::new(env!("CARGO_BIN_EXE_tiny-mnist"));
    Command::new(exe).args(args).current_dir(dir).output().expect("run tiny-mnist")
}

/// A copy of the binary outside the checkout, run from an empty directory
/// (what `cargo install` gives): MNIST and the default model are inside it,
/// outputs land in the current directory, and what needs a checkout says so.
#[test]
fn an_installed_binary_works_outside_the_checkout() {
    let root = tempfile::tempdir().unwrap();
    let (bin, work) = (root.path().join("bin"), root.path().join("work"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let exe = bin.join("tiny-mnist");
    std::fs::copy(env!("CARGO_BIN_EXE_tiny-mnist"), &exe).unwrap();
    let run = |args: &[&str]| Command::new(&exe).args(args).current_dir(&work).output().unwrap();

    let help = String::from_utf8_lossy(&run(&["train", "--help"]).stdout).into_owned();
    assert!(help.contains("[default: trained.bin]") && !help.contains(env!("CARGO_MANIFEST_DIR")), "{help}");
    let o = run(&["train", "-q", "--epochs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(work.join("trained.bin").is_file(), "train writes into the current directory");
    let o = run(&["eval", "-m", "trained.bin"]);
    assert!(o.status.success() && stderr(&o).contains("model trained.bin: f32"), "{}", stderr(&o));
    let o = run(&["predict", "--index", "0"]);
    assert!(o.status.success() && stderr(&o).contains("built-in models/default.bin"), "{}", stderr(&o));
    let o = run(&["quantize", "-m", "trained.bin"]);
    assert!(o.status.success() && work.join("trained-int8.bin").is_file(), "{}", stderr(&o));
    assert_clean_failure(&run(&["export"]), "not inside a tiny-mnist checkout");
    assert_clean_failure(&run(&["classify", "--device", "emu:lm3s6965evb", "--index", "0"]), "checkout");
}

/// `export --c` from a binary outside the checkout: the library and its
/// README's example build with the system's C compiler, and the example
/// reads the first test image (a 7) from stdin as the README says.
#[test]
fn the_exported_c_library_builds_and_runs_its_readme_example() {
    let root = tempfile::tempdir().unwrap();
    let exe = root.path().join("tiny-mnist");
    std::fs::copy(env!("CARGO_BIN_EXE_tiny-mnist"), &exe).unwrap();
    let work = root.path();
    let o = Command::new(&exe).args(["export", "--c", "lib"]).current_dir(work).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let readme = std::fs::read_to_string(work.join("lib/README.md")).unwrap();
    let example = readme.split("```c\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a C example");
    std::fs::write(work.join("lib/example.c"), example).unwrap();
    let build = readme.lines().find(|l| l.starts_with("cc ")).expect("a build line").to_owned();
    let o = Command::new("sh").args(["-c", &build]).current_dir(work.join("lib")).output().unwrap();
    assert!(o.status.success(), "{build}: {}", stderr(&o));
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).unwrap();
    let mut child = Command::new(work.join("lib/example"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&test.images[0]).unwrap();
    let out = child.wait_with_output().unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && answer.starts_with("7 (p = "), "{answer}");
}

/// A file called trained.bin lying around does not change what commands use.
#[test]
fn commands_use_the_default_model_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trained.bin"), b"not a model").unwrap();
    let o = host_in(dir.path(), &["eval"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("model built-in models/default.bin: f32, digits, crc f0f2e3ad"), "{}", stderr(&o));
}

#[test]
fn a_model_no_better_than_chance_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let o = host_in(dir.path(), &["train", "-q", "--epochs", "1", "--learning-rate", "100", "-o", "bad.bin"]);
    assert_clean_failure(&o, "no better than guessing");
    assert!(!dir.path().join("bad.bin").exists());
}

#[test]
fn messages_name_the_real_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.txt"), b"hi").unwrap();
    assert_clean_failure(&host_in(d, &["eval", "--data", "good.txt"]), "not a dataset; --data takes a directory");
    let o = host_in(d, &["classify", "--device", "emu:lm3s6965evb", "--range", "5..5"]);
    assert_clean_failure(&o, "is empty");
    // Usage errors exit with 2, other errors with 1.
    let o = host_in(d, &["classify", "--device", "emu:lm3s6965evb", "--window", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(host_in(d, &["eval", "--data", "good.txt"]).status.code(), Some(1));
    // A cause is said once, not repeated by the error that wraps it.
    std::fs::write(d.join("bad.png"), b"\x89PNG but not really").unwrap();
    let o = host_in(d, &["predict", "--image", "bad.png"]);
    assert_clean_failure(&o, "bad.png");
    let err = stderr(&o);
    let tail = err.rsplit(": ").next().unwrap().trim();
    assert_eq!(err.matches(tail).count(), 1, "said twice: {err}");
    // More threads than cores: a note, the same result.
    let o = host_in(d, &["train", "-q", "--epochs", "1", "--threads", "1000"]);
    assert!(o.status.success() && stderr(&o).contains("is more than this machine's"), "{}", stderr(&o));
}

#[test]
fn firmware_that_is_not_firmware_is_refused_before_booting() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.elf"), b"not an elf").unwrap();
    let classify = |firmware: &str| {
        host_in(dir.path(), &["classify", "--device", "emu:lm3s6965evb", "--index", "0", "--firmware", firmware])
    };
    assert_clean_failure(&classify("x.elf"), "x.elf is not a firmware image (not an ELF file)");
    let o = classify("/nope.elf");
    assert_clean_failure(&o, "--firmware /nope.elf: no such file");
    assert!(!stderr(&o).contains("cargo xtask"), "{}", stderr(&o));
    // An ELF, but the host's own: not Arm.
    assert_clean_failure(&classify(env!("CARGO_BIN_EXE_tiny-mnist")), "not Arm Cortex-M firmware");
}

#[test]
fn damaged_weight_headers_are_named_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    let m = path.to_str().unwrap();
    let mut garbage = b"TNYMNIST".to_vec();
    garbage.extend((0..200u8).map(|i| i.wrapping_mul(97).wrapping_add(13)));
    std::fs::write(&path, &garbage).unwrap();
    assert_clean_failure(&host(&["eval", "-m", m]), "the header is damaged");
    // A header accuracy of 500 %, with a checksum that matches.
    let mut bytes = std::fs::read(board::paths::default_model()).unwrap();
    bytes[36..40].copy_from_slice(&5.0f32.to_le_bytes());
    let body_end = bytes.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..body_end]);
    bytes[body_end..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert_clean_failure(&host(&["eval", "-m", m]), "accuracy outside 0-100 %");
}

#[test]
fn eval_writes_every_images_answer() {
    let dir = tempfile::tempdir().unwrap();
    let o = host_in(dir.path(), &["eval", "--predictions", "p.csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.path().join("p.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 10_001);
    assert!(lines[0].starts_with("index,label,predicted,correct,p0,"), "{}", lines[0]);
    assert!(lines[1].starts_with("0,7,7,1,"), "{}", lines[1]);
    let correct = lines[1..].iter().filter(|l| l.split(',').nth(3) == Some("1")).count();
    assert_eq!(correct, 9911, "the default model's 99.11 %");
}

#[test]
fn progress_is_a_line_per_epoch_in_a_log_and_nothing_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let o = host_in(dir.path(), &["train", "--epochs", "2"]);
    assert!(stderr(&o).contains("epoch 1.00/2: loss") && stderr(&o).contains("epoch 2.00/2: loss"), "{}", stderr(&o));
    let o = host_in(dir.path(), &["train", "--quiet", "--epochs", "2"]);
    assert!(o.status.success() && !stderr(&o).contains("epoch 1.00/2"), "{}", stderr(&o));
}

/// The int8 file records its accuracy on the model's own test set.
#[test]
fn quantize_scores_on_the_models_own_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, mut info) = trainer::model_file::load_f32(&board::paths::default_model()).unwrap();
    info.classes = shared::Classes::Fashion;
    trainer::model_file::save(&dir.path().join("fashion.bin"), &weights, &info).unwrap();
    let o = host_in(dir.path(), &["quantize", "-m", "fashion.bin"]);
    assert_clean_failure(&o, "pass --data with the model's own dataset");
    assert!(!dir.path().join("fashion-int8.bin").exists());
}

/// `classify` against a board in its emulator, as a user runs it: from an
/// empty directory outside the checkout with a copy of the binary, pictures
/// as input, wrong answers marked, and a model mismatch refused up front.
#[test]
#[ignore = "needs qemu-system-arm and the thumbv7m target; run by `cargo xtask ci`"]
fn classify_on_a_board_from_outside_the_checkout() {
    let board = board::device::board("lm3s6965evb").unwrap();
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let elf = root.path().join("lm3s.elf");
    board::firmware::build(&board, Some(&board::paths::default_model()), Some(&elf), true).unwrap();
    let exe = root.path().join("tiny-mnist");
    std::fs::copy(env!("CARGO_BIN_EXE_tiny-mnist"), &exe).unwrap();
    let classify = |extra: &[&str]| {
        let args = ["classify", "--device", "emu:lm3s6965evb", "--firmware", elf.to_str().unwrap()];
        Command::new(&exe).args(args).args(extra).current_dir(&work).output().unwrap()
    };

    let o = classify(&["--range", "0..20"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success() && out.contains("parity lm3s6965evb: 20/20 bit-exact"), "{out}{}", stderr(&o));
    assert!(out.contains("test image 0: device 7 p=") && out.contains("bit-exact (label 7)"), "{out}");
    // The default model gets test image 149 wrong (a 2 read as 8): marked as predict marks it.
    let o = classify(&["--range", "145..155"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("test image 149: device 8") && out.contains("(label 2, WRONG)"), "{out}");

    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).unwrap();
    let small = image::GrayImage::from_raw(28, 28, test.images[0].to_vec()).unwrap();
    let mut big = image::imageops::resize(&small, 112, 112, image::imageops::FilterType::Triangle);
    image::imageops::invert(&mut big);
    big.save(work.join("seven.png")).unwrap();
    let o = classify(&["--image", "seven.png"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success() && out.contains("seven.png: device 7") && out.contains("1/1 bit-exact"), "{out}");

    let int8 = board::paths::repo_root().join("models/default-int8.bin");
    let o = classify(&["--index", "0", "-m", int8.to_str().unwrap()]);
    assert_clean_failure(&o, "the device runs another model (crc f0f2e3ad)");
}

/// An output that is an input or another output is refused before any work
/// as a command-line mistake, and the file it names is left as it was
/// (symbolic links included).
#[test]
fn an_output_never_overwrites_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.bin");
    std::fs::copy(board::paths::default_model(), &model).unwrap();
    let before = std::fs::read(&model).unwrap();
    std::os::unix::fs::symlink("m.bin", dir.path().join("link.bin")).unwrap();
    let cases: [&[&str]; 5] = [
        &["eval", "-m", "m.bin", "--predictions", "m.bin"],
        &["eval", "-m", "m.bin", "--predictions", "link.bin"],
        &["quantize", "-m", "m.bin", "-o", "./m.bin"],
        &["export", "-m", "m.bin", "-o", "m.bin"],
        &["train", "-o", "t.bin", "--metrics", "t.bin", "--epochs", "1"],
    ];
    for args in cases {
        let o = host_in(dir.path(), args);
        assert_clean_failure(&o, "is the same file as");
        assert_eq!(o.status.code(), Some(2), "{args:?}: a command-line mistake");
        assert_eq!(std::fs::read(&model).unwrap(), before, "{args:?} changed the model");
    }
    assert!(!dir.path().join("t.bin").exists(), "train refused before writing anything");
}

/// Every command-line mistake exits with 2, as clap's own do; a failure at work exits with 1.
#[test]
fn command_line_mistakes_exit_with_2() {
    let cases: [&[&str]; 6] = [
        &["train", "--epochs", "0"],
        &["train", "--learning-rate", "-1"],
        &["train", "--momentum", "1"],
        &["predict"],
        &["predict", "--index", "10000"],
        &["train", "--no-such-flag"],
    ];
    for args in cases {
        let o = host(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = host(&["eval", "-m", "/no/such/model.bin"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// A reader that leaves (`| head -1`) ends the command quietly; a full disk
/// is one sentence and exit 1. Neither is a panic.
#[test]
fn failing_stdout_is_an_answer_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiny-mnist"))
        .args(["predict", "--index", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tiny-mnist");
    // Nobody reads: the first line meets a closed pipe.
    drop(child.stdout.take());
    let closed = child.wait_with_output().expect("wait");
    assert!(closed.status.success(), "closed pipe: {}", stderr(&closed));
    assert!(!stderr(&closed).contains("error") && !stderr(&closed).contains("panicked"), "{}", stderr(&closed));
    if Path::new("/dev/full").exists() {
        let full = std::fs::File::options().write(true).open("/dev/full").expect("open /dev/full");
        let o = Command::new(env!("CARGO_BIN_EXE_tiny-mnist"))
            .args(["predict", "--index", "3"])
            .stdout(full)
            .output()
            .expect("run tiny-mnist");
        assert_clean_failure(&o, "error: cannot write to stdout: No space left on device");
        assert_eq!(o.status.code(), Some(1));
    }
}

/// `--predictions -` is standard output (the report moves to standard error),
/// never a file named `-`.
#[test]
fn predictions_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let o = host_in(dir.path(), &["eval", "--predictions", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.starts_with("index,label,predicted,correct,p0"), "{csv:.200}");
    assert_eq!(csv.lines().count(), 10_001);
    assert!(stderr(&o).contains("test accuracy"), "{}", stderr(&o));
    assert!(!dir.path().join("-").exists());
    let both = host_in(dir.path(), &["eval", "--predictions", "-", "--json"]);
    assert_clean_failure(&both, "both want standard output");
    assert_eq!(both.status.code(), Some(2));
}

/// The emulators started by a process whose parent is `pid` (from /proc).
fn emulators_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // "pid (comm) state ppid …": the comm may hold spaces, so split after its ')'.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
            ppid == Some(pid) && stat.contains("(qemu-system-arm)")
        })
        .collect()
}

/// `kill` (SIGTERM) of `classify --device emu:…` takes its emulator with it,
/// as Ctrl-C does (no destructor runs when a signal ends a process).
#[test]
#[ignore = "needs qemu-system-arm and the thumbv7m target; run by `cargo xtask ci`"]
fn a_stopped_classify_takes_its_emulator_with_it() {
    let board = board::device::board("lm3s6965evb").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("lm3s.elf");
    board::firmware::build(&board, Some(&board::paths::default_model()), Some(&elf), true).unwrap();
    for signal in ["-TERM", "-INT"] {
        let mut cli = Command::new(env!("CARGO_BIN_EXE_tiny-mnist"))
            .args(["classify", "--device", "emu:lm3s6965evb", "--firmware", elf.to_str().unwrap(), "--all"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let emulators = loop {
            let found = emulators_of(cli.id());
            if !found.is_empty() || started.elapsed() > std::time::Duration::from_secs(60) {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        assert_eq!(emulators.len(), 1, "the emulator did not start");
        // Let it answer a while, then stop it as a user would.
        std::thread::sleep(std::time::Duration::from_secs(2));
        let killed = Command::new("kill").args([signal, &cli.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let status = cli.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{signal}: {status}");
        assert!(!Path::new(&format!("/proc/{}", emulators[0])).exists(), "{signal}: the emulator outlived classify");
    }
}

/// `serve`: a client that announces a picture and stalls holds up no one:
/// the page and other pictures are still answered at once.
#[test]
fn a_stalled_client_harms_no_other() {
    use std::io::Write;
    let (mut serve, address) = serve_on_any_port();
    // Announces 100 kB and sends four bytes, then waits.
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    stalled.write_all(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabcd").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let page = exchange(&address, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let garbage = exchange(&address, &post_request(b"hello"));
    serve.kill().unwrap();
    serve.wait().unwrap();
    drop(stalled);
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("<html"), "{page:.300}");
    assert!(garbage.starts_with("HTTP/1.1 400") && garbage.contains("not a PNG"), "{garbage:.300}");
}

/// `serve --bind 0.0.0.0` says that the pad is now reachable from the network.
#[test]
fn listening_on_every_interface_is_said() {
    use std::io::BufRead;
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tiny-mnist"))
        .args(["serve", "--bind", "0.0.0.0", "--port", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> =
        std::io::BufReader::new(serve.stderr.take().unwrap()).lines().take(2).map_while(Result::ok).collect();
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert!(lines.iter().any(|l| l.contains("reachable from other machines")), "{lines:?}");
}

/// An output in a directory that cannot be written, and `--plots` naming a
/// file, are refused before any work, with the user's path in the message
/// (not a temporary file's).
#[test]
fn unwritable_outputs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    // sysfs takes no new files, even from root.
    let o = host_in(dir.path(), &["train", "-o", "/sys/m.bin"]);
    assert_clean_failure(&o, "cannot write /sys/m.bin: /sys:");
    assert!(!stderr(&o).contains(".tmp"), "{}", stderr(&o));
    let o = host_in(dir.path(), &["eval", "--predictions", "/sys/p.csv"]);
    assert_clean_failure(&o, "--predictions: cannot write /sys/p.csv");
    std::fs::write(dir.path().join("afile"), b"not a directory").unwrap();
    for command in ["train", "eval"] {
        let o = host_in(dir.path(), &[command, "--plots", "afile"]);
        assert_clean_failure(&o, "--plots: afile is a file, not a directory");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "refused only after work");
    // A read-only directory, for a user it binds (root writes anywhere).
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"").is_err() {
        assert_clean_failure(
            &host_in(dir.path(), &["train", "-o", "ro/m.bin"]),
            "cannot write ro/m.bin: ro: Permission denied",
        );
    }
}

/// One way in for a picture: a dark digit on a transparent background reads
/// the same in `predict --image` and on the pad, and a picture of 20000×20000
/// pixels is refused from its header, before any decoding.
#[test]
fn pictures_take_one_way_in() {
    let dir = tempfile::tempdir().unwrap();
    let test = trainer::mnist::Source::bundled().load(trainer::mnist::Split::Test).unwrap();
    // Test image 0 (a 7) as dark ink whose background is transparent, not white.
    let seven = image::RgbaImage::from_fn(112, 112, |x, y| {
        let p = test.images[0][(y / 4 * 28 + x / 4) as usize];
        image::Rgba([0, 0, 0, p])
    });
    let png = dir.path().join("seven.png");
    seven.save(&png).unwrap();
    let o = host_in(dir.path(), &["predict", "--image", "seven.png"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("predicted 7"), "{}", stderr(&o));

    // A PNG that says 20000×20000 pixels (what a 439 KB file can say).
    let mut header = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(20_000u32.to_be_bytes());
    ihdr.extend(20_000u32.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    header.extend(13u32.to_be_bytes());
    header.extend(&ihdr);
    let crc32 = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    header.extend(crc32.checksum(&ihdr).to_be_bytes());
    // The start of the pixels (their bytes are never read).
    let idat = b"IDAT\x78\x9c\x00\x00";
    header.extend(4u32.to_be_bytes());
    header.extend(idat);
    header.extend(crc32.checksum(idat).to_be_bytes());
    std::fs::write(dir.path().join("huge.png"), &header).unwrap();
    let o = host_in(dir.path(), &["predict", "--image", "huge.png"]);
    assert_clean_failure(&o, "20000×20000 pixels (400 megapixels), over the limit of 40");

    let (mut serve, address) = serve_on_any_port();
    let transparent = exchange(&address, &post_request(&std::fs::read(&png).unwrap()));
    let huge = exchange(&address, &post_request(&header));
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert!(transparent.contains("\"digit\":7"), "{transparent:.400}");
    assert!(huge.starts_with("HTTP/1.1 400") && huge.contains("megapixels"), "{huge:.300}");
}

/// `tiny-mnist serve --port 0`, and the address it printed.
fn serve_on_any_port() -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tiny-mnist"))
        .args(["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(serve.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().trim_start_matches("drawing pad on http://").trim_end_matches('/').to_owned();
    (serve, address)
}

/// A picture posted to the pad, as bytes on the wire.
fn post_request(body: &[u8]) -> Vec<u8> {
    let head =
        format!("POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    [head.as_bytes(), body].concat()
}

/// Sends `request` to `address` and reads the whole answer (10 s at most).
fn exchange(address: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut client = std::net::TcpStream::connect(address).unwrap();
    client.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    client.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
