//! Cohort attribute distributions: who the virtual patients are.
//!
//! Attributes are drawn once per patient from their own random stream, so a patient is the
//! same person under every strategy. Numeric attributes may be truncated to a range (ages
//! 18–75 in a study's inclusion criteria); truncation is by rejection, and ranges with less
//! than 0.1 % probability are refused so rejection always ends fast.
//!
//! Distributions are built through checked constructors ([`Numeric::normal`],
//! [`AttributeDistribution::truncated`], …) that refuse parameters for which a draw would
//! not be what the distribution says (an infinite age, a gamma draw of exactly 0) or for
//! which the probability of a truncation range cannot be computed truly (a gamma with
//! sd 1e-200), with a message that says which parameter and why.

use rand_distr::{Distribution, Gamma, LogNormal, Normal};

use crate::rng::Stream;

/// A numeric distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum Numeric {
    /// Always this value.
    Fixed(f64),
    /// Normal(mean, sd).
    Normal { mean: f64, sd: f64 },
    /// log X ~ Normal(meanlog, sdlog).
    LogNormal { meanlog: f64, sdlog: f64 },
    /// Uniform on [min, max).
    Uniform { min: f64, max: f64 },
    /// Gamma with shape and scale (mean = shape · scale).
    Gamma { shape: f64, scale: f64 },
    /// A finite set of values with probabilities (running sums, the last 1).
    Discrete {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// How one attribute is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeDistribution {
    /// Level index with probabilities (running sums, the last 1).
    Category { cumulative: Vec<f64> },
    /// True with this probability.
    Bool { probability: f64 },
    /// A number, optionally truncated to [min, max].
    Number {
        distribution: Numeric,
        min: f64,
        max: f64,
    },
}

/// One attribute: which variable it fills and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Index of the variable in the model.
    pub variable: usize,
    /// Its distribution.
    pub distribution: AttributeDistribution,
}

/// The cohort: attributes in draw order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cohort {
    /// Attributes, drawn in this order from the patient's attribute stream.
    pub attributes: Vec<Attribute>,
}

/// Index chosen by a uniform against running sums of probabilities.
#[inline]
pub fn pick(cumulative: &[f64], u: f64) -> usize {
    cumulative
        .iter()
        .position(|c| u < *c)
        .unwrap_or(cumulative.len() - 1)
}

/// Rejection attempts before giving up on a truncated draw; with ≥ 0.1 % acceptance the
/// chance of reaching it is below e^{-100}.
const MAX_REJECTIONS: usize = 100_000;

/// Smallest probability of a truncation range that is accepted (rejection sampling keeps
/// at least 1 draw in 1000).
pub const MIN_TRUNCATED_MASS: f64 = 1e-3;

/// Largest |z| the normal sampler (rand_distr's ziggurat) can return: its tail draws
/// `R − ln(u)/R` with `R = 3.654` and `u ≥ 2⁻⁵³`, at most 13.71. Normal and log-normal
/// parameters are accepted when every value within this many standard deviations is a
/// finite, non-zero number, so no draw can be infinite or round to 0.
const MAX_STANDARD_NORMAL: f64 = 14.0;

/// Gamma shapes above this are refused: the distribution function (incomplete gamma)
/// loses accuracy and takes time growing with √shape beyond it (1 ms at 1e10, seconds and
/// a wrong answer at 1e15). Such a gamma (sd below 1e-5 of the mean) is a fixed value.
const MAX_GAMMA_SHAPE: f64 = 1e10;

/// Largest accepted probability that a gamma draw rounds to exactly 0 (its true value is
/// below the smallest positive number), a value a gamma never takes.
const MAX_ZERO_DRAW_PROBABILITY: f64 = 1e-15;

