//! What figures are drawn from: a run folder's `manifest.json`, `curves.csv` and
//! `summary.csv` (and `check.csv` when present), or the same data in memory at the end of
//! a run.
//!
//! Reading is strict, because a figure drawn from a half-understood file would mislead a
//! reader: a missing column, an unknown strategy or origin, a number that is not finite, or
//! a time listed twice is an error naming the file and line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::aggregate::results::{Origin, Results};
use crate::output::Manifest;

use super::PlotError;
use super::calibration::CheckRow;
use super::theme::StateRole;
use crate::model::figures::FigureOverrides;

/// One curve on the run's time grid: estimate and 95 % limits at each time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    /// Months since the origin, increasing.
    pub time: Vec<f64>,
    /// Point estimates (proportions).
    pub estimate: Vec<f64>,
    /// Lower 95 % limits.
    pub lower: Vec<f64>,
    /// Upper 95 % limits.
    pub upper: Vec<f64>,
}

impl Curve {
    /// The value of the step function at `t`: the estimate at the last grid time ≤ `t`
    /// (curves are proportions at grid times, held until the next one).
    pub fn at(&self, t: f64) -> Option<f64> {
        self.index_at(t).map(|i| self.estimate[i])
    }

    /// Index of the last grid time ≤ `t` (with a tolerance for rounding in the CSV).
    pub fn index_at(&self, t: f64) -> Option<usize> {
        let tolerance = 1e-9 * t.abs().max(1.0);
        let n = self.time.partition_point(|&x| x <= t + tolerance);
        n.checked_sub(1)
    }

    fn push(&mut self, time: f64, estimate: f64, lower: f64, upper: f64) {
        self.time.push(time);
        self.estimate.push(estimate);
        self.lower.push(lower);
        self.upper.push(upper);
    }
}

/// A strategy as figures show it.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyInfo {
    /// Short name (CSV).
    pub name: String,
    /// Label in figures (the scenario's label, or the `[figures]` override).
    pub label: String,
    /// Position in the run, which fixes its colour and dash in every figure.
    pub index: usize,
}

/// A state as occupancy figures show it.
#[derive(Debug, Clone, PartialEq)]
pub struct StateInfo {
    /// Short name (CSV).
    pub name: String,
    /// Label in figures.
    pub label: String,
    /// Living state or which death.
    pub role: StateRole,
    /// Number of living states before it in clinical order (fixes its colour).
    pub alive_rank: usize,
}

/// Everything figures are drawn from.
#[derive(Debug, Clone)]
pub struct RunData {
    /// Scenario name (for titles of files and messages).
    pub scenario: String,
    /// Strategies in run order.
    pub strategies: Vec<StrategyInfo>,
    /// States in clinical order.
    pub states: Vec<StateInfo>,
    /// Follow-up horizon in months.
    pub horizon: f64,
    /// Figure text from the scenario's `[figures]` table.
    pub overrides: FigureOverrides,
    curves: HashMap<(String, Origin, String), Curve>,
    patients: HashMap<(String, Origin), f64>,
    /// Published vs simulated targets (`check.csv`), when the run has them.
    pub checks: Option<Vec<CheckRow>>,
}

/// Name of an origin in files.
pub fn parse_origin(text: &str) -> Option<Origin> {
    match text {
        "entry" => Some(Origin::Entry),
        "hsct2" => Some(Origin::Hsct2),
        _ => None,
    }
}

impl RunData {
    /// Data of a finished run, before it is written.
    pub fn from_results(results: &Results, manifest: &Manifest) -> RunData {
        let mut data = RunData::from_manifest(manifest);
        for row in &results.curves {
            data.curves
                .entry((row.strategy.clone(), row.origin, row.measure.clone()))
                .or_default()
                .push(row.time, row.estimate, row.lower, row.upper);
        }
        for row in &results.summary {
            if row.statistic == "patients" {
                data.patients
                    .insert((row.strategy.clone(), row.origin), row.estimate);
            }
        }
        data
    }

