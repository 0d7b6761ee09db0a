//! Installs or checks what the project needs beyond cargo.
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell::sh;

/// Rust targets of the firmware builds, one per board (boards may share one).
pub fn targets() -> Vec<&'static str> {
    let mut targets: Vec<_> = board::device::BOARDS.iter().map(|b| b.target).collect();
    targets.sort_unstable();
    targets.dedup();
    targets
}

/// Rust targets and components, `qemu-system-arm`, then Node and the RP2040 emulator.
pub fn ensure_tools() -> Result<()> {
    sh(Command::new("rustup").arg("target").arg("add").args(targets()), None)?;
    sh(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]), None)?;
    ensure_qemu()?;
    ensure_rp2040_emulator()
}

/// Node (through apt when we may) and the RP2040 emulator's packages, exactly as
/// `tools/rp2040-emu/package-lock.json` pins them (`npm ci`).
pub fn ensure_rp2040_emulator() -> Result<()> {
    let node_works = || Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let npm_works = || Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success());
    ensure_package(node_works, "nodejs", "install Node.js 20 or later (https://nodejs.org)")?;
    ensure_package(npm_works, "npm", "install npm (it comes with Node.js from https://nodejs.org)")?;
    npm_ci(&board::paths::repo_root().join("tools/rp2040-emu"))
}

/// `npm ci` in `dir` unless its `node_modules` is as new as its `package-lock.json`.
fn npm_ci(dir: &std::path::Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let stale = |a: &std::path::Path, b: &std::path::Path| -> bool {
        let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        match (modified(a), modified(b)) {
            (Some(a), Some(b)) => a < b,
            _ => true,
        }
    };
    if stale(&installed, &lock) {
        sh(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]), Some(dir))?;
    }
    Ok(())
}

/// Debian's Chromium through apt when we may, and the drawing pad test's
/// `puppeteer-core` as `tools/pad-test/package-lock.json` pins it.
pub fn ensure_browser() -> Result<()> {
    let chromium_works = || Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    ensure_package(chromium_works, "chromium", "install Chromium (Debian/Ubuntu: sudo apt-get install chromium)")?;
    npm_ci(&board::paths::repo_root().join("tools/pad-test"))
}

fn qemu_works() -> bool {
    Command::new("qemu-system-arm").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Where Debian's `dataset-fashion-mnist` puts the IDX files.
pub const FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// Installs QEMU through apt when we may; else says what to do.
pub fn ensure_qemu() -> Result<()> {
    ensure_package(
        qemu_works,
        "qemu-system-arm",
        "install it (Debian/Ubuntu: sudo apt-get install qemu-system-arm; Fedora: sudo dnf install qemu-system-arm; \
         macOS: brew install qemu)",
    )
}

/// Installs Fashion-MNIST (for its end-to-end test) through apt when we may; else says what to do.
pub fn ensure_fashion_mnist() -> Result<()> {
    let present = || std::path::Path::new(FASHION_MNIST).join("t10k-labels-idx1-ubyte.gz").exists();
    ensure_package(
        present,
        "dataset-fashion-mnist",
        "install it (Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist) or download the four IDX files \
         from github.com/zalandoresearch/fashion-mnist into /usr/share/datasets/fashion-mnist",
    )
}

/// Runs `apt-get install package` (one or more, space-separated) when `present`
/// says no and we may (root, or passwordless sudo).
pub fn ensure_package(present: impl Fn() -> bool, package: &str, hint: &str) -> Result<()> {
    if present() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let sudo_ok = !is_root && Command::new("sudo").args(["-n", "true"]).status().is_ok_and(|s| s.success());
    let has_apt = Command::new("apt-get").arg("--version").output().is_ok();
    if has_apt && (is_root || sudo_ok) {
        let prefix: &[&str] = if is_root { &[] } else { &["sudo", "-n"] };
        let apt = |args: &[&str]| {
            let mut all: Vec<&str> = prefix.to_vec();
            all.push("apt-get");
            all.extend_from_slice(args);
            let mut cmd = Command::new(all[0]);
            cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
            cmd
        };
        sh(&mut apt(&["update", "-q"]), None)?;
        sh(apt(&["install", "-y", "-q"]).args(package.split_whitespace()), None)?;
        if present() {
            return Ok(());
        }
    }
    bail!("{package} is not installed and cannot be installed from here; {hint} and run this again")
}

/// NumPy for `python3` (the bench's reference trainer, the format reader's test), through pip when missing.
pub fn ensure_numpy() -> Result<()> {
    let has = |py: &str| Command::new(py).args(["-c", "import numpy"]).status().is_ok_and(|s| s.success());
    if has("python3") {
        return Ok(());
    }
    sh(Command::new("python3").args(["-m", "pip", "install", "--quiet", "numpy"]), None)
        .context("numpy is missing and `pip install numpy` failed; install numpy for python3")?;
    Ok(())
}

/// Installs the handwriting fonts of the picture test sets (`pictures::synthetic::fonts`) through apt when we may.
pub fn ensure_fonts() -> Result<()> {
    let missing = pictures::synthetic::fonts::missing_packages;
    ensure_package(|| missing().is_empty(), &missing().join(" "), "install these Debian font packages")
}
