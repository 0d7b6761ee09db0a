//! `tiny-mnist export --c DIR`: a model as a small C99 library, for a C or
//! Arduino project on any microcontroller. The code (`tiny_mnist.c`) is the
//! same for every model and follows `docs/format.md` §2 step for step; what
//! changes is the header (the model's kind and identity) and the weights,
//! written as exact bit patterns so that no compiler rounds a literal.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub mod conformance;
use shared::{HIDDEN, INPUT, OUTPUT};
use trainer::model_file::{Model, Network};

/// The library's code: preprocessing, both networks, the softmaxes, the pixel forms.
const LIBRARY: &str = include_str!("tiny_mnist.c");
/// The files [`write`] makes, in `DIR`.
pub const FILES: [&str; 4] = ["tiny_mnist.h", "tiny_mnist.c", "tiny_mnist_weights.c", "README.md"];

/// Writes the library for `model` into `dir` (made if missing); returns the files' paths.
/// `name` is how the model is named for people (its path, or the built-in one's name).
pub fn write(model: &Model, name: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot make the directory {}", dir.display()))?;
    let contents = [header(model, name), LIBRARY.to_owned(), weights(model), readme(model, name)];
    FILES
        .iter()
        .zip(contents)
        .map(|(file, text)| {
            let path = dir.join(file);
            trainer::model_file::write_atomically(&path, text.as_bytes())?;
            Ok(path)
        })
        .collect()
}