/// Why a distribution's parameters are refused.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericError {
    /// The offending parameter, as named in the scenario file.
    pub parameter: &'static str,
    /// What is wrong (true for the numbers given).
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// A number for messages: as Rust writes it for ordinary magnitudes, in scientific
/// notation for extreme ones (`1e-200`, not two hundred zeros).
pub fn show(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `(mean/sd)²` for messages, also when it overflows or underflows.
fn show_shape(mean: f64, sd: f64) -> String {
    let shape = (mean / sd).powi(2);
    if shape == f64::INFINITY {
        "(mean/sd)² is above 1e308".into()
    } else if shape == 0.0 {
        "(mean/sd)² is below 1e-308".into()
    } else {
        format!("(mean/sd)² = {}", show(significant(shape)))
    }
}

/// `x` rounded to 4 significant digits, for computed numbers in messages.
fn significant(x: f64) -> f64 {
    format!("{x:.3e}").parse().unwrap_or(x)
}

fn refuse(parameter: &'static str, message: String, fix: impl Into<String>) -> NumericError {
    NumericError {
        parameter,
        message,
        fix: fix.into(),
    }
}

fn finite(parameter: &'static str, x: f64) -> Result<f64, NumericError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(refuse(
            parameter,
            format!("`{parameter}` must be a finite number, got {}", show(x)),
            "give a number such as 50 or 0.5",
        ))
    }
}

fn positive(parameter: &'static str, x: f64) -> Result<f64, NumericError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(refuse(
            parameter,
            format!(
                "`{parameter}` must be a positive finite number, got {}",
                show(x)
            ),
            "give a number above 0",
        ))
    }
}

impl Numeric {
    /// Always `value`.
    pub fn fixed(value: f64) -> Result<Numeric, NumericError> {
        Ok(Numeric::Fixed(finite("value", value)?))
    }

    /// Normal(mean, sd), if every draw is a finite number.
    pub fn normal(mean: f64, sd: f64) -> Result<Numeric, NumericError> {
        let (mean, sd) = (finite("mean", mean)?, positive("sd", sd)?);
        if !(mean.abs() + MAX_STANDARD_NORMAL * sd).is_finite() {
            return Err(refuse(
                "sd",
                format!(
                    "a normal distribution with mean {} and sd {} would draw numbers beyond \
                     ±{:.1e}, the largest there are",
                    show(mean),
                    show(sd),
                    f64::MAX
                ),
                "use a smaller sd",
            ));
        }
        Ok(Numeric::Normal { mean, sd })
    }

    /// log X ~ Normal(meanlog, sdlog), if every draw is a finite number above 0.
    pub fn lognormal(meanlog: f64, sdlog: f64) -> Result<Numeric, NumericError> {
        let (meanlog, sdlog) = (finite("meanlog", meanlog)?, positive("sdlog", sdlog)?);
        let spread = MAX_STANDARD_NORMAL * sdlog;
        // Blame the spread when it is what reaches the limit, else the centre.
        let culprit = if spread > meanlog.abs() {
            "sdlog"
        } else {
            "meanlog"
        };
        let centre = format!("median {}", show(significant(meanlog.exp())));
        let sdlog_text = show(sdlog);
        if meanlog + spread > f64::MAX.ln() {
            return Err(refuse(
                culprit,
                format!(
                    "a lognormal with {centre} and sdlog {sdlog_text} would draw numbers above \
                     {:.1e}, the largest there are",
                    f64::MAX
                ),
                "use a smaller median or sdlog",
            ));
        }
        if meanlog - spread < f64::MIN_POSITIVE.ln() {
            return Err(refuse(
                culprit,
                format!(
                    "a lognormal with {centre} and sdlog {sdlog_text} would draw numbers below \
                     {:.1e}, which round to 0, a value a lognormal never takes",
                    f64::MIN_POSITIVE
                ),
                "use a larger median or a smaller sdlog",
            ));
        }
        Ok(Numeric::LogNormal { meanlog, sdlog })
    }

