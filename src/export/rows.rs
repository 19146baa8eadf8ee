//! The rows of the patient-level CSV, written as the engine reports each life.
//!
//! Columns: `patient,strategy,from,to,start,time,event,<attributes>` (the README's
//! "Patient-level export" documents each). Every name in the file is an identifier checked by
//! the loader (no commas, quotes or line breaks), so rows are written as plain bytes without
//! CSV quoting; numbers use Rust's shortest text that reads back to the same `f64`, so an
//! estimator reading the file sees exactly the times the engine simulated.

use std::io::Write;

use super::Censoring;
use crate::engine::LifeFollower;
use crate::life::Observer;
use crate::model::variable::VarKind;
use crate::model::{Model, StateId};
use crate::rng::{Purpose, Stream};

/// The fixed columns, before the attributes. Other tools read these names: keep them.
pub const FIXED_COLUMNS: [&str; 7] = [
    "patient", "strategy", "from", "to", "start", "time", "event",
];

/// What the `event` column says.
pub mod event {
    /// The patient's first state, at time 0 (`from` is empty).
    pub const ENTRY: &str = "entry";
    /// A move from `from` to `to` at `time`.
    pub const TRANSITION: &str = "transition";
    /// Administrative censoring: the study stopped following the patient, alive in `from`.
    pub const CENSORED: &str = "censored";
    /// The simulation's follow-up ended (the horizon, or HSCT2 + horizon), alive in `from`.
    pub const END: &str = "end";
}

/// What every chunk's rows share: names as bytes, attribute kinds, censoring.
#[derive(Debug, Clone)]
pub struct Columns {
    states: Vec<Vec<u8>>,
    strategies: Vec<Vec<u8>>,
    /// Per attribute, in variable order: its kind.
    attributes: Vec<VarKind>,
    header: Vec<u8>,
    censoring: Option<Censoring>,
    seed: u64,
    draw: u64,
}

impl Columns {
    /// The columns for a model's export; `draw` is the PSA draw being run.
    pub fn new(model: &Model, censoring: Option<Censoring>, draw: u64) -> Columns {
        let attribute_count = model.cohort.attributes.len();
        let attributes: Vec<VarKind> = model.variables[..attribute_count]
            .iter()
            .map(|v| v.kind.clone())
            .collect();
        let names: Vec<String> = model.variables[..attribute_count]
            .iter()
            .map(|v| v.name.clone())
            .collect();
        let mut header = FIXED_COLUMNS.join(",");
        for name in attribute_columns(&names) {
            header.push(',');
            header.push_str(&name);
        }
        header.push('\n');
        Columns {
            states: model
                .states
                .iter()
                .map(|s| s.name.as_bytes().to_vec())
                .collect(),
            strategies: model
                .strategies
                .iter()
                .map(|s| s.name.as_bytes().to_vec())
                .collect(),
            attributes,
            header: header.into_bytes(),
            censoring,
            seed: model.settings.seed,
            draw,
        }
    }

    /// The header line, newline included.
    pub fn header(&self) -> &[u8] {
        &self.header
    }
}

/// Column names for attributes: the attribute's name, unless it is one of the fixed
/// columns, then prefixed with `attribute_` (again, until unique) so no two columns share a
/// name.
pub fn attribute_columns(names: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = FIXED_COLUMNS.iter().map(|s| s.to_string()).collect();
    taken.extend(names.iter().cloned());
    names
        .iter()
        .map(|name| {
            if !FIXED_COLUMNS.contains(&name.as_str()) {
                return name.clone();
            }
            let mut column = format!("attribute_{name}");
            while taken.contains(&column) {
                column = format!("attribute_{column}");
            }
            taken.push(column.clone());
            column
        })
        .collect()
}

/// A chunk's rows, built as its lives unfold; a [`LifeFollower`] for the engine.
#[derive(Debug)]
pub struct PatientRows<'a> {
    columns: &'a Columns,
    /// The rows so far.
    bytes: Vec<u8>,
    rows: u64,
    /// The patient being followed and their text fields.
    patient: Option<u64>,
    patient_text: Vec<u8>,
    attributes_text: Vec<u8>,
    censor_at: f64,
    /// The life being followed.
    strategy: usize,
    state: Option<StateId>,
    /// When the current state was entered, as written in the file.
    start_text: Vec<u8>,
    censored: bool,
}

