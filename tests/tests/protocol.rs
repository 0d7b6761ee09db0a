//! The firmware under QEMU keeps serving through garbage on the wire.
use e2e::{boards, boot, firmware_with, test_set};
use host::device::Board;
use rand::{Rng, SeedableRng};
use shared::protocol::{FrameError, Image, Request, Response};

fn garbage_between_valid_frames(board: &Board) {
    let weights = host::paths::default_model();
    let model = host::model_file::load(&weights).expect("model");
    let elf = firmware_with(board, &weights, "default");
    let mut device = boot(board, &elf);
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
        device.send_raw(&junk).expect("send garbage");
        match device.receive().expect("an answer to the garbage frame") {
            Response::Error(e) => {
                if len > shared::protocol::MAX_REQUEST_FRAME {
                    assert_eq!(e, FrameError::Oversized);
                }
            }
            other => panic!("garbage frame {i} ({len} bytes) got {other:?}"),
        }
        garbage += 1;

        let image = &test.images[i];
        let answer = device.request(&Request::Classify(Image(*image))).expect("classify");
        assert_eq!(answer, Response::Prediction(shared::forward(&model.weights, image)), "image {i}");
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

#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn garbage_frames_on_lm3s6965evb() {
    garbage_between_valid_frames(&boards()[0]);
}

#[test]
#[ignore = "needs qemu-system-arm and the thumb targets; run by `cargo xtask ci`"]
fn garbage_frames_on_mps2_an386() {
    garbage_between_valid_frames(&boards()[1]);
}
