//! Estimates from the economic sums: means with Monte Carlo standard errors, net monetary
//! benefit, paired incremental net benefit against the reference strategy, and the
//! incremental analysis with paired standard errors of each increment.

use crate::aggregate::economics::{EconomicTally, pair_index};
use crate::econ::incremental::{Status, analyse};
use crate::stats::{Z95, mean_interval};

/// One row of `economics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    /// Strategy name.
    pub strategy: String,
    /// `cost`, `cost_undiscounted`, `life_years`, `life_years_undiscounted`, `qalys`,
    /// `qalys_undiscounted`, `nmb` or `inmb`.
    pub statistic: &'static str,
    /// Willingness to pay per QALY (net benefit rows).
    pub wtp: Option<f64>,
    /// Mean per patient.
    pub estimate: f64,
    /// Monte Carlo standard error.
    pub se: f64,
    /// Lower 95 % limit.
    pub lower: f64,
    /// Upper 95 % limit.
    pub upper: f64,
}

/// One row of `incremental.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct IncrementRow {
    /// Strategy name.
    pub strategy: String,
    /// Mean discounted cost.
    pub cost: f64,
    /// Mean discounted QALYs.
    pub qalys: f64,
    /// `frontier`, `dominated` or `extendedly_dominated`.
    pub status: &'static str,
    /// The strategy it is compared with (previous on the frontier, or the dominating one).
    pub comparator: Option<String>,
    /// Cost increment and its paired standard error.
    pub delta_cost: f64,
    /// Its standard error.
    pub delta_cost_se: f64,
    /// QALY increment.
    pub delta_qalys: f64,
    /// Its standard error.
    pub delta_qalys_se: f64,
    /// ICER (frontier strategies after the first).
    pub icer: f64,
}

/// All economic estimates of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct EconomicResults {
    /// `economics.csv`.
    pub values: Vec<ValueRow>,
    /// `incremental.csv`, in cost order.
    pub increments: Vec<IncrementRow>,
}

/// Paired moments of `a − b` per patient: means and the covariance matrix entries.
struct Paired {
    cost: f64,
    qalys: f64,
    var_cost: f64,
    var_qalys: f64,
    covariance: f64,
}

fn paired(tally: &EconomicTally, a: usize, b: usize, n: f64) -> Paired {
    let strategies = tally.strategies.len();
    let (lo, hi, sign) = if a < b { (a, b, 1.0) } else { (b, a, -1.0) };
    let p = &tally.pairs[pair_index(lo, hi, strategies)];
    let moments = |sum: f64, squares: f64| {
        let mean = sum / n;
        (mean, ((squares - n * mean * mean) / (n - 1.0)).max(0.0))
    };
    let (cost, var_cost) = moments(p.cost.sum.value(), p.cost.squares.value());
    let (qalys, var_qalys) = moments(p.qalys.sum.value(), p.qalys.squares.value());
    let covariance = (p.cross.value() - n * cost * qalys) / (n - 1.0);
    Paired {
        cost: sign * cost,
        qalys: sign * qalys,
        var_cost,
        var_qalys,
        covariance,
    }
}

impl EconomicResults {
    /// Estimates for strategies `names` (in tally order) over `patients` patients, with net
    /// benefit at each threshold in `wtp` and increments against strategy `reference`.
    pub fn new(
        tally: &EconomicTally,
        names: &[String],
        patients: u64,
        wtp: &[f64],
        reference: usize,
    ) -> EconomicResults {
        // Every patient is in the sums: a life they cannot hold stops the run instead.
        let n = patients as f64;
        let mut values = Vec::new();
        let row = |strategy: &str,
                   statistic: &'static str,
                   wtp: Option<f64>,
                   (estimate, se, lower, upper): (f64, f64, f64, f64)| ValueRow {
            strategy: strategy.to_string(),
            statistic,
            wtp,
            estimate,
            se,
            lower,
            upper,
        };
        let mut mean_cost = Vec::new();
        let mut mean_qalys = Vec::new();
        for (s, v) in tally.strategies.iter().enumerate() {
            let name = &names[s];
            let m = |sum: f64, squares: f64| mean_interval(n, sum, squares);
            let cost = m(
                v.cost_discounted.sum.value(),
                v.cost_discounted.squares.value(),
            );
            let qalys = m(
                v.qalys_discounted.sum.value(),
                v.qalys_discounted.squares.value(),
            );
            mean_cost.push(cost.0);
            mean_qalys.push(qalys.0);
            values.push(row(name, "cost", None, cost));
            values.push(row(
                name,
                "cost_undiscounted",
                None,
                m(v.cost.sum.value(), v.cost.squares.value()),
            ));
            values.push(row(
                name,
                "life_years",
                None,
                m(
                    v.life_years_discounted.sum.value(),
                    v.life_years_discounted.squares.value(),
                ),
            ));
            values.push(row(
                name,
                "life_years_undiscounted",
                None,
                m(v.life_years.sum.value(), v.life_years.squares.value()),
            ));
            values.push(row(name, "qalys", None, qalys));
            values.push(row(
                name,
                "qalys_undiscounted",
                None,
                m(v.qalys.sum.value(), v.qalys.squares.value()),
            ));
            // Net monetary benefit λE − C: Var = λ²Var(E) − 2λCov(C, E) + Var(C).
            let (var_c, var_e) = ((cost.1 * cost.1) * n, (qalys.1 * qalys.1) * n);
            let cov = (v.cross.value() - n * cost.0 * qalys.0) / (n - 1.0);
            for &lambda in wtp {
                let estimate = lambda * qalys.0 - cost.0;
                let se =
                    ((lambda * lambda * var_e - 2.0 * lambda * cov + var_c).max(0.0) / n).sqrt();
                values.push(row(
                    name,
                    "nmb",
                    Some(lambda),
                    (estimate, se, estimate - Z95 * se, estimate + Z95 * se),
                ));
            }
        }
        for (s, name) in names.iter().enumerate() {
            if s == reference {
                continue;
            }
            let d = paired(tally, s, reference, n);
            for &lambda in wtp {
                let estimate = lambda * d.qalys - d.cost;
                let variance =
                    lambda * lambda * d.var_qalys - 2.0 * lambda * d.covariance + d.var_cost;
                let se = (variance.max(0.0) / n).sqrt();
                values.push(row(
                    name,
                    "inmb",
                    Some(lambda),
                    (estimate, se, estimate - Z95 * se, estimate + Z95 * se),
                ));
            }
        }
        let increments = analyse(&mean_cost, &mean_qalys)
            .into_iter()
            .map(|inc| {
                let (delta_cost_se, delta_qalys_se) = match inc.comparator {
                    Some(c) => {
                        let d = paired(tally, inc.strategy, c, n);
                        ((d.var_cost / n).sqrt(), (d.var_qalys / n).sqrt())
                    }
                    None => (f64::NAN, f64::NAN),
                };
                IncrementRow {
                    strategy: names[inc.strategy].clone(),
                    cost: inc.cost,
                    qalys: inc.effect,
                    status: inc.status.as_str(),
                    comparator: inc.comparator.map(|c| names[c].clone()),
                    delta_cost: inc.delta_cost,
                    delta_cost_se,
                    delta_qalys: inc.delta_effect,
                    delta_qalys_se,
                    icer: if inc.status == Status::Frontier {
                        inc.icer
                    } else {
                        f64::NAN
                    },
                }
            })
            .collect();
        EconomicResults { values, increments }
    }
}
