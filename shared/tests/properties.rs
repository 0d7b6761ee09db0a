//! Property tests: every wire and file type round-trips, and no byte string
//! makes a decoder panic.
use proptest::prelude::*;
use shared::format::weights_file::{self, ModelInfo, FILE_LEN};
use shared::wire::protocol::{
    decode_frame, encode_frame, DeviceInfo, DeviceStats, FrameError, FrameEvent, FrameReader, Request, Response,
    BOARD_NAME_LEN, MAX_REQUEST_FRAME, MAX_RESPONSE_FRAME,
};
use shared::{Classifier, PixelBytes, Prediction, Weights, INPUT};

/// Images shaped like digits: mostly zero, with runs of ink.
fn image() -> impl Strategy<Value = [u8; INPUT]> {
    (prop::collection::vec((0usize..INPUT, 1usize..40, any::<u8>()), 0..30), any::<bool>()).prop_map(
        |(strokes, noisy)| {
            let mut pixels = [0u8; INPUT];
            for (start, len, value) in strokes {
                for p in pixels.iter_mut().skip(start).take(len) {
                    *p = value;
                }
            }
            if noisy {
                for (i, p) in pixels.iter_mut().enumerate() {
                    *p ^= (i * 37 % 256) as u8;
                }
            }
            pixels
        },
    )
}

/// A request's content (requests borrow their image, so the strategy makes the image).
#[derive(Clone, Debug)]
enum RequestContent {
    Info,
    Stats,
    Classify(Box<[u8; INPUT]>),
}

fn request() -> impl Strategy<Value = RequestContent> {
    prop_oneof![
        Just(RequestContent::Info),
        Just(RequestContent::Stats),
        image().prop_map(|i| RequestContent::Classify(Box::new(i)))
    ]
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        ("[a-z0-9-]{0,24}", any::<u16>(), any::<u16>(), any::<u32>()).prop_map(|(board, p, f, crc)| {
            Response::Info(DeviceInfo {
                protocol_version: p,
                format_version: f,
                model_checksum: crc,
                board: heapless::String::<BOARD_NAME_LEN>::try_from(board.as_str()).unwrap(),
            })
        }),
        (0u8..10, prop::array::uniform10(any::<f32>()))
            .prop_map(|(digit, probabilities)| Response::Prediction(Prediction { digit, probabilities })),
        prop_oneof![
            Just(FrameError::Oversized),
            Just(FrameError::BadFraming),
            Just(FrameError::Truncated),
            Just(FrameError::Malformed)
        ]
        .prop_map(Response::Error),
        (any::<u32>(), any::<u32>())
            .prop_map(|(stack_peak, stack_size)| Response::Stats(DeviceStats { stack_peak, stack_size })),
    ]
}

/// Responses compared by bit pattern, so NaN probabilities count as equal.
fn same(a: &Response, b: &Response) -> bool {
    match (a, b) {
        (Response::Prediction(x), Response::Prediction(y)) => {
            x.digit == y.digit && x.probabilities.map(f32::to_bits) == y.probabilities.map(f32::to_bits)
        }
        _ => a == b,
    }
}

fn unframe(frame: &mut [u8]) -> &mut [u8] {
    let n = frame.len() - 1;
    assert_eq!(frame[n], 0, "frames end in a delimiter");
    &mut frame[..n]
}

