//! `check`: simulate every study cohort of a target file and compare with what was published.
//!
//! Each cohort is the model with the study's overrides, built once and simulated once for
//! all its targets (a hazard-ratio target adds its two groups). Values are read on a grid
//! that has every target's time as a grid point (one day when nothing coarser does, e.g.
//! for day +100: then at the first whole day at or after it). The simulated value comes with a
//! Monte Carlo 95 % interval (Wilson, from the simulated counts); the published value with
//! the binomial 95 % interval its n allows (Wilson as well, so both are the same kind of
//! interval; a study's own limits are used when it gives them). A published Kaplan–Meier or
//! cumulative-incidence estimate with censoring is less precise than n uncensored patients,
//! so the binomial interval from n is, if anything, too narrow: a fair test for the model.

use crate::aggregate::results::Origin;
use crate::aggregate::{Layout, OriginTally, Tally};
use crate::engine::{self, Control, EngineError};
use crate::model::Model;
use crate::plot::calibration::{self, CheckRow};
use crate::scenario::compose::Composed;
use crate::scenario::error::ScenarioError;
use crate::scenario::format::Quantity;
use crate::stats::wilson;

use super::hazard_ratio::{GroupedDeaths, cox_stratified};
use super::targets::{Cohort, DAY, Endpoint, Target, Targets, Usage};

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A cohort does not build on the model.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The simulation failed (a model that loops).
    #[error("cohort `{cohort}`: {source}")]
    Engine {
        /// The cohort.
        cohort: String,
        /// What happened.
        source: EngineError,
    },
}

/// How much to simulate.
#[derive(Clone, Copy)]
pub struct RunSettings<'a> {
    /// Patients per cohort (and per group of a hazard-ratio target).
    pub patients: u64,
    /// Master seed: the same patients for every evaluation (common random numbers).
    pub seed: u64,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Called with patients finished.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// A simulated value with its Monte Carlo interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulated {
    /// Estimate (a proportion, or a hazard ratio).
    pub estimate: f64,
    /// Lower 95 % limit.
    pub lower: f64,
    /// Upper 95 % limit.
    pub upper: f64,
    /// Simulated patients behind it (from the target's origin).
    pub patients: u64,
}

/// One line of the check table.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTarget {
    /// Study (first author and reference).
    pub study: String,
    /// Citation id.
    pub id: String,
    /// Cohort name.
    pub cohort: String,
    /// Subgroup.
    pub group: String,
    /// Endpoint as written.
    pub endpoint: String,
    /// `entry` or `hsct2`.
    pub origin: String,
    /// Months (for medians: the published median).
    pub horizon: f64,
    /// `percent` or `ratio`.
    pub scale: &'static str,
    /// Published value.
    pub published: f64,
    /// Published 95 % interval (NaN without n or limits).
    pub published_lower: f64,
    /// Published 95 % interval.
    pub published_upper: f64,
    /// Simulated value.
    pub simulated: f64,
    /// Monte Carlo 95 % interval.
    pub simulated_lower: f64,
    /// Monte Carlo 95 % interval.
    pub simulated_upper: f64,
    /// Patients behind the published value.
    pub n: Option<u64>,
    /// The two intervals overlap.
    pub overlap: Option<bool>,
    /// The simulated value lies inside the published interval.
    pub inside: Option<bool>,
    /// Simulated minus published (percentage points, or ratio units).
    pub deviation: f64,
    /// `fit` or `validate`.
    pub usage: &'static str,
    /// A 12–36-month landmark of OS, LFS, CIR or NRM.
    pub landmark: bool,
    /// Note from the target file.
    pub note: String,
}

/// The coarsest grid on which every time of the cohort's targets is a grid point: a whole
/// fraction of a month (1, 1/2, 1/3, 1/4, 1/6, 1/12), else one day. Hazard-ratio targets
/// get at least a quarter month, so the grouped Cox estimate has fine intervals. A coarse
/// grid keeps the accumulators small, which is most of the cost of a short run.
pub fn grid_step(cohort: &Cohort) -> f64 {
    let times: Vec<f64> = cohort
        .targets
        .iter()
        .map(|t| t.horizon)
        .filter(|h| !h.is_nan())
        .chain([cohort.follow_up])
        .collect();
    let finest = if cohort.targets.iter().any(|t| t.arms.is_some()) {
        4
    } else {
        1
    };
    for k in [1usize, 2, 3, 4, 6, 12] {
        if k < finest {
            continue;
        }
        let on_grid = |h: &f64| {
            let x = h * k as f64;
            (x - x.round()).abs() < 1e-9
        };
        if times.iter().all(on_grid) {
            return 1.0 / k as f64;
        }
    }
    DAY
}

