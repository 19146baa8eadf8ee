//! Distributions of uncertain parameters, as health economists specify them: from the
//! distribution's own parameters or from a mean and standard error (method of moments), or
//! from a published 95 % interval.

use rand::RngCore;
use rand_distr::Distribution as _;
use statrs::distribution::ContinuousCDF;

use crate::scenario::format::PsaParameterDef;

/// The 97.5 % quantile of the standard normal: a 95 % interval is mean ± Z95·sd.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A parameter's distribution, in its own parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// Beta(alpha, beta): probabilities, utilities.
    Beta {
        /// First shape.
        alpha: f64,
        /// Second shape.
        beta: f64,
    },
    /// Gamma(shape, scale): costs, rates.
    Gamma {
        /// Shape.
        shape: f64,
        /// Scale.
        scale: f64,
    },
    /// exp(Normal(meanlog, sdlog)): hazard ratios, scales.
    LogNormal {
        /// Mean of the logarithm.
        meanlog: f64,
        /// Standard deviation of the logarithm.
        sdlog: f64,
    },
    /// Normal(mean, sd).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
    /// Dirichlet(counts): a set of probabilities that sum to 1 (decision branches).
    Dirichlet {
        /// Concentration per component.
        counts: Vec<f64>,
    },
}

/// What is wrong with a distribution as written: the field to point at and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// Field of `[[psa.parameters]]` at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to write it.
    pub help: String,
}

fn spec_error(field: &'static str, message: impl Into<String>, help: &str) -> SpecError {
    SpecError {
        field,
        message: message.into(),
        help: help.to_string(),
    }
}

const BETA_HELP: &str =
    "write alpha = 12, beta = 30 (events and non-events), or mean = 0.3, se = 0.05";
const GAMMA_HELP: &str = "write shape = 25, scale = 400, or mean = 10000, se = 2000";
const LOGNORMAL_HELP: &str = "write meanlog = -0.2, sdlog = 0.15, or interval = [0.6, 1.1] (a published 95 % CI), or mean = 0.8, se = 0.1";
const NORMAL_HELP: &str = "write mean = 0.7, sd = 0.05 (or se = 0.05), or interval = [0.6, 0.8]";
const UNIFORM_HELP: &str = "write min = 0.5, max = 1.5";
const DIRICHLET_HELP: &str = "write paths = [\"decisions[d].branches[0].p\", \"decisions[d].branches[1].p\"] and counts = [30, 70], one count per path";

fn positive(field: &'static str, value: Option<f64>, help: &str) -> Result<f64, SpecError> {
    match value {
        Some(v) if v.is_finite() && v > 0.0 => Ok(v),
        Some(v) => Err(spec_error(
            field,
            format!("`{field}` must be a positive number, got {v}"),
            help,
        )),
        None => Err(spec_error(field, format!("`{field}` is missing"), help)),
    }
}

fn finite(field: &'static str, value: Option<f64>, help: &str) -> Result<f64, SpecError> {
    match value {
        Some(v) if v.is_finite() => Ok(v),
        Some(v) => Err(spec_error(
            field,
            format!("`{field}` must be a finite number, got {v}"),
            help,
        )),
        None => Err(spec_error(field, format!("`{field}` is missing"), help)),
    }
}

/// A 95 % interval `[low, high]` with low < high (and > 0 when `positive`).
fn interval(def: &PsaParameterDef, positive: bool, help: &str) -> Result<(f64, f64), SpecError> {
    match def.interval.as_deref() {
        Some(&[lo, hi])
            if lo.is_finite() && hi.is_finite() && lo < hi && (!positive || lo > 0.0) =>
        {
            Ok((lo, hi))
        }
        _ => Err(spec_error(
            "interval",
            format!(
                "`interval` must be two numbers [low, high] with low < high{}",
                if positive { ", both positive" } else { "" }
            ),
            help,
        )),
    }
}

