//! Each hazard family's sampler against its survival function (Kolmogorov–Smirnov).
//!
//! Times are drawn exactly as the engine draws them (`Hazard::sample_after` at a standard
//! exponential from a patient stream), with a hazard multiplier and, for the forward clock,
//! left truncation at the time the state is entered. The target law is
//! `P(T > t | T > t0) = (S(t) / S(t0))^m`. With n = 200 000 the KS statistic of a correct
//! sampler exceeds 1.95 / √n with probability 0.001; the seed is fixed, so the test is
//! deterministic. A cure fraction appears as draws at +∞ and is checked through the CDF's
//! value at the largest finite draw, which KS covers too.

use hsctsim::model::hazard::{Family, Hazard};
use hsctsim::rng::{Purpose, Stream};

const N: usize = 200_000;

fn ks_statistic(hazard: &Hazard, t0: f64, m: f64, seed: u64) -> (f64, usize) {
    let mut rng = Stream::new(seed, 0, 0, Purpose::Events);
    let mut draws: Vec<f64> = (0..N)
        .map(|_| hazard.sample_after(t0, m, rng.exponential()))
        .collect();
    draws.sort_by(|a, b| a.total_cmp(b));
    let s0 = hazard.survival(t0);
    let cdf = |t: f64| 1.0 - (hazard.survival(t) / s0).powf(m);
    let mut d: f64 = 0.0;
    let mut infinite = 0;
    for (i, &t) in draws.iter().enumerate() {
        assert!(t >= t0, "draw {t} before truncation time {t0}");
        if t.is_infinite() {
            infinite += 1;
            continue;
        }
        let f = cdf(t);
        d = d
            .max((f - i as f64 / N as f64).abs())
            .max(((i + 1) as f64 / N as f64 - f).abs());
    }
    (d, infinite)
}

fn families() -> Vec<(&'static str, Hazard)> {
    let h = |f: Family, cure: f64| Hazard::new(f, cure).unwrap();
    vec![
        ("exponential", h(Family::Exponential { rate: 0.25 }, 0.0)),
        (
            "weibull increasing",
            h(
                Family::Weibull {
                    shape: 1.8,
                    scale: 10.0,
                },
                0.0,
            ),
        ),
        (
            "weibull decreasing",
            h(
                Family::Weibull {
                    shape: 0.55,
                    scale: 6.0,
                },
                0.0,
            ),
        ),
        (
            "gompertz",
            h(
                Family::Gompertz {
                    shape: 0.08,
                    rate: 0.03,
                },
                0.0,
            ),
        ),
        (
            "gompertz negative shape",
            h(
                Family::Gompertz {
                    shape: -0.15,
                    rate: 0.2,
                },
                0.0,
            ),
        ),
        (
            "loglogistic",
            h(
                Family::LogLogistic {
                    shape: 2.5,
                    scale: 8.0,
                },
                0.0,
            ),
        ),
        (
            "lognormal",
            h(
                Family::LogNormal {
                    meanlog: 1.8,
                    sdlog: 0.9,
                },
                0.0,
            ),
        ),
        ("uniform", h(Family::Uniform { min: 1.0, max: 4.0 }, 0.0)),
        (
            "piecewise",
            h(
                Family::piecewise(vec![0.0, 3.0, 12.0, 24.0], vec![0.3, 0.08, 0.02, 0.0]).unwrap(),
                0.0,
            ),
        ),
        (
            "weibull with cure",
            h(
                Family::Weibull {
                    shape: 1.3,
                    scale: 9.0,
                },
                0.35,
            ),
        ),
        (
            "lognormal with cure",
            h(
                Family::LogNormal {
                    meanlog: 2.0,
                    sdlog: 0.7,
                },
                0.2,
            ),
        ),
    ]
}

fn critical() -> f64 {
    1.95 / (N as f64).sqrt()
}

#[test]
fn every_family_matches_its_survival_function() {
    for (k, (name, hazard)) in families().into_iter().enumerate() {
        let (d, _) = ks_statistic(&hazard, 0.0, 1.0, 100 + k as u64);
        assert!(d < critical(), "{name}: KS D = {d:.5} ≥ {:.5}", critical());
    }
}

#[test]
fn hazard_ratios_scale_the_cumulative_hazard() {
    for (k, (name, hazard)) in families().into_iter().enumerate() {
        for (j, m) in [0.4, 2.9].into_iter().enumerate() {
            let (d, _) = ks_statistic(&hazard, 0.0, m, 200 + 10 * k as u64 + j as u64);
            assert!(d < critical(), "{name}, HR {m}: KS D = {d:.5}");
        }
    }
}

#[test]
fn forward_clock_samples_the_left_truncated_law() {
    for (k, (name, hazard)) in families().into_iter().enumerate() {
        let t0 = 2.5;
        if hazard.survival(t0) <= 0.0 || hazard.cumulative_hazard(t0).is_infinite() {
            continue;
        }
        let (d, _) = ks_statistic(&hazard, t0, 1.3, 300 + k as u64);
        assert!(d < critical(), "{name}, truncated at {t0}: KS D = {d:.5}");
    }
}

#[test]
fn cure_fraction_never_has_the_event() {
    let hazard = Hazard::new(
        Family::Weibull {
            shape: 1.3,
            scale: 9.0,
        },
        0.35,
    )
    .unwrap();
    let (_, infinite) = ks_statistic(&hazard, 0.0, 1.0, 7);
    let p = infinite as f64 / N as f64;
    let se = (0.35 * 0.65 / N as f64).sqrt();
    assert!((p - 0.35).abs() < 4.0 * se, "cured fraction {p}");
    // Under HR m the cured fraction is π^m (S_x = S^m and S → π).
    let (_, infinite) = ks_statistic(&hazard, 0.0, 2.0, 8);
    let expected: f64 = 0.35f64.powi(2);
    let p = infinite as f64 / N as f64;
    let se = (expected * (1.0 - expected) / N as f64).sqrt();
    assert!(
        (p - expected).abs() < 4.0 * se,
        "cured fraction under HR 2: {p} vs {expected}"
    );
}