/// The settings a cohort is simulated with: its follow-up on its grid.
fn prepare(composed: &mut Composed, cohort: &Cohort, run: &RunSettings) {
    let step = grid_step(cohort);
    let steps = (cohort.follow_up / step - 1e-9).ceil().max(1.0);
    let horizon = steps * step;
    let sim = &mut composed.file.simulation;
    sim.patients = Some(run.patients as i64);
    sim.seed = Some(run.seed as i64);
    sim.horizon = Some(Quantity(horizon));
    sim.grid = Some(Quantity(step));
    sim.landmarks = Some(vec![Quantity(horizon)]);
    sim.threads = Some(run.threads as i64);
    sim.reference = None;
}

fn run_model(model: &Model, cohort: &str, run: &RunSettings) -> Result<Tally, CheckError> {
    engine::simulate(
        model,
        &Control {
            threads: run.threads,
            progress: run.progress,
            ..Control::default()
        },
    )
    .map_err(|source| CheckError::Engine {
        cohort: cohort.to_string(),
        source,
    })
}

fn origin_tally(tally: &Tally, strategy: usize, origin: Origin) -> &OriginTally {
    let s = &tally.strategies[strategy];
    match origin {
        Origin::Entry => &s.entry,
        Origin::Hsct2 => &s.hsct2,
    }
}

fn cumulative_at(counts: &[u64], cell: usize) -> u64 {
    counts[..=cell].iter().sum()
}

/// A proportion endpoint read from a tally.
fn proportion(model: &Model, layout: &Layout, ot: &OriginTally, target: &Target) -> Simulated {
    let n = ot.patients;
    let horizon = if target.horizon.is_nan() {
        layout.horizon
    } else {
        target.horizon
    };
    let cell = layout.cell(horizon).min(layout.grid_len - 1);
    let k = match &target.endpoint {
        Endpoint::Os | Endpoint::MedianOs => n - cumulative_at(&ot.deaths, cell),
        Endpoint::Lfs | Endpoint::MedianLfs => {
            n - cumulative_at(&ot.relapses, cell) - cumulative_at(&ot.nrm, cell)
        }
        Endpoint::Cir => cumulative_at(&ot.relapses, cell),
        Endpoint::Nrm => cumulative_at(&ot.nrm, cell),
        Endpoint::Reached(s) => model.state_index(s).map_or(0, |i| ot.reached[i]),
        Endpoint::NotReached(s) => n - model.state_index(s).map_or(0, |i| ot.reached[i]),
        Endpoint::OsHazardRatio => 0,
    };
    if n == 0 {
        return Simulated {
            estimate: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            patients: 0,
        };
    }
    let (lower, upper) = wilson(k as f64, n as f64);
    Simulated {
        estimate: k as f64 / n as f64,
        lower,
        upper,
        patients: n,
    }
}

/// Deaths by grid cell up to the horizon, for the hazard-ratio estimate.
fn grouped_deaths(layout: &Layout, ot: &OriginTally, horizon: f64) -> GroupedDeaths {
    let cell = layout.cell(horizon).min(layout.grid_len - 1);
    GroupedDeaths {
        patients: ot.patients as f64,
        deaths: ot.deaths[..=cell].iter().map(|d| *d as f64).collect(),
    }
}

fn strategy_of(model: &Model, target: &Target) -> usize {
    target
        .strategy
        .as_deref()
        .and_then(|s| model.strategy_index(s))
        .unwrap_or(0)
}

/// Which targets a run simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every target (`check`).
    All,
    /// Only what the fit's objective needs: cohorts with a `fit` target, and the groups of
    /// hazard-ratio targets used for fitting.
    FitOnly,
}

const MISSING: Simulated = Simulated {
    estimate: f64::NAN,
    lower: f64::NAN,
    upper: f64::NAN,
    patients: 0,
};

