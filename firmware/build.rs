//! Finds the board in `shared::boards` from its cargo feature, checks the
//! target, writes its `memory.x` from the row's memory map, provides its
//! driver module, and validates and
//! embeds the weight file.
//!
//! Weights come from, in order: `$TINY_MNIST_WEIGHTS`, `model/exported.bin`
//! (written by `tiny-mnist export`), the committed `../models/default.bin`
//! (`default-int8.bin` for boards whose row says so).
#![allow(clippy::expect_used, reason = "a build script stops the build on failure; nothing here runs on the device")]

use std::path::{Path, PathBuf};
use std::{env, fs};

use shared::boards::{Board, BOARDS};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));

    let names: Vec<String> = BOARDS.iter().map(|b| format!("\"{}\"", b.name)).collect();
    println!("cargo::rustc-check-cfg=cfg(board, values({}))", names.join(", "));
    let board = chosen_board();
    println!("cargo::rustc-check-cfg=cfg(m3, m4f)");
    if let Some(board) = board {
        println!("cargo::rustc-cfg=board=\"{}\"", board.name);
        // Cortex-M4F (the DSP extension and an FPU): the first-layer kernels of `src/m4f`.
        if board.target == "thumbv7em-none-eabihf" {
            println!("cargo::rustc-cfg=m4f");
        }
        // Cortex-M3: the first-layer kernels of `src/m3`.
        if board.target == "thumbv7m-none-eabi" {
            println!("cargo::rustc-cfg=m3");
        }
        println!("cargo::rustc-env=BOARD_NAME={}", board.name);
        fs::write(out.join("memory.x"), board.memory.linker_script()).expect("write memory.x");
        // The driver: src/board/<name>.rs, included by src/board/mod.rs.
        let driver = manifest.join("src/board").join(format!("{}.rs", board.name.replace('-', "_")));
        if !driver.exists() {
            fail_board(board, &driver, "no such file");
        }
        let module = format!("#[path = {:?}]\nmod driver;\npub use driver::Link;\n", driver.display().to_string());
        fs::write(out.join("board.rs"), module).expect("write board.rs");
        if env::var_os("CARGO_FEATURE_MMIO_UART").is_some() {
            // cortex-m-rt's `device` feature includes this; the one interrupt vector is in src/vectors.rs.
            fs::write(out.join("device.x"), "/* no device interrupt handlers: the UART is polled */\n")
                .expect("write device.x");
        }
        println!("cargo::rustc-link-search={}", out.display());
        println!("cargo::rustc-link-arg-bins=-Tlink.x");
    }

    let weights = weights_file(&manifest, board.is_some_and(|b| b.int8_default));
    let bytes = fs::read(&weights).unwrap_or_else(|e| fail(&weights, &e.to_string()));
    println!("cargo::rustc-check-cfg=cfg(model_int8)");
    match shared::ModelKind::check(&bytes) {
        Ok(shared::ModelKind::Int8) => println!("cargo::rustc-cfg=model_int8"),
        Ok(shared::ModelKind::F32) => {}
        Err(e) => fail(&weights, &e.to_string()),
    }
    fs::write(out.join("weights.bin"), &bytes).expect("write weights.bin");
    println!("cargo::rustc-env=WEIGHTS_SOURCE={}", weights.display());
    println!("cargo::rerun-if-changed={}", weights.display());
    println!("cargo::rerun-if-changed={}", manifest.join("model").display());
    println!("cargo::rerun-if-env-changed=TINY_MNIST_WEIGHTS");
}

/// The board whose feature is on; none for a host build (the application loop's unit tests).
fn chosen_board() -> Option<Board> {
    let feature = |b: &Board| format!("CARGO_FEATURE_{}", b.name.to_uppercase().replace('-', "_"));
    let chosen: Vec<Board> = BOARDS.iter().copied().filter(|b| env::var_os(feature(b)).is_some()).collect();
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let all: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
    match chosen.as_slice() {
        [] if target.starts_with("thumb") => {
            eprintln!(
                "error: choose the board with its feature, e.g. `--features lm3s6965evb --target \
                 thumbv7m-none-eabi` (boards: {}); `cargo xtask firmware` builds them all",
                all.join(", ")
            );
            std::process::exit(1);
        }
        [] => None,
        [board] if board.target != target => {
            eprintln!("error: {} firmware is built for --target {}, not {target}", board.name, board.target);
            std::process::exit(1);
        }
        [board] => Some(*board),
        several => {
            let names: Vec<&str> = several.iter().map(|b| b.name).collect();
            eprintln!("error: one board at a time; these features are on: {}", names.join(", "));
            std::process::exit(1);
        }
    }
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

fn fail_board(board: Board, path: &Path, why: &str) -> ! {
    eprintln!("error: board {} needs {}: {why}", board.name, path.display());
    std::process::exit(1);
}
