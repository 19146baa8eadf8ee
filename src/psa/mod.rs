//! Probabilistic sensitivity analysis (PSA) and one-way sensitivity analysis (OWSA).
//!
//! A scenario's `[psa]` table gives uncertain parameters a distribution
//! ([`distribution::Distribution`]); each parameter is named as in `calibrate`
//! ([`crate::scenario::parameter`]): a hazard's scale or shape, a hazard ratio, a branch
//! probability (a Dirichlet for a whole set), a cost or a utility.
//!
//! The outer loop draws parameter sets, the inner loop simulates patients under every
//! strategy with that set. Draw `d` (1, 2, …) takes its parameter values from the streams
//! (seed, d, parameter number) and its patients from (seed, d, patient): a draw's results
//! depend on nothing else, so draws run in parallel (one per worker), any split of the
//! draws (threads, `--shard`) gives the same numbers, and within a draw every strategy sees
//! the same patients (common random numbers).
//!
//! [`analysis`] turns the per-draw means into acceptability curves, the frontier and EVPI;
//! [`owsa`] varies one parameter at a time between its low and high values.

pub mod analysis;
pub mod distribution;
pub mod files;
pub mod owsa;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::aggregate::economics::EconomicTally;
use crate::aggregate::{Layout, Tally};
use crate::engine::Scratch;
use crate::engine::{self, EngineError};
use crate::model::Model;
use crate::rng::{Purpose, Stream};
use crate::scenario::compose::Composed;
use crate::scenario::error::{BuildError, ScenarioError};
use crate::scenario::parameter::ParameterPath;
use crate::toml_path;
use distribution::Distribution;

/// Default number of draws.
pub const DEFAULT_DRAWS: u64 = 1000;
/// Most draws accepted.
pub const MAX_DRAWS: u64 = 10_000_000;
use crate::model::limits::MAX_DRAW_RESULTS;

/// One uncertain parameter (or Dirichlet group) of `[psa]`.
#[derive(Debug, Clone)]
pub struct UncertainParameter {
    /// Label.
    pub name: String,
    /// Where its value(s) go, one path per component.
    pub paths: Vec<ParameterPath>,
    /// Its distribution.
    pub distribution: Distribution,
    /// The value(s) in the scenario (the base case).
    pub base: Vec<f64>,
    /// One-way analysis range (scalar parameters only).
    pub range: Option<(f64, f64)>,
    /// Where the distribution comes from.
    pub source: String,
}

/// A scenario ready for sensitivity analysis: the composed file, its base model and the
/// uncertain parameters.
#[derive(Debug, Clone)]
pub struct Psa {
    /// The composed scenario (values are set on a copy per draw).
    pub composed: Composed,
    /// Output name of the scenario.
    pub name: String,
    /// The model as written (settings: seed, threads, horizon…).
    pub base: Model,
    /// Uncertain parameters, in file order.
    pub parameters: Vec<UncertainParameter>,
    /// Draws to run by default.
    pub draws: u64,
    /// Patients per draw.
    pub patients: u64,
    /// Willingness-to-pay grid for acceptability curves and EVPI, ascending.
    pub wtp_grid: Vec<f64>,
}

/// `draws` if it is from 1 to [`MAX_DRAWS`] and, with `strategies` strategies, within
/// [`MAX_DRAW_RESULTS`] per-draw results; else why not.
pub fn checked_draws(draws: i64, strategies: usize) -> Result<u64, String> {
    if !(draws >= 1 && draws as u64 <= MAX_DRAWS) {
        return Err(format!(
            "the number of draws must be between 1 and {MAX_DRAWS}, got {draws}"
        ));
    }
    let results = (draws as u64).saturating_mul(strategies as u64);
    if results > MAX_DRAW_RESULTS {
        return Err(format!(
            "{draws} draws × {strategies} strategies make {results} per-draw results; the limit is {MAX_DRAW_RESULTS} (at most {} draws of this scenario)",
            MAX_DRAW_RESULTS / strategies.max(1) as u64
        ));
    }
    Ok(draws as u64)
}

