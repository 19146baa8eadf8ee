//! Ctrl-C and termination signals: stop the workers, write nothing, say how far it got.
//!
//! The handlers only set flags (all a signal handler may safely do); the engine checks the
//! flag before each chunk of patients, so workers stop within one chunk (milliseconds) and
//! the run returns `Cancelled` instead of a result. A second Ctrl-C while the first is being
//! handled exits at once with code 130.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Flags set by SIGINT and SIGTERM.
pub struct Interrupt {
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the handlers. If the system refuses, the run goes on with the default
    /// behaviour (the signal ends the process; the output folder is still not written,
    /// since it is renamed into place only when complete).
    pub fn install() -> Interrupt {
        let stop = Arc::new(AtomicBool::new(false));
        let signal = Arc::new(AtomicUsize::new(0));
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            use signal_hook::flag;
            for sig in [SIGINT, SIGTERM] {
                // Registered first, so it sees the flag as it was before this signal: set
                // means this is the second one.
                let _ = flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&stop));
                let _ = flag::register_usize(sig, Arc::clone(&signal), sig as usize);
                let _ = flag::register(sig, Arc::clone(&stop));
            }
        }
        Interrupt { stop, signal }
    }

    /// What a library service needs of the front end: this progress display and the
    /// interrupt flag.
    pub fn session<'a>(
        &'a self,
        progress: &'a dyn hsctsim::service::Progress,
    ) -> hsctsim::service::Session<'a> {
        hsctsim::service::Session {
            progress,
            stop: &self.stop,
        }
    }

    /// The signal's name and the conventional exit code (128 + its number).
    pub fn received(&self) -> (&'static str, i32) {
        let signal = self.signal.load(Ordering::SeqCst) as i32;
        #[cfg(unix)]
        if signal == signal_hook::consts::SIGTERM {
            return ("SIGTERM", 128 + signal);
        }
        let _ = signal;
        ("SIGINT (Ctrl-C)", 130)
    }
}