    /// Uniform on [min, max).
    pub fn uniform(min: f64, max: f64) -> Result<Numeric, NumericError> {
        let (min, max) = (finite("min", min)?, finite("max", max)?);
        if max <= min {
            return Err(refuse(
                "max",
                format!("`max` ({}) must exceed `min` ({})", show(max), show(min)),
                "a uniform distribution takes min < max",
            ));
        }
        if !(max - min).is_finite() {
            return Err(refuse(
                "max",
                format!(
                    "the range from {} to {} is wider than {:.1e}, the largest number",
                    show(min),
                    show(max),
                    f64::MAX
                ),
                "use a narrower range",
            ));
        }
        Ok(Numeric::Uniform { min, max })
    }

    /// Gamma with this mean and standard deviation, if its distribution function can be
    /// computed truly and no draw rounds to 0 or overflows.
    pub fn gamma(mean: f64, sd: f64) -> Result<Numeric, NumericError> {
        let (mean, sd) = (positive("mean", mean)?, positive("sd", sd)?);
        let shape = (mean / sd).powi(2);
        // Also catches an infinite shape (sd 1e-200).
        if shape.is_nan() || shape > MAX_GAMMA_SHAPE {
            return Err(refuse(
                "sd",
                format!(
                    "sd {} is below 1e-5 of the mean {}: the gamma's shape {} is above \
                     {MAX_GAMMA_SHAPE:.0e}, beyond which its probabilities cannot be computed",
                    show(sd),
                    show(mean),
                    show_shape(mean, sd)
                ),
                format!(
                    "a value that hardly varies is fixed (distribution = \"fixed\", value = \
                     {}) or normal (distribution = \"normal\", mean = {}, sd = {})",
                    show(mean),
                    show(mean),
                    show(sd)
                ),
            ));
        }
        let scale = mean / shape;
        // P(X < smallest positive number) ≤ x^shape / Γ(shape + 1), x in units of the scale.
        let tiny = f64::from_bits(1) / scale;
        let log_zero = shape * tiny.ln() - statrs::function::gamma::ln_gamma(shape + 1.0);
        if shape == 0.0
            || !scale.is_finite()
            || log_zero.is_nan()
            || log_zero >= MAX_ZERO_DRAW_PROBABILITY.ln()
        {
            return Err(refuse(
                "sd",
                format!(
                    "sd {} is {} times the mean {}: the gamma's shape {} is so small that more \
                     than 1 draw in 10^15 would round to 0, a value a gamma never takes",
                    show(sd),
                    show(significant(sd / mean)),
                    show(mean),
                    show_shape(mean, sd)
                ),
                "use a smaller sd, or a lognormal for a quantity this skewed",
            ));
        }
        // The largest draw: rand_distr draws Gamma(shape < 1) as Gamma(shape + 1)·U^(1/shape),
        // and Gamma(a ≥ 1) as d·(1 + z/√(9d))³·scale with d = a − 1/3 and |z| < 14.
        let d = shape.max(1.0) + 1.0 - 1.0 / 3.0;
        let largest = scale * d * (1.0 + MAX_STANDARD_NORMAL / (9.0 * d).sqrt()).powi(3);
        if !largest.is_finite() {
            return Err(refuse(
                "mean",
                format!(
                    "a gamma with mean {} and sd {} would draw numbers above {:.1e}, the largest \
                     there are",
                    show(mean),
                    show(sd),
                    f64::MAX
                ),
                "use a smaller mean or sd",
            ));
        }
        Ok(Numeric::Gamma { shape, scale })
    }

