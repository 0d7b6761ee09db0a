//! Progress on long runs: a bar on a terminal, a line per step when stderr
//! is piped to a log, nothing with `--quiet`.
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no bars and no progress lines for the rest of the run.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A redrawn bar (stderr is a terminal).
    Bar,
    /// One line per step (stderr is a file or a pipe).
    Lines,
    /// Nothing (`--quiet`).
    Quiet,
}

/// The style for this run.
pub fn style() -> Style {
    if QUIET.load(Ordering::Relaxed) {
        Style::Quiet
    } else if std::io::stderr().is_terminal() {
        Style::Bar
    } else {
        Style::Lines
    }
}

/// A bar of `len` steps drawn with `template` (indicatif syntax), hidden
/// unless [`style`] is [`Style::Bar`].
pub fn bar(len: u64, template: &str) -> ProgressBar {
    if style() != Style::Bar {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}