proptest! {
    #[test]
    fn requests_round_trip(content in request()) {
        let r = match &content {
            RequestContent::Info => Request::Info,
            RequestContent::Stats => Request::Stats,
            RequestContent::Classify(pixels) => Request::Classify(PixelBytes::raw(pixels)),
        };
        let mut buf = [0u8; MAX_REQUEST_FRAME];
        let frame = encode_frame(&r, &mut buf).unwrap();
        prop_assert!(frame.len() <= MAX_REQUEST_FRAME);
        prop_assert_eq!(decode_frame::<Request>(unframe(frame)), Ok(r));
    }

    #[test]
    fn responses_round_trip(r in response()) {
        let mut buf = [0u8; MAX_RESPONSE_FRAME];
        let frame = encode_frame(&r, &mut buf).unwrap();
        let back = decode_frame::<Response>(unframe(frame)).unwrap();
        prop_assert!(same(&back, &r), "{:?} != {:?}", back, r);
    }

    #[test]
    fn weight_files_round_trip(seed in any::<u64>(), epochs in any::<u32>(), scale in -1e6f32..1e6, va in 0f32..1.0, ta in 0f32..1.0, fashion in any::<bool>()) {
        let mut w = Box::new(Weights::ZERO);
        for (n, p) in w.parameters_mut().enumerate() {
            *p = scale * ((n as f32 * 0.618).fract() - 0.5);
        }
        let classes = if fashion { shared::Classes::Fashion } else { shared::Classes::Digits };
        let info = ModelInfo { seed, epochs, validation_accuracy: va, test_accuracy: ta, classes, ..Default::default() };
        let mut buf = vec![0u8; FILE_LEN];
        weights_file::encode(&w, &info, &mut buf).unwrap();
        let (back, back_info) = weights_file::decode(&buf).unwrap();
        prop_assert_eq!(back_info, info);
        prop_assert!(back.parameters().map(f32::to_bits).eq(w.parameters().map(f32::to_bits)));
        let constant = weights_file::decode_const(&buf).unwrap();
        prop_assert!(constant.parameters().map(f32::to_bits).eq(w.parameters().map(f32::to_bits)));
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_decoder(mut bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = weights_file::decode(&bytes);
        let _ = weights_file::decode_const(&bytes);
        let _ = decode_frame::<Response>(&mut bytes.clone());
        let _ = decode_frame::<Request>(&mut bytes);
    }

    #[test]
    fn arbitrary_streams_give_at_most_one_answer_per_delimiter(bytes in prop::collection::vec(any::<u8>(), 0..5000)) {
        let mut reader = FrameReader::<MAX_REQUEST_FRAME>::new();
        let mut events = 0;
        for &b in &bytes {
            match reader.push(b) {
                Some(FrameEvent::Frame(f)) => { let _ = decode_frame::<Request>(f); events += 1; }
                Some(FrameEvent::Oversized) => events += 1,
                None => {}
            }
        }
        prop_assert!(events <= bytes.iter().filter(|&&b| b == 0).count());
    }

    #[test]
    fn corrupting_a_weight_file_is_always_detected(at in 0usize..FILE_LEN, flip in 1u8..=255) {
        let w = Box::new(Weights::ZERO);
        let mut buf = vec![0u8; FILE_LEN];
        weights_file::encode(&w, &ModelInfo::default(), &mut buf).unwrap();
        buf[at] ^= flip;
        prop_assert!(weights_file::decode(&buf).is_err());
    }

    #[test]
    fn predict_class_is_the_digit_classify_gives(seed in any::<u64>(), img in image()) {
        let mut w = Box::new(Weights::ZERO);
        let mut state = seed | 1;
        for p in w.parameters_mut() {
            // xorshift: weights in [-0.5, 0.5), differing with the seed.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *p = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        }
        prop_assert_eq!(w.predict_class(&img), w.classify(&img).digit);
        let nonzero = img.iter().enumerate().filter(|(_, &p)| p != 0).map(|(i, &p)| (i, p));
        prop_assert_eq!(w.predict_class_nonzero(nonzero.clone()), w.classify(&img).digit);
        let (sparse, bytes) = (
            shared::network::hidden_forward(&w.w1, &w.b1, nonzero),
            shared::network::hidden_forward_pixels(&w.w1, &w.b1, PixelBytes::raw(&img)),
        );
        prop_assert_eq!(sparse.map(f32::to_bits), bytes.map(f32::to_bits));
    }
}
