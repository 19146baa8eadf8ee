//! Library services: the whole of a command, in the order that keeps results true and
//! nothing half-done — load and check the inputs, plan every destination, refuse early,
//! simulate, render, stage, and put everything in place together or not at all.
//!
//! This is what the command line calls, and what an R or Python front end calls: a front
//! end parses its own arguments into a request, shows progress through [`Progress`], can
//! ask a running service to stop through a flag, and reports a [`ServiceError`] by its
//! [`Fault`] (the CLI maps it to an exit code). No message here speaks in command-line
//! options: where a front end's option would help, the error carries a [`Remedy`] for the
//! front end to word.

pub mod calibrate;
pub mod check;
pub mod merge;
pub mod run;
pub mod sensitivity;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::atomic::{self, DestinationError, WriteError};
use crate::model::{Model, Settings};
use crate::shard::part::ScenarioSource;

/// Whose fault a failure is: the input's (a front end says what to change), the run's (a
/// full disk, a model that loops), or a stop the front end asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The scenario, a part, a request or an output in the way is wrong (CLI exit 2).
    Input,
    /// The run failed for a reason that is not the input (CLI exit 1).
    Run,
    /// The front end's stop flag was set; nothing was written (CLI: 128 + the signal).
    Interrupted,
}

/// What a front end could change to get past a refused destination; the CLI words each
/// as its options (`--force`, `--out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Ask for the previous output to be replaced, or write elsewhere.
    ReplaceOrElsewhere,
    /// Write elsewhere.
    Elsewhere,
    /// Write the parts first, by running the shards of a scenario into one folder; with
    /// an example shard (index, count) when one is known to be missing.
    RunShards(Option<(u64, u64)>),
}

/// A service that did not complete. Nothing was written unless the message says so.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// Whose fault.
    pub fault: Fault,
    /// What happened, located where there is a location, with the fix. For
    /// [`Fault::Interrupted`], how far it got (to follow "interrupted by …").
    pub message: String,
    /// A change of request that would help, for the front end to word.
    pub remedy: Option<Remedy>,
}

impl ServiceError {
    /// The input is at fault.
    pub fn input(message: impl ToString) -> ServiceError {
        ServiceError {
            fault: Fault::Input,
            message: message.to_string(),
            remedy: None,
        }
    }

    /// The run failed.
    pub fn run(message: impl ToString) -> ServiceError {
        ServiceError {
            fault: Fault::Run,
            message: message.to_string(),
            remedy: None,
        }
    }

