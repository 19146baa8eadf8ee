//! Hazard ratio between two simulated groups, estimated like a Cox model on their data.
//!
//! Why an estimate at all: in this model overall survival is not a transition with a hazard
//! ratio on it. Death comes through non-relapse mortality, relapse and death after relapse,
//! each with its own covariate effects, so the OS hazard ratio of, say, chronic GVHD is an
//! outcome of the simulation, as it is of a study. We estimate it the way the study did:
//! the Cox partial likelihood with one binary covariate, on the two groups' deaths grouped
//! on the simulation grid (Breslow's handling of ties), which is exact up to the grid's
//! resolution of death times. Without censoring, at risk at the start of an interval is
//! everyone not yet dead.

/// Deaths of one group on a time grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedDeaths {
    /// Patients at time 0.
    pub patients: f64,
    /// Deaths in each interval, in time order.
    pub deaths: Vec<f64>,
}

/// A hazard-ratio estimate with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HazardRatio {
    /// Estimate.
    pub hr: f64,
    /// Standard error of log(HR) from the observed information.
    pub se_log: f64,
    /// Lower 95 % limit.
    pub lower: f64,
    /// Upper 95 % limit.
    pub upper: f64,
}

/// Score and information of the partial likelihood at `beta`, summed over strata (each
/// stratum has its own baseline hazard: a stratified Cox model).
fn score(strata: &[(GroupedDeaths, GroupedDeaths)], beta: f64) -> (f64, f64) {
    strata.iter().fold((0.0, 0.0), |(u, i), (e, x)| {
        let (du, di) = stratum_score(e, x, beta);
        (u + du, i + di)
    })
}

fn stratum_score(exposed: &GroupedDeaths, unexposed: &GroupedDeaths, beta: f64) -> (f64, f64) {
    let (mut at_risk1, mut at_risk0) = (exposed.patients, unexposed.patients);
    let (mut u, mut information) = (0.0, 0.0);
    let w = beta.exp();
    for (d1, d0) in exposed.deaths.iter().zip(&unexposed.deaths) {
        let d = d1 + d0;
        if d > 0.0 && at_risk1 + at_risk0 > 0.0 {
            let p = at_risk1 * w / (at_risk1 * w + at_risk0);
            u += d1 - d * p;
            information += d * p * (1.0 - p);
        }
        at_risk1 -= d1;
        at_risk0 -= d0;
    }
    (u, information)
}

/// The Cox estimate of the hazard ratio of `exposed` against `unexposed` (same grid), or
/// `None` when a group has no deaths (the estimate is then 0 or infinite).
pub fn cox_two_groups(exposed: &GroupedDeaths, unexposed: &GroupedDeaths) -> Option<HazardRatio> {
    cox_stratified(&[(exposed.clone(), unexposed.clone())])
}

/// The stratified Cox estimate: one hazard ratio, a baseline hazard per stratum. This is
/// what a published multivariable hazard ratio is compared with: the effect of one factor
/// among patients alike in the others (a marginal hazard ratio over a mixed cohort is
/// pulled toward 1 by the other factors, as hazard ratios do not collapse).
pub fn cox_stratified(strata: &[(GroupedDeaths, GroupedDeaths)]) -> Option<HazardRatio> {
    let total = |pick: fn(&(GroupedDeaths, GroupedDeaths)) -> &GroupedDeaths| {
        strata
            .iter()
            .map(|s| pick(s).deaths.iter().sum::<f64>())
            .sum::<f64>()
    };
    if total(|s| &s.0) <= 0.0 || total(|s| &s.1) <= 0.0 {
        return None;
    }
    // The score falls monotonically in beta: Newton steps kept inside a shrinking bracket.
    let (mut low, mut high) = (-20.0, 20.0);
    let mut beta = 0.0;
    for _ in 0..200 {
        let (u, information) = score(strata, beta);
        if u > 0.0 {
            low = beta;
        } else {
            high = beta;
        }
        let newton = beta + u / information.max(1e-300);
        let next = if newton > low && newton < high {
            newton
        } else {
            0.5 * (low + high)
        };
        if (next - beta).abs() < 1e-12 {
            beta = next;
            break;
        }
        beta = next;
    }
    let (_, information) = score(strata, beta);
    let se_log = 1.0 / information.sqrt();
    Some(HazardRatio {
        hr: beta.exp(),
        se_log,
        lower: (beta - crate::stats::Z95 * se_log).exp(),
        upper: (beta + crate::stats::Z95 * se_log).exp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected deaths of an exponential group on a fine grid.
    fn exponential(n: f64, rate: f64, step: f64, cells: usize) -> GroupedDeaths {
        let deaths = (0..cells)
            .map(|i| {
                let s = |t: f64| (-rate * t).exp();
                n * (s(i as f64 * step) - s((i + 1) as f64 * step))
            })
            .collect();
        GroupedDeaths {
            patients: n,
            deaths,
        }
    }

    #[test]
    fn recovers_a_proportional_hazards_ratio() {
        for hr in [0.4, 1.0, 2.9] {
            let a = exponential(1e5, 0.05 * hr, 1.0 / 30.0, 60 * 30);
            let b = exponential(1e5, 0.05, 1.0 / 30.0, 60 * 30);
            let est = cox_two_groups(&a, &b).unwrap();
            assert!((est.hr / hr - 1.0).abs() < 2e-3, "{hr}: {est:?}");
            assert!(est.lower < est.hr && est.hr < est.upper);
        }
    }

    #[test]
    fn standard_error_matches_the_textbook_value() {
        // Equal groups, HR 1: var(log HR) ≈ 4 / total deaths.
        let a = exponential(1000.0, 0.05, 0.1, 600);
        let est = cox_two_groups(&a, &a.clone()).unwrap();
        let deaths: f64 = 2.0 * a.deaths.iter().sum::<f64>();
        assert!(
            (est.se_log / (4.0 / deaths).sqrt() - 1.0).abs() < 0.05,
            "{est:?}"
        );
    }

    #[test]
    fn stratification_removes_the_pull_of_another_factor() {
        // HR 2.5 within each of two strata whose baseline hazards differ tenfold, with the
        // exposure twice as common in the fast stratum: the stratified estimate is 2.5; the
        // marginal one is not.
        let (fast, slow) = (0.2, 0.02);
        let strata = vec![
            (
                exponential(2e4, fast * 2.5, 0.1, 600),
                exponential(1e4, fast, 0.1, 600),
            ),
            (
                exponential(1e4, slow * 2.5, 0.1, 600),
                exponential(2e4, slow, 0.1, 600),
            ),
        ];
        let stratified = cox_stratified(&strata).unwrap();
        assert!((stratified.hr / 2.5 - 1.0).abs() < 0.01, "{stratified:?}");
        let pool = |k: usize| GroupedDeaths {
            patients: strata
                .iter()
                .map(|s| if k == 0 { &s.0 } else { &s.1 }.patients)
                .sum(),
            deaths: (0..600)
                .map(|j| {
                    strata
                        .iter()
                        .map(|s| if k == 0 { &s.0 } else { &s.1 }.deaths[j])
                        .sum()
                })
                .collect(),
        };
        let marginal = cox_two_groups(&pool(0), &pool(1)).unwrap();
        assert!((marginal.hr / 2.5 - 1.0).abs() > 0.1, "{marginal:?}");
    }

    #[test]
    fn no_deaths_no_estimate() {
        let a = GroupedDeaths {
            patients: 10.0,
            deaths: vec![0.0; 5],
        };
        let b = exponential(10.0, 0.1, 1.0, 5);
        assert!(cox_two_groups(&a, &b).is_none());
    }
}