/// Simulates one cohort (model given as a composition whose base may have been changed by
/// a fit) and returns its targets' simulated values in file order.
pub fn simulate_cohort(
    targets: &Targets,
    model: &Composed,
    cohort: &Cohort,
    run: &RunSettings,
    selection: Selection,
) -> Result<Vec<Simulated>, CheckError> {
    let wanted = |t: &Target| selection == Selection::All || t.usage == Usage::Fit;
    if !cohort.targets.iter().any(wanted) {
        return Ok(vec![MISSING; cohort.targets.len()]);
    }
    let mut composed = targets.compose(model, cohort)?;
    prepare(&mut composed, cohort, run);
    let built = composed.build(&cohort.name)?;
    let tally = run_model(&built, &cohort.name, run)?;
    let layout = Layout::new(&built);
    let mut out = Vec::with_capacity(cohort.targets.len());
    for target in &cohort.targets {
        let strategy = strategy_of(&built, target);
        let value = match &target.arms {
            Some(_) if !wanted(target) => MISSING,
            None => proportion(
                &built,
                &layout,
                origin_tally(&tally, strategy, target.origin),
                target,
            ),
            Some(arms) => hazard_ratio(targets, &composed, cohort, target, arms, run)?,
        };
        out.push(value);
    }
    Ok(out)
}

/// The simulated hazard ratio of a target: the two groups, stratified on `adjust_for`
/// (each stratum simulated with its share of the patients, at least 500, and weighed by its
/// probability in the cohort).
fn hazard_ratio(
    targets: &Targets,
    cohort_model: &Composed,
    cohort: &Cohort,
    target: &Target,
    arms: &(
        crate::scenario::format::ScenarioFile,
        crate::scenario::format::ScenarioFile,
    ),
    run: &RunSettings,
) -> Result<Simulated, CheckError> {
    let strata = super::targets::strata(&cohort_model.file, &target.adjust_for)
        .map_err(|m| CheckError::Scenario(ScenarioError::whole_file(&targets.file, m, None)))?;
    let mut grouped = Vec::with_capacity(strata.len());
    let mut patients = 0;
    for (weight, stratum) in &strata {
        let n = ((run.patients as f64 * weight).round() as u64).max(500);
        let scale = run.patients as f64 * weight / n as f64;
        let mut pair = Vec::with_capacity(2);
        for (k, overlay) in [(0, &arms.0), (1, &arms.1)] {
            let mut arm = targets
                .compose_arm(cohort_model, cohort, target, k, overlay)?
                .overlay(
                    stratum,
                    crate::scenario::compose::Layer {
                        file: targets.file.clone(),
                        source: targets.source.clone(),
                        prefix: crate::toml_path![
                            "cohorts",
                            cohort.index,
                            "targets",
                            target.index,
                            "adjust_for"
                        ],
                    },
                )?;
            prepare(&mut arm, cohort, run);
            arm.file.simulation.patients = Some(n as i64);
            let arm_model = arm.build(&cohort.name)?;
            let arm_tally = run_model(&arm_model, &cohort.name, run)?;
            let arm_layout = Layout::new(&arm_model);
            let s = strategy_of(&arm_model, target);
            let mut g = grouped_deaths(
                &arm_layout,
                origin_tally(&arm_tally, s, target.origin),
                target.horizon,
            );
            g.patients *= scale;
            g.deaths.iter_mut().for_each(|d| *d *= scale);
            patients += n;
            pair.push(g);
        }
        let unexposed = pair.pop().unwrap_or(GroupedDeaths {
            patients: 0.0,
            deaths: Vec::new(),
        });
        let exposed = pair.pop().unwrap_or(GroupedDeaths {
            patients: 0.0,
            deaths: Vec::new(),
        });
        grouped.push((exposed, unexposed));
    }
    Ok(match cox_stratified(&grouped) {
        Some(hr) => Simulated {
            estimate: hr.hr,
            lower: hr.lower,
            upper: hr.upper,
            patients,
        },
        None => Simulated {
            patients,
            ..MISSING
        },
    })
}

/// Simulates every cohort; values by cohort, then target, in file order.
///
/// Cohorts run side by side, one worker each: a cohort of 10⁴–10⁵ patients is too small to
/// keep several cores busy on its own, and the result is the same either way (each
/// patient's random numbers depend only on the seed and the patient).
pub fn simulate_all(
    targets: &Targets,
    model: &Composed,
    run: &RunSettings,
    selection: Selection,
) -> Result<Vec<Vec<Simulated>>, CheckError> {
    use rayon::prelude::*;
    let threads = crate::model::worker_threads(run.threads);
    let one = RunSettings { threads: 1, ..*run };
    let each = |c: &Cohort| simulate_cohort(targets, model, c, &one, selection);
    if threads <= 1 || targets.cohorts.len() < 2 {
        return targets.cohorts.iter().map(each).collect();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CheckError::Engine {
            cohort: String::new(),
            source: EngineError::Threads {
                threads,
                message: e.to_string(),
            },
        })?;
    pool.install(|| targets.cohorts.par_iter().map(each).collect())
}