/// Which fields a distribution uses, so that stray ones are refused rather than ignored.
fn allowed(def: &PsaParameterDef, fields: &[&'static str], help: &str) -> Result<(), SpecError> {
    let given: [(&'static str, bool); 12] = [
        ("mean", def.mean.is_some()),
        ("se", def.se.is_some()),
        ("sd", def.sd.is_some()),
        ("alpha", def.alpha.is_some()),
        ("beta", def.beta.is_some()),
        ("shape", def.shape.is_some()),
        ("scale", def.scale.is_some()),
        ("meanlog", def.meanlog.is_some()),
        ("sdlog", def.sdlog.is_some()),
        ("interval", def.interval.is_some()),
        ("min", def.min.is_some()),
        ("max", def.max.is_some()),
    ];
    for (field, present) in given {
        if present && !fields.contains(&field) {
            return Err(spec_error(
                field,
                format!(
                    "`{field}` is not a parameter of a {} distribution",
                    def.distribution
                ),
                help,
            ));
        }
    }
    if def.counts.is_some() && !fields.contains(&"counts") {
        return Err(spec_error(
            "counts",
            format!(
                "`counts` is not a parameter of a {} distribution",
                def.distribution
            ),
            help,
        ));
    }
    Ok(())
}

impl Distribution {
    /// Reads the distribution of a `[[psa.parameters]]` entry.
    pub fn from_def(def: &PsaParameterDef) -> Result<Distribution, SpecError> {
        match def.distribution.as_str() {
            "beta" => {
                allowed(def, &["alpha", "beta", "mean", "se"], BETA_HELP)?;
                if def.mean.is_some() || def.se.is_some() {
                    let m = finite("mean", def.mean, BETA_HELP)?;
                    let se = positive("se", def.se, BETA_HELP)?;
                    if !(m > 0.0 && m < 1.0 && se * se < m * (1.0 - m)) {
                        return Err(spec_error(
                            "se",
                            format!(
                                "no beta distribution has mean {m} and standard error {se}: the mean must be in (0, 1) and se² below mean·(1 − mean) = {:.4}",
                                m * (1.0 - m)
                            ),
                            BETA_HELP,
                        ));
                    }
                    let k = m * (1.0 - m) / (se * se) - 1.0;
                    Ok(Distribution::Beta {
                        alpha: m * k,
                        beta: (1.0 - m) * k,
                    })
                } else {
                    Ok(Distribution::Beta {
                        alpha: positive("alpha", def.alpha, BETA_HELP)?,
                        beta: positive("beta", def.beta, BETA_HELP)?,
                    })
                }
            }
            "gamma" => {
                allowed(def, &["shape", "scale", "mean", "se"], GAMMA_HELP)?;
                if def.mean.is_some() || def.se.is_some() {
                    let m = positive("mean", def.mean, GAMMA_HELP)?;
                    let se = positive("se", def.se, GAMMA_HELP)?;
                    Ok(Distribution::Gamma {
                        shape: m * m / (se * se),
                        scale: se * se / m,
                    })
                } else {
                    Ok(Distribution::Gamma {
                        shape: positive("shape", def.shape, GAMMA_HELP)?,
                        scale: positive("scale", def.scale, GAMMA_HELP)?,
                    })
                }
            }
            "lognormal" => {
                allowed(
                    def,
                    &["meanlog", "sdlog", "interval", "mean", "se"],
                    LOGNORMAL_HELP,
                )?;
                if def.interval.is_some() {
                    let (lo, hi) = interval(def, true, LOGNORMAL_HELP)?;
                    Ok(Distribution::LogNormal {
                        meanlog: 0.5 * (lo.ln() + hi.ln()),
                        sdlog: (hi.ln() - lo.ln()) / (2.0 * Z95),
                    })
                } else if def.mean.is_some() || def.se.is_some() {
                    let m = positive("mean", def.mean, LOGNORMAL_HELP)?;
                    let se = positive("se", def.se, LOGNORMAL_HELP)?;
                    let variance = (1.0 + se * se / (m * m)).ln();
                    Ok(Distribution::LogNormal {
                        meanlog: m.ln() - 0.5 * variance,
                        sdlog: variance.sqrt(),
                    })
                } else {
                    Ok(Distribution::LogNormal {
                        meanlog: finite("meanlog", def.meanlog, LOGNORMAL_HELP)?,
                        sdlog: positive("sdlog", def.sdlog, LOGNORMAL_HELP)?,
                    })
                }
            }
            "normal" => {
                allowed(def, &["mean", "sd", "se", "interval"], NORMAL_HELP)?;
                if def.interval.is_some() {
                    let (lo, hi) = interval(def, false, NORMAL_HELP)?;
                    Ok(Distribution::Normal {
                        mean: 0.5 * (lo + hi),
                        sd: (hi - lo) / (2.0 * Z95),
                    })
                } else {
                    let mean = finite("mean", def.mean, NORMAL_HELP)?;
                    let sd = match (def.sd, def.se) {
                        (Some(_), Some(_)) => {
                            return Err(spec_error(
                                "se",
                                "give `sd` or `se`, not both",
                                NORMAL_HELP,
                            ));
                        }
                        (None, Some(se)) => positive("se", Some(se), NORMAL_HELP)?,
                        (sd, None) => positive("sd", sd, NORMAL_HELP)?,
                    };
                    Ok(Distribution::Normal { mean, sd })
                }
            }
            "uniform" => {
                allowed(def, &["min", "max"], UNIFORM_HELP)?;
                let min = finite("min", def.min, UNIFORM_HELP)?;
                let max = finite("max", def.max, UNIFORM_HELP)?;
                if min >= max {
                    return Err(spec_error(
                        "max",
                        format!("`max` ({max}) must be above `min` ({min})"),
                        UNIFORM_HELP,
                    ));
                }
                Ok(Distribution::Uniform { min, max })
            }
            "dirichlet" => {
                allowed(def, &["counts"], DIRICHLET_HELP)?;
                let counts = def
                    .counts
                    .clone()
                    .ok_or_else(|| spec_error("counts", "`counts` is missing", DIRICHLET_HELP))?;
                if counts.len() < 2 || counts.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
                    return Err(spec_error(
                        "counts",
                        "`counts` must be two or more positive numbers",
                        DIRICHLET_HELP,
                    ));
                }
                Ok(Distribution::Dirichlet { counts })
            }
            other => Err(spec_error(
                "distribution",
                format!(
                    "unknown distribution `{other}`.{}",
                    crate::suggest::did_you_mean(
                        other,
                        [
                            "beta",
                            "gamma",
                            "lognormal",
                            "normal",
                            "uniform",
                            "dirichlet"
                        ]
                    )
                ),
                "use beta (probabilities, utilities), gamma (costs), lognormal (hazard ratios, rates), normal, uniform, or dirichlet (a set of branch probabilities)",
            )),
        }
    }

    /// Number of values one draw gives (1, or the number of Dirichlet components).
    pub fn dimension(&self) -> usize {
        match self {
            Distribution::Dirichlet { counts } => counts.len(),
            _ => 1,
        }
    }

    /// The mean of each component.
    pub fn mean(&self) -> Vec<f64> {
        match *self {
            Distribution::Beta { alpha, beta } => vec![alpha / (alpha + beta)],
            Distribution::Gamma { shape, scale } => vec![shape * scale],
            Distribution::LogNormal { meanlog, sdlog } => {
                vec![(meanlog + 0.5 * sdlog * sdlog).exp()]
            }
            Distribution::Normal { mean, .. } => vec![mean],
            Distribution::Uniform { min, max } => vec![0.5 * (min + max)],
            Distribution::Dirichlet { ref counts } => {
                let total: f64 = counts.iter().sum();
                counts.iter().map(|c| c / total).collect()
            }
        }
    }

    /// The `p` quantile of a one-dimensional distribution (`None` for Dirichlet).
    pub fn quantile(&self, p: f64) -> Option<f64> {
        use statrs::distribution as d;
        match *self {
            Distribution::Beta { alpha, beta } => {
                d::Beta::new(alpha, beta).ok().map(|b| b.inverse_cdf(p))
            }
            Distribution::Gamma { shape, scale } => d::Gamma::new(shape, 1.0 / scale)
                .ok()
                .map(|g| g.inverse_cdf(p)),
            Distribution::LogNormal { meanlog, sdlog } => d::Normal::new(meanlog, sdlog)
                .ok()
                .map(|n| n.inverse_cdf(p).exp()),
            Distribution::Normal { mean, sd } => {
                d::Normal::new(mean, sd).ok().map(|n| n.inverse_cdf(p))
            }
            Distribution::Uniform { min, max } => Some(min + p * (max - min)),
            Distribution::Dirichlet { .. } => None,
        }
    }

    /// Draws one value per component into `out` (cleared first).
    pub fn sample<R: RngCore>(&self, rng: &mut R, out: &mut Vec<f64>) {
        out.clear();
        match *self {
            Distribution::Beta { alpha, beta } => {
                // Valid by construction (positive shapes).
                let b = rand_distr::Beta::new(alpha, beta).expect("positive shapes");
                out.push(b.sample(rng));
            }
            Distribution::Gamma { shape, scale } => {
                let g = rand_distr::Gamma::new(shape, scale).expect("positive parameters");
                out.push(g.sample(rng));
            }
            Distribution::LogNormal { meanlog, sdlog } => {
                let z: f64 = rng.sample_standard_normal();
                out.push((meanlog + sdlog * z).exp());
            }
            Distribution::Normal { mean, sd } => {
                let z: f64 = rng.sample_standard_normal();
                out.push(mean + sd * z);
            }
            Distribution::Uniform { min, max } => {
                let u = rand_distr::StandardUniform.sample(rng);
                let u: f64 = u;
                out.push(min + u * (max - min));
            }
            Distribution::Dirichlet { ref counts } => {
                // Independent Gamma(count, 1) normalised: the textbook construction.
                for &c in counts {
                    let g = rand_distr::Gamma::new(c, 1.0).expect("positive counts");
                    out.push(g.sample(rng));
                }
                let total: f64 = out.iter().sum();
                for x in out.iter_mut() {
                    *x /= total;
                }
            }
        }
    }
}

/// Standard normal deviates for any generator.
trait StandardNormal {
    fn sample_standard_normal(&mut self) -> f64;
}

impl<R: RngCore> StandardNormal for R {
    fn sample_standard_normal(&mut self) -> f64 {
        rand_distr::StandardNormal.sample(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{Purpose, Stream};

    fn def(distribution: &str) -> PsaParameterDef {
        PsaParameterDef {
            distribution: distribution.into(),
            ..PsaParameterDef::default()
        }
    }

    #[test]
    fn moments_give_back_the_mean_and_standard_error() {
        let mut beta = def("beta");
        beta.mean = Some(0.3);
        beta.se = Some(0.05);
        let mut gamma = def("gamma");
        gamma.mean = Some(12_000.0);
        gamma.se = Some(3_000.0);
        let mut lognormal = def("lognormal");
        lognormal.mean = Some(0.8);
        lognormal.se = Some(0.1);
        for (d, mean, se) in [
            (beta, 0.3, 0.05),
            (gamma, 12_000.0, 3_000.0),
            (lognormal, 0.8, 0.1),
        ] {
            let dist = Distribution::from_def(&d).unwrap();
            let n = 200_000;
            let mut rng = Stream::new(7, 1, 0, Purpose::Parameters);
            let mut out = Vec::new();
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    dist.sample(&mut rng, &mut out);
                    out[0]
                })
                .collect();
            let nf = n as f64;
            let m = xs.iter().sum::<f64>() / nf;
            let m2 = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / nf;
            let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / nf;
            let sd = m2.sqrt();
            // The sample mean's standard error is se/√n, the sample sd's about
            // sd·√((m4/m2² − 1)/(4n)); allow 4 of each.
            assert!(
                (m - mean).abs() < 4.0 * se / nf.sqrt(),
                "{dist:?}: mean {m}"
            );
            let sd_se = sd * ((m4 / (m2 * m2) - 1.0) / (4.0 * nf)).sqrt();
            assert!((sd - se).abs() < 4.0 * sd_se, "{dist:?}: sd {sd} ± {sd_se}");
            assert!((dist.mean()[0] - mean).abs() < 1e-9 * mean.max(1.0));
        }
    }

    #[test]
    fn a_published_interval_is_the_95_percent_range() {
        let mut hr = def("lognormal");
        hr.interval = Some(vec![0.6, 1.5]);
        let d = Distribution::from_def(&hr).unwrap();
        assert!((d.quantile(0.025).unwrap() - 0.6).abs() < 1e-9);
        assert!((d.quantile(0.975).unwrap() - 1.5).abs() < 1e-9);
        let mut n = def("normal");
        n.interval = Some(vec![0.6, 0.8]);
        let d = Distribution::from_def(&n).unwrap();
        assert!((d.quantile(0.025).unwrap() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn dirichlet_draws_sum_to_one_with_the_right_means() {
        let mut d = def("dirichlet");
        d.counts = Some(vec![20.0, 50.0, 30.0]);
        let dist = Distribution::from_def(&d).unwrap();
        let mut rng = Stream::new(3, 2, 0, Purpose::Parameters);
        let mut out = Vec::new();
        let n = 100_000;
        let mut sums = [0.0; 3];
        for _ in 0..n {
            dist.sample(&mut rng, &mut out);
            assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (s, x) in sums.iter_mut().zip(&out) {
                *s += x;
            }
        }
        // Var of component i: p(1−p)/(Σα+1); 4 standard errors of the mean.
        for (s, p) in sums.iter().zip([0.2, 0.5, 0.3]) {
            let se = (p * (1.0 - p) / 101.0 / n as f64).sqrt();
            assert!((s / n as f64 - p).abs() < 4.0 * se, "{s}");
        }
    }

    #[test]
    fn impossible_specifications_name_the_field_and_the_fix() {
        let mut beta = def("beta");
        beta.mean = Some(0.5);
        beta.se = Some(0.6);
        let e = Distribution::from_def(&beta).unwrap_err();
        assert_eq!(e.field, "se");
        assert!(e.message.contains("no beta distribution"), "{}", e.message);
        let mut stray = def("gamma");
        stray.shape = Some(2.0);
        stray.scale = Some(3.0);
        stray.sdlog = Some(1.0);
        assert_eq!(Distribution::from_def(&stray).unwrap_err().field, "sdlog");
        let e = Distribution::from_def(&def("lognormale")).unwrap_err();
        assert!(
            e.message.contains("Did you mean `lognormal`"),
            "{}",
            e.message
        );
        let mut uniform = def("uniform");
        uniform.min = Some(2.0);
        uniform.max = Some(1.0);
        assert_eq!(Distribution::from_def(&uniform).unwrap_err().field, "max");
    }
}
