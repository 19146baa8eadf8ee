//! Estimates with 95 % intervals from the accumulated counts: curves and the summary.
//!
//! Every simulated patient is followed to the end of the window (no censoring), so each
//! curve value is a proportion of patients and its Monte Carlo interval is a binomial
//! (Wilson) interval. Kaplan–Meier and Aalen–Johansen reduce to these proportions without
//! censoring, which is what the patient-level export checks.

use super::{Layout, OriginTally, StrategyTally, Tally};
use crate::aggregate::economic_estimates::EconomicResults;
use crate::model::Model;
use crate::stats::{Z95, mean_interval, wilson};

/// Time origin of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Time since cohort entry (relapse or graft failure after HSCT1).
    Entry,
    /// Time since the second transplant, among those transplanted within the horizon.
    Hsct2,
}

impl Origin {
    /// The name used in CSV files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::Entry => "entry",
            Origin::Hsct2 => "hsct2",
        }
    }
}

/// One row of `curves.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRow {
    /// Strategy name.
    pub strategy: String,
    /// Time origin.
    pub origin: Origin,
    /// `os`, `lfs`, `cir`, `nrm` or `state:<name>`.
    pub measure: String,
    /// Months since the origin.
    pub time: f64,
    /// Estimate.
    pub estimate: f64,
    /// Lower 95 % limit.
    pub lower: f64,
    /// Upper 95 % limit.
    pub upper: f64,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Strategy name.
    pub strategy: String,
    /// Time origin.
    pub origin: Origin,
    /// Statistic name (see the README).
    pub statistic: String,
    /// Time it refers to (landmark or horizon), if any.
    pub time: Option<f64>,
    /// Estimate (NaN when not estimable, e.g. a median not reached).
    pub estimate: f64,
    /// Standard error, where one applies.
    pub se: Option<f64>,
    /// Lower 95 % limit.
    pub lower: f64,
    /// Upper 95 % limit.
    pub upper: f64,
}

/// Curves and summary of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// Rows of `curves.csv`, in output order.
    pub curves: Vec<CurveRow>,
    /// Rows of `summary.csv`, in output order.
    pub summary: Vec<SummaryRow>,
    /// Costs, life-years, QALYs and the incremental analysis, when the model has economics.
    pub economics: Option<EconomicResults>,
}

/// Cumulative sums of per-cell counts over the grid (the last cell, "beyond", is dropped).
fn cumulative(counts: &[u64], grid_len: usize) -> Vec<u64> {
    let mut total = 0;
    counts[..grid_len]
        .iter()
        .map(|c| {
            total += c;
            total
        })
        .collect()
}

fn proportion_row(
    strategy: &str,
    origin: Origin,
    measure: &str,
    time: f64,
    k: u64,
    n: u64,
) -> CurveRow {
    let (lower, upper) = wilson(k as f64, n as f64);
    CurveRow {
        strategy: strategy.to_string(),
        origin,
        measure: measure.to_string(),
        time,
        estimate: k as f64 / n as f64,
        lower,
        upper,
    }
}

/// Median survival and its interval from the fine death histogram: the first time the
/// curve (or its interval limits) reaches 50 %, NaN if it never does within the horizon.
fn median_survival(tally: &OriginTally, layout: &Layout) -> (f64, f64, f64) {
    let n = tally.patients as f64;
    let width = layout.fine_width();
    let (mut median, mut lower, mut upper) = (f64::NAN, f64::NAN, f64::NAN);
    let mut dead = 0u64;
    for (bin, &count) in tally.death_fine.iter().enumerate() {
        let before = dead;
        dead += count;
        let survival = 1.0 - dead as f64 / n;
        let (ci_low, ci_high) = wilson((tally.patients - dead) as f64, n);
        if median.is_nan() && survival <= 0.5 && count > 0 {
            // Interpolate linearly within the bin.
            let needed = 0.5 * n - before as f64;
            median = (bin as f64 + (needed / count as f64).clamp(0.0, 1.0)) * width;
        }
        // Interval limits to bin resolution, widened outward (start of bin for the lower).
        if lower.is_nan() && ci_low <= 0.5 {
            lower = bin as f64 * width;
        }
        if upper.is_nan() && ci_high < 0.5 {
            upper = (bin + 1) as f64 * width;
        }
    }
    (median, lower, upper)
}

impl Results {
    /// Estimates from a finished tally.
    pub fn from_tally(model: &Model, tally: &Tally) -> Results {
        let layout = Layout::new(model);
        let grid = model.settings.grid();
        let mut curves = Vec::new();
        let mut summary = Vec::new();
        for (s, st) in tally.strategies.iter().enumerate() {
            let name = &model.strategies[s].name;
            for (origin, ot) in [(Origin::Entry, &st.entry), (Origin::Hsct2, &st.hsct2)] {
                if ot.patients == 0 {
                    if origin == Origin::Entry || model.has_hsct2_origin() {
                        summary.push(SummaryRow {
                            strategy: name.clone(),
                            origin,
                            statistic: "patients".into(),
                            time: None,
                            estimate: 0.0,
                            se: None,
                            lower: f64::NAN,
                            upper: f64::NAN,
                        });
                    }
                    continue;
                }
                curves.extend(origin_curves(model, &layout, &grid, name, origin, ot));
                summary.extend(origin_summary(model, &layout, name, origin, ot));
            }
            if s != layout.reference && tally.strategies.len() > 1 {
                summary.extend(paired_summary(model, &layout, name, st, tally.patients));
            }
        }
        let economics = match (&model.economics, &tally.economics) {
            (Some(values), Some(sums)) => {
                let names: Vec<String> = model.strategies.iter().map(|s| s.name.clone()).collect();
                Some(EconomicResults::new(
                    sums,
                    &names,
                    tally.patients,
                    &values.wtp,
                    layout.reference,
                ))
            }
            _ => None,
        };
        Results {
            curves,
            summary,
            economics,
        }
    }
}

