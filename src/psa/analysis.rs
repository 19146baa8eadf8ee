//! What the draws say: distributions of costs and effects, acceptability curves and their
//! frontier, and the expected value of perfect information.
//!
//! At a willingness to pay λ, draw d values strategy s at NB(s, d) = λ·QALYs − cost. The
//! acceptability curve of s is the share of draws in which s has the highest NB; the
//! frontier (CEAF) marks the strategy with the highest *expected* NB, which is the one to
//! choose now (it need not have the highest probability). EVPI per patient is
//! `E_d[max_s NB] − max_s E_d[NB]`: what resolving all parameter uncertainty would be worth.

use super::{DrawOutcome, Means};
use crate::econ::incremental::{self, Increment};

/// One point of the acceptability curves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CeacPoint {
    /// Willingness to pay per QALY.
    pub wtp: f64,
    /// Strategy index.
    pub strategy: usize,
    /// Share of draws in which the strategy has the highest net benefit.
    pub probability: f64,
    /// Mean net monetary benefit over the draws.
    pub expected_nmb: f64,
    /// Highest expected net benefit at this wtp (on the frontier).
    pub optimal: bool,
}

/// A statistic's distribution over the draws.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Strategy index.
    pub strategy: usize,
    /// `cost`, `qalys`, `incremental_cost`, `nmb`, `probability_cost_effective`, …
    pub statistic: &'static str,
    /// Threshold, for net-benefit statistics.
    pub wtp: Option<f64>,
    /// Mean over the draws.
    pub mean: f64,
    /// Standard deviation over the draws (`None` for a probability).
    pub sd: Option<f64>,
    /// 2.5 % percentile.
    pub lower: Option<f64>,
    /// 97.5 % percentile.
    pub upper: Option<f64>,
}

/// Everything derived from the draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Acceptability curves, by wtp then strategy.
    pub ceac: Vec<CeacPoint>,
    /// EVPI per patient at each wtp of the grid.
    pub evpi: Vec<(f64, f64)>,
    /// Distributions of costs, effects and increments.
    pub summary: Vec<SummaryRow>,
    /// Incremental analysis of the mean costs and QALYs over the draws.
    pub increments: Vec<Increment>,
}

/// Percentile `p` (0–1) of sorted values, interpolating between order statistics (R's type 7).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn distribution_row(
    strategy: usize,
    statistic: &'static str,
    wtp: Option<f64>,
    values: &mut [f64],
) -> SummaryRow {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    values.sort_by(f64::total_cmp);
    SummaryRow {
        strategy,
        statistic,
        wtp,
        mean,
        sd: Some(sd),
        lower: Some(percentile(values, 0.025)),
        upper: Some(percentile(values, 0.975)),
    }
}

