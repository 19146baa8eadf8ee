//! Parametric hazards and exact sampling of event times.
//!
//! Every family is defined by its baseline cumulative hazard `H0(t)` and that function's
//! inverse, both in closed form (log-normal through the normal quantile). A time is sampled
//! by inversion: with `E ~ Exp(1)`, a proportional-hazards multiplier `m` and the patient
//! already event-free at `t0` (left truncation, needed for the "forward" clock), the event
//! time solves `H(t) = H(t0) + E / m`. No time-stepping, so there is no discretisation
//! error and the same `E` moves smoothly with the parameters (good for common random
//! numbers and calibration).
//!
//! A cure fraction `π` gives the mixture survival `S(t) = π + (1 − π) exp(−H0(t))`:
//! a fraction of patients never has the event, which produces the plateaus seen in
//! transplant survival curves. Covariates act on the whole `S` (`S_x = S^m`), so they stay
//! proportional hazards in the strict sense.

use statrs::function::erf;

/// A parametric family with its parameters (time in months, rates per month).
#[derive(Debug, Clone, PartialEq)]
pub enum Family {
    /// Constant hazard `rate`.
    Exponential { rate: f64 },
    /// `H(t) = (t / scale)^shape` (flexsurv's parameterisation).
    Weibull { shape: f64, scale: f64 },
    /// `h(t) = rate · exp(shape · t)`; a negative shape gives a finite total hazard
    /// (a cured fraction of `exp(−rate / −shape)`).
    Gompertz { shape: f64, rate: f64 },
    /// `S(t) = 1 / (1 + (t / scale)^shape)`.
    LogLogistic { shape: f64, scale: f64 },
    /// `log T ~ Normal(meanlog, sdlog)`.
    LogNormal { meanlog: f64, sdlog: f64 },
    /// `T ~ Uniform(min, max)`: a delay known only to lie in a window (e.g. donor search).
    Uniform { min: f64, max: f64 },
    /// Constant `rates[i]` from `starts[i]` until the next start; `starts[0] == 0`, the last
    /// rate holds for ever. `cumulative[i]` is `H(starts[i])`.
    Piecewise {
        starts: Vec<f64>,
        rates: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// A hazard: a family plus an optional cure fraction.
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard {
    family: Family,
    cure: f64,
}

/// Why a hazard's parameters are not acceptable.
#[derive(Debug, Clone, PartialEq)]
pub struct HazardError {
    /// The offending parameter's name, as in the scenario file.
    pub parameter: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn positive(parameter: &'static str, value: f64) -> Result<f64, HazardError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(HazardError {
            parameter,
            message: format!("`{parameter}` must be a positive finite number, got {value}"),
        })
    }
}

fn finite(parameter: &'static str, value: f64) -> Result<f64, HazardError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(HazardError {
            parameter,
            message: format!("`{parameter}` must be a finite number, got {value}"),
        })
    }
}

impl Family {
    /// Piecewise-constant hazard from interval starts and rates, checked.
    pub fn piecewise(starts: Vec<f64>, rates: Vec<f64>) -> Result<Family, HazardError> {
        let err = |message: String| HazardError {
            parameter: "starts",
            message,
        };
        if starts.is_empty() || starts.len() != rates.len() {
            return Err(err(format!(
                "`starts` and `rates` must have the same, non-zero length (got {} and {})",
                starts.len(),
                rates.len()
            )));
        }
        if starts[0] != 0.0 {
            return Err(err("the first interval must start at 0".into()));
        }
        if starts.windows(2).any(|w| w[1] <= w[0] || !w[1].is_finite()) {
            return Err(err(
                "interval starts must be finite and strictly increasing".into(),
            ));
        }
        if let Some(bad) = rates.iter().find(|r| !(r.is_finite() && **r >= 0.0)) {
            return Err(HazardError {
                parameter: "rates",
                message: format!("every rate must be finite and ≥ 0, got {bad}"),
            });
        }
        let mut cumulative = Vec::with_capacity(starts.len());
        let mut total = 0.0;
        for i in 0..starts.len() {
            cumulative.push(total);
            if i + 1 < starts.len() {
                total += rates[i] * (starts[i + 1] - starts[i]);
            }
        }
        Ok(Family::Piecewise {
            starts,
            rates,
            cumulative,
        })
    }