fn origin_curves(
    model: &Model,
    layout: &Layout,
    grid: &[f64],
    name: &str,
    origin: Origin,
    ot: &OriginTally,
) -> Vec<CurveRow> {
    let n = ot.patients;
    let g = layout.grid_len;
    let mut rows = Vec::with_capacity((4 + model.states.len()) * g);
    let deaths = cumulative(&ot.deaths, g);
    let relapses = cumulative(&ot.relapses, g);
    let nrm = cumulative(&ot.nrm, g);
    for (i, &t) in grid.iter().enumerate() {
        rows.push(proportion_row(name, origin, "os", t, n - deaths[i], n));
    }
    for (i, &t) in grid.iter().enumerate() {
        rows.push(proportion_row(
            name,
            origin,
            "lfs",
            t,
            n - relapses[i] - nrm[i],
            n,
        ));
    }
    for (i, &t) in grid.iter().enumerate() {
        rows.push(proportion_row(name, origin, "cir", t, relapses[i], n));
    }
    for (i, &t) in grid.iter().enumerate() {
        rows.push(proportion_row(name, origin, "nrm", t, nrm[i], n));
    }
    let cells = g + 1;
    for (state, info) in model.states.iter().enumerate() {
        let measure = format!("state:{}", info.name);
        let mut occupied: i64 = 0;
        for (i, &t) in grid.iter().enumerate() {
            occupied += ot.occupancy[state * cells + i];
            rows.push(proportion_row(
                name,
                origin,
                &measure,
                t,
                occupied.max(0) as u64,
                n,
            ));
        }
    }
    rows
}

fn origin_summary(
    model: &Model,
    layout: &Layout,
    name: &str,
    origin: Origin,
    ot: &OriginTally,
) -> Vec<SummaryRow> {
    let n = ot.patients;
    let nf = n as f64;
    let row = |statistic: &str,
               time: Option<f64>,
               estimate: f64,
               se: Option<f64>,
               lower: f64,
               upper: f64| SummaryRow {
        strategy: name.to_string(),
        origin,
        statistic: statistic.to_string(),
        time,
        estimate,
        se,
        lower,
        upper,
    };
    let proportion = |statistic: &str, time: Option<f64>, k: u64| {
        let p = k as f64 / nf;
        let (lower, upper) = wilson(k as f64, nf);
        row(
            statistic,
            time,
            p,
            Some((p * (1.0 - p) / nf).sqrt()),
            lower,
            upper,
        )
    };
    let mut rows = vec![row("patients", None, nf, None, f64::NAN, f64::NAN)];
    let g = layout.grid_len;
    let deaths = cumulative(&ot.deaths, g);
    let relapses = cumulative(&ot.relapses, g);
    let nrm = cumulative(&ot.nrm, g);
    for &landmark in &layout.landmarks {
        let i = layout.cell(landmark).min(g - 1);
        rows.push(proportion("os", Some(landmark), n - deaths[i]));
        rows.push(proportion("lfs", Some(landmark), n - relapses[i] - nrm[i]));
        rows.push(proportion("cir", Some(landmark), relapses[i]));
        rows.push(proportion("nrm", Some(landmark), nrm[i]));
    }
    let (median, lower, upper) = median_survival(ot, layout);
    rows.push(row("median_os", None, median, None, lower, upper));
    let (m, se, lo, hi) = mean_interval(nf, ot.os_time.value(), ot.os_time_sq.value());
    rows.push(row("rmst_os", Some(layout.horizon), m, Some(se), lo, hi));
    let (m, se, lo, hi) = mean_interval(nf, ot.lfs_time.value(), ot.lfs_time_sq.value());
    rows.push(row("rmst_lfs", Some(layout.horizon), m, Some(se), lo, hi));
    for (state, info) in model.states.iter().enumerate() {
        rows.push(proportion(
            &format!("reached:{}", info.name),
            Some(layout.horizon),
            ot.reached[state],
        ));
    }
    rows
}

/// Differences against the reference strategy from the same patients (common random
/// numbers): the paired standard error is much smaller than that of two independent arms.
fn paired_summary(
    model: &Model,
    layout: &Layout,
    name: &str,
    st: &StrategyTally,
    patients: u64,
) -> Vec<SummaryRow> {
    let n = patients as f64;
    let _ = model;
    let mut rows = Vec::new();
    let (m, se, lower, upper) =
        mean_interval(n, st.paired_os_time.value(), st.paired_os_time_sq.value());
    rows.push(SummaryRow {
        strategy: name.to_string(),
        origin: Origin::Entry,
        statistic: "delta_rmst_os".into(),
        time: Some(layout.horizon),
        estimate: m,
        se: Some(se),
        lower,
        upper,
    });
    for (k, &landmark) in layout.landmarks.iter().enumerate() {
        let [better, worse] = st.paired_alive[k];
        let (b, w) = (better as f64, worse as f64);
        let difference = (b - w) / n;
        let variance = ((b + w) - (b - w).powi(2) / n) / (n * n);
        let se = variance.max(0.0).sqrt();
        rows.push(SummaryRow {
            strategy: name.to_string(),
            origin: Origin::Entry,
            statistic: "delta_os".into(),
            time: Some(landmark),
            estimate: difference,
            se: Some(se),
            lower: difference - Z95 * se,
            upper: difference + Z95 * se,
        });
    }
    rows
}
