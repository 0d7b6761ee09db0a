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

/// Installs QEMU through apt when we may (root, or passwordless sudo); else says what to do.
pub fn ensure_qemu() -> Result<()> {
    if qemu_works() {
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
        sh(&mut apt(&["install", "-y", "-q", "qemu-system-arm"]), None)?;
        if qemu_works() {
            return Ok(());
        }
    }
    bail!(
        "qemu-system-arm is not installed and cannot be installed from here; \
         install it (Debian/Ubuntu: sudo apt-get install qemu-system-arm; Fedora: sudo dnf install qemu-system-arm; \
         macOS: brew install qemu) and run this again"
    )
}
