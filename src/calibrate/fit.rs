//! `calibrate`: fit named model parameters to the `fit` targets of a target file.
//!
//! The objective is the binomial deviance of the published proportions given the simulated
//! ones (each target weighs what its n allows), plus the squared z-score of log hazard
//! ratios; or, on request, weighted least squares. Every evaluation simulates the same
//! patients (same seed, same number): common random numbers make the objective a
//! deterministic function of the parameters, smooth up to small steps, so Nelder–Mead can
//! follow it and the fit is reproducible to the bit for a given seed, on any number of
//! threads. Parameters are fitted on an unbounded scale (log for positive numbers, logit
//! for probabilities) and kept within their bounds.
//!
//! The fit specification (TOML) is documented in `calibration/fit.toml` and the README.

use std::path::Path as FsPath;

use serde::Deserialize;

use super::check::{self, CheckError, RunSettings, Selection, Simulated};
use super::nelder_mead::{self, Options};
use super::targets::{Targets, Usage, resolve_model};
use crate::scenario::compose::{Composed, Naming};
use crate::scenario::error::{BuildError, Path, ScenarioError, Segment, locate_exact};
use crate::scenario::parameter::ParameterPath;
use crate::scenario::{parse_toml, read_text};
use crate::toml_path;

/// The specification as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitFileDef {
    /// Settings.
    pub calibrate: FitSettingsDef,
    /// What to fit.
    #[serde(default)]
    pub parameters: Vec<ParameterDef>,
}

/// `[calibrate]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitSettingsDef {
    /// Target file, relative to this file.
    pub targets: String,
    /// Model to fit (a built-in name or a file relative to this file); default: the target file's.
    pub model: Option<String>,
    /// Simulated patients per cohort and evaluation (default 20 000).
    pub patients: Option<i64>,
    /// Seed of the common random numbers (default 1).
    pub seed: Option<i64>,
    /// `binomial` (default) or `least_squares`.
    pub objective: Option<String>,
    /// Objective evaluations allowed (default 1500).
    pub max_evaluations: Option<i64>,
    /// Fresh simplexes started from the best point once one has converged (default 1).
    pub restarts: Option<i64>,
    /// Convergence: spread of the objective over the simplex (default 0.01).
    pub tolerance: Option<f64>,
    /// What the fit is for.
    pub description: Option<String>,
}

/// `[[parameters]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterDef {
    /// Short label (default: the first path).
    pub name: Option<String>,
    /// One parameter path (see [`ParameterPath`]).
    pub path: Option<String>,
    /// Several paths moved together (tied).
    pub paths: Option<Vec<String>>,
    /// With `paths` on the log scale: path i gets value^power_i (default 1), so effects can
    /// be tied in fixed proportion on the log scale.
    pub powers: Option<Vec<f64>>,
    /// `log`, `logit` or `linear` (default: logit for probabilities, log otherwise).
    pub scale: Option<String>,
    /// Lower bound (natural scale).
    pub min: Option<f64>,
    /// Upper bound (natural scale).
    pub max: Option<f64>,
    /// First step of the simplex on the fitting scale (default 0.3).
    pub step: Option<f64>,
    /// Why this parameter is fitted.
    pub note: Option<String>,
}

/// The scale a parameter is fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Positive numbers: rates, scales, hazard ratios.
    Log,
    /// Probabilities and fractions in (0, 1).
    Logit,
    /// Anything else.
    Linear,
}

impl Scale {
    fn to_fit(self, x: f64) -> f64 {
        match self {
            Scale::Log => x.ln(),
            Scale::Logit => (x / (1.0 - x)).ln(),
            Scale::Linear => x,
        }
    }

    fn to_natural(self, u: f64) -> f64 {
        match self {
            Scale::Log => u.exp(),
            Scale::Logit => 1.0 / (1.0 + (-u).exp()),
            Scale::Linear => u,
        }
    }
}