    /// A finite set of values with running sums of their probabilities (the last 1).
    pub fn discrete(values: Vec<f64>, cumulative: Vec<f64>) -> Result<Numeric, NumericError> {
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(refuse(
                "values",
                format!("every value must be a finite number, got {}", show(*bad)),
                "list the values the attribute takes, e.g. values = [0, 1, 2]",
            ));
        }
        Ok(Numeric::Discrete { values, cumulative })
    }

    fn is_continuous(&self) -> bool {
        !matches!(self, Numeric::Fixed(_) | Numeric::Discrete { .. })
    }

    fn draw(&self, rng: &mut Stream) -> f64 {
        match self {
            Numeric::Fixed(x) => *x,
            Numeric::Normal { mean, sd } => {
                Normal::new(*mean, *sd).map_or(*mean, |d| d.sample(rng))
            }
            Numeric::LogNormal { meanlog, sdlog } => {
                LogNormal::new(*meanlog, *sdlog).map_or(meanlog.exp(), |d| d.sample(rng))
            }
            Numeric::Uniform { min, max } => min + (max - min) * rng.uniform(),
            Numeric::Gamma { shape, scale } => {
                Gamma::new(*shape, *scale).map_or(shape * scale, |d| d.sample(rng))
            }
            Numeric::Discrete { values, cumulative } => values[pick(cumulative, rng.uniform())],
        }
    }

    /// Probability of [min, max] under this distribution (for the feasibility check of a
    /// truncation). Ranges in an upper tail are computed from the survival function, so a
    /// small probability is small rather than rounded to 0; NaN if the parameters are not
    /// ones the checked constructors accept.
    pub fn probability_between(&self, min: f64, max: f64) -> f64 {
        use statrs::distribution::{
            ContinuousCDF, Gamma as SGamma, LogNormal as SLogNormal, Normal as SNormal,
        };
        if min == f64::NEG_INFINITY && max == f64::INFINITY {
            return 1.0;
        }
        fn between<D: ContinuousCDF<f64, f64>>(d: &D, median: f64, lo: f64, hi: f64) -> f64 {
            let p = if lo >= median {
                d.sf(lo) - d.sf(hi)
            } else {
                d.cdf(hi) - d.cdf(lo)
            };
            p.max(0.0)
        }
        let cdf_range = |lo: f64, hi: f64| (hi - lo).max(0.0);
        match self {
            Numeric::Fixed(x) => f64::from(*x >= min && *x <= max),
            Numeric::Normal { mean, sd } => {
                SNormal::new(*mean, *sd).map_or(f64::NAN, |d| between(&d, *mean, min, max))
            }
            Numeric::LogNormal { meanlog, sdlog } => SLogNormal::new(*meanlog, *sdlog)
                .map_or(f64::NAN, |d| {
                    between(&d, meanlog.exp(), min.max(0.0), max.max(0.0))
                }),
            Numeric::Uniform { min: a, max: b } => cdf_range(min.max(*a), max.min(*b)) / (b - a),
            Numeric::Gamma { shape, scale } => {
                SGamma::new(*shape, 1.0 / scale).map_or(f64::NAN, |d| {
                    // The mean: a gamma's median is close below it, either side works.
                    between(&d, shape * scale, min.max(0.0), max.max(0.0))
                })
            }
            Numeric::Discrete { values, cumulative } => {
                let mut previous = 0.0;
                let mut total = 0.0;
                for (v, c) in values.iter().zip(cumulative) {
                    if *v >= min && *v <= max {
                        total += c - previous;
                    }
                    previous = *c;
                }
                total
            }
        }
    }
}

impl AttributeDistribution {
    /// A number from `distribution` kept within [min, max] (±∞ for no bound), if at least
    /// 1 draw in 1000 falls there.
    pub fn truncated(
        distribution: Numeric,
        min: f64,
        max: f64,
    ) -> Result<AttributeDistribution, NumericError> {
        for (parameter, x) in [("min", min), ("max", max)] {
            if x.is_nan() {
                return Err(refuse(
                    parameter,
                    format!("`{parameter}` must be a number, got NaN"),
                    "give a bound such as 18, or leave it out for none",
                ));
            }
        }
        if max < min {
            return Err(refuse(
                "max",
                format!(
                    "the truncation range [{}, {}] is empty: `max` is below `min`",
                    show(min),
                    show(max)
                ),
                "give min ≤ max",
            ));
        }
        let mass = distribution.probability_between(min, max);
        if mass.is_nan() || mass < MIN_TRUNCATED_MASS {
            let message = if mass.is_nan() {
                format!(
                    "the probability of the range [{}, {}] cannot be computed",
                    show(min),
                    show(max)
                )
            } else {
                format!(
                    "the range [{}, {}] has probability {} under this distribution",
                    show(min),
                    show(max),
                    if mass == 0.0 && distribution.is_continuous() {
                        // Below what a probability in floating point can hold.
                        "below 1e-300".to_string()
                    } else if mass == 0.0 {
                        "0".to_string()
                    } else {
                        format!("{mass:.2e}")
                    }
                )
            };
            return Err(refuse(
                "min",
                message,
                "widen min/max or move the distribution: fewer than 1 in 1000 draws would be kept",
            ));
        }
        Ok(AttributeDistribution::Number {
            distribution,
            min,
            max,
        })
    }

