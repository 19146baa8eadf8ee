//! Cohort attribute distributions: who the virtual patients are.
//!
//! Attributes are drawn once per patient from their own random stream, so a patient is the
//! same person under every strategy. Numeric attributes may be truncated to a range (ages
//! 18–75 in a study's inclusion criteria); truncation is by rejection, and the scenario
//! loader refuses ranges with less than 0.1 % probability so rejection always ends fast.

use rand_distr::{Distribution, Gamma, LogNormal, Normal};

use crate::engine::rng::Stream;

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

impl Numeric {
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

    /// Probability of [min, max] under this distribution (for the loader's feasibility check).
    pub fn probability_between(&self, min: f64, max: f64) -> f64 {
        use statrs::distribution::{
            ContinuousCDF, Gamma as SGamma, LogNormal as SLogNormal, Normal as SNormal,
        };
        let cdf_range = |lo: f64, hi: f64| (hi - lo).max(0.0);
        match self {
            Numeric::Fixed(x) => f64::from(*x >= min && *x <= max),
            Numeric::Normal { mean, sd } => {
                SNormal::new(*mean, *sd).map_or(0.0, |d| cdf_range(d.cdf(min), d.cdf(max)))
            }
            Numeric::LogNormal { meanlog, sdlog } => SLogNormal::new(*meanlog, *sdlog)
                .map_or(0.0, |d| cdf_range(d.cdf(min.max(0.0)), d.cdf(max.max(0.0)))),
            Numeric::Uniform { min: a, max: b } => cdf_range(min.max(*a), max.min(*b)) / (b - a),
            Numeric::Gamma { shape, scale } => SGamma::new(*shape, 1.0 / scale)
                .map_or(0.0, |d| cdf_range(d.cdf(min.max(0.0)), d.cdf(max.max(0.0)))),
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
    use crate::engine::rng::Purpose;

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