    /// Checks parameter ranges; the engine relies on them (no NaN can appear later).
    pub fn validate(&self) -> Result<(), HazardError> {
        match *self {
            Family::Exponential { rate } => {
                if !(rate.is_finite() && rate >= 0.0) {
                    return Err(HazardError {
                        parameter: "rate",
                        message: format!("`rate` must be finite and ≥ 0 (per month), got {rate}"),
                    });
                }
            }
            Family::Weibull { shape, scale } | Family::LogLogistic { shape, scale } => {
                positive("shape", shape)?;
                positive("scale", scale)?;
            }
            Family::Gompertz { shape, rate } => {
                finite("shape", shape)?;
                positive("rate", rate)?;
            }
            Family::LogNormal { meanlog, sdlog } => {
                finite("meanlog", meanlog)?;
                positive("sdlog", sdlog)?;
            }
            Family::Uniform { min, max } => {
                finite("min", min)?;
                finite("max", max)?;
                if !(min >= 0.0 && max > min) {
                    // Point at the bound that is wrong: a negative min, else max.
                    return Err(HazardError {
                        parameter: if min < 0.0 { "min" } else { "max" },
                        message: format!("need 0 ≤ min < max, got min = {min}, max = {max}"),
                    });
                }
            }
            Family::Piecewise { .. } => {}
        }
        Ok(())
    }

    /// Baseline cumulative hazard `H0(t)` for `t ≥ 0`.
    pub fn cumulative_hazard(&self, t: f64) -> f64 {
        match self {
            Family::Exponential { rate } => rate * t,
            Family::Weibull { shape, scale } => (t / scale).powf(*shape),
            Family::Gompertz { shape, rate } => {
                if *shape == 0.0 {
                    rate * t
                } else {
                    rate / shape * (shape * t).exp_m1()
                }
            }
            Family::LogLogistic { shape, scale } => (t / scale).powf(*shape).ln_1p(),
            Family::LogNormal { meanlog, sdlog } => {
                if t <= 0.0 {
                    return 0.0;
                }
                let z = (t.ln() - meanlog) / sdlog;
                if z < 0.0 {
                    // S close to 1: −ln(1 − Φ(z)) with Φ(z) small and accurate.
                    -(-normal_upper_tail(-z)).ln_1p()
                } else {
                    -normal_upper_tail(z).ln()
                }
            }
            Family::Uniform { min, max } => {
                if t <= *min {
                    0.0
                } else if t >= *max {
                    f64::INFINITY
                } else {
                    -(-(t - min) / (max - min)).ln_1p()
                }
            }
            Family::Piecewise {
                starts,
                rates,
                cumulative,
            } => {
                let i = starts.partition_point(|s| *s <= t).saturating_sub(1);
                cumulative[i] + rates[i] * (t - starts[i])
            }
        }
    }

    /// The `t` with `H0(t) = h`, or `+∞` if the cumulative hazard never reaches `h`.
    pub fn inverse_cumulative_hazard(&self, h: f64) -> f64 {
        match self {
            Family::Exponential { rate } => h / rate,
            Family::Weibull { shape, scale } => scale * h.powf(1.0 / shape),
            Family::Gompertz { shape, rate } => {
                if *shape == 0.0 {
                    h / rate
                } else {
                    let x = shape * h / rate;
                    if x <= -1.0 {
                        f64::INFINITY
                    } else {
                        x.ln_1p() / shape
                    }
                }
            }
            Family::LogLogistic { shape, scale } => scale * h.exp_m1().powf(1.0 / shape),
            Family::LogNormal { meanlog, sdlog } => {
                let z = upper_tail_quantile_of_exp_neg(h);
                (meanlog + sdlog * z).exp()
            }
            Family::Uniform { min, max } => min + (max - min) * (-(-h).exp_m1()),
            Family::Piecewise {
                starts,
                rates,
                cumulative,
            } => {
                let i = cumulative.partition_point(|c| *c <= h).saturating_sub(1);
                if rates[i] == 0.0 {
                    // Only the last interval can be reached with a zero rate and h beyond it.
                    return if h <= cumulative[i] {
                        starts[i]
                    } else {
                        f64::INFINITY
                    };
                }
                starts[i] + (h - cumulative[i]) / rates[i]
            }
        }
    }
}

/// `P(Z > z)` for a standard normal `Z`, accurate in both tails.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erf::erfc(z / std::f64::consts::SQRT_2)
}