    /// One draw.
    pub fn draw(&self, rng: &mut Stream) -> f64 {
        match self {
            AttributeDistribution::Category { cumulative } => {
                pick(cumulative, rng.uniform()) as f64
            }
            AttributeDistribution::Bool { probability } => f64::from(rng.uniform() < *probability),
            AttributeDistribution::Number {
                distribution,
                min,
                max,
            } => {
                for _ in 0..MAX_REJECTIONS {
                    let x = distribution.draw(rng);
                    if x >= *min && x <= *max {
                        return x;
                    }
                }
                // Unreachable with the loader's ≥ 0.1 % acceptance check; clamp as a last resort.
                distribution.draw(rng).clamp(*min, *max)
            }
        }
    }
}

impl Cohort {
    /// Draws every attribute into `values` (indexed by variable).
    pub fn draw(&self, rng: &mut Stream, values: &mut [f64]) {
        for a in &self.attributes {
            values[a.variable] = a.distribution.draw(rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    #[test]
    fn truncation_keeps_draws_in_range_and_mean_is_right() {
        let d = AttributeDistribution::Number {
            distribution: Numeric::Normal {
                mean: 50.0,
                sd: 15.0,
            },
            min: 18.0,
            max: 75.0,
        };
        let mut rng = Stream::new(3, 0, 0, Purpose::Attributes);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.draw(&mut rng)).collect();
        assert!(xs.iter().all(|x| (18.0..=75.0).contains(x)));
        // Mean of N(50, 15) truncated to [18, 75]: 50 + 15 (φ(α) − φ(β)) / (Φ(β) − Φ(α)).
        let (a, b) = ((18.0 - 50.0) / 15.0, (75.0 - 50.0) / 15.0);
        let phi = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let cdf = |z: f64| 1.0 - crate::model::hazard::normal_upper_tail(z);
        let expected = 50.0 + 15.0 * (phi(a) - phi(b)) / (cdf(b) - cdf(a));
        let mean = xs.iter().sum::<f64>() / n as f64;
        let se = 15.0 / (n as f64).sqrt();
        assert!((mean - expected).abs() < 4.0 * se, "{mean} vs {expected}");
    }

    #[test]
    fn categories_follow_their_probabilities() {
        let d = AttributeDistribution::Category {
            cumulative: vec![0.6, 0.9, 1.0],
        };
        let mut rng = Stream::new(4, 0, 0, Purpose::Attributes);
        let n = 100_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            counts[d.draw(&mut rng) as usize] += 1;
        }
        for (c, p) in counts.iter().zip([0.6, 0.3, 0.1]) {
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((*c as f64 / n as f64 - p).abs() < 4.0 * se);
        }
    }

    #[test]
    fn probability_between_is_sane() {
        let n = Numeric::Normal { mean: 0.0, sd: 1.0 };
        assert!((n.probability_between(-1.96, 1.96) - 0.95).abs() < 1e-3);
        let d = Numeric::Discrete {
            values: vec![0.0, 1.0, 2.0],
            cumulative: vec![0.5, 0.8, 1.0],
        };
        assert!((d.probability_between(1.0, 2.0) - 0.5).abs() < 1e-12);
    }
}