impl<'a> PatientRows<'a> {
    /// An empty chunk.
    pub fn new(columns: &'a Columns) -> PatientRows<'a> {
        PatientRows {
            columns,
            bytes: Vec::new(),
            rows: 0,
            patient: None,
            patient_text: Vec::new(),
            attributes_text: Vec::new(),
            censor_at: f64::INFINITY,
            strategy: 0,
            state: None,
            start_text: Vec::new(),
            censored: false,
        }
    }

    /// The rows' bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of rows.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// One row; `to` is `None` for the censoring rows, `from` `None` for the entry row.
    fn row(&mut self, from: Option<StateId>, to: Option<StateId>, time: f64, event: &str) {
        let columns = self.columns;
        let out = &mut self.bytes;
        out.extend_from_slice(&self.patient_text);
        out.push(b',');
        out.extend_from_slice(&columns.strategies[self.strategy]);
        out.push(b',');
        if let Some(from) = from {
            out.extend_from_slice(&columns.states[from]);
        }
        out.push(b',');
        if let Some(to) = to {
            out.extend_from_slice(&columns.states[to]);
        }
        out.push(b',');
        out.extend_from_slice(&self.start_text);
        out.push(b',');
        let time_start = out.len();
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{time}");
        let time_end = out.len();
        out.push(b',');
        out.extend_from_slice(event.as_bytes());
        out.extend_from_slice(&self.attributes_text);
        out.push(b'\n');
        self.rows += 1;
        // The next row's `start` is this row's `time` (the state entered now).
        self.start_text.clear();
        self.start_text
            .extend_from_slice(&self.bytes[time_start..time_end]);
    }
}

impl Observer for PatientRows<'_> {
    #[inline]
    fn enter(&mut self, state: StateId, time: f64, _values: &[f64]) {
        if self.censored {
            return;
        }
        match self.state {
            None => {
                self.start_text.clear();
                self.start_text.push(b'0');
                self.row(None, Some(state), time, event::ENTRY);
            }
            Some(from) => {
                if time > self.censor_at {
                    // The study stopped watching before this move: the patient is last
                    // seen alive in `from`, and nothing after is written.
                    self.row(Some(from), None, self.censor_at, event::CENSORED);
                    self.censored = true;
                    return;
                }
                self.row(Some(from), Some(state), time, event::TRANSITION);
            }
        }
        self.state = Some(state);
    }

    fn follow_up_ends(&mut self, time: f64) {
        if self.censored {
            return;
        }
        let Some(state) = self.state else { return };
        if self.censor_at < time {
            self.row(Some(state), None, self.censor_at, event::CENSORED);
        } else {
            self.row(Some(state), None, time, event::END);
        }
        self.censored = true;
    }
}

impl LifeFollower for PatientRows<'_> {
    fn begin(&mut self, patient: u64, strategy: usize, attributes: &[f64]) {
        if self.patient != Some(patient) {
            self.patient = Some(patient);
            self.patient_text.clear();
            let _ = write!(self.patient_text, "{patient}");
            self.attributes_text.clear();
            for (kind, &value) in self.columns.attributes.iter().zip(attributes) {
                self.attributes_text.push(b',');
                match kind {
                    VarKind::Number => {
                        let _ = write!(self.attributes_text, "{value}");
                    }
                    VarKind::Bool => self.attributes_text.extend_from_slice(if value != 0.0 {
                        b"true"
                    } else {
                        b"false"
                    }),
                    VarKind::Category(levels) => {
                        if let Some(level) = levels.get(value as usize) {
                            self.attributes_text.extend_from_slice(level.as_bytes());
                        }
                    }
                }
            }
            // The study's follow-up is the patient's, not the strategy's: one censoring
            // time per patient, from the patient's own stream.
            self.censor_at = match &self.columns.censoring {
                Some(c) => {
                    let mut stream = Stream::new(
                        self.columns.seed,
                        self.columns.draw,
                        patient,
                        Purpose::Censoring,
                    );
                    c.time(stream.uniform())
                }
                None => f64::INFINITY,
            };
        }
        self.strategy = strategy;
        self.state = None;
        self.censored = false;
    }
}