/// Patients `check` simulates in all (for a progress bar).
pub fn total_patients(targets: &Targets, patients: u64) -> u64 {
    targets
        .all()
        .map(|(_, t)| if t.arms.is_some() { 2 } else { 0 })
        .sum::<u64>()
        .saturating_add(targets.cohorts.len() as u64)
        .saturating_mul(patients)
}

/// The table rows: published against simulated.
pub fn rows(targets: &Targets, simulated: &[Vec<Simulated>]) -> Vec<CheckedTarget> {
    let mut out = Vec::new();
    for (cohort, values) in targets.cohorts.iter().zip(simulated) {
        for (target, sim) in cohort.targets.iter().zip(values) {
            let percent = target.endpoint.is_proportion();
            let unit = if percent { 100.0 } else { 1.0 };
            let (pl, pu) = target.interval.unwrap_or((f64::NAN, f64::NAN));
            let has_interval = target.interval.is_some();
            let overlap = (has_interval && !sim.estimate.is_nan())
                .then_some(pl.max(sim.lower) <= pu.min(sim.upper));
            let inside = (has_interval && !sim.estimate.is_nan())
                .then_some(sim.estimate >= pl - 1e-12 && sim.estimate <= pu + 1e-12);
            out.push(CheckedTarget {
                study: cohort.study.clone(),
                id: target.id.clone(),
                cohort: cohort.name.clone(),
                group: target.group.clone(),
                endpoint: target.endpoint_text.clone(),
                origin: target.origin.as_str().to_string(),
                horizon: if target.horizon.is_nan() {
                    cohort.follow_up
                } else {
                    target.horizon
                },
                scale: if percent { "percent" } else { "ratio" },
                published: target.published * unit,
                published_lower: pl * unit,
                published_upper: pu * unit,
                simulated: sim.estimate * unit,
                simulated_lower: sim.lower * unit,
                simulated_upper: sim.upper * unit,
                n: target.n,
                overlap,
                inside,
                deviation: (sim.estimate - target.published) * unit,
                usage: target.usage.as_str(),
                landmark: target.is_landmark(),
                note: target.note.clone(),
            });
        }
    }
    out
}

/// Columns of `check.csv`, in order.
pub const COLUMNS: [&str; 22] = [
    "study",
    "id",
    "cohort",
    "group",
    "endpoint",
    "origin",
    "horizon",
    "scale",
    "published",
    "published_lower",
    "published_upper",
    "simulated",
    "simulated_lower",
    "simulated_upper",
    "n",
    "overlap",
    "inside",
    "deviation",
    "use",
    "landmark",
    "interval",
    "note",
];

fn round(x: f64, digits: i32) -> String {
    if x.is_nan() {
        return String::new();
    }
    let f = 10f64.powi(digits);
    crate::output::number((x * f).round() / f)
}

