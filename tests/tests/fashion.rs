//! Fashion-MNIST end to end: the trainer recognises the dataset, the weight
//! file carries its class names, and the board agrees with the host bit for bit.
use std::path::Path;

use e2e::{board, boot, firmware_with, scratch};
use shared::Classes;
use trainer::mnist::{Source, Split};

/// Where Debian's `dataset-fashion-mnist` installs it (`cargo xtask ci` installs the package).
const FASHION: &str = "/usr/share/datasets/fashion-mnist";

/// Images compared on the board; the whole test set takes a minute more on CI.
const COMPARED: usize = 2_000;

#[test]
#[ignore = "needs qemu-system-arm, the thumb targets and dataset-fashion-mnist; run by `cargo xtask ci`"]
fn fashion_mnist_trains_and_runs_on_the_board_with_class_names() {
    let source = Source::at(Path::new(FASHION).to_owned(), false);
    let all = source.load(Split::Train).expect("Fashion-MNIST training set (apt-get install dataset-fashion-mnist)");
    let test = source.load(Split::Test).expect("Fashion-MNIST test set");
    assert_eq!(all.classes, Classes::Fashion, "recognised by its label files");
    assert_eq!(test.classes, Classes::Fashion);

    let config = trainer::train::Config { epochs: 2, ..trainer::train::Config::default() };
    let (train, validation) = trainer::train::split(&all, config.validation, config.seed).expect("split");
    let trained = trainer::train::train(&config, &all, &train, &validation, None, &mut |_| {}).expect("training");
    let accuracy = trainer::evaluate::accuracy(&*trained.weights, &test);
    println!("Fashion-MNIST: {:.2} % test accuracy after 2 epochs", accuracy * 100.0);
    // A 784-10-10 network reaches ~84 % here (8 epochs); far below means the data or labels are wrong.
    assert!(accuracy > 0.78, "test accuracy {accuracy}");

    let path = scratch().join("fashion.bin");
    let info = shared::format::weights_file::ModelInfo { classes: all.classes, epochs: 2, ..Default::default() };
    trainer::model_file::save(&path, &trained.weights, &info).expect("save");
    let model = trainer::model_file::load(&path).expect("load");
    assert_eq!(model.info.classes.name(9), "Ankle boot", "the file keeps the class names");

    let board = &board("lm3s6965evb");
    let elf = firmware_with(board, &path, "fashion");
    let mut device = boot(board, &elf);
    assert_eq!(device.info().expect("info").model_checksum, model.checksum);
    let (images, labels) = (&test.images[..COMPARED], &test.labels[..COMPARED]);
    let mut named = Vec::new();
    let report = board::parity::compare(&mut device, &model, images, Some(labels), 8, |i, _, dev| {
        if i < 5 {
            named.push(format!("{} (true {})", Classes::Fashion.name(dev.digit), Classes::Fashion.name(labels[i])));
        }
    })
    .expect("classify on the board");
    println!("first answers from the board: {}", named.join(", "));
    println!(
        "parity {} on Fashion-MNIST: {}/{} bit-exact, device accuracy {:.2} %",
        board.name,
        report.bit_exact,
        report.compared,
        report.device_correct as f64 / report.compared as f64 * 100.0
    );
    assert_eq!(report.bit_exact, COMPARED, "first mismatch: {:?}", report.first_mismatch);
}
