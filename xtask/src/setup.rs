//! Installs or checks what the project needs beyond cargo.
use std::path::Path;
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
    ensure_rust_targets()?;
    ensure_qemu()?;
    ensure_rp2040_emulator()
}

/// Only what running `board` in its emulator needs: its Rust target, and QEMU
/// or the RP2040 emulator (what `cargo xtask demo` installs).
pub fn ensure_tools_for(board: &board::device::Board) -> Result<()> {
    sh(Command::new("rustup").args(["target", "add", board.target]), None)?;
    match board.emulator {
        shared::boards::Emulator::Qemu { .. } => ensure_qemu(),
        shared::boards::Emulator::Rp2040js => ensure_rp2040_emulator(),
    }
}

/// Every board's Rust target, rustfmt and clippy.
fn ensure_rust_targets() -> Result<()> {
    sh(Command::new("rustup").arg("target").arg("add").args(targets()), None)?;
    sh(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]), None)
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
        // Only the packages asked for: QEMU's recommends alone are 165 packages (GTK, gstreamer, mesa).
        sh(apt(&["install", "-y", "-q", "--no-install-recommends"]).args(package.split_whitespace()), None)?;
        if present() {
            return Ok(());
        }
    }
    bail!("{package} is not installed and cannot be installed from here; {hint} and run this again")
}

/// The project's own Python environment (`target/python`): NumPy for the
/// bench's reference trainer and the format reader's test, emlearn for the
/// peers. Made with `python3 -m venv` when missing (Debian's `python3-venv`
/// through apt when we may), so nothing is installed into the user's Python.
pub fn python() -> std::path::PathBuf {
    board::paths::repo_root().join("target/python/bin/python3")
}

/// [`python`] with `module` importable, installing `requirement` with its pip when not.
pub fn ensure_python_module(module: &str, requirement: &str) -> Result<()> {
    let py = python();
    let imports = |py: &Path| {
        Command::new(py)
            .args(["-c", &format!("import {module}")])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !py.exists() {
        let env = board::paths::repo_root().join("target/python");
        // Debian's python3 makes environments only with python3-venv (which brings ensurepip).
        let venv_works = || {
            let mut probe = Command::new("python3");
            probe.args(["-c", "import ensurepip, venv"]).stderr(std::process::Stdio::null());
            probe.status().is_ok_and(|s| s.success())
        };
        ensure_package(venv_works, "python3-venv", "install python3 with its venv module")?;
        sh(Command::new("python3").args(["-m", "venv"]).arg(&env), None)
            .context("cannot make the project's Python environment")?;
    }
    if !imports(&py) {
        sh(Command::new(&py).args(["-m", "pip", "install", "--quiet", requirement]), None)
            .with_context(|| format!("cannot install {requirement} into target/python"))?;
    }
    Ok(())
}

/// NumPy in the project's Python environment.
pub fn ensure_numpy() -> Result<()> {
    ensure_python_module("numpy", "numpy")
}

/// Installs the handwriting fonts of the picture test sets (`pictures::synthetic::fonts`) through apt when we may.
pub fn ensure_fonts() -> Result<()> {
    let missing = pictures::synthetic::fonts::missing_packages;
    ensure_package(|| missing().is_empty(), &missing().join(" "), "install these Debian font packages")
}