fn flag(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

/// `check.csv`: one row per target (percent values to 2 decimals, ratios to 3).
pub fn to_csv(rows: &[CheckedTarget]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    for r in rows {
        let d = if r.scale == "percent" { 2 } else { 3 };
        let _ = w.write_record([
            r.study.as_str(),
            &r.id,
            &r.cohort,
            &r.group,
            &r.endpoint,
            &r.origin,
            &round(r.horizon, 3),
            r.scale,
            &round(r.published, d),
            &round(r.published_lower, d),
            &round(r.published_upper, d),
            &round(r.simulated, d),
            &round(r.simulated_lower, d),
            &round(r.simulated_upper, d),
            &r.n.map_or(String::new(), |n| n.to_string()),
            flag(r.overlap),
            flag(r.inside),
            &round(r.deviation, d),
            r.usage,
            if r.landmark { "true" } else { "false" },
            if r.scale == "percent" {
                "wilson"
            } else {
                "log-normal"
            },
            &r.note,
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// The acceptance figures of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Landmark targets with a published interval.
    pub landmarks: usize,
    /// Of those, simulated value inside the published interval.
    pub landmarks_inside: usize,
    /// Largest |simulated − published| over landmark targets, percentage points.
    pub landmark_max_deviation: f64,
    /// Landmark targets more than 10 points off.
    pub landmarks_beyond_10: usize,
    /// All targets with an interval.
    pub all: usize,
    /// Of those, inside.
    pub all_inside: usize,
    /// Fit targets inside / with an interval.
    pub fit: (usize, usize),
    /// Validation targets inside / with an interval.
    pub validate: (usize, usize),
}

/// Counts for the acceptance figures.
pub fn summarize(rows: &[CheckedTarget]) -> Summary {
    let with = |r: &&CheckedTarget| r.inside.is_some();
    let inside = |r: &&&CheckedTarget| r.inside == Some(true);
    let landmark: Vec<&CheckedTarget> = rows.iter().filter(|r| r.landmark).filter(with).collect();
    let count = |usage: &str| {
        let rs: Vec<&CheckedTarget> = rows
            .iter()
            .filter(|r| r.usage == usage)
            .filter(with)
            .collect();
        (rs.iter().filter(inside).count(), rs.len())
    };
    Summary {
        landmarks: landmark.len(),
        landmarks_inside: landmark.iter().filter(inside).count(),
        landmark_max_deviation: landmark
            .iter()
            .map(|r| r.deviation.abs())
            .fold(0.0, f64::max),
        landmarks_beyond_10: landmark.iter().filter(|r| r.deviation.abs() > 10.0).count(),
        all: rows.iter().filter(with).count(),
        all_inside: rows.iter().filter(|r| r.inside == Some(true)).count(),
        fit: count(Usage::Fit.as_str()),
        validate: count(Usage::Validate.as_str()),
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        write!(
            f,
            "landmark targets (OS, LFS, CIR, NRM at 12–36 months): {} of {} inside the published 95 % interval ({:.0} %); largest deviation {:.1} points; {} more than 10 points off\nall targets: {} of {} inside (fit {} of {}, validation {} of {})",
            self.landmarks_inside,
            self.landmarks,
            pct(self.landmarks_inside, self.landmarks),
            self.landmark_max_deviation,
            self.landmarks_beyond_10,
            self.all_inside,
            self.all,
            self.fit.0,
            self.fit.1,
            self.validate.0,
            self.validate.1
        )
    }
}

/// The table for a terminal: one line per target.
pub fn table(rows: &[CheckedTarget]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<26} {:<6} {:<11} {:<6} {:>6}  {:>22}  {:>22}  {:>5}  {}\n",
        "study",
        "id",
        "endpoint",
        "origin",
        "month",
        "published [95 % CI]",
        "simulated [95 % CI]",
        "n",
        "inside"
    ));
    for r in rows {
        let d = if r.scale == "percent" { 1 } else { 2 };
        let cell = |v: f64, lo: f64, hi: f64| {
            if lo.is_nan() {
                format!("{v:.d$}")
            } else {
                format!("{v:.d$} [{lo:.d$}, {hi:.d$}]")
            }
        };
        let mut study: String = r.study.chars().take(26).collect();
        if !r.group.is_empty() && study.chars().count() < 18 {
            study = format!("{study}: {}", r.group).chars().take(26).collect();
        }
        out.push_str(&format!(
            "{:<26} {:<6} {:<11} {:<6} {:>6.1}  {:>22}  {:>22}  {:>5}  {}{}\n",
            study,
            r.id,
            r.endpoint.chars().take(11).collect::<String>(),
            r.origin,
            r.horizon,
            cell(r.published, r.published_lower, r.published_upper),
            cell(r.simulated, r.simulated_lower, r.simulated_upper),
            r.n.map_or("-".into(), |n| n.to_string()),
            match r.inside {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            },
            if r.usage == "validate" {
                " (validation)"
            } else {
                ""
            }
        ));
    }
    out
}

/// The rows of an `hsctsim check` as the figure draws them: its percentages as proportions,
/// each study labelled with its subgroup, as in the check table (shortened to fit).
/// Hazard-ratio targets (scale `ratio`) have no place on either axis and are left out; a
/// published median is checked as survival at that time (50 % published), so it is drawn
/// as such (`median_os` at 4 months → OS at 4 mo).
pub fn figure_rows(rows: &[CheckedTarget]) -> Vec<CheckRow> {
    let proportion = |v: f64| (v.is_finite()).then_some(v / 100.0);
    let interval = |l: f64, u: f64| proportion(l).zip(proportion(u));
    rows.iter()
        .filter(|r| r.scale == "percent")
        .map(|r| CheckRow {
            study: calibration::study_label(&r.study, &r.group),
            endpoint: calibration::as_proportion(&r.endpoint),
            origin: r.origin.clone(),
            horizon: Some(r.horizon),
            published: r.published / 100.0,
            published_interval: interval(r.published_lower, r.published_upper),
            simulated: r.simulated / 100.0,
            simulated_interval: interval(r.simulated_lower, r.simulated_upper),
            n: r.n.map(|n| n as f64),
        })
        .collect()
}