/// A fitted parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Label.
    pub name: String,
    /// Where it acts.
    pub paths: Vec<ParameterPath>,
    /// Exponent per path (log scale).
    pub powers: Vec<f64>,
    /// Fitting scale.
    pub scale: Scale,
    /// Bounds (natural scale).
    pub min: f64,
    /// Bounds (natural scale).
    pub max: f64,
    /// First simplex step on the fitting scale.
    pub step: f64,
    /// Value in the model before the fit.
    pub start: f64,
}

/// Which objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Binomial deviance (and squared z of log HRs).
    Binomial,
    /// Squared z-scores with the published intervals' standard errors.
    LeastSquares,
}

/// A loaded fit specification.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Specification file as given.
    pub file: String,
    /// Its text, as read (for the output's manifest: the hash of what was fitted).
    pub source: String,
    /// The targets (and through them the model).
    pub targets: Targets,
    /// Parameters.
    pub parameters: Vec<Parameter>,
    /// Patients per cohort and evaluation.
    pub patients: u64,
    /// Seed of the common random numbers.
    pub seed: u64,
    /// Objective.
    pub objective: Objective,
    /// Evaluation budget.
    pub max_evaluations: usize,
    /// Restarts.
    pub restarts: usize,
    /// Convergence tolerance on the objective.
    pub tolerance: f64,
}

fn located(
    file: &str,
    source: &str,
    path: Path,
    message: impl Into<String>,
    help: Option<&str>,
) -> ScenarioError {
    ScenarioError::from_build(
        file,
        source,
        BuildError {
            path,
            inner: None,
            message: message.into(),
            help: help.map(str::to_string),
        },
    )
}

