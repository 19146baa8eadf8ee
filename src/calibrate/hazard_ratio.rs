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

/// Score and information of the partial likelihood at `beta`.
fn score(exposed: &GroupedDeaths, unexposed: &GroupedDeaths, beta: f64) -> (f64, f64) {
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
    let total = |g: &GroupedDeaths| g.deaths.iter().sum::<f64>();
    if total(exposed) <= 0.0 || total(unexposed) <= 0.0 {
        return None;
    }
    // The score falls monotonically in beta: Newton steps kept inside a shrinking bracket.
    let (mut low, mut high) = (-20.0, 20.0);
    let mut beta = 0.0;
    for _ in 0..200 {
        let (u, information) = score(exposed, unexposed, beta);
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
    let (_, information) = score(exposed, unexposed, beta);
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
    fn no_deaths_no_estimate() {
        let a = GroupedDeaths {
            patients: 10.0,
            deaths: vec![0.0; 5],
        };
        let b = exponential(10.0, 0.1, 1.0, 5);
        assert!(cox_two_groups(&a, &b).is_none());
    }
}
