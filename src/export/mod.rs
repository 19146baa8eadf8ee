//! Patient-level export: one CSV row per transition, for checking the curves with standard
//! survival software (R's `survival` and `mstate`, Python's `lifelines`).
//!
//! Why it exists: `curves.csv` comes from the engine's own integer accumulators. An export
//! of every simulated life lets anyone recompute the curves with a Kaplan–Meier or
//! Aalen–Johansen estimator they trust, and the test suite does exactly that
//! (`tests/cli/patient_export.rs`).
//!
//! How it stays cheap: the rows are built by a [`rows::PatientRows`] follower next to the
//! aggregator while each life unfolds (no second pass), chunk by chunk, and the chunks are
//! written in patient order by [`crate::engine::ordered`] (bounded memory, the same bytes
//! for any number of threads). Runs without an export never touch this module.
//!
//! Administrative censoring ([`Censoring`]) mimics a study that recruits uniformly over
//! `accrual` months and closes `min_follow_up` months after the last patient: patient `i`
//! is followed for `min_follow_up + U_i · accrual` months, with `U_i` from the patient's own
//! random stream, so the export is reproducible and the simulation itself (and hence
//! `curves.csv`) is unchanged.
//!
//! ```no_run
//! use hsctsim::engine::Control;
//! use hsctsim::export::{Censoring, PatientExport};
//!
//! let model = hsctsim::scenario::load("scenarios/reference_markov.toml")?;
//! let censoring = Censoring::new(36.0, 12.0)?;
//! let mut export = PatientExport::create("patients.csv".as_ref(), &model, Some(censoring), false)?;
//! let tally = export.simulate(&model, &Control::default())?;
//! println!("{} rows for {} patients", export.rows(), tally.patients);
//! export.finish()?;
//! hsctsim::atomic::commit(&mut [export.stage()], None)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod rows;

use crate::aggregate::Tally;
use crate::atomic::{Signature, Stage, StagedFile, WriteError};
use crate::engine::Control;
use crate::engine::ordered::{InOrderError, simulate_in_order};
use crate::model::Model;
use rows::{Columns, PatientRows};

/// How a previous export of ours is recognised (and so may be replaced when asked): its
/// header starts with the fixed columns.
pub const SIGNATURE: Signature =
    Signature::FileStartingWith("patient,strategy,from,to,start,time,event");

/// Administrative censoring of the export: uniform accrual plus a minimum follow-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Censoring {
    accrual: f64,
    min_follow_up: f64,
}

/// Censoring settings that make no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CensoringError(String);

impl Censoring {
    /// Accrual over `accrual` months, analysis `min_follow_up` months after the last
    /// patient entered; both finite and ≥ 0, not both 0 (which would censor everybody at
    /// entry).
    pub fn new(accrual: f64, min_follow_up: f64) -> Result<Censoring, CensoringError> {
        for (name, value) in [("accrual", accrual), ("minimum follow-up", min_follow_up)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(CensoringError(format!(
                    "the {name} must be a finite duration ≥ 0, got {value}"
                )));
            }
        }
        if accrual + min_follow_up <= 0.0 {
            return Err(CensoringError(
                "accrual and minimum follow-up are both 0, so every patient would be censored at entry; give at least one of them".into(),
            ));
        }
        Ok(Censoring {
            accrual,
            min_follow_up,
        })
    }

    /// Months of accrual.
    pub fn accrual(&self) -> f64 {
        self.accrual
    }

    /// Months of follow-up after the last patient entered.
    pub fn min_follow_up(&self) -> f64 {
        self.min_follow_up
    }

    /// The follow-up of a patient whose uniform variate is `u` (entered at `(1 − u)·accrual`).
    pub fn time(&self, u: f64) -> f64 {
        self.min_follow_up + u * self.accrual
    }
}

/// A patient-level export being written: the header on creation, then the rows of each
/// simulated block of patients, in patient order.
#[derive(Debug)]
pub struct PatientExport {
    file: StagedFile,
    censoring: Option<Censoring>,
    rows: u64,
}

impl PatientExport {
    /// Starts the file at `path` (under a staging name) with the model's header; `replace`
    /// lets the commit replace a previous export (checked by the caller's
    /// [`crate::atomic::Plan`] before, and again when it goes into place).
    pub fn create(
        path: &std::path::Path,
        model: &Model,
        censoring: Option<Censoring>,
        replace: bool,
    ) -> Result<PatientExport, WriteError> {
        let mut file = StagedFile::create(path, Some(SIGNATURE), replace)?;
        file.write(Columns::new(model, censoring, 0).header())?;
        Ok(PatientExport {
            file,
            censoring,
            rows: 0,
        })
    }

    /// Simulates like [`crate::engine::simulate`] (same accumulators, hence the same curves)
    /// and appends a row for every transition of every life, in patient order.
    pub fn simulate(
        &mut self,
        model: &Model,
        control: &Control,
    ) -> Result<Tally, InOrderError<WriteError>> {
        let columns = Columns::new(model, self.censoring, control.draw);
        let file = &mut self.file;
        let rows = &mut self.rows;
        simulate_in_order(
            model,
            control,
            || PatientRows::new(&columns),
            |chunk: PatientRows| {
                *rows += chunk.rows();
                file.write(chunk.bytes())
            },
        )
    }

    /// Rows written so far (header excluded).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The censoring applied.
    pub fn censoring(&self) -> Option<Censoring> {
        self.censoring
    }

    /// The final path.
    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// Flushes everything to disk under the staging name (see [`StagedFile::finish`]).
    pub fn finish(&mut self) -> Result<(), WriteError> {
        self.file.finish()
    }

    /// The staged file, for [`crate::atomic::commit`] (after [`PatientExport::finish`]).
    pub fn stage(&mut self) -> &mut Stage {
        self.file.stage()
    }
}
