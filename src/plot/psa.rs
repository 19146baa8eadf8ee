//! Figures of a probabilistic sensitivity analysis (PSA) and of a one-way sensitivity
//! analysis (OWSA), drawn from the files the analysis writes into its folder, so they can
//! be restyled without simulating again:
//!
//! | file | figure |
//! |---|---|
//! | `manifest.json` (`"kind": "psa"` or `"owsa"`) | strategies and labels, reference, currency, thresholds |
//! | `psa_draws.csv` | [cost-effectiveness plane](ce_plane): incremental cost vs incremental QALYs of each draw |
//! | `ceac.csv` | [acceptability curves](wtp) with the frontier, over willingness to pay |
//! | `evpi.csv` | [expected value of perfect information](wtp) over willingness to pay |
//! | `tornado.csv` | [tornado diagram](tornado) of the one-way analysis |
//!
//! Columns (by name, any order; other columns are ignored so the files can grow):
//! - `psa_draws.csv`: `draw,strategy,cost,qalys,…` — one row per draw and strategy;
//!   discounted per-patient means within the draw.
//! - `ceac.csv`: `wtp,strategy,probability,expected_nmb,optimal` — the share of draws in
//!   which each strategy has the highest net monetary benefit; `optimal` is 1 for the
//!   strategy with the highest expected net benefit (the frontier).
//! - `evpi.csv`: `wtp,evpi` — per patient, in the currency.
//! - `tornado.csv`: `parameter,label,strategy,comparator,wtp,low,high,inmb_low,inmb_high,inmb_base`
//!   — one comparison (strategy vs comparator at one threshold), a row per parameter.
//!
//! Reading is as strict as for runs: a figure from a half-understood file would mislead,
//! so a missing column, an unknown strategy, a number that is not finite or a duplicate
//! row is an error naming the file, the line and what to do.

pub mod ce_plane;
pub mod frame;
pub mod tornado;
pub mod wtp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::PlotError;
use super::data::{Columns, StrategyInfo, csv_error, input, read};
use super::theme::{INK, strategy_colour, strategy_dash};

use ce_plane::{CePlanePlot, Cloud};
use tornado::{TornadoBar, TornadoPlot};
use wtp::{WtpPlot, WtpSeries};

/// What kind of analysis wrote a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisKind {
    /// Probabilistic sensitivity analysis.
    Psa,
    /// One-way sensitivity analysis.
    Owsa,
}

/// What the figures need from a PSA or OWSA `manifest.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct PsaManifest {
    /// Which analysis.
    pub kind: AnalysisKind,
    /// Strategies in scenario order (which fixes their colours, as in run figures).
    pub strategies: Vec<StrategyInfo>,
    /// Name of the strategy the others are compared with (required for a PSA).
    pub reference: Option<String>,
    /// Currency of costs (may be empty).
    pub currency: String,
    /// Costs and utilities are illustrative, not for decisions.
    pub illustrative: bool,
    /// Thresholds per QALY; the first is the main one.
    pub wtp: Vec<f64>,
}

/// The `kind` of a folder's `manifest.json`, if it is a PSA or OWSA folder (anything else,
/// including an unreadable manifest, is `None`: it is then read as a run folder).
pub fn analysis_kind(dir: &Path) -> Option<AnalysisKind> {
    let bytes = crate::input::read_bounded(&dir.join("manifest.json"), 16 << 20).ok()?;
    let json: Value = serde_json::from_slice(&bytes).ok()?;
    match json.get("kind")?.as_str()? {
        "psa" => Some(AnalysisKind::Psa),
        "owsa" => Some(AnalysisKind::Owsa),
        _ => None,
    }
}

fn manifest_error(path: &Path, message: String, help: &str) -> PlotError {
    PlotError::Input {
        path: path.to_path_buf(),
        line: None,
        message,
        help: Some(help.to_string()),
    }
}

