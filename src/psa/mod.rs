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
pub mod owsa;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::aggregate::economics::EconomicTally;
use crate::aggregate::{Layout, Tally};
use crate::engine::life::Scratch;
use crate::engine::rng::{Purpose, Stream};
use crate::engine::{self, EngineError};
use crate::model::Model;
use crate::scenario::compose::Composed;
use crate::scenario::error::{BuildError, ScenarioError};
use crate::scenario::parameter::ParameterPath;
use crate::toml_path;
use distribution::Distribution;

/// Default number of draws.
pub const DEFAULT_DRAWS: u64 = 1000;
/// Most draws accepted.
pub const MAX_DRAWS: u64 = 10_000_000;

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
        let draws = match def.draws {
            None => DEFAULT_DRAWS,
            Some(d) if d >= 1 && d as u64 <= MAX_DRAWS => d as u64,
            Some(d) => {
                return Err(fail(BuildError::new(
                    toml_path!["psa", "draws"],
                    format!("draws must be between 1 and {MAX_DRAWS}, got {d}"),
                )));
            }
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
            let distribution = Distribution::from_def(p)
                .map_err(|e| fail(BuildError::new(at(e.field), e.message).help(e.help)))?;
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
            if texts.len() != distribution.dimension() {
                return Err(fail(
                    BuildError::new(
                        at(field),
                        format!(
                            "{} path(s) for a distribution with {} component(s)",
                            texts.len(),
                            distribution.dimension()
                        ),
                    )
                    .help("a Dirichlet takes `paths` and one count per path; the others take one `path`"),
                ));
            }
            let mut paths = Vec::with_capacity(texts.len());
            let mut values = Vec::with_capacity(texts.len());
            for text in &texts {
                let path = ParameterPath::parse(text)
                    .map_err(|e| fail(BuildError::new(at(field), e.to_string())))?;
                let value = path
                    .get(&composed.file)
                    .map_err(|e| fail(BuildError::new(at(field), e.to_string())))?;
                if path.is_probability() && !stays_in_unit_interval(&distribution) {
                    return Err(fail(
                        BuildError::new(
                            at("distribution"),
                            format!("`{text}` is a probability; a {} distribution can leave [0, 1]", p.distribution),
                        )
                        .help("use beta (mean and se, or alpha and beta), a uniform within [0, 1], or dirichlet for a whole set of branches"),
                    ));
                }
                paths.push(path);
                values.push(value);
            }
            if matches!(distribution, Distribution::Dirichlet { .. })
                && !paths.iter().all(ParameterPath::is_in_sum_to_one_group)
            {
                return Err(fail(
                    BuildError::new(at("paths"), "a Dirichlet sets probabilities that sum to 1: every path must be a branch `p`, an attribute level or a discrete probability")
                        .help("e.g. paths = [\"decisions[relapse_plan].branches[0].p\", \"decisions[relapse_plan].branches[1].p\"]"),
                ));
            }
            let range = one_way_range(p, &distribution)
                .map_err(|(field, message)| fail(BuildError::new(at(field), message)))?;
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

    /// Number of values a draw gives (the columns of `psa_parameters.csv`).
    pub fn width(&self) -> usize {
        self.parameters.iter().map(|p| p.paths.len()).sum()
    }

    /// `(label, path)` of every drawn value, in draw order.
    pub fn value_names(&self) -> Vec<(String, String)> {
        self.parameters
            .iter()
            .flat_map(|p| {
                p.paths.iter().map(move |path| {
                    let label = if p.paths.len() > 1 {
                        format!("{}: {}", p.name, path.text)
                    } else {
                        p.name.clone()
                    };
                    (label, path.text.clone())
                })
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
    /// entries keep the scenario's value. Errors are the builder's message.
    pub fn model_with(&self, values: &[Option<f64>]) -> Result<Model, String> {
        let mut composed = self.composed.clone();
        let mut at = 0;
        for p in &self.parameters {
            for path in &p.paths {
                if let Some(v) = values.get(at).copied().flatten() {
                    let set = if p.paths.len() > 1 {
                        path.set_exact(&mut composed.file, v)
                    } else {
                        path.set(&mut composed.file, v)
                    };
                    set.map_err(|e| e.to_string())?;
                }
                at += 1;
            }
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

/// The low and high values of a scalar parameter: as written, or its 2.5 % and 97.5 %
/// quantiles.
fn one_way_range(
    def: &crate::scenario::format::PsaParameterDef,
    distribution: &Distribution,
) -> Result<Option<(f64, f64)>, (&'static str, String)> {
    if matches!(distribution, Distribution::Dirichlet { .. }) {
        if def.low.is_some() || def.high.is_some() {
            return Err((
                "low",
                "a Dirichlet group has no single low and high value; leave `low` and `high` out (the group is varied in the PSA only)".into(),
            ));
        }
        return Ok(None);
    }
    let low = def.low.or_else(|| distribution.quantile(0.025));
    let high = def.high.or_else(|| distribution.quantile(0.975));
    match (low, high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() && l < h => Ok(Some((l, h))),
        (Some(l), Some(h)) => Err((
            "high",
            format!("the one-way range must have low < high, got low = {l}, high = {h}"),
        )),
        _ => Err((
            "low",
            "cannot compute the distribution's quantiles; give `low` and `high`".into(),
        )),
    }
}
