//! The firmware under QEMU keeps serving through garbage on the wire.
use board::device::Board;
use e2e::{board, boot, firmware_with, test_set};
use rand::{Rng, SeedableRng};
use shared::wire::protocol::{FrameError, Request, Response};
use shared::PixelBytes;

fn garbage_between_valid_frames(board: &Board) {
    let weights = board::paths::default_model();
    let model = trainer::model_file::load(&weights).expect("model");
    let elf = firmware_with(board, &weights, "default");
    let mut device = boot(board, &elf);
    let info = device.info().expect("info");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let test = test_set();
    let (mut valid, mut garbage) = (0, 0);
    for i in 0..200 {
        // A garbage frame: random nonzero bytes of random length, then a delimiter.
        let len = match i % 4 {
            0 => 1,
            1 => rng.gen_range(2..50),
            2 => rng.gen_range(50..900),
            _ => rng.gen_range(900..3000), // longer than any request
        };
        let mut junk: Vec<u8> = (0..len).map(|_| rng.gen_range(1..=255)).collect();
        junk.push(0);
        let expected = expected_answers(&junk, &model, &info);
        assert_eq!(expected.len(), 1, "one frame, one answer");
        if len > shared::wire::protocol::MAX_REQUEST_FRAME {
            assert_eq!(expected[0], Some(Response::Error(FrameError::Oversized)));
        }
        device.send_raw(&junk).expect("send garbage");
        expect_answers(&mut device, &expected, &format!("{}: garbage frame {i} ({len} bytes)", board.name));
        garbage += 1;

        let image = &test.images[i];
        let answer = device.request(&Request::Classify(PixelBytes::raw(image))).expect("classify");
        assert_eq!(answer, Response::Prediction(shared::Classifier::classify(&model, image)), "image {i}");
        valid += 1;
    }
    // A truncated frame (no delimiter) merges with the next bytes; a lone
    // delimiter ends it, as the host does when it connects.
    device.send_raw(&[0x05, 0x01, 0x02]).expect("send");
    device.send_raw(&[0]).expect("send");
    assert!(matches!(device.receive().expect("answer"), Response::Error(_)));
    assert!(matches!(device.info(), Ok(info) if info.model_checksum == model.checksum));
    println!("{}: {valid} valid frames answered correctly between {garbage} garbage frames", board.name);
}

/// Every board: each driver reads bytes its own way.
#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn garbage_frames_on_every_board() {
    std::thread::scope(|s| {
        for board in &board::device::BOARDS {
            s.spawn(move || garbage_between_valid_frames(board));
        }
    });
}

/// What the firmware must answer to `bytes`, worked out on the host with the
/// same frame reader and decoder from `shared`; `None` stands for "some
/// `Stats`" (stack figures are the device's own).
fn expected_answers(
    bytes: &[u8],
    model: &impl shared::Classifier,
    info: &shared::wire::protocol::DeviceInfo,
) -> Vec<Option<Response>> {
    use shared::wire::protocol::{decode_frame, FrameEvent, FrameReader, MAX_REQUEST_FRAME};
    let mut reader = FrameReader::<MAX_REQUEST_FRAME>::new();
    let mut answers = Vec::new();
    for &b in bytes {
        match reader.push(b) {
            Some(FrameEvent::Oversized) => answers.push(Some(Response::Error(FrameError::Oversized))),
            Some(FrameEvent::Frame(frame)) => answers.push(match decode_frame::<Request>(frame) {
                Ok(Request::Info) => Some(Response::Info(info.clone())),
                Ok(Request::Classify(image)) => Some(Response::Prediction(model.classify_pixels(image))),
                Ok(Request::Stats) => None,
                Err(e) => Some(Response::Error(e)),
            }),
            None => {}
        }
    }
    answers
}

/// Receives one answer per entry of `expected` and checks each.
fn expect_answers(device: &mut board::device::Device, expected: &[Option<Response>], context: &str) {
    for want in expected {
        let got = device.receive().unwrap_or_else(|e| panic!("{context}: {e:#}"));
        match want {
            Some(want) => assert_eq!(&got, want, "{context}"),
            None => assert!(matches!(got, Response::Stats(_)), "{context}: {got:?}"),
        }
    }
}

fn megabyte_of_noise_on(board: &Board) {
    let weights = board::paths::default_model();
    let model = trainer::model_file::load(&weights).expect("model");
    let elf = firmware_with(board, &weights, "default");
    let mut device = boot(board, &elf);
    let info = device.info().expect("info");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let test = test_set();
    let (mut noise_bytes, mut noise_answers, mut valid) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while noise_bytes < 1 << 20 {
        // Random bytes (zeros included, so they split into frames of every
        // length), a delimiter, then one valid request.
        let mut chunk: Vec<u8> = (0..rng.gen_range(1..8192)).map(|_| rng.gen()).collect();
        noise_bytes += chunk.len();
        chunk.push(0);
        let expected = expected_answers(&chunk, &model, &info);
        let image = &test.images[i % test.len()];
        device.send_raw(&chunk).expect("send noise");
        device.send(&Request::Classify(PixelBytes::raw(image))).expect("send request");
        expect_answers(&mut device, &expected, &format!("{}: chunk {i}", board.name));
        noise_answers += expected.len();
        let answer = device.receive().expect("answer to the valid request");
        assert_eq!(answer, Response::Prediction(shared::Classifier::classify(&model, image)), "image {i}");
        valid += 1;
        i += 1;
    }
    assert!(matches!(device.info(), Ok(again) if again == info), "the firmware never reset");
    println!(
        "{}: {noise_bytes} random bytes in {i} bursts -> {noise_answers} frames answered as the host predicted; \
         {valid}/{valid} valid requests answered correctly",
        board.name
    );
}

/// A FIFO UART (lm3s6965evb) and USB CDC (the Pico). The one-byte UARTs (mps2-an386,
/// Netduino) share the frame handling and would take over a minute each for the megabyte;
/// the garbage test covers their drivers.
#[test]
#[ignore = "needs the emulators (QEMU, Node) and the thumb targets; run by `cargo xtask ci`"]
fn megabyte_of_noise() {
    std::thread::scope(|s| {
        for name in ["lm3s6965evb", "rp-pico"] {
            s.spawn(move || megabyte_of_noise_on(&board(name)));
        }
    });
}

/// A build for one board booted as another is refused before the emulator
/// starts, by name, instead of hanging or hard-faulting.
#[test]
#[ignore = "needs the thumb targets; run by `cargo xtask ci`"]
fn another_boards_build_is_refused_by_name() {
    let weights = board::paths::default_model();
    let lm3s = board("lm3s6965evb");
    let elf = firmware_with(&lm3s, &weights, "default");
    board::firmware_image::check(&lm3s, &elf).expect("its own board");
    for other in board::device::BOARDS.iter().filter(|b| b.name != lm3s.name) {
        let options = board::device::Options { firmware: Some(elf.clone()), ..Default::default() };
        let err = board::device::Device::open(&board::device::Endpoint::Emulated(*other), &options)
            .err()
            .expect("must be refused");
        let text = format!("{err:#}");
        assert!(text.contains("is the firmware for lm3s6965evb, not") && text.contains(other.name), "{text}");
    }
}
