//! Progress bar on a terminal, nothing otherwise (logs and pipes stay clean).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A bar for `total` patients, hidden when stderr is not a terminal or `quiet` is set.
pub fn patients_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} patients ({rate}, ETA {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.2} M patients/s", state.per_sec() / 1e6);
    });
    bar.set_style(style);
    bar
}

/// A service's progress on the terminal: a bar made when the work starts (its total is
/// known then), cleared when it ends.
pub struct Bar {
    quiet: bool,
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// A bar, or nothing with `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool) -> Bar {
        Bar {
            quiet,
            bar: std::sync::Mutex::new(None),
        }
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.bar.lock()
            && let Some(bar) = guard.as_ref()
        {
            f(bar);
        }
    }
}

impl hsctsim::service::Progress for Bar {
    fn start(&self, total: u64, unit: &str) {
        let bar = if unit == "patients" {
            patients_bar(total, self.quiet)
        } else {
            count_bar(total, unit, self.quiet)
        };
        if let Ok(mut guard) = self.bar.lock() {
            *guard = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        self.with(|bar| bar.inc(n));
    }

    fn finish(&self) {
        self.with(ProgressBar::finish_and_clear);
    }
}

/// A bar for `total` units of work counted one by one (PSA draws, OWSA runs).
pub fn count_bar(total: u64, unit: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} (ETA {{eta}})"
    );
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