/// Standard normal quantile `Φ⁻¹(p)`.
pub fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erf::erfc_inv(2.0 * p)
}

/// The `z` with `P(Z > z) = exp(−h)`, accurate for small and large `h`.
fn upper_tail_quantile_of_exp_neg(h: f64) -> f64 {
    if h < std::f64::consts::LN_2 {
        // P(Z > z) close to 1: use P(Z ≤ z) = 1 − exp(−h) = −expm1(−h), accurate for small h.
        normal_quantile(-(-h).exp_m1())
    } else {
        -normal_quantile((-h).exp())
    }
}

impl Hazard {
    /// A hazard with cure fraction `cure` (0 for none), checked.
    pub fn new(family: Family, cure: f64) -> Result<Hazard, HazardError> {
        family.validate()?;
        if !(cure.is_finite() && (0.0..1.0).contains(&cure)) {
            return Err(HazardError {
                parameter: "cure",
                message: format!(
                    "`cure` is the fraction who never have this event and must be in [0, 1), got {cure}"
                ),
            });
        }
        Ok(Hazard { family, cure })
    }

    /// The family and its parameters.
    pub fn family(&self) -> &Family {
        &self.family
    }

    /// The cure fraction (0 when there is none).
    pub fn cure(&self) -> f64 {
        self.cure
    }

    /// A constant rate per month without cure, if this is one: the engine's fast path for
    /// states whose exits are all exponential.
    pub fn constant_rate(&self) -> Option<f64> {
        match self.family {
            Family::Exponential { rate } if self.cure == 0.0 => Some(rate),
            _ => None,
        }
    }

    /// Survival `S(t)` including the cure fraction.
    pub fn survival(&self, t: f64) -> f64 {
        let s0 = (-self.family.cumulative_hazard(t)).exp();
        self.cure + (1.0 - self.cure) * s0
    }

    /// Cumulative hazard `H(t) = −ln S(t)` including the cure fraction.
    pub fn cumulative_hazard(&self, t: f64) -> f64 {
        let h0 = self.family.cumulative_hazard(t);
        if self.cure == 0.0 {
            h0
        } else {
            // −ln(π + (1 − π) e^{−H0}) = −ln(1 − (1 − π)(1 − e^{−H0})), accurate for small H0.
            -(-(1.0 - self.cure) * (-(-h0).exp_m1())).ln_1p()
        }
    }

    /// The `t` with `H(t) = h`, or `+∞` if it is never reached (cured, or finite total hazard).
    pub fn inverse_cumulative_hazard(&self, h: f64) -> f64 {
        if self.cure == 0.0 {
            return self.family.inverse_cumulative_hazard(h);
        }
        // S = e^{−h}; the uncured part needs S0 = (S − π)/(1 − π) = 1 − (1 − S)/(1 − π).
        let one_minus_s = -(-h).exp_m1();
        let x = one_minus_s / (1.0 - self.cure);
        if x >= 1.0 {
            f64::INFINITY
        } else {
            self.family.inverse_cumulative_hazard(-(-x).ln_1p())
        }
    }