    /// Reads a run folder written by `hsctsim run`: `manifest.json`, `curves.csv`,
    /// `summary.csv`, and `check.csv` if present.
    pub fn from_dir(dir: &Path) -> Result<RunData, PlotError> {
        if !dir.is_dir() {
            return Err(PlotError::Input {
                path: dir.to_path_buf(),
                line: None,
                message: "is not a folder".into(),
                help: Some(
                    "give the output folder of `hsctsim run` (e.g. output/<scenario>)".into(),
                ),
            });
        }
        let manifest_path = dir.join("manifest.json");
        let bytes = read(&manifest_path)?;
        let manifest = Manifest::from_json(&bytes).map_err(|e| PlotError::Input {
            path: manifest_path.clone(),
            line: Some(e.line() as u64),
            message: format!("not a manifest written by hsctsim: {e}"),
            help: None,
        })?;
        let mut data = RunData::from_manifest(&manifest);
        data.read_curves(&dir.join("curves.csv"))?;
        data.read_patients(&dir.join("summary.csv"))?;
        let check = dir.join("check.csv");
        if check.exists() {
            data.checks = Some(super::calibration::read_check_csv(&check)?);
        }
        Ok(data)
    }

    fn from_manifest(manifest: &Manifest) -> RunData {
        let overrides = manifest.figures.clone();
        let strategies = manifest
            .strategies
            .iter()
            .enumerate()
            .map(|(index, s)| StrategyInfo {
                name: s.name.clone(),
                label: overrides
                    .strategies
                    .get(&s.name)
                    .cloned()
                    .unwrap_or_else(|| s.label.clone()),
                index,
            })
            .collect();
        let mut alive = 0;
        let states = manifest
            .states
            .iter()
            .map(|s| {
                let role = match s.death.as_deref() {
                    Some("relapse") => StateRole::DeathRelapse,
                    Some(_) => StateRole::DeathNrm,
                    None => StateRole::Alive,
                };
                let alive_rank = alive;
                if role == StateRole::Alive {
                    alive += 1;
                }
                StateInfo {
                    name: s.name.clone(),
                    label: overrides
                        .states
                        .get(&s.name)
                        .cloned()
                        .unwrap_or_else(|| s.label.clone()),
                    role,
                    alive_rank,
                }
            })
            .collect();
        RunData {
            scenario: manifest.scenario_name.clone(),
            strategies,
            states,
            horizon: manifest.horizon_months,
            overrides,
            curves: HashMap::new(),
            patients: HashMap::new(),
            checks: None,
        }
    }

    /// A curve, if the run has it.
    pub fn curve(&self, strategy: &str, origin: Origin, measure: &str) -> Option<&Curve> {
        self.curves
            .get(&(strategy.to_string(), origin, measure.to_string()))
    }

    /// Patients a strategy's curves from `origin` are proportions of (0 if none).
    pub fn patients(&self, strategy: &str, origin: Origin) -> f64 {
        self.patients
            .get(&(strategy.to_string(), origin))
            .copied()
            .unwrap_or(0.0)
    }

    /// True if some strategy has curves from `origin`.
    pub fn has_origin(&self, origin: Origin) -> bool {
        self.strategies
            .iter()
            .any(|s| self.curve(&s.name, origin, "os").is_some())
    }

    fn strategy_known(&self, name: &str) -> bool {
        self.strategies.iter().any(|s| s.name == name)
    }