impl Fit {
    /// Loads a fit specification with its target file and model.
    pub fn load(path: impl AsRef<FsPath>) -> Result<Fit, ScenarioError> {
        let path = path.as_ref();
        let source = read_text(path)?;
        let file = path.display().to_string();
        let def: FitFileDef = parse_toml(&source, &file)?;
        let at = |p: Path, m: String, h: Option<&str>| located(&file, &source, p, m, h);
        let dir = path.parent().unwrap_or(FsPath::new(""));
        // The fit file names its target file and may name a model: both are read as files
        // named by a file (regular .toml files of the right kind before any line is shown),
        // and errors in them say they were reached from here.
        let model = match &def.calibrate.model {
            Some(m) => Some(resolve_model(
                m,
                Some(dir),
                Some(&Naming {
                    file: &file,
                    source: &source,
                    path: toml_path!["calibrate", "model"],
                    kind: "fit file ",
                    named: m,
                }),
            )?),
            None => None,
        };
        let targets = Targets::load_named(
            dir,
            &Naming {
                file: &file,
                source: &source,
                path: toml_path!["calibrate", "targets"],
                kind: "fit file ",
                named: &def.calibrate.targets,
            },
            model,
        )?;
        if targets.model.composed.layers.len() != 1 {
            return Err(at(
                toml_path!["calibrate", "model"],
                "calibrate writes a fitted copy of the model file, so the model must be one file that extends nothing".into(),
                Some("fit the built-in model or a complete model file"),
            ));
        }
        let int = |v: Option<i64>,
                   default: i64,
                   key: &str,
                   min: i64,
                   max: i64|
         -> Result<i64, ScenarioError> {
            let v = v.unwrap_or(default);
            if (min..=max).contains(&v) {
                Ok(v)
            } else {
                Err(at(
                    toml_path!["calibrate", key],
                    format!("`{key}` must be between {min} and {max}, got {v}"),
                    None,
                ))
            }
        };
        let patients = int(def.calibrate.patients, 20_000, "patients", 100, 100_000_000)? as u64;
        let seed = int(def.calibrate.seed, 1, "seed", 0, i64::MAX)? as u64;
        let max_evaluations = int(
            def.calibrate.max_evaluations,
            1500,
            "max_evaluations",
            1,
            1_000_000,
        )? as usize;
        let restarts = int(def.calibrate.restarts, 1, "restarts", 0, 100)? as usize;
        let tolerance = def.calibrate.tolerance.unwrap_or(0.01);
        let objective = match def.calibrate.objective.as_deref() {
            None | Some("binomial") => Objective::Binomial,
            Some("least_squares") => Objective::LeastSquares,
            Some(o) => {
                return Err(at(
                    toml_path!["calibrate", "objective"],
                    format!("unknown objective `{o}`"),
                    Some("objective = \"binomial\" (deviance, default) or \"least_squares\""),
                ));
            }
        };
        if !targets.all().any(|(_, t)| t.usage == Usage::Fit) {
            return Err(at(
                toml_path!["calibrate", "targets"],
                "the target file has no target with use = \"fit\"".into(),
                None,
            ));
        }
        let model_file = &targets.model.composed.file;
        let mut parameters = Vec::new();
        for (i, p) in def.parameters.iter().enumerate() {
            let pp = |k: &str| -> Path { toml_path!["parameters", i, k] };
            let texts: Vec<(String, Path)> = match (&p.path, &p.paths) {
                (Some(one), None) => vec![(one.clone(), pp("path"))],
                (None, Some(many)) if !many.is_empty() => many
                    .iter()
                    .enumerate()
                    .map(|(k, t)| (t.clone(), toml_path!["parameters", i, "paths", k]))
                    .collect(),
                _ => {
                    return Err(at(
                        toml_path!["parameters", i],
                        "a parameter needs `path` (one) or `paths` (several, moved together)"
                            .into(),
                        Some("path = \"transitions[hsct2->death_nrm].hr\""),
                    ));
                }
            };
            let mut paths = Vec::new();
            for (text, location) in &texts {
                let parsed = ParameterPath::parse(text)
                    .and_then(|p| p.get(model_file).map(|_| p))
                    .map_err(|e| at(location.clone(), e.message, None))?;
                paths.push(parsed);
            }
            let powers = p.powers.clone().unwrap_or_else(|| vec![1.0; paths.len()]);
            if powers.len() != paths.len() || powers.iter().any(|x| !x.is_finite() || *x == 0.0) {
                return Err(at(
                    pp("powers"),
                    "`powers` needs one non-zero number per path".into(),
                    None,
                ));
            }
            let probability = paths[0].is_probability();
            let scale = match p.scale.as_deref() {
                None if probability => Scale::Logit,
                None | Some("log") => Scale::Log,
                Some("logit") => Scale::Logit,
                Some("linear") => Scale::Linear,
                Some(s) => {
                    return Err(at(
                        pp("scale"),
                        format!("unknown scale `{s}`"),
                        Some("log, logit or linear"),
                    ));
                }
            };
            if scale != Scale::Log && powers.iter().any(|x| *x != 1.0) {
                return Err(at(
                    pp("powers"),
                    "`powers` tie parameters on the log scale only".into(),
                    None,
                ));
            }
            let first = paths[0]
                .get(model_file)
                .map_err(|e| at(pp("path"), e.message, None))?;
            let start = first.powf(1.0 / powers[0]);
            let (min, max) = match scale {
                Scale::Log => (p.min.unwrap_or(start / 20.0), p.max.unwrap_or(start * 20.0)),
                Scale::Logit => (p.min.unwrap_or(1e-4), p.max.unwrap_or(1.0 - 1e-4)),
                Scale::Linear => (
                    p.min.unwrap_or(f64::NEG_INFINITY),
                    p.max.unwrap_or(f64::INFINITY),
                ),
            };
            let valid = match scale {
                Scale::Log => min > 0.0 && start > 0.0,
                Scale::Logit => min > 0.0 && max < 1.0 && start > 0.0 && start < 1.0,
                Scale::Linear => true,
            };
            if !(valid && min < max && start >= min && start <= max) {
                return Err(at(
                    toml_path!["parameters", i],
                    format!(
                        "the start value {start} must lie within [{min}, {max}] and suit the {scale:?} scale"
                    ),
                    Some("check min and max (natural scale), or the value in the model"),
                ));
            }
            // Tied paths are set to start^power at every evaluation: their values in the
            // model must already be that, or the first evaluation would silently move them
            // and the "start" of the fit would not be the model as written. Each written
            // value stands for what rounds to it (see `precision`), so a model whose tied
            // values were written to four digits by a previous fit still agrees.
            let relative_first = crate::precision::half_unit(first) / first.abs();
            for (k, path) in paths.iter().enumerate().skip(1) {
                let value = path
                    .get(model_file)
                    .map_err(|e| at(texts[k].1.clone(), e.message, None))?;
                let tied = start.powf(powers[k]);
                let allowed = crate::precision::half_unit(value)
                    + (powers[k] / powers[0]).abs() * relative_first * tied.abs();
                if (value - tied).abs() > allowed + 1e-9 * tied.abs() || !value.is_finite() {
                    return Err(at(
                        texts[k].1.clone(),
                        format!(
                            "`{}` is {value} in the model, but it is tied to `{}` = {first}{}: the fit would set it to {} before the first evaluation, so the fit would not start from the model as written",
                            texts[k].0,
                            texts[0].0,
                            if powers[k] == powers[0] {
                                String::new()
                            } else {
                                format!(" with power {}/{}", powers[k], powers[0])
                            },
                            crate::precision::approx(tied)
                        ),
                        Some(
                            "make the tied values agree in the model (e.g. run the fit once and take its fitted model), or fit the paths as separate parameters",
                        ),
                    ));
                }
            }
            parameters.push(Parameter {
                name: p.name.clone().unwrap_or_else(|| texts[0].0.clone()),
                paths,
                powers,
                scale,
                min,
                max,
                step: p.step.unwrap_or(0.3),
                start,
            });
        }
        if parameters.is_empty() {
            return Err(at(
                toml_path!["parameters"],
                "nothing to fit: add [[parameters]]".into(),
                None,
            ));
        }
        Ok(Fit {
            file,
            source,
            targets,
            parameters,
            patients,
            seed,
            objective,
            max_evaluations,
            restarts,
            tolerance,
        })
    }