impl PsaManifest {
    /// Reads a PSA or OWSA `manifest.json`.
    pub fn read(path: &Path) -> Result<PsaManifest, PlotError> {
        let bytes = read(path)?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| PlotError::Input {
            path: path.to_path_buf(),
            line: Some(e.line() as u64),
            message: format!("not valid JSON: {e}"),
            help: None,
        })?;
        let rewrite =
            "manifest.json is written by the analysis: run it again to rewrite the folder";
        let kind = match json.get("kind").and_then(Value::as_str) {
            Some("psa") => AnalysisKind::Psa,
            Some("owsa") => AnalysisKind::Owsa,
            other => {
                return Err(manifest_error(
                    path,
                    format!(
                        "`kind` is {}, not \"psa\" or \"owsa\"",
                        other.map_or("missing".to_string(), |k| format!("\"{k}\""))
                    ),
                    "PSA figures are drawn from the folder of a probabilistic or one-way sensitivity analysis",
                ));
            }
        };
        let mut strategies = Vec::new();
        if let Some(list) = json.get("strategies") {
            let list = list.as_array().ok_or_else(|| {
                manifest_error(path, "`strategies` is not a list".into(), rewrite)
            })?;
            for (index, s) in list.iter().enumerate() {
                let name = s.get("name").and_then(Value::as_str).ok_or_else(|| {
                    manifest_error(
                        path,
                        format!("strategy {} has no `name`", index + 1),
                        rewrite,
                    )
                })?;
                let label = s.get("label").and_then(Value::as_str).unwrap_or(name);
                strategies.push(StrategyInfo {
                    name: name.to_string(),
                    label: label.to_string(),
                    index,
                });
            }
        }
        let reference = json
            .get("reference")
            .and_then(Value::as_str)
            .map(str::to_string);
        if kind == AnalysisKind::Psa {
            if strategies.is_empty() {
                return Err(manifest_error(path, "has no `strategies`".into(), rewrite));
            }
            match &reference {
                Some(r) if strategies.iter().any(|s| &s.name == r) => {}
                Some(r) => {
                    return Err(manifest_error(
                        path,
                        format!("the reference `{r}` is not one of its `strategies`"),
                        rewrite,
                    ));
                }
                None => {
                    return Err(manifest_error(
                        path,
                        "has no `reference` strategy".into(),
                        rewrite,
                    ));
                }
            }
        }
        let wtp = match json.get("wtp") {
            None => Vec::new(),
            Some(Value::Number(n)) => n.as_f64().into_iter().collect(),
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| {
                    manifest_error(
                        path,
                        "`wtp` holds something other than non-negative numbers".into(),
                        rewrite,
                    )
                })?,
            Some(_) => {
                return Err(manifest_error(
                    path,
                    "`wtp` is not a list of numbers".into(),
                    rewrite,
                ));
            }
        };
        Ok(PsaManifest {
            kind,
            strategies,
            reference,
            currency: json
                .get("currency")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            illustrative: json
                .get("illustrative")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            wtp,
        })
    }

    /// The strategy called `name`, or an error at `line` of `path`.
    fn strategy(&self, path: &Path, line: u64, name: &str) -> Result<&StrategyInfo, PlotError> {
        self.strategies
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| PlotError::Input {
                path: path.to_path_buf(),
                line: Some(line),
                message: format!("strategy `{name}` is not in manifest.json"),
                help: Some(format!(
                    "the strategies of this analysis are {}; were files of two analyses mixed in one folder?",
                    self.strategy_names()
                )),
            })
    }

    /// Label of a strategy by name (the name itself if the manifest does not list it, as
    /// an OWSA manifest may not).
    pub fn label<'a>(&'a self, name: &'a str) -> &'a str {
        self.strategies
            .iter()
            .find(|s| s.name == name)
            .map_or(name, |s| s.label.as_str())
    }

    fn strategy_names(&self) -> String {
        self.strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `EUR/QALY`, or `per QALY` without a currency.
    fn per_qaly(&self) -> String {
        if self.currency.is_empty() {
            "per QALY".into()
        } else {
            format!("{}/QALY", self.currency)
        }
    }

    /// ` (EUR)`, or nothing without a currency.
    fn in_currency(&self) -> String {
        if self.currency.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.currency)
        }
    }

    /// A figure over willingness to pay: acceptability (`percent`, with a frontier) or
    /// money.
    fn over_wtp(
        &self,
        title: &str,
        (y_label, percent): (String, bool),
        series: Vec<WtpSeries>,
        frontier: Vec<(f64, usize)>,
    ) -> WtpPlot {
        WtpPlot {
            title: title.to_string(),
            x_label: format!("Willingness to pay ({})", self.per_qaly()),
            y_label,
            percent,
            series,
            frontier,
            wtp: self.wtp.first().copied(),
            per_qaly: self.per_qaly(),
            notes: self.notes(),
        }
    }

    fn notes(&self) -> Vec<String> {
        if self.illustrative {
            vec!["Illustrative values".into()]
        } else {
            Vec::new()
        }
    }
}