    fn read_curves(&mut self, path: &Path) -> Result<(), PlotError> {
        let bytes = read(path)?;
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        // The columns as `output::curves` writes them (one owner of the schema).
        let columns = Columns::new(path, &mut reader, &crate::output::curves::HEADER)?;
        let states: Vec<String> = self
            .states
            .iter()
            .map(|s| format!("state:{}", s.name))
            .collect();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let strategy = columns.text(&record, 0);
            if !self.strategy_known(strategy) {
                return Err(input(
                    path,
                    line,
                    format!("strategy `{strategy}` is not in manifest.json"),
                ));
            }
            let origin_text = columns.text(&record, 1);
            let origin = parse_origin(origin_text).ok_or_else(|| {
                input(
                    path,
                    line,
                    format!("origin `{origin_text}` is neither `entry` nor `hsct2`"),
                )
            })?;
            let measure = columns.text(&record, 2);
            if !matches!(measure, "os" | "lfs" | "cir" | "nrm")
                && !states.iter().any(|s| s == measure)
            {
                return Err(input(
                    path,
                    line,
                    format!(
                        "unknown measure `{measure}` (expected os, lfs, cir, nrm or state:<a state in manifest.json>)"
                    ),
                ));
            }
            let time = columns.number(path, &record, 3, line)?;
            let estimate = columns.proportion(path, &record, 4, line)?;
            let lower = columns.proportion(path, &record, 5, line)?;
            let upper = columns.proportion(path, &record, 6, line)?;
            let curve = self
                .curves
                .entry((strategy.to_string(), origin, measure.to_string()))
                .or_default();
            if let Some(&last) = curve.time.last()
                && time <= last
            {
                return Err(input(
                    path,
                    line,
                    format!(
                        "time {time} of {strategy}/{origin_text}/{measure} does not follow {last}: rows of a curve must have increasing times"
                    ),
                ));
            }
            curve.push(time, estimate, lower, upper);
        }
        if self.curves.is_empty() {
            return Err(input(path, 1, "has no curves".to_string()));
        }
        self.check_grids(path)
    }

    /// Every curve starts at time 0, and all curves of a strategy and origin share one
    /// time grid (stacked occupancy and the number at risk read them side by side).
    fn check_grids(&self, path: &Path) -> Result<(), PlotError> {
        let mut grids: HashMap<(&str, Origin), (&str, &[f64])> = HashMap::new();
        let mut keys: Vec<_> = self.curves.keys().collect();
        keys.sort_by(|a, b| (&a.0, a.1.as_str(), &a.2).cmp(&(&b.0, b.1.as_str(), &b.2)));
        for key in keys {
            let (strategy, origin, measure) = key;
            let time = &self.curves[key].time;
            if time.first() != Some(&0.0) {
                return Err(PlotError::Input {
                    path: path.to_path_buf(),
                    line: None,
                    message: format!(
                        "the curve {strategy}/{}/{measure} does not start at time 0",
                        origin.as_str()
                    ),
                    help: None,
                });
            }
            let (first_measure, grid) = *grids
                .entry((strategy.as_str(), *origin))
                .or_insert((measure.as_str(), time.as_slice()));
            if grid != time.as_slice() {
                return Err(PlotError::Input {
                    path: path.to_path_buf(),
                    line: None,
                    message: format!(
                        "the curves {strategy}/{origin}/{first_measure} and {strategy}/{origin}/{measure} have different time grids",
                        origin = origin.as_str()
                    ),
                    help: Some(
                        "all measures of a strategy and origin must have one row per grid time"
                            .into(),
                    ),
                });
            }
        }
        Ok(())
    }

    fn read_patients(&mut self, path: &Path) -> Result<(), PlotError> {
        let bytes = read(path)?;
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        // strategy, origin, statistic and estimate, as `output::summary` writes them.
        let header = crate::output::summary::HEADER;
        let columns = Columns::new(
            path,
            &mut reader,
            &[header[0], header[1], header[2], header[4]],
        )?;
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, e))?;
            if columns.text(&record, 2) != "patients" {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line());
            let strategy = columns.text(&record, 0);
            let origin_text = columns.text(&record, 1);
            let origin = parse_origin(origin_text).ok_or_else(|| {
                input(
                    path,
                    line,
                    format!("origin `{origin_text}` is neither `entry` nor `hsct2`"),
                )
            })?;
            let n = columns.number(path, &record, 3, line)?;
            if n < 0.0 {
                return Err(input(
                    path,
                    line,
                    format!("negative number of patients {n}"),
                ));
            }
            self.patients.insert((strategy.to_string(), origin), n);
        }
        for ((strategy, origin, _), _) in self.curves.iter() {
            if !self.patients.contains_key(&(strategy.clone(), *origin)) {
                return Err(input(
                    path,
                    1,
                    format!(
                        "has no `patients` row for strategy `{strategy}`, origin `{}` (needed for the number at risk)",
                        origin.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Reads a file with errors naming it.
///
/// Only regular files are read, and none larger than [`MAX_RUN_FILE_BYTES`] (see
/// [`crate::input`]): a folder given to `plot` is an input like any other.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, PlotError> {
    crate::input::read_bounded(path, MAX_RUN_FILE_BYTES).map_err(|e| {
        let help = matches!(e, crate::input::InputError::NotFound { .. }).then(|| {
            "is this the output folder of `hsctsim run`? It holds manifest.json, curves.csv and summary.csv".to_string()
        });
        PlotError::Input {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot read: {e}"),
            help,
        }
    })
}

/// Largest file of a run folder that figures are drawn from: `curves.csv` of the largest
/// run a scenario may describe ([`crate::model::limits::MAX_CURVE_VALUES`] values at about
/// 130 bytes each) is under it.
pub const MAX_RUN_FILE_BYTES: u64 = 1 << 30;

pub(crate) fn input(path: &Path, line: u64, message: String) -> PlotError {
    PlotError::Input {
        path: path.to_path_buf(),
        line: Some(line),
        message,
        help: None,
    }
}

pub(crate) fn csv_error(path: &Path, e: csv::Error) -> PlotError {
    let line = e.position().map(|p| p.line());
    PlotError::Input {
        path: path.to_path_buf(),
        line,
        message: format!("malformed CSV: {e}"),
        help: None,
    }
}

/// Positions of the named columns of a CSV file (any order; extra columns are ignored so
/// files can grow).
pub(crate) struct Columns {
    index: Vec<usize>,
    names: Vec<String>,
}

impl Columns {
    pub(crate) fn new(
        path: &Path,
        reader: &mut csv::Reader<&[u8]>,
        names: &[&str],
    ) -> Result<Columns, PlotError> {
        let header = reader.headers().map_err(|e| csv_error(path, e))?.clone();
        let mut index = Vec::with_capacity(names.len());
        for name in names {
            match header.iter().position(|h| h.trim() == *name) {
                Some(i) => index.push(i),
                None => {
                    return Err(PlotError::Input {
                        path: path.to_path_buf(),
                        line: Some(1),
                        message: format!("has no column `{name}`"),
                        help: Some(format!(
                            "the header must name the columns {}",
                            names.join(",")
                        )),
                    });
                }
            }
        }
        Ok(Columns {
            index,
            names: names.iter().map(|n| n.to_string()).collect(),
        })
    }

    pub(crate) fn text<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        record.get(self.index[column]).unwrap_or("").trim()
    }

    pub(crate) fn optional_number(
        &self,
        path: &Path,
        record: &csv::StringRecord,
        column: usize,
        line: u64,
    ) -> Result<Option<f64>, PlotError> {
        let text = self.text(record, column);
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(input(
                path,
                line,
                format!("`{}` is `{text}`, not a finite number", self.names[column]),
            )),
        }
    }

    pub(crate) fn number(
        &self,
        path: &Path,
        record: &csv::StringRecord,
        column: usize,
        line: u64,
    ) -> Result<f64, PlotError> {
        self.optional_number(path, record, column, line)?
            .ok_or_else(|| {
                input(
                    path,
                    line,
                    format!("`{}` is empty; a number is needed", self.names[column]),
                )
            })
    }

    fn proportion(
        &self,
        path: &Path,
        record: &csv::StringRecord,
        column: usize,
        line: u64,
    ) -> Result<f64, PlotError> {
        let x = self.number(path, record, column, line)?;
        if !(-1e-12..=1.0 + 1e-12).contains(&x) {
            return Err(input(
                path,
                line,
                format!(
                    "`{}` is {x}, not a proportion in [0, 1]",
                    self.names[column]
                ),
            ));
        }
        Ok(x.clamp(0.0, 1.0))
    }
}

/// Path of a run's figures folder.
pub fn figures_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("figures")
}