/// Per-patient means of one strategy in one draw.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Means {
    /// Discounted cost.
    pub cost: f64,
    /// Discounted QALYs.
    pub qalys: f64,
    /// Discounted life-years.
    pub life_years: f64,
    /// Undiscounted cost.
    pub cost_undiscounted: f64,
    /// Undiscounted QALYs.
    pub qalys_undiscounted: f64,
    /// Undiscounted life-years.
    pub life_years_undiscounted: f64,
}

impl Means {
    /// Means over `patients` lives of the sums in `tally` (every life is in the sums: one
    /// they cannot hold stops the draw with an error instead).
    pub fn of(tally: &EconomicTally, patients: u64) -> Vec<Means> {
        let n = patients.max(1) as f64;
        tally
            .strategies
            .iter()
            .map(|v| Means {
                cost: v.cost_discounted.sum.value() / n,
                qalys: v.qalys_discounted.sum.value() / n,
                life_years: v.life_years_discounted.sum.value() / n,
                cost_undiscounted: v.cost.sum.value() / n,
                qalys_undiscounted: v.qalys.sum.value() / n,
                life_years_undiscounted: v.life_years.sum.value() / n,
            })
            .collect()
    }

    /// Net monetary benefit at `wtp` per QALY.
    pub fn nmb(&self, wtp: f64) -> f64 {
        wtp * self.qalys - self.cost
    }
}

/// What one draw gave.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawOutcome {
    /// Draw number (1, 2, …).
    pub draw: u64,
    /// The drawn values, parameter by parameter, component by component.
    pub values: Vec<f64>,
    /// Per strategy.
    pub means: Vec<Means>,
}

/// Why a PSA stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PsaError {
    /// A drawn parameter set is one the model refuses (e.g. a normal draw below 0).
    #[error(
        "draw {draw}: the model refuses the drawn values ({values}): {message}. The distribution allows values the parameter cannot take: use one bounded like the parameter (beta for probabilities and utilities, gamma or lognormal for positive numbers)"
    )]
    Draw {
        /// The draw.
        draw: u64,
        /// The values drawn, as `name = value` pairs.
        values: String,
        /// The model's message.
        message: String,
    },
    /// The simulation failed (a loop without end, cancelled…).
    #[error("draw {draw}: {source}")]
    Engine {
        /// The draw.
        draw: u64,
        /// What happened.
        source: EngineError,
    },
    /// Stopped by Ctrl-C.
    #[error("cancelled after {done} of {total} draws")]
    Cancelled {
        /// Draws finished.
        done: u64,
        /// Draws asked for.
        total: u64,
    },
}

/// How to run the draws.
#[derive(Clone, Copy, Default)]
pub struct PsaControl<'a> {
    /// Worker threads (0: the scenario's setting; 0 there: all cores).
    pub threads: usize,
    /// Called with the number of draws finished.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Set to stop early.
    pub cancel: Option<&'a AtomicBool>,
}

