//! Picks the board from the target, provides its `memory.x`, and validates
//! and embeds the weight file.
//!
//! Weights come from, in order: `$TINY_MNIST_WEIGHTS`, `model/exported.bin`
//! (written by `host export`), the committed `../models/default.bin`
//! (`default-int8.bin` for the Pico, which has no FPU).
#![allow(clippy::expect_used, reason = "a build script stops the build on failure; nothing here runs on the device")]

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));

    println!("cargo::rustc-check-cfg=cfg(board, values(\"lm3s6965evb\", \"mps2-an386\", \"rp-pico\"))");
    let board = match target.as_str() {
        "thumbv7m-none-eabi" => Some("lm3s6965evb"),
        "thumbv7em-none-eabihf" => Some("mps2-an386"),
        "thumbv6m-none-eabi" => Some("rp-pico"),
        _ => None, // host: unit tests of the application loop
    };
    if let Some(board) = board {
        println!("cargo::rustc-cfg=board=\"{board}\"");
        println!("cargo::rustc-env=BOARD_NAME={board}");
        let memory = manifest.join("memory").join(format!("{board}.x"));
        fs::copy(&memory, out.join("memory.x")).expect("copy memory.x");
        if board != "rp-pico" {
            // cortex-m-rt's `device` feature includes this; the one interrupt vector is in src/vectors.rs.
            fs::write(out.join("device.x"), "/* no device interrupt handlers: the UART is polled */\n")
                .expect("write device.x");
        }
        println!("cargo::rerun-if-changed={}", memory.display());
        println!("cargo::rustc-link-search={}", out.display());
        println!("cargo::rustc-link-arg-bins=-Tlink.x");
    }

    // No FPU on the Pico's Cortex-M0+: its default model is the int8 one.
    let weights = weights_file(&manifest, board == Some("rp-pico"));
    let bytes = fs::read(&weights).unwrap_or_else(|e| fail(&weights, &e.to_string()));
    println!("cargo::rustc-check-cfg=cfg(model_int8)");
    // The magic tells an int8 file from an f32 one; each decoder checks the rest.
    let checked = if bytes.starts_with(&shared::quantized::MAGIC) {
        println!("cargo::rustc-cfg=model_int8");
        shared::quantized::decode(&bytes).map(|_| ())
    } else {
        shared::weights_file::decode(&bytes).map(|_| ())
    };
    if let Err(e) = checked {
        fail(&weights, &e.to_string());
    }
    fs::write(out.join("weights.bin"), &bytes).expect("write weights.bin");
    println!("cargo::rustc-env=WEIGHTS_SOURCE={}", weights.display());
    println!("cargo::rerun-if-changed={}", weights.display());
    println!("cargo::rerun-if-changed={}", manifest.join("model").display());
    println!("cargo::rerun-if-env-changed=TINY_MNIST_WEIGHTS");
}

fn weights_file(manifest: &Path, int8_default: bool) -> PathBuf {
    if let Some(p) = env::var_os("TINY_MNIST_WEIGHTS") {
        return PathBuf::from(p);
    }
    let exported = manifest.join("model/exported.bin");
    if exported.exists() {
        return exported;
    }
    manifest.join(if int8_default { "../models/default-int8.bin" } else { "../models/default.bin" })
}

fn fail(path: &Path, why: &str) -> ! {
    eprintln!("error: cannot embed weight file {}: {why}", path.display());
    std::process::exit(1);
}
