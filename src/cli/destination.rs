//! The command line's words for the library's destination and write errors: which flag asks
//! for a replacement or another place, and the exit code of each kind of failure.

use std::path::Path;

use hsctsim::atomic::{DestinationError, WriteError};

use super::Failure;
use super::interrupt::Interrupt;

/// A destination the plan refused (exit 2), with the flags that would help.
pub fn refused(e: DestinationError) -> Failure {
    let hint = match &e {
        DestinationError::Exists { .. } => {
            "; use --force to replace it, or --out to write elsewhere"
        }
        DestinationError::NotOurs { .. } | DestinationError::Overlap { .. } => {
            " (choose the place with --out)"
        }
        DestinationError::BadPath { .. } => "",
    };
    Failure::input(format!("{e}{hint}"))
}

/// A failure while writing or putting outputs in place; `kept` says what was left as it
/// was (every destination, since a commit is all or nothing).
pub fn write_failed(e: WriteError, interrupt: &Interrupt, kept: &str) -> Failure {
    match e {
        WriteError::Cancelled => {
            let (signal, code) = interrupt.received();
            Failure::interrupted(
                code,
                format!(
                    "interrupted by {signal} while writing the outputs; nothing was written: {kept}"
                ),
            )
        }
        WriteError::Taken { .. } | WriteError::Changed { .. } => Failure::input(e),
        WriteError::Io { .. } => Failure::run(format!("{e}; nothing was written: {kept}")),
    }
}

/// Describes what a failed or interrupted command left of its destinations: each as it was.
pub fn kept(destinations: &[&Path]) -> String {
    destinations
        .iter()
        .map(|d| {
            if std::fs::symlink_metadata(d).is_ok() {
                format!("{} was left as it was", d.display())
            } else {
                format!("{} does not exist", d.display())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