    /// Stopped on request; `message` says how far it got and what was left.
    pub fn interrupted(message: impl ToString) -> ServiceError {
        ServiceError {
            fault: Fault::Interrupted,
            message: message.to_string(),
            remedy: None,
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServiceError {}

/// How a front end shows progress; every method may be called from worker threads.
pub trait Progress: Sync {
    /// Work of `total` `unit`s (`"patients"`, `"draws"`, `"runs"`) begins.
    fn start(&self, _total: u64, _unit: &str) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// The work is over (done or stopped).
    fn finish(&self) {}
}

/// No progress display.
pub struct Silent;

impl Progress for Silent {}

/// Where a command writes its folder.
#[derive(Debug, Clone, Default)]
pub struct Destination {
    /// Output folder (`None`: the command's default).
    pub out: Option<std::path::PathBuf>,
    /// Replace a previous output of ours.
    pub replace: bool,
    /// Draw the figures.
    pub figures: bool,
}

/// What a front end passes to every service: its progress display and its stop flag (set
/// it, e.g. from a signal handler, to stop at the next chunk with nothing written).
#[derive(Clone, Copy)]
pub struct Session<'a> {
    /// Progress display.
    pub progress: &'a dyn Progress,
    /// Stop request.
    pub stop: &'a AtomicBool,
}

/// Values a request may set in place of the scenario's, checked like the file's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SettingsOverride {
    /// Patients (from 1 to [`crate::model::limits::MAX_PATIENTS`]).
    pub patients: Option<u64>,
    /// Master seed.
    pub seed: Option<u64>,
    /// Worker threads (0: all cores), at most [`MAX_THREADS`].
    pub threads: Option<usize>,
}

/// Most worker threads a request may ask for.
pub const MAX_THREADS: usize = 4096;

impl SettingsOverride {
    /// Sets the given values in `settings`, refusing what the scenario file would refuse.
    pub fn apply(&self, settings: &mut Settings) -> Result<(), ServiceError> {
        let max = crate::model::limits::MAX_PATIENTS;
        if let Some(n) = self.patients {
            if !(1..=max).contains(&n) {
                return Err(ServiceError::input(format!(
                    "the number of patients must be between 1 and {max}, got {n}"
                )));
            }
            settings.patients = n;
        }
        if let Some(seed) = self.seed {
            settings.seed = seed;
        }
        if let Some(threads) = self.threads {
            if threads > MAX_THREADS {
                return Err(ServiceError::input(format!(
                    "the number of threads must be between 0 (all cores) and {MAX_THREADS}, got {threads}"
                )));
            }
            settings.threads = threads;
        }
        Ok(())
    }
}

/// Loads and composes a scenario file, builds its model and applies `settings`; also
/// returns every file it was composed of (each read once, so the hashes in the manifest
/// and part files are those of what was simulated).
pub fn load(
    path: &Path,
    settings: &SettingsOverride,
) -> Result<(Model, ScenarioSource), ServiceError> {
    let composed = crate::scenario::compose::load(path).map_err(ServiceError::input)?;
    let source = composed.composition().clone();
    let mut model = composed
        .build(&source.default_name())
        .map_err(ServiceError::input)?;
    settings.apply(&mut model.settings)?;
    Ok((model, source))
}

/// Plans every file of a composed scenario as an input, so no output may be or hold one:
/// the file that was run and each file it extends.
pub fn plan_scenario(plan: &mut atomic::Plan, source: &ScenarioSource) {
    for (k, file) in source.files().enumerate() {
        let what = if k == 0 {
            "the scenario file"
        } else {
            "the scenario's base file"
        };
        plan.input(file, what);
    }
}

/// A destination the plan refused: the input's fault, with what would help.
pub fn refused(e: DestinationError) -> ServiceError {
    let remedy = match &e {
        DestinationError::Exists { .. } => Some(Remedy::ReplaceOrElsewhere),
        DestinationError::NotOurs { .. } | DestinationError::Overlap { .. } => {
            Some(Remedy::Elsewhere)
        }
        DestinationError::BadPath { .. } => None,
    };
    ServiceError {
        remedy,
        ..ServiceError::input(e)
    }
}

/// A failure while writing or putting outputs in place; `kept` says what was left as it
/// was (every destination, since a commit is all or nothing).
pub fn write_failed(e: WriteError, kept: &str) -> ServiceError {
    match e {
        WriteError::Cancelled => ServiceError::interrupted(format!(
            "while writing the outputs; nothing was written: {kept}"
        )),
        WriteError::Taken { .. } | WriteError::Changed { .. } => ServiceError::input(e),
        WriteError::Io { .. } => ServiceError::run(format!("{e}; nothing was written: {kept}")),
    }
}

/// A staged output that could not be started (before the simulation).
pub fn stage_failed(e: WriteError) -> ServiceError {
    match e {
        WriteError::Io { .. } => ServiceError::run(format!("{e}; nothing was written")),
        other => ServiceError::input(other),
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

/// The warning for figures that could not be drawn at all (`dir`'s data are complete).
pub fn figures_failed_warning(e: &crate::plot::PlotError, dir: &Path, what: &str) -> String {
    format!(
        "the figures could not be drawn ({e}); the {what} in {} are complete, and `hsctsim plot {}` draws them again",
        dir.display(),
        dir.display()
    )
}

/// The warnings for figures replaced by notes among an output folder's `files`.
pub fn omitted_warnings<N: AsRef<str>>(dir: &Path, files: &[(N, Vec<u8>)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(name, bytes)| {
            let reason = crate::plot::note_reason(name.as_ref(), bytes)?;
            Some(format!(
                "{reason}; {} says how to draw it",
                dir.join(name.as_ref()).display()
            ))
        })
        .collect()
}
