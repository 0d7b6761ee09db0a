//! Installs or checks what the project needs beyond cargo.
use std::process::Command;

use anyhow::{bail, Result};

use crate::shell::sh;

/// Rust targets of the firmware builds: the two emulated boards and the Pico.
pub const TARGETS: [&str; 3] = ["thumbv7m-none-eabi", "thumbv7em-none-eabihf", PICO_TARGET];

/// The Raspberry Pi Pico's target (built, not emulated).
pub const PICO_TARGET: &str = "thumbv6m-none-eabi";

/// Rust targets and components, then `qemu-system-arm`.
pub fn ensure_tools() -> Result<()> {
    sh(Command::new("rustup").arg("target").arg("add").args(TARGETS), None)?;
    sh(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]), None)?;
    ensure_qemu()
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

/// Runs `apt-get install package` when `present` says no and we may (root, or passwordless sudo).
fn ensure_package(present: impl Fn() -> bool, package: &str, hint: &str) -> Result<()> {
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
        sh(&mut apt(&["install", "-y", "-q", package]), None)?;
        if present() {
            return Ok(());
        }
    }
    bail!("{package} is not installed and cannot be installed from here; {hint} and run this again")
}