/// A CSV file of an analysis, read row by row with its columns found by name.
fn read_rows(
    path: &Path,
    columns: &[&str],
    mut row: impl FnMut(&Columns, &csv::StringRecord, u64) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let bytes = read(path)?;
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let found = Columns::new(path, &mut reader, columns)?;
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        row(&found, &record, line)?;
        rows += 1;
    }
    if rows == 0 {
        return Err(PlotError::Input {
            path: path.to_path_buf(),
            line: Some(1),
            message: "has a header but no rows".into(),
            help: Some("the analysis was probably stopped while writing: run it again".into()),
        });
    }
    Ok(())
}

fn duplicate(path: &Path, line: u64, what: String) -> PlotError {
    PlotError::Input {
        path: path.to_path_buf(),
        line: Some(line),
        message: format!("{what} appears twice"),
        help: Some("each row must be unique; were two analyses written into one folder?".into()),
    }
}

/// One draw's `(cost, qalys)` by strategy, as far as read.
type DrawValues = Vec<Option<(f64, f64)>>;

/// Each draw's discounted cost and QALYs per strategy (`psa_draws.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct PsaDraws {
    /// Draw numbers, increasing.
    pub draws: Vec<u64>,
    /// `(cost, qalys)` by strategy (manifest order), then by draw (as in `draws`).
    pub values: Vec<Vec<(f64, f64)>>,
}

impl PsaDraws {
    /// Reads `psa_draws.csv`; every draw must have a row for every strategy.
    pub fn read(path: &Path, manifest: &PsaManifest) -> Result<PsaDraws, PlotError> {
        let n = manifest.strategies.len();
        // Per draw: the line of its first row, and `(cost, qalys)` by strategy as read.
        let mut by_draw: HashMap<u64, (u64, DrawValues)> = HashMap::new();
        read_rows(
            path,
            &["draw", "strategy", "cost", "qalys"],
            |c, record, line| {
                let draw_text = c.text(record, 0);
                let draw: u64 = draw_text.parse().map_err(|_| {
                    input(
                        path,
                        line,
                        format!("`draw` is `{draw_text}`, not a draw number (1, 2, …)"),
                    )
                })?;
                let strategy = manifest.strategy(path, line, c.text(record, 1))?;
                let cost = c.number(path, record, 2, line)?;
                let qalys = c.number(path, record, 3, line)?;
                let (_, row) = by_draw.entry(draw).or_insert_with(|| (line, vec![None; n]));
                if row[strategy.index].replace((cost, qalys)).is_some() {
                    return Err(duplicate(
                        path,
                        line,
                        format!("draw {draw} of strategy `{}`", strategy.name),
                    ));
                }
                Ok(())
            },
        )?;
        let mut draws: Vec<u64> = by_draw.keys().copied().collect();
        draws.sort_unstable();
        let mut values = vec![Vec::with_capacity(draws.len()); n];
        for d in &draws {
            let (line, row) = &by_draw[d];
            for (s, value) in row.iter().enumerate() {
                let value = value.ok_or_else(|| PlotError::Input {
                    path: path.to_path_buf(),
                    line: Some(*line),
                    message: format!(
                        "draw {d} has no row for strategy `{}`",
                        manifest.strategies[s].name
                    ),
                    help: Some(
                        "every draw needs a row for every strategy in manifest.json; the file may be cut short: run the analysis again".into(),
                    ),
                })?;
                values[s].push(value);
            }
        }
        Ok(PsaDraws { draws, values })
    }
}