/// Index of the largest value; the first on ties, so results never depend on rounding order.
fn best(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Analyses `draws` of `strategies` strategies: acceptability and EVPI on `grid`, and the
/// summary with net benefit and increments against `reference` at each of `thresholds`.
pub fn analyse(
    draws: &[DrawOutcome],
    strategies: usize,
    reference: usize,
    grid: &[f64],
    thresholds: &[f64],
) -> Analysis {
    let n = draws.len().max(1) as f64;
    let mut ceac = Vec::with_capacity(grid.len() * strategies);
    let mut evpi = Vec::with_capacity(grid.len());
    let mut wins = vec![0u64; strategies];
    let mut expected = vec![0.0; strategies];
    for &wtp in grid {
        wins.fill(0);
        expected.fill(0.0);
        let mut perfect = 0.0;
        for d in draws {
            let winner = best(d.means.iter().map(|m| m.nmb(wtp)));
            wins[winner] += 1;
            perfect += d.means[winner].nmb(wtp);
            for (e, m) in expected.iter_mut().zip(&d.means) {
                *e += m.nmb(wtp);
            }
        }
        for e in expected.iter_mut() {
            *e /= n;
        }
        let optimal = best(expected.iter().copied());
        // Perfect information is never worth less than nothing; clamp rounding below 0.
        evpi.push((wtp, (perfect / n - expected[optimal]).max(0.0)));
        for s in 0..strategies {
            ceac.push(CeacPoint {
                wtp,
                strategy: s,
                probability: wins[s] as f64 / n,
                expected_nmb: expected[s],
                optimal: s == optimal,
            });
        }
    }

    let mut summary = Vec::new();
    let column = |f: &dyn Fn(&Means) -> f64, s: usize| -> Vec<f64> {
        draws.iter().map(|d| f(&d.means[s])).collect()
    };
    type Statistic = (&'static str, fn(&Means) -> f64);
    let statistics: [Statistic; 6] = [
        ("cost", |m| m.cost),
        ("qalys", |m| m.qalys),
        ("life_years", |m| m.life_years),
        ("cost_undiscounted", |m| m.cost_undiscounted),
        ("qalys_undiscounted", |m| m.qalys_undiscounted),
        ("life_years_undiscounted", |m| m.life_years_undiscounted),
    ];
    for s in 0..strategies {
        for (name, f) in statistics {
            summary.push(distribution_row(s, name, None, &mut column(&f, s)));
        }
        if s != reference {
            let mut dc: Vec<f64> = draws
                .iter()
                .map(|d| d.means[s].cost - d.means[reference].cost)
                .collect();
            let mut de: Vec<f64> = draws
                .iter()
                .map(|d| d.means[s].qalys - d.means[reference].qalys)
                .collect();
            summary.push(distribution_row(s, "incremental_cost", None, &mut dc));
            summary.push(distribution_row(s, "incremental_qalys", None, &mut de));
        }
        for &wtp in thresholds {
            summary.push(distribution_row(
                s,
                "nmb",
                Some(wtp),
                &mut column(&|m| m.nmb(wtp), s),
            ));
            if s != reference {
                let mut inmb: Vec<f64> = draws
                    .iter()
                    .map(|d| d.means[s].nmb(wtp) - d.means[reference].nmb(wtp))
                    .collect();
                summary.push(distribution_row(s, "incremental_nmb", Some(wtp), &mut inmb));
            }
            let wins = draws
                .iter()
                .filter(|d| best(d.means.iter().map(|m| m.nmb(wtp))) == s)
                .count();
            summary.push(SummaryRow {
                strategy: s,
                statistic: "probability_cost_effective",
                wtp: Some(wtp),
                mean: wins as f64 / n,
                sd: None,
                lower: None,
                upper: None,
            });
        }
    }

    let mean = |f: fn(&Means) -> f64| -> Vec<f64> {
        (0..strategies)
            .map(|s| draws.iter().map(|d| f(&d.means[s])).sum::<f64>() / n)
            .collect()
    };
    let increments = incremental::analyse(&mean(|m| m.cost), &mean(|m| m.qalys));
    Analysis {
        ceac,
        evpi,
        summary,
        increments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(draw: u64, pairs: &[(f64, f64)]) -> DrawOutcome {
        DrawOutcome {
            draw,
            values: Vec::new(),
            means: pairs
                .iter()
                .map(|&(cost, qalys)| Means {
                    cost,
                    qalys,
                    ..Means::default()
                })
                .collect(),
        }
    }

    /// Two draws where the better strategy swaps: by hand, at λ = 10, NB are
    /// draw 1: A = 10·1 − 0 = 10, B = 10·2 − 5 = 15; draw 2: A = 10·1 − 0 = 10, B = 10·1.2 − 5 = 7.
    /// Expected NB: A 10, B 11 → B optimal with probability 1/2; EVPI = (15 + 10)/2 − 11 = 1.5.
    #[test]
    fn acceptability_and_evpi_by_hand() {
        let draws = [
            outcome(1, &[(0.0, 1.0), (5.0, 2.0)]),
            outcome(2, &[(0.0, 1.0), (5.0, 1.2)]),
        ];
        let a = analyse(&draws, 2, 0, &[0.0, 10.0], &[10.0]);
        let at10: Vec<&CeacPoint> = a.ceac.iter().filter(|p| p.wtp == 10.0).collect();
        assert_eq!(at10[0].probability, 0.5);
        assert_eq!(at10[1].probability, 0.5);
        assert!(!at10[0].optimal && at10[1].optimal);
        assert!((at10[1].expected_nmb - 11.0).abs() < 1e-12);
        assert!((a.evpi[1].1 - 1.5).abs() < 1e-12);
        // At λ = 0 the free strategy always wins and there is nothing to learn.
        assert_eq!(a.ceac[0].probability, 1.0);
        assert_eq!(a.evpi[0].1, 0.0);
        let inc = a
            .summary
            .iter()
            .find(|r| r.strategy == 1 && r.statistic == "incremental_nmb")
            .unwrap();
        assert!((inc.mean - 1.0).abs() < 1e-12);
    }

    #[test]
    fn acceptability_sums_to_one_at_every_threshold() {
        let draws: Vec<DrawOutcome> = (0..50)
            .map(|d| {
                let x = d as f64;
                outcome(
                    d + 1,
                    &[
                        (1000.0 + 10.0 * x, 1.0),
                        (3000.0 - 7.0 * x, 1.02 + 0.001 * x),
                        (2500.0, 1.01),
                    ],
                )
            })
            .collect();
        let grid: Vec<f64> = (0..20).map(|i| 10_000.0 * i as f64).collect();
        let a = analyse(&draws, 3, 0, &grid, &[50_000.0]);
        for &w in &grid {
            let total: f64 = a
                .ceac
                .iter()
                .filter(|p| p.wtp == w)
                .map(|p| p.probability)
                .sum();
            assert!((total - 1.0).abs() < 1e-12);
            assert_eq!(a.ceac.iter().filter(|p| p.wtp == w && p.optimal).count(), 1);
        }
        assert!(a.evpi.iter().all(|&(_, v)| v >= 0.0));
    }

    #[test]
    fn percentiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.025), 1.1);
        assert_eq!(percentile(&v, 1.0), 5.0);
    }
}