    /// Event time for a patient event-free at `t0`, with hazard multiplier `multiplier` and
    /// a standard exponential variate `e`. Returns a value `≥ t0`, or `+∞`.
    #[inline]
    pub fn sample_after(&self, t0: f64, multiplier: f64, e: f64) -> f64 {
        let target = e / multiplier;
        if t0 == 0.0 {
            return self.inverse_cumulative_hazard(target).max(0.0);
        }
        let h0 = self.cumulative_hazard(t0);
        self.inverse_cumulative_hazard(h0 + target).max(t0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn families() -> Vec<Hazard> {
        vec![
            Hazard::new(Family::Exponential { rate: 0.3 }, 0.0).unwrap(),
            Hazard::new(
                Family::Weibull {
                    shape: 1.7,
                    scale: 9.0,
                },
                0.0,
            )
            .unwrap(),
            Hazard::new(
                Family::Weibull {
                    shape: 0.6,
                    scale: 4.0,
                },
                0.25,
            )
            .unwrap(),
            Hazard::new(
                Family::Gompertz {
                    shape: 0.05,
                    rate: 0.02,
                },
                0.0,
            )
            .unwrap(),
            Hazard::new(
                Family::Gompertz {
                    shape: -0.2,
                    rate: 0.1,
                },
                0.0,
            )
            .unwrap(),
            Hazard::new(
                Family::LogLogistic {
                    shape: 2.2,
                    scale: 7.0,
                },
                0.0,
            )
            .unwrap(),
            Hazard::new(
                Family::LogNormal {
                    meanlog: 1.5,
                    sdlog: 0.8,
                },
                0.1,
            )
            .unwrap(),
            Hazard::new(Family::Uniform { min: 1.0, max: 3.0 }, 0.0).unwrap(),
            Hazard::new(
                Family::piecewise(vec![0.0, 3.0, 12.0], vec![0.2, 0.05, 0.0]).unwrap(),
                0.0,
            )
            .unwrap(),
        ]
    }

    #[test]
    fn inverse_undoes_cumulative_hazard() {
        for hz in families() {
            for &t in &[0.01, 0.5, 1.5, 2.9, 3.0, 7.0, 11.0, 25.0] {
                let h = hz.cumulative_hazard(t);
                if !h.is_finite() || h == hz.cumulative_hazard(t * 1.5) {
                    continue; // flat part: any t in the flat stretch is a valid inverse
                }
                let back = hz.inverse_cumulative_hazard(h);
                assert!(
                    (back - t).abs() <= 1e-9 * t.max(1.0),
                    "{hz:?}: t={t} back={back}"
                );
            }
        }
    }

    #[test]
    fn survival_matches_cumulative_hazard() {
        for hz in families() {
            for &t in &[0.0, 0.7, 4.0, 30.0] {
                let s = hz.survival(t);
                let via_h = (-hz.cumulative_hazard(t)).exp();
                assert!((s - via_h).abs() < 1e-12, "{hz:?} at {t}: {s} vs {via_h}");
            }
        }
    }

    #[test]
    fn cure_fraction_is_the_plateau() {
        let hz = Hazard::new(Family::Exponential { rate: 1.0 }, 0.3).unwrap();
        assert!((hz.survival(1e3) - 0.3).abs() < 1e-12);
        assert_eq!(hz.inverse_cumulative_hazard(-(0.29f64.ln())), f64::INFINITY);
        assert!(hz.constant_rate().is_none());
    }

    #[test]
    fn lognormal_tails_are_accurate() {
        let hz = Hazard::new(
            Family::LogNormal {
                meanlog: 0.0,
                sdlog: 1.0,
            },
            0.0,
        )
        .unwrap();
        // Median of a standard log-normal is 1: H(1) = ln 2.
        assert!((hz.cumulative_hazard(1.0) - std::f64::consts::LN_2).abs() < 1e-14);
        assert!((hz.inverse_cumulative_hazard(std::f64::consts::LN_2) - 1.0).abs() < 1e-12);
        // Far tails keep relative accuracy.
        let tiny = hz.inverse_cumulative_hazard(1e-12);
        assert!((hz.cumulative_hazard(tiny) / 1e-12 - 1.0).abs() < 1e-6);
        let far = hz.inverse_cumulative_hazard(40.0);
        assert!((hz.cumulative_hazard(far) / 40.0 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn truncated_sampling_never_goes_back_in_time() {
        for hz in families() {
            for &t0 in &[0.0, 0.5, 2.0, 10.0] {
                for &e in &[1e-9, 0.1, 1.0, 5.0] {
                    let t = hz.sample_after(t0, 1.3, e);
                    assert!(t >= t0, "{hz:?}: {t} < {t0}");
                }
            }
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Hazard::new(Family::Exponential { rate: -1.0 }, 0.0).unwrap_err();
        assert_eq!(e.parameter, "rate");
        let e = Hazard::new(
            Family::Weibull {
                shape: 0.0,
                scale: 1.0,
            },
            0.0,
        )
        .unwrap_err();
        assert_eq!(e.parameter, "shape");
        let e = Hazard::new(
            Family::LogNormal {
                meanlog: f64::NAN,
                sdlog: 1.0,
            },
            0.0,
        )
        .unwrap_err();
        assert_eq!(e.parameter, "meanlog");
        let e = Hazard::new(Family::Exponential { rate: 0.1 }, 1.0).unwrap_err();
        assert_eq!(e.parameter, "cure");
        assert!(Family::piecewise(vec![1.0], vec![0.1]).is_err());
        assert!(Family::piecewise(vec![0.0, 0.0], vec![0.1, 0.1]).is_err());
    }
}