    /// The model with these parameter values (natural scale).
    pub fn model_with(&self, values: &[f64]) -> Result<Composed, ScenarioError> {
        let mut composed = self.targets.model.composed.clone();
        for (p, v) in self.parameters.iter().zip(values) {
            for (path, power) in p.paths.iter().zip(&p.powers) {
                path.set(&mut composed.file, v.powf(*power))
                    .map_err(|e| ScenarioError::whole_file(&self.file, e.to_string(), None))?;
            }
        }
        Ok(composed)
    }

    /// Simulated values of every (`Selection::All`) or only the fitted targets.
    pub fn simulate(
        &self,
        values: &[f64],
        patients: u64,
        threads: usize,
        selection: Selection,
    ) -> Result<Vec<Vec<Simulated>>, CheckError> {
        let model = self.model_with(values)?;
        check::simulate_all(
            &self.targets,
            &model,
            &RunSettings {
                patients,
                seed: self.seed,
                threads,
                progress: None,
            },
            selection,
        )
    }

    /// The objective for simulated values.
    pub fn objective_of(&self, simulated: &[Vec<Simulated>]) -> f64 {
        let mut total = 0.0;
        for (cohort, values) in self.targets.cohorts.iter().zip(simulated) {
            for (t, s) in cohort.targets.iter().zip(values) {
                if t.usage != Usage::Fit || t.weight == 0.0 {
                    continue;
                }
                let term = if let Some(se) = t.se_log.filter(|_| !t.endpoint.is_proportion()) {
                    ((s.estimate.ln() - t.published.ln()) / se).powi(2)
                } else {
                    let p = s.estimate.clamp(1e-6, 1.0 - 1e-6);
                    let target = t.published;
                    match (self.objective, t.n) {
                        (Objective::Binomial, Some(n)) => {
                            let part =
                                |a: f64, b: f64| if a > 0.0 { a * (a / b).ln() } else { 0.0 };
                            2.0 * n as f64 * (part(target, p) + part(1.0 - target, 1.0 - p))
                        }
                        _ => {
                            let (lo, hi) = t.interval.unwrap_or((0.0, 1.0));
                            let se = ((hi - lo) / (2.0 * crate::stats::Z95)).max(1e-6);
                            ((p - target) / se).powi(2)
                        }
                    }
                };
                total += t.weight * if term.is_finite() { term } else { 1e12 };
            }
        }
        total
    }