/// One row of `ceac.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CeacRow {
    /// Threshold per QALY.
    pub wtp: f64,
    /// Strategy index in the manifest.
    pub strategy: usize,
    /// Share of draws in which the strategy has the highest net benefit.
    pub probability: f64,
    /// The strategy has the highest expected net benefit at this threshold.
    pub optimal: bool,
}

/// Reads `ceac.csv`.
pub fn read_ceac(path: &Path, manifest: &PsaManifest) -> Result<Vec<CeacRow>, PlotError> {
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    read_rows(path, &crate::psa::files::CEAC_HEADER, |c, record, line| {
        let wtp = c.number(path, record, 0, line)?;
        let strategy = manifest.strategy(path, line, c.text(record, 1))?;
        let probability = c.number(path, record, 2, line)?;
        if !(-1e-9..=1.0 + 1e-9).contains(&probability) {
            return Err(PlotError::Input {
                path: path.to_path_buf(),
                line: Some(line),
                message: format!("`probability` is {probability}, not a share in [0, 1]"),
                help: Some("probabilities are shares of draws (0.45, not 45)".into()),
            });
        }
        c.number(path, record, 3, line)?;
        let optimal = match c.text(record, 4) {
            "1" => true,
            "0" => false,
            other => {
                return Err(input(
                    path,
                    line,
                    format!("`optimal` is `{other}`; it must be 1 or 0"),
                ));
            }
        };
        if !seen.insert((wtp.to_bits(), strategy.index)) {
            return Err(duplicate(
                path,
                line,
                format!("threshold {wtp} of strategy `{}`", strategy.name),
            ));
        }
        rows.push(CeacRow {
            wtp,
            strategy: strategy.index,
            probability: probability.clamp(0.0, 1.0),
            optimal,
        });
        Ok(())
    })?;
    Ok(rows)
}

/// Reads `evpi.csv`: `(wtp, evpi)` pairs in increasing `wtp`.
pub fn read_evpi(path: &Path) -> Result<Vec<(f64, f64)>, PlotError> {
    let mut rows: Vec<(f64, f64)> = Vec::new();
    let mut lines = HashMap::new();
    read_rows(path, &["wtp", "evpi"], |c, record, line| {
        let wtp = c.number(path, record, 0, line)?;
        if lines.insert(wtp.to_bits(), line).is_some() {
            return Err(duplicate(path, line, format!("threshold {wtp}")));
        }
        rows.push((wtp, c.number(path, record, 1, line)?));
        Ok(())
    })?;
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(rows)
}

/// One row of `tornado.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoRow {
    /// Parameter name.
    pub parameter: String,
    /// Parameter label in figures.
    pub label: String,
    /// Strategy compared.
    pub strategy: String,
    /// Strategy it is compared with.
    pub comparator: String,
    /// Threshold per QALY.
    pub wtp: f64,
    /// Low value of the parameter.
    pub low: f64,
    /// High value of the parameter.
    pub high: f64,
    /// Incremental net monetary benefit at the low value.
    pub inmb_low: f64,
    /// Incremental net monetary benefit at the high value.
    pub inmb_high: f64,
    /// Incremental net monetary benefit of the base case.
    pub inmb_base: f64,
}