impl Psa {
    /// Reads `[psa]` and `[economics]` of a composed scenario; errors point into the file.
    pub fn compile(composed: Composed, default_name: &str) -> Result<Psa, ScenarioError> {
        let base = composed.build(default_name)?;
        let fail = |e: BuildError| composed.error(e);
        let Some(economics) = base.economics.as_ref() else {
            return Err(fail(
                BuildError::new(toml_path![], "sensitivity analysis needs an [economics] table")
                    .help("add [economics] with costs and utilities per state (see the README, \"Health economics\")"),
            ));
        };
        let Some(def) = composed.file.psa.clone() else {
            return Err(fail(
                BuildError::new(toml_path![], "the scenario has no [psa] table")
                    .help("add [[psa.parameters]] entries, e.g. path = \"transitions[hsct2->death_nrm].hr\", distribution = \"lognormal\", interval = [0.7, 1.4]"),
            ));
        };
        if def.parameters.is_empty() {
            return Err(fail(
                BuildError::new(toml_path!["psa"], "[psa] has no parameters")
                    .help("add [[psa.parameters]] entries with a path and a distribution"),
            ));
        }
        let strategies = base.strategies.len();
        let draws = match def.draws {
            None => DEFAULT_DRAWS,
            Some(d) => match checked_draws(d, strategies) {
                Ok(d) => d,
                Err(message) => {
                    return Err(fail(BuildError::new(toml_path!["psa", "draws"], message)));
                }
            },
        };
        let patients = match def.patients {
            None => base.settings.patients,
            Some(n) if n >= 1 && n as u64 <= crate::scenario::build::MAX_PATIENTS => n as u64,
            Some(n) => {
                return Err(fail(BuildError::new(
                    toml_path!["psa", "patients"],
                    format!(
                        "patients per draw must be between 1 and {}, got {n}",
                        crate::scenario::build::MAX_PATIENTS
                    ),
                )));
            }
        };
        let wtp_grid = match &def.wtp {
            Some(grid) => {
                if grid.is_empty() || grid.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
                    return Err(fail(
                        BuildError::new(
                            toml_path!["psa", "wtp"],
                            "wtp must list one or more non-negative numbers",
                        )
                        .help("e.g. wtp = [0, 25000, 50000, 100000]"),
                    ));
                }
                let mut grid = grid.clone();
                grid.sort_by(f64::total_cmp);
                grid.dedup();
                grid
            }
            None => default_grid(&economics.wtp),
        };
        let mut parameters = Vec::with_capacity(def.parameters.len());
        for (i, p) in def.parameters.iter().enumerate() {
            let at = |field: &str| toml_path!["psa", "parameters", i, field];
            let texts: Vec<String> = match (&p.path, &p.paths) {
                (Some(path), None) => vec![path.clone()],
                (None, Some(paths)) if !paths.is_empty() => paths.clone(),
                _ => {
                    return Err(fail(
                        BuildError::new(at("distribution"), "give `path` (one parameter) or `paths` (a Dirichlet group), not both or neither")
                            .help("e.g. path = \"transitions[hsct2->death_nrm].hr\""),
                    ));
                }
            };
            let field = if p.paths.is_some() { "paths" } else { "path" };
            let group = p.distribution == "dirichlet";
            if group && texts.len() < 2 {
                return Err(fail(
                    BuildError::new(
                        at(field),
                        format!("{} path for a dirichlet distribution", texts.len()),
                    )
                    .help("a Dirichlet takes `paths`, two or more: a whole group of probabilities"),
                ));
            }
            let psa_file = composed.error(BuildError::new(at(field), "")).file;
            let mut paths = Vec::with_capacity(texts.len());
            let mut values = Vec::with_capacity(texts.len());
            let mut names = Vec::with_capacity(texts.len());
            for text in &texts {
                let path = ParameterPath::parse(text)
                    .map_err(|e| fail(BuildError::new(at(field), e.to_string())))?;
                let value = path
                    .get(&composed.file)
                    .map_err(|e| fail(BuildError::new(at(field), e.to_string())))?;
                let written = written_at(&composed, &path);
                if let Some(written) = &written
                    && selects_by_position(text)
                    && layer_of(&composed, &written.file) > layer_of(&composed, &psa_file)
                {
                    return Err(fail(
                        BuildError::new(
                            at(field),
                            format!(
                                "`{text}` selects by position an element written in {}, which extends {psa_file} where this [psa] entry is: the position may now name another element than the one the entry describes",
                                written.file
                            ),
                        )
                        .help(format!(
                            "select it by what it is (e.g. economics.states[remission2].cost, economics.events[relapse2].cost, effects[donor_type == 'cord'].hr), or give the [psa] table in {}",
                            written.file
                        )),
                    ));
                }
                names.push(match &written {
                    Some(w) => match w.location {
                        Some((line, column)) => format!("`{text}` ({}:{line}:{column})", w.file),
                        None => format!("`{text}` ({})", w.file),
                    },
                    None => format!("`{text}`"),
                });
                paths.push(path);
                values.push(value);
            }
            if group {
                let total: f64 = values.iter().sum();
                if !paths.iter().all(ParameterPath::is_in_sum_to_one_group) {
                    return Err(fail(
                        BuildError::new(at("paths"), "a Dirichlet sets probabilities that sum to 1: every path must be a branch `p`, an attribute level or a discrete probability")
                            .help("e.g. paths = [\"decisions[relapse_plan].branches[0].p\", \"decisions[relapse_plan].branches[1].p\"]"),
                    ));
                }
                // Each draw replaces the values of the paths and nothing else: they must be a
                // whole group, or every draw would break the sum of the rest.
                if (total - 1.0).abs() > 1e-6 {
                    return Err(fail(
                        BuildError::new(
                            at("paths"),
                            format!(
                                "the probabilities at these paths sum to {total} in the scenario, not 1: a Dirichlet draws a whole group (every branch of one decision, every level of one attribute)"
                            ),
                        )
                        .help("list every branch (or level) of the group in `paths`, and only those"),
                    ));
                }
            }
            // A scalar distribution on several `paths` ties them: one quantity written in
            // several places of the model (e.g. the NRM level on three transitions, tied
            // by calibration). Every draw sets all of them, so they must agree already.
            if !group {
                let (low, high) = crate::precision::as_written(values[0]);
                if let Some(k) =
                    (1..values.len()).find(|&k| !crate::precision::within(values[k], (low, high)))
                {
                    return Err(fail(
                        BuildError::new(
                            at(field),
                            format!(
                                "these paths are drawn as one value, but {} is {} and {} is {} in the scenario",
                                names[0], values[0], names[k], values[k]
                            ),
                        )
                        .help("tie only paths that hold the same number in the model, or give each its own [[psa.parameters]] entry"),
                    ));
                }
            }
            let described = distribution::Described {
                values: &values,
                names: &names,
            };
            let distribution = Distribution::from_def(p, &described)
                .map_err(|e| fail(BuildError::new(at(e.field), e.message).help(e.help)))?;
            for (text, path) in texts.iter().zip(&paths) {
                if path.is_probability() && !stays_in_unit_interval(&distribution) {
                    return Err(fail(
                        BuildError::new(
                            at("distribution"),
                            format!("`{text}` is a probability; a {} distribution can leave [0, 1]", p.distribution),
                        )
                        .help("use beta (mean = \"base\" and se, or alpha and beta), a uniform within [0, 1], or dirichlet for a whole set of branches"),
                    ));
                }
            }
            let range = one_way_range(p, &distribution, &described)
                .map_err(|e| fail(BuildError::new(at(e.field), e.message).help(e.help)))?;
            parameters.push(UncertainParameter {
                name: p.name.clone().unwrap_or_else(|| texts.join(" + ")),
                paths,
                distribution,
                base: values,
                range,
                source: p.source.clone().unwrap_or_default(),
            });
        }
        let mut names: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(fail(
                BuildError::new(
                    toml_path!["psa", "parameters"],
                    format!("two parameters are called `{}`", w[0]),
                )
                .help("give each [[psa.parameters]] entry its own `name`"),
            ));
        }
        Ok(Psa {
            name: base.name.clone(),
            composed,
            base,
            parameters,
            draws,
            patients,
            wtp_grid,
        })
    }

    /// `draws` if this analysis may run that many (see [`checked_draws`]).
    pub fn checked_draws(&self, draws: u64) -> Result<u64, String> {
        checked_draws(
            draws.min(i64::MAX as u64) as i64,
            self.base.strategies.len(),
        )
    }

    /// Number of values a draw gives (the columns of `psa_parameters.csv`): one per
    /// Dirichlet component, one for any other parameter (however many paths it ties).
    pub fn width(&self) -> usize {
        self.parameters
            .iter()
            .map(|p| p.distribution.dimension())
            .sum()
    }

    /// `(label, path)` of every drawn value, in draw order; tied paths are one value,
    /// named by all of them (`a + b`).
    pub fn value_names(&self) -> Vec<(String, String)> {
        self.parameters
            .iter()
            .flat_map(|p| {
                let texts: Vec<&str> = p.paths.iter().map(|x| x.text.as_str()).collect();
                if p.distribution.dimension() > 1 {
                    texts
                        .iter()
                        .map(|t| (format!("{}: {t}", p.name), t.to_string()))
                        .collect::<Vec<_>>()
                } else {
                    vec![(p.name.clone(), texts.join(" + "))]
                }
            })
            .collect()
    }

    /// The parameter values of draw `draw` (≥ 1), flattened.
    pub fn sample(&self, seed: u64, draw: u64) -> Vec<f64> {
        let mut values = Vec::with_capacity(self.width());
        let mut one = Vec::new();
        for (k, p) in self.parameters.iter().enumerate() {
            let mut rng = Stream::new(seed, draw, k as u64, Purpose::Parameters);
            p.distribution.sample(&mut rng, &mut one);
            values.extend_from_slice(&one);
        }
        values
    }

    /// The model with parameter values `values` (flattened as from [`Psa::sample`]); `None`
    /// entries keep the scenario's value. A Dirichlet's components go one to each path
    /// (exactly: they already sum to 1); a scalar goes to every path it ties. Errors are
    /// the builder's message.
    pub fn model_with(&self, values: &[Option<f64>]) -> Result<Model, String> {
        let mut composed = self.composed.clone();
        let mut at = 0;
        for p in &self.parameters {
            let group = p.distribution.dimension() > 1;
            for (k, path) in p.paths.iter().enumerate() {
                let slot = if group { at + k } else { at };
                if let Some(v) = values.get(slot).copied().flatten() {
                    let set = if group {
                        path.set_exact(&mut composed.file, v)
                    } else {
                        path.set(&mut composed.file, v)
                    };
                    set.map_err(|e| e.to_string())?;
                }
            }
            at += p.distribution.dimension();
        }
        let mut model = composed.build(&self.name).map_err(|e| e.message.clone())?;
        model.settings = self.base.settings.clone();
        Ok(model)
    }

    /// Simulates `patients` patients of draw `draw` on `model` and returns the means.
    pub fn simulate(
        &self,
        model: &Model,
        draw: u64,
        patients: u64,
    ) -> Result<Vec<Means>, EngineError> {
        let layout = Layout::new(model);
        let mut tally = Tally::new(&layout);
        let mut scratch = Scratch::new(model);
        engine::simulate_patients(model, &layout, draw, 0..patients, &mut tally, &mut scratch)?;
        let economics = tally.economics.as_ref().expect("the model has economics");
        Ok(Means::of(economics, patients))
    }

    /// Runs draws `draws` (numbers from 1), one draw per worker at a time; results in draw
    /// order, the same for any number of threads.
    pub fn run(
        &self,
        draws: Range<u64>,
        control: &PsaControl,
    ) -> Result<Vec<DrawOutcome>, PsaError> {
        let threads = match control.threads {
            0 => self.base.settings.threads,
            t => t,
        };
        let pool = engine::pool(threads).map_err(|source| PsaError::Engine {
            draw: draws.start,
            source,
        })?;
        let total = draws.end.saturating_sub(draws.start);
        let done = AtomicU64::new(0);
        let seed = self.base.settings.seed;
        pool.install(|| {
            (0..total as usize)
                .into_par_iter()
                .with_max_len(1)
                .map(|i| {
                    let draw = draws.start + i as u64;
                    if control.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        return Err(PsaError::Cancelled {
                            done: done.load(Ordering::Relaxed),
                            total,
                        });
                    }
                    let values = self.sample(seed, draw);
                    let set: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
                    let model = self.model_with(&set).map_err(|message| PsaError::Draw {
                        draw,
                        values: self.describe(&values),
                        message,
                    })?;
                    let means = self
                        .simulate(&model, draw, self.patients)
                        .map_err(|source| PsaError::Engine { draw, source })?;
                    done.fetch_add(1, Ordering::Relaxed);
                    if let Some(progress) = control.progress {
                        progress(1);
                    }
                    Ok(DrawOutcome {
                        draw,
                        values,
                        means,
                    })
                })
                .collect()
        })
    }

    /// `name = value, …` for messages.
    fn describe(&self, values: &[f64]) -> String {
        self.value_names()
            .iter()
            .zip(values)
            .map(|((label, _), v)| format!("{label} = {v:.6}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// True if every draw is a valid probability.
fn stays_in_unit_interval(distribution: &Distribution) -> bool {
    match *distribution {
        Distribution::Beta { .. } | Distribution::Dirichlet { .. } => true,
        Distribution::Uniform { min, max } => min >= 0.0 && max <= 1.0,
        _ => false,
    }
}

/// 0 to twice the largest threshold (or 100 000 without one) in 40 steps, plus the
/// thresholds themselves.
fn default_grid(thresholds: &[f64]) -> Vec<f64> {
    let top = thresholds.iter().copied().fold(0.0, f64::max);
    let top = if top > 0.0 { 2.0 * top } else { 100_000.0 };
    let mut grid: Vec<f64> = (0..=40).map(|i| top * f64::from(i) / 40.0).collect();
    grid.extend_from_slice(thresholds);
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    grid
}

/// The low and high values of a scalar parameter: as written (numbers, or percentages of
/// the base), or its distribution's 2.5 % and 97.5 % quantiles. The range must contain the
/// base: a one-way analysis varies the value on either side of the run's.
fn one_way_range(
    def: &crate::scenario::format::PsaParameterDef,
    distribution: &Distribution,
    described: &distribution::Described,
) -> Result<Option<(f64, f64)>, distribution::SpecError> {
    use crate::scenario::format::PsaValue;
    let error = |field: &'static str, message: String, help: &str| distribution::SpecError {
        field,
        message,
        help: help.to_string(),
    };
    const HELP: &str = "give low and high as numbers around the value, or in percent of it: low = \"80%\", high = \"120%\"";
    if matches!(distribution, Distribution::Dirichlet { .. }) {
        if def.low.is_some() || def.high.is_some() {
            return Err(error(
                if def.low.is_some() { "low" } else { "high" },
                "a Dirichlet group has no single low and high value".into(),
                "leave `low` and `high` out (the group is varied in the PSA only)",
            ));
        }
        return Ok(None);
    }
    let base = described.values[0];
    let end = |field: &'static str, given: Option<PsaValue>, p: f64| match given {
        Some(PsaValue::Number(x)) => Ok(Some(x)),
        Some(PsaValue::Percent(q)) => Ok(Some(q / 100.0 * base)),
        Some(PsaValue::Base) => Err(error(
            field,
            format!("`{field}` = \"base\" leaves nothing to vary on that side"),
            HELP,
        )),
        None => Ok(distribution.quantile(p)),
    };
    let low = end("low", def.low, 0.025)?;
    let high = end("high", def.high, 0.975)?;
    let (l, h) = match (low, high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() && l < h => (l, h),
        (Some(l), Some(h)) => {
            return Err(error(
                "high",
                format!("the one-way range must have low < high, got low = {l}, high = {h}"),
                HELP,
            ));
        }
        _ => {
            return Err(error(
                "low",
                "cannot compute the distribution's quantiles".into(),
                HELP,
            ));
        }
    };
    if !(l <= base && base <= h) {
        let field = match (base < l, def.low.is_some(), def.high.is_some()) {
            (true, true, _) => "low",
            (false, _, true) => "high",
            _ => "distribution",
        };
        let given = if def.low.is_some() || def.high.is_some() {
            "as written"
        } else {
            "(the distribution's 2.5 % and 97.5 % quantiles)"
        };
        return Err(error(
            field,
            format!(
                "the one-way range [{}, {}] {given} does not contain {} = {base}, the value the model runs: the tornado's bars would not start from its base case",
                crate::precision::approx(l),
                crate::precision::approx(h),
                described.names[0]
            ),
            HELP,
        ));
    }
    Ok(Some((l, h)))
}

/// Where a parameter's value is written: its file and line, for messages that quote it.
fn written_at(composed: &Composed, path: &ParameterPath) -> Option<ScenarioError> {
    let (value, _) = path.toml_paths(&composed.file).ok()?;
    Some(composed.error(BuildError::new(value, "")))
}

/// Position of a file among the composed layers (base first); the last with that name, so
/// an extending file that shares a name with its base is still counted as later.
fn layer_of(composed: &Composed, file: &str) -> usize {
    composed
        .layers
        .iter()
        .rposition(|l| l.file == file)
        .unwrap_or(0)
}

/// True if a parameter name selects a list element by its index (`events[0]`,
/// `branches[1]`), not by what it is.
fn selects_by_position(text: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find(']') {
            let inside = after[..close].trim();
            if !inside.is_empty() && inside.chars().all(|c| c.is_ascii_digit()) {
                return true;
            }
        }
        rest = after;
    }
    false
}