fn header(model: &Model, name: &str) -> String {
    let int8 = matches!(model.network, Network::Int8(_));
    let output_scale = match &model.network {
        Network::Int8(q) => {
            format!("#define TINY_MNIST_OUTPUT_SCALE_BITS UINT32_C(0x{:08x})\n", q.output_scale.to_bits())
        }
        Network::F32(_) => String::new(),
    };
    let weights = if int8 {
        "extern TINY_MNIST_FLASH const int8_t tiny_mnist_w1[TINY_MNIST_INPUT][TINY_MNIST_HIDDEN];\n\
         extern TINY_MNIST_FLASH const int32_t tiny_mnist_b1[TINY_MNIST_HIDDEN];\n\
         extern TINY_MNIST_FLASH const int8_t tiny_mnist_w2[TINY_MNIST_OUTPUT][TINY_MNIST_HIDDEN];\n\
         extern TINY_MNIST_FLASH const int32_t tiny_mnist_b2[TINY_MNIST_OUTPUT];"
    } else {
        "/* f32 weights as their IEEE binary32 bit patterns. */\n\
         extern TINY_MNIST_FLASH const uint32_t tiny_mnist_w1[TINY_MNIST_INPUT][TINY_MNIST_HIDDEN];\n\
         extern TINY_MNIST_FLASH const uint32_t tiny_mnist_b1[TINY_MNIST_HIDDEN];\n\
         extern TINY_MNIST_FLASH const uint32_t tiny_mnist_w2[TINY_MNIST_OUTPUT][TINY_MNIST_HIDDEN];\n\
         extern TINY_MNIST_FLASH const uint32_t tiny_mnist_b2[TINY_MNIST_OUTPUT];"
    };
    let avr_f32 = if int8 {
        ""
    } else {
        "#ifdef __AVR__\n\
         #error \"this is an f32 model: on AVR use the int8 one (tiny-mnist quantize), proven bit-exact there in integers only\"\n\
         #endif\n"
    };
    format!(
        r#"/* tiny_mnist.h: a 784 -> 10 -> 10 digit classifier, exported by `tiny-mnist export --c`.
 * The {identity}.
 *
 * tiny_mnist_classify() gives the digit and the ten probabilities that the
 * tiny-mnist host gives for the same image, bit for bit (docs/format.md
 * section 2). Build with a C99 compiler and no floating-point contraction
 * or fast-math, e.g.
 *     cc -std=c99 -O2 -ffp-contract=off -c tiny_mnist.c tiny_mnist_weights.c
 * (GCC contracts a*b+c into one fused multiply-add in its default GNU modes
 * on cores that have one, which changes the last bits of an f32 model; an
 * int8 model uses no floating-point arithmetic at all).
 *
 * No heap, no libm, no global state: tiny_mnist_classify() is reentrant.
 * Its stack frame, with everything it calls inlined, measured 504-632 bytes
 * (gcc -fstack-usage: x86-64 -O2, Cortex-M4F -O2, Cortex-M0+ -Os), plus the
 * compiler's arithmetic routines on cores that lack an instruction. The
 * weights are const, so they stay in flash (PROGMEM on AVR). */
#ifndef TINY_MNIST_H
#define TINY_MNIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __AVR__
#include <avr/pgmspace.h>
#define TINY_MNIST_FLASH PROGMEM
#else
#define TINY_MNIST_FLASH
#endif

#define TINY_MNIST_INPUT 784
#define TINY_MNIST_HIDDEN 10
#define TINY_MNIST_OUTPUT 10
/* 1: the int8 network (section 2.2); 0: f32 (section 2.1). */
#define TINY_MNIST_INT8 {int8}
/* 0: none, 1: deskew (section 2.0), 2: stroke maps (section 2.3). */
#define TINY_MNIST_PREPROCESSING {preprocessing}
/* The weight file's CRC-32: what a tiny-mnist board reports as its model. */
#define TINY_MNIST_MODEL_CRC UINT32_C(0x{crc:08x})
{output_scale}{avr_f32}
typedef struct {{
    uint8_t digit;                              /* the first most probable class, 0-9 */
    float probabilities[TINY_MNIST_OUTPUT];     /* the softmax, summing to about 1 */
}} tiny_mnist_result;

/* Classifies a 28x28 image, row by row, 0 = background, 255 = full ink
 * (MNIST's convention: light ink on a dark background). */
void tiny_mnist_classify(const uint8_t image[TINY_MNIST_INPUT], tiny_mnist_result *out);

/* The pixels of a tiny-mnist Classify request (docs/format.md section 3.3):
 * exactly 784 bytes is the image itself; anything else is the zero-run form
 * (a nonzero byte is a pixel, the pair 0, n is n zero pixels). Returns 0, or
 * -1 if the bytes do not make exactly 784 pixels (image is then undefined). */
int tiny_mnist_unpack(const uint8_t *pixels, size_t length, uint8_t image[TINY_MNIST_INPUT]);

/* A board that speaks tiny-mnist's serial protocol (docs/format.md section 3),
 * so that `tiny-mnist classify --device PORT -m MODEL` checks it image by
 * image against the host. Feed every byte received to tiny_mnist_link_byte();
 * when it returns n > 0, send the n bytes of `response` (a whole frame). A
 * Classify frame is classified inside that call. One link holds the image
 * (784 bytes) and the frame's state, no frame buffer: requests are decoded as
 * they arrive. */
#define TINY_MNIST_REQUEST_MAX 792  /* bytes before a request's delimiter; more is Oversized */
#define TINY_MNIST_RESPONSE_MAX 77  /* bytes of the longest response frame, delimiter included */

typedef struct {{
    const char *board;   /* what Info answers, at most 24 bytes (e.g. "arduino-uno") */
    uint32_t stack_peak; /* what Stats answers, in bytes; 0 if not measured */
    uint32_t stack_size;
    /* The link's own state. */
    uint8_t image[TINY_MNIST_INPUT];
    uint32_t varint, string_left;
    uint16_t frame_length, at;
    uint8_t block_left, block_zero, stage, varint_bytes, request, run_next, pixels_bad, raw;
}} tiny_mnist_link;

void tiny_mnist_link_init(tiny_mnist_link *link, const char *board);
size_t tiny_mnist_link_byte(tiny_mnist_link *link, uint8_t byte, uint8_t response[TINY_MNIST_RESPONSE_MAX]);

/* The model's numbers, in tiny_mnist_weights.c (internal to the library). */
{weights}

#endif
"#,
        identity = model.describe(name),
        int8 = u8::from(int8),
        preprocessing = model.info.preprocessing as u8,
        crc = model.checksum,
    )
}