/// Reads `tornado.csv`, in file order. All rows must describe one comparison.
pub fn read_tornado(path: &Path) -> Result<Vec<TornadoRow>, PlotError> {
    let mut rows: Vec<TornadoRow> = Vec::new();
    read_rows(
        path,
        &crate::psa::files::TORNADO_HEADER,
        |c, record, line| {
            let number = |column| c.number(path, record, column, line);
            let row = TornadoRow {
                parameter: c.text(record, 0).to_string(),
                label: c.text(record, 1).to_string(),
                strategy: c.text(record, 2).to_string(),
                comparator: c.text(record, 3).to_string(),
                wtp: number(4)?,
                low: number(5)?,
                high: number(6)?,
                inmb_low: number(7)?,
                inmb_high: number(8)?,
                inmb_base: number(9)?,
            };
            if row.parameter.is_empty() {
                return Err(input(path, line, "`parameter` is empty".into()));
            }
            if rows.iter().any(|r| r.parameter == row.parameter) {
                return Err(duplicate(
                    path,
                    line,
                    format!("parameter `{}`", row.parameter),
                ));
            }
            if let Some(first) = rows.first() {
                let same = first.strategy == row.strategy
                    && first.comparator == row.comparator
                    && first.wtp == row.wtp
                    && (first.inmb_base - row.inmb_base).abs()
                        <= 1e-9 * first.inmb_base.abs().max(1.0);
                if !same {
                    return Err(PlotError::Input {
                        path: path.to_path_buf(),
                        line: Some(line),
                        message: format!(
                            "this row compares {} with {} at {} (base {}), line 2 compares {} with {} at {} (base {})",
                            row.strategy, row.comparator, row.wtp, row.inmb_base,
                            first.strategy, first.comparator, first.wtp, first.inmb_base
                        ),
                        help: Some("a tornado diagram shows one comparison: strategy, comparator, wtp and inmb_base must be the same in every row".into()),
                    });
                }
            }
            rows.push(row);
            Ok(())
        },
    )?;
    Ok(rows)
}

/// Everything found in an analysis folder.
#[derive(Debug, Clone)]
pub struct PsaFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: PsaManifest,
    /// `psa_draws.csv`, if present.
    pub draws: Option<PsaDraws>,
    /// `ceac.csv`, if present.
    pub ceac: Option<Vec<CeacRow>>,
    /// `evpi.csv`, if present.
    pub evpi: Option<Vec<(f64, f64)>>,
    /// `tornado.csv`, if present.
    pub tornado: Option<Vec<TornadoRow>>,
}

/// The files an analysis folder may hold figures' inputs in.
pub const INPUT_FILES: [&str; 4] = ["psa_draws.csv", "ceac.csv", "evpi.csv", "tornado.csv"];

impl PsaFolder {
    /// Reads `manifest.json` and whichever of [`INPUT_FILES`] the folder has.
    pub fn read(dir: &Path) -> Result<PsaFolder, PlotError> {
        if !dir.is_dir() {
            return Err(PlotError::Input {
                path: dir.to_path_buf(),
                line: None,
                message: "is not a folder".into(),
                help: Some("give the output folder of a PSA or one-way analysis".into()),
            });
        }
        let manifest = PsaManifest::read(&dir.join("manifest.json"))?;
        let present = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
        let draws = present("psa_draws.csv")
            .map(|p| PsaDraws::read(&p, &manifest))
            .transpose()?;
        let ceac = present("ceac.csv")
            .map(|p| read_ceac(&p, &manifest))
            .transpose()?;
        let evpi = present("evpi.csv").map(|p| read_evpi(&p)).transpose()?;
        let tornado = present("tornado.csv")
            .map(|p| read_tornado(&p))
            .transpose()?;
        if draws.is_none() && ceac.is_none() && evpi.is_none() && tornado.is_none() {
            return Err(PlotError::Selection {
                message: format!(
                    "{} has none of {}: there is nothing to draw",
                    dir.display(),
                    INPUT_FILES.join(", ")
                ),
                help: Some("give the folder the analysis wrote its results into".into()),
            });
        }
        Ok(PsaFolder {
            dir: dir.to_path_buf(),
            manifest,
            draws,
            ceac,
            evpi,
            tornado,
        })
    }

