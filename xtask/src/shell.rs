//! Running commands visibly, so a user can copy any step.
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// `cargo`, as the one that runs this xtask.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(board::paths::repo_root());
    cmd
}

/// Runs `cmd` in `dir` (or where it is set), echoing it first; fails on a non-zero exit.
pub fn sh(cmd: &mut Command, dir: Option<&Path>) -> Result<()> {
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let shown = shown(cmd);
    eprintln!("\n$ {shown}");
    let status = cmd.status().with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

fn shown(cmd: &Command) -> String {
    let mut s = String::new();
    if let Some(dir) = cmd.get_current_dir() {
        let root = board::paths::repo_root();
        if let Ok(rel) = dir.strip_prefix(&root) {
            if !rel.as_os_str().is_empty() {
                s.push_str(&format!("(cd {} && ", rel.display()));
            }
        }
    }
    let program = cmd.get_program().to_string_lossy();
    let program = if program.ends_with("/cargo") { "cargo".into() } else { program };
    s.push_str(&program);
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    if s.starts_with("(cd") {
        s.push(')');
    }
    s
}

/// Whether nested builds keep quiet: on a terminal cargo draws its own progress, in a log it stays silent.
pub fn quiet_builds() -> bool {
    use std::io::IsTerminal;
    !std::io::stderr().is_terminal()
}