/// `tiny_mnist_weights.c`: every tensor in file order, eight numbers per line.
fn weights(model: &Model) -> String {
    let mut out = String::from(
        "/* tiny_mnist_weights.c: the model's numbers, exported by `tiny-mnist export --c` (see tiny_mnist.h). */\n\
         #include \"tiny_mnist.h\"\n",
    );
    match &model.network {
        Network::F32(w) => {
            let bits = |values: &[f32]| values.iter().map(|v| format!("UINT32_C(0x{:08x})", v.to_bits())).collect();
            tensor(&mut out, "uint32_t", "tiny_mnist_w1", &[INPUT, HIDDEN], bits(w.w1.as_flattened()));
            tensor(&mut out, "uint32_t", "tiny_mnist_b1", &[HIDDEN], bits(&w.b1));
            tensor(&mut out, "uint32_t", "tiny_mnist_w2", &[OUTPUT, HIDDEN], bits(w.w2.as_flattened()));
            tensor(&mut out, "uint32_t", "tiny_mnist_b2", &[OUTPUT], bits(&w.b2));
        }
        Network::Int8(q) => {
            let small = |values: &[i8]| values.iter().map(i8::to_string).collect();
            // INT32_MIN cannot be written as a literal: -2147483647 - 1.
            let large =
                |values: &[i32]| {
                    values
                        .iter()
                        .map(|&v| {
                            if v == i32::MIN {
                                "(-INT32_C(2147483647) - 1)".to_owned()
                            } else {
                                format!("INT32_C({v})")
                            }
                        })
                        .collect()
                };
            tensor(&mut out, "int8_t", "tiny_mnist_w1", &[INPUT, HIDDEN], small(q.w1.as_flattened()));
            tensor(&mut out, "int32_t", "tiny_mnist_b1", &[HIDDEN], large(&q.b1));
            tensor(&mut out, "int8_t", "tiny_mnist_w2", &[OUTPUT, HIDDEN], small(q.w2.as_flattened()));
            tensor(&mut out, "int32_t", "tiny_mnist_b2", &[OUTPUT], large(&q.b2));
        }
    }
    out
}

/// One C array definition: `shape` is `[N]` or `[rows, columns]` (one brace pair per row).
fn tensor(out: &mut String, ty: &str, name: &str, shape: &[usize], values: Vec<String>) {
    let dims: String = shape.iter().map(|d| format!("[{d}]")).collect();
    let _ = writeln!(out, "\nTINY_MNIST_FLASH const {ty} {name}{dims} = {{");
    let columns = shape.last().copied().unwrap_or(1);
    for row in values.chunks(columns) {
        let line = row.join(", ");
        if shape.len() == 2 {
            let _ = writeln!(out, "    {{{line}}},");
        } else {
            let _ = writeln!(out, "    {line},");
        }
    }
    out.push_str("};\n");
}

fn readme(model: &Model, name: &str) -> String {
    format!(
        r#"# tiny_mnist: a digit classifier in C

Exported by `tiny-mnist export --c` from the {identity}.

`tiny_mnist_classify()` answers exactly what the tiny-mnist host answers for the same 28×28 image:
the digit and all ten probabilities, bit for bit. C99, no heap, no libm, no global state; the
weights are `const` (in flash; `PROGMEM` on AVR).

```c
#include <stdio.h>
#include "tiny_mnist.h"

int main(void) {{
    static uint8_t image[TINY_MNIST_INPUT];   /* 28x28, row by row, 0 = background, 255 = ink */
    tiny_mnist_result result;
    if (fread(image, 1, sizeof image, stdin) != sizeof image) return 1;
    tiny_mnist_classify(image, &result);
    printf("%u (p = %.4f)\n", result.digit, result.probabilities[result.digit]);
    return 0;
}}
```

Build it with the two library files, without floating-point contraction:

```sh
cc -std=c99 -O2 -ffp-contract=off example.c tiny_mnist.c tiny_mnist_weights.c -o example
```

- `tiny_mnist.h`: the API, the model's kind and identity (`TINY_MNIST_MODEL_CRC`).
- `tiny_mnist.c`: the model's preprocessing, the network and its softmax (docs/format.md §2).
- `tiny_mnist_weights.c`: the weights ({size}).
- `tiny_mnist_unpack()` turns the pixels of a tiny-mnist `Classify` request (raw or zero runs) into the image.

On an 8-bit AVR (Arduino Uno) use an int8 model (`tiny-mnist quantize`): it needs no
floating-point arithmetic at all, and avr-gcc places the weights in flash.
"#,
        identity = model.describe(name),
        size = match model.network {
            Network::F32(_) => "7,960 f32 as bit patterns, 31,840 bytes",
            Network::Int8(_) => "7,940 int8 and 20 int32, 8,020 bytes",
        },
    )
}
