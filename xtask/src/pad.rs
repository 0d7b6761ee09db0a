//! The drawing pad's end-to-end test (CI): `tools/pad-test/test.mjs` starts
//! `tiny-mnist serve` beside the lm3s6965evb in QEMU, draws digits in
//! headless Chromium and checks what the page shows.
use std::process::Command;

use anyhow::Result;

use crate::shell::{cargo, sh};

pub fn run() -> Result<()> {
    crate::setup::ensure_browser()?;
    let root = board::paths::repo_root();
    sh(cargo().args(["build", "-p", "tiny-mnist", "--bin", "tiny-mnist"]), None)?;
    // Its own firmware with the default model, as the host uses it (other tests embed others).
    let board = board::device::board("lm3s6965evb")?;
    let elf = root.join("target/xtask/pad-lm3s6965evb.elf");
    std::fs::create_dir_all(root.join("target/xtask"))?;
    board::firmware::build(&board, Some(&root.join("models/default.bin")), Some(&elf), crate::shell::quiet_builds())?;
    let screenshot = root.join("target/pad.png");
    let mut node = Command::new("node");
    node.arg("test.mjs")
        .arg(root.join("target/debug/tiny-mnist"))
        .arg(&screenshot)
        .args(["--device", "emu:lm3s6965evb", "--firmware"])
        .arg(&elf);
    sh(&mut node, Some(&root.join("tools/pad-test")))
}