    /// Runs the fit. `progress` hears (evaluation, objective, best so far).
    pub fn run(
        &self,
        threads: usize,
        progress: Option<&dyn Fn(usize, f64, f64)>,
    ) -> Result<FitResult, CheckError> {
        let started = std::time::Instant::now();
        let start: Vec<f64> = self.parameters.iter().map(|p| p.start).collect();
        let to_natural = |u: &[f64]| -> (Vec<f64>, f64) {
            // Clamp into the bounds; a penalty outside them leads the simplex back.
            let mut penalty = 0.0;
            let values = self
                .parameters
                .iter()
                .zip(u)
                .map(|(p, ui)| {
                    let (lo, hi) = (p.scale.to_fit(p.min), p.scale.to_fit(p.max));
                    let clamped = ui.clamp(lo, hi);
                    penalty += (ui - clamped).powi(2);
                    p.scale.to_natural(clamped)
                })
                .collect();
            (values, 1e3 * penalty)
        };
        let mut failure: Option<CheckError> = None;
        let mut trace: Vec<(usize, f64, Vec<f64>)> = Vec::new();
        let mut best = f64::INFINITY;
        let mut evaluation = 0usize;
        let mut objective = |u: &[f64]| -> f64 {
            let (values, penalty) = to_natural(u);
            evaluation += 1;
            let f = match self.simulate(&values, self.patients, threads, Selection::FitOnly) {
                Ok(sim) => self.objective_of(&sim) + penalty,
                Err(e) => {
                    failure.get_or_insert(e);
                    f64::INFINITY
                }
            };
            best = best.min(f);
            trace.push((evaluation, f, values));
            if let Some(p) = progress {
                p(evaluation, f, best);
            }
            f
        };
        let u0: Vec<f64> = self
            .parameters
            .iter()
            .map(|p| p.scale.to_fit(p.start))
            .collect();
        let objective_start = objective(&u0);
        let mut x = u0.clone();
        let mut used = 1;
        let mut converged = false;
        let mut steps: Vec<f64> = self.parameters.iter().map(|p| p.step).collect();
        for round in 0..=self.restarts {
            if used >= self.max_evaluations {
                break;
            }
            let m = nelder_mead::minimize(
                &mut objective,
                &x,
                &Options {
                    max_evaluations: self.max_evaluations - used,
                    f_tolerance: self.tolerance,
                    x_tolerance: 1e-3,
                    steps: steps.clone(),
                },
            );
            used += m.evaluations;
            converged = m.converged;
            x = m.x;
            // A restart builds a fresh simplex around the best point: Nelder–Mead can
            // collapse onto a subspace, and a new simplex finds the directions it lost.
            steps.iter_mut().for_each(|s| *s *= 0.5);
            let _ = round;
        }
        if let Some(e) = failure.filter(|_| trace.iter().all(|(_, f, _)| !f.is_finite())) {
            return Err(e);
        }
        let (fitted, _) = to_natural(&x);
        let best_index = trace
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
            .map_or(0, |(i, _)| i);
        let fitted = if trace[best_index].1 < f64::INFINITY {
            trace[best_index].2.clone()
        } else {
            fitted
        };
        Ok(FitResult {
            objective: trace[best_index].1,
            start,
            fitted,
            objective_start,
            evaluations: trace.len(),
            converged,
            trace,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// What a fit found.
#[derive(Debug, Clone)]
pub struct FitResult {
    /// Parameter values before.
    pub start: Vec<f64>,
    /// Parameter values after.
    pub fitted: Vec<f64>,
    /// Objective before.
    pub objective_start: f64,
    /// Objective after.
    pub objective: f64,
    /// Evaluations used.
    pub evaluations: usize,
    /// The last simplex met the tolerance.
    pub converged: bool,
    /// Every evaluation: number, objective, parameter values.
    pub trace: Vec<(usize, f64, Vec<f64>)>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// A number written back into a model file: 4 significant digits, enough for a Monte Carlo
/// fit and readable.
pub fn format_value(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = 4 - 1 - x.abs().log10().floor() as i32;
    let rounded = if digits > 0 {
        let f = 10f64.powi(digits);
        (x * f).round() / f
    } else {
        x.round()
    };
    let text = format!("{rounded}");
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Marker that separates a source from the note a fit appends to it.
pub const FIT_NOTE: &str = " [fitted by hsctsim calibrate";

/// The model file's text with the fitted values and their provenance written in: values
/// replaced where they stand (comments and layout kept), each changed element's `source`
/// extended with a note of the fit, and a header saying what was fitted to what.
pub fn fitted_model_text(fit: &Fit, result: &FitResult) -> Result<String, String> {
    let layer = &fit.targets.model.composed.layers[0];
    let text = &layer.source;
    let file = &fit.targets.model.composed.file;
    let fitted_file = fit
        .model_with(&result.fitted)
        .map_err(|e| e.to_string())?
        .file;
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut written: Vec<Path> = Vec::new();
    let mut sources: Vec<(Path, String)> = Vec::new();
    for (p, start) in fit.parameters.iter().zip(&result.start) {
        for (path, power) in p.paths.iter().zip(&p.powers) {
            let (_, source_path) = path.toml_paths(file).map_err(|e| e.to_string())?;
            let mut values = path
                .written_values(&fitted_file)
                .map_err(|e| e.to_string())?;
            if path.is_in_sum_to_one_group() {
                // Six decimals each, the last the remainder: the group still sums to 1.
                let mut total: f64 = 0.0;
                let last = values.len() - 1;
                for (k, v) in values.iter_mut().enumerate() {
                    v.1 = if k == last {
                        ((1.0 - total) * 1e6).round() / 1e6
                    } else {
                        (v.1 * 1e6).round() / 1e6
                    };
                    total += v.1;
                }
            }
            for (value_path, value) in values {
                if written.contains(&value_path) {
                    continue;
                }
                written.push(value_path.clone());
                let new = if path.is_in_sum_to_one_group() {
                    format!("{value}")
                } else if let Some((number, unit)) = fitted_file.written_duration(&value_path) {
                    // Written back as read: `median = "8.4m"` stays a duration, so an
                    // attribute that is a time because of it stays one.
                    format!("\"{}{}\"", format_value(number), unit.suffix())
                } else {
                    format_value(value)
                };
                match locate_exact(text, &value_path) {
                    Some(span) => edits.push((span, new)),
                    None => {
                        // Only a transition's `hr` may be absent: add it after the `to` line.
                        let is_hr = matches!(value_path.last(), Some(Segment::Key(k)) if k == "hr")
                            && value_path.len() == 3;
                        let mut to_path = value_path.clone();
                        to_path.pop();
                        to_path.push(Segment::Key("to".into()));
                        let span =
                            locate_exact(text, &to_path)
                                .filter(|_| is_hr)
                                .ok_or_else(|| {
                                    format!(
                                        "`{}` has no value in the model file to replace",
                                        path.text
                                    )
                                })?;
                        let line_end = text[span.end..]
                            .find('\n')
                            .map_or(text.len(), |i| span.end + i);
                        edits.push((line_end..line_end, format!("\nhr = {new}")));
                    }
                }
            }
            let note = format!("{}; start {}]", FIT_NOTE, format_value(start.powf(*power)));
            if !sources.iter().any(|(s, _)| *s == source_path) {
                sources.push((source_path, note));
            }
        }
    }
    let fit_name = std::path::Path::new(&fit.file)
        .file_name()
        .map_or(fit.file.clone(), |f| f.to_string_lossy().into_owned());
    for (source_path, note) in sources {
        if let Some(span) = locate_exact(text, &source_path) {
            let old: String =
                toml::from_str::<toml::Table>(&format!("v = {}", &text[span.clone()]))
                    .ok()
                    .and_then(|t| t.get("v").and_then(|v| v.as_str().map(str::to_string)))
                    .unwrap_or_default();
            let base = old
                .split(FIT_NOTE)
                .next()
                .unwrap_or("")
                .trim_end()
                .to_string();
            let note = note.replacen(
                FIT_NOTE,
                &format!("{FIT_NOTE} ({fit_name}, seed {})", fit.seed),
                1,
            );
            edits.push((span, toml_string(&format!("{base}{note}"))));
        }
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.clone();
    for (range, new) in edits {
        out.replace_range(range, &new);
    }
    let ids: Vec<String> = fit
        .targets
        .all()
        .filter(|(_, t)| t.usage == Usage::Fit)
        .map(|(_, t)| t.id.clone())
        .collect();
    let mut header = String::new();
    header.push_str(&format!(
        "# Fitted by `hsctsim calibrate {}` (seed {}, {} patients per cohort and evaluation,\n# {} evaluations, objective {:.2} → {:.2}) to the {} fit targets of {}:\n",
        fit.file,
        fit.seed,
        fit.patients,
        result.evaluations,
        result.objective_start,
        result.objective,
        ids.len(),
        fit.targets.file,
    ));
    for chunk in ids.chunks(12) {
        header.push_str(&format!("#   {}\n", chunk.join(", ")));
    }
    header.push_str("# Values marked \"[fitted by hsctsim calibrate …; start X]\" in their source were moved by the fit.\n#\n");
    // Replace a previous fit's header rather than stacking them.
    let body = match out.find("# Fitted by `hsctsim calibrate") {
        Some(0) => {
            let end = out.find("#\n").map_or(0, |i| i + 2);
            out[end..].to_string()
        }
        _ => out,
    };
    Ok(format!("{header}{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fit spec on a copy of the built-in model whose second tied `cure` is `cure`.
    fn load_with_tied_cure(dir: &FsPath, cure: &str) -> Result<Fit, ScenarioError> {
        let root = FsPath::new(env!("CARGO_MANIFEST_DIR"));
        let model = std::fs::read_to_string(root.join("models/hsct_review.toml")).unwrap();
        let at = model
            .find("from = \"maintenance\"\nto = \"relapse2\"")
            .unwrap();
        let cure_at = at + model[at..].find("cure = 0.708").unwrap();
        let edited = format!(
            "{}cure = {cure}{}",
            &model[..cure_at],
            &model[cure_at + "cure = 0.708".len()..]
        );
        std::fs::write(dir.join("model.toml"), edited).unwrap();
        let targets = root.join("calibration/targets.toml");
        std::fs::write(
            dir.join("fit.toml"),
            format!(
                "[calibrate]\ntargets = {:?}\nmodel = \"model.toml\"\npatients = 200\n\n[[parameters]]\npaths = [\"transitions[remission2->relapse2].cure\", \"transitions[maintenance->relapse2].cure\"]\n",
                targets.to_str().unwrap()
            ),
        )
        .unwrap();
        Fit::load(dir.join("fit.toml"))
    }

    /// Tied values that disagree in the model are refused at the tied path, naming both;
    /// values that agree to their written digits are accepted.
    #[test]
    fn tied_paths_must_agree_in_the_model() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_with_tied_cure(dir.path(), "0.708").is_ok());
        assert!(load_with_tied_cure(dir.path(), "0.7080").is_ok());
        let e = load_with_tied_cure(dir.path(), "0.65").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("fit.toml"), "{text}");
        for needle in [
            "`transitions[maintenance->relapse2].cure` is 0.65 in the model",
            "= 0.708",
            "would set it to 0.708",
        ] {
            assert!(text.contains(needle), "{text}");
        }
    }
}
