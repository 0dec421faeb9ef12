//! Progress bars for long stages (one bar per stage), hidden where nobody watches.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Where progress is drawn.
#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// No progress output (tests, the harness, machine-readable output).
    pub fn hidden() -> Self {
        Progress { multi: None }
    }

    /// Bars on stderr when it is a terminal; nothing otherwise.
    pub fn stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Progress {
                multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            }
        } else {
            Self::hidden()
        }
    }

    /// A bar for a stage of `total` steps.
    pub fn stage(&self, label: &str, total: u64) -> ProgressBar {
        let Some(multi) = &self.multi else {
            return ProgressBar::hidden();
        };
        let bar = multi.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar
    }

    /// Prints a line above the bars (or to stderr when hidden bars are not drawn), stripped of
    /// escape sequences.
    pub fn println(&self, line: &str) {
        let line = &crate::terminal::printable(line);
        match &self.multi {
            Some(m) => {
                let _ = m.println(line);
            }
            None => eprintln!("{line}"),
        }
    }
}