    /// The cost-effectiveness plane, if the folder has `psa_draws.csv`.
    pub fn ce_plane(&self, title: Option<&str>) -> Option<CePlanePlot> {
        let draws = self.draws.as_ref()?;
        let m = &self.manifest;
        let reference = m
            .strategies
            .iter()
            .find(|s| Some(&s.name) == m.reference.as_ref())?;
        let base = &draws.values[reference.index];
        let clouds = m
            .strategies
            .iter()
            .filter(|s| s.index != reference.index)
            .map(|s| Cloud {
                label: s.label.clone(),
                index: s.index,
                points: draws.values[s.index]
                    .iter()
                    .zip(base)
                    .map(|(&(cost, qalys), &(ref_cost, ref_qalys))| {
                        (qalys - ref_qalys, cost - ref_cost)
                    })
                    .collect(),
            })
            .collect();
        Some(CePlanePlot {
            title: title.unwrap_or("Cost-effectiveness plane").to_string(),
            x_label: format!("Incremental QALYs (vs {})", reference.label),
            y_label: format!("Incremental cost{}", m.in_currency()),
            clouds,
            wtp: m.wtp.first().copied(),
            per_qaly: m.per_qaly(),
            draws: draws.draws.len(),
            notes: m.notes(),
        })
    }

    /// The acceptability curves with their frontier, if the folder has `ceac.csv`.
    pub fn ceac(&self, title: Option<&str>) -> Option<WtpPlot> {
        let rows = self.ceac.as_ref()?;
        let m = &self.manifest;
        let strategies: Vec<&StrategyInfo> = m
            .strategies
            .iter()
            .filter(|s| rows.iter().any(|r| r.strategy == s.index))
            .collect();
        let series = strategies
            .iter()
            .map(|s| {
                let mut points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.strategy == s.index)
                    .map(|r| (r.wtp, r.probability * 100.0))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                WtpSeries {
                    label: s.label.clone(),
                    colour: strategy_colour(s.index),
                    dash: strategy_dash(s.index),
                    points,
                }
            })
            .collect();
        // Ties (two strategies optimal at one threshold) keep the first in file order.
        let mut frontier: Vec<(f64, usize)> = Vec::new();
        for r in rows.iter().filter(|r| r.optimal) {
            if !frontier.iter().any(|f| f.0 == r.wtp)
                && let Some(position) = strategies.iter().position(|s| s.index == r.strategy)
            {
                frontier.push((r.wtp, position));
            }
        }
        frontier.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(m.over_wtp(
            title.unwrap_or("Cost-effectiveness acceptability curves"),
            ("Probability cost-effective (%)".into(), true),
            series,
            frontier,
        ))
    }

    /// EVPI over willingness to pay, if the folder has `evpi.csv`.
    pub fn evpi(&self, title: Option<&str>) -> Option<WtpPlot> {
        let rows = self.evpi.as_ref()?;
        let m = &self.manifest;
        let series = WtpSeries {
            label: "EVPI".into(),
            colour: INK,
            dash: &[],
            points: rows.clone(),
        };
        Some(m.over_wtp(
            title.unwrap_or("Expected value of perfect information"),
            (format!("EVPI per patient{}", m.in_currency()), false),
            vec![series],
            Vec::new(),
        ))
    }

    /// The tornado diagram, if the folder has `tornado.csv`.
    pub fn tornado(&self, title: Option<&str>) -> Option<TornadoPlot> {
        let rows = self.tornado.as_ref()?;
        let first = rows.first()?;
        let m = &self.manifest;
        let mut bars: Vec<TornadoBar> = rows
            .iter()
            .map(|r| TornadoBar {
                label: if r.label.is_empty() {
                    r.parameter.clone()
                } else {
                    r.label.clone()
                },
                low: r.low,
                high: r.high,
                inmb_low: r.inmb_low,
                inmb_high: r.inmb_high,
            })
            .collect();
        // Widest swing on top; ties keep the file's order (the sort is stable).
        bars.sort_by(|a, b| b.swing().total_cmp(&a.swing()));
        let currency = if m.currency.is_empty() {
            String::new()
        } else {
            format!(" {}", m.currency)
        };
        Some(TornadoPlot {
            title: title.unwrap_or("One-way sensitivity analysis").to_string(),
            x_label: format!(
                "Incremental net monetary benefit{}, {} vs {} at {}{currency}/QALY",
                m.in_currency(),
                m.label(&first.strategy),
                m.label(&first.comparator),
                frame::money(first.wtp, 1.0),
            ),
            bars,
            base: first.inmb_base,
            notes: m.notes(),
        })
    }
}
