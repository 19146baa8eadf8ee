//! Hazard families: `{ family = …, … }` to a [`Family`], with an error for each parameter
//! that is missing, extra or out of range.
//!
//! Separate because the families are the part of the format that grows (a new family is
//! added here and in `help::family_help`).

use super::help::family_help;
use super::{Builder, Result, key, path_with};
use crate::model::cohort::show;
use crate::model::hazard::Family;
use crate::model::variable::quote_list;
use crate::scenario::error::{BuildError, Path};
use crate::scenario::format::{HazardDef, Quantity};
use crate::suggest::did_you_mean;

impl Builder {
    /// A hazard family from `{ family = …, … }`, with parameter-level errors.
    pub(super) fn family(&self, def: &HazardDef, path: &Path) -> Result<Family> {
        let p = |k: &str| path_with(path, &[key(k)]);
        const PARAMS: [&str; 12] = [
            "rate", "median", "mean", "shape", "scale", "meanlog", "sdlog", "min", "max", "starts",
            "rates", "family",
        ];
        let given: Vec<&str> = [
            ("rate", def.rate.is_some()),
            ("median", def.median.is_some()),
            ("mean", def.mean.is_some()),
            ("shape", def.shape.is_some()),
            ("scale", def.scale.is_some()),
            ("meanlog", def.meanlog.is_some()),
            ("sdlog", def.sdlog.is_some()),
            ("min", def.min.is_some()),
            ("max", def.max.is_some()),
            ("starts", def.starts.is_some()),
            ("rates", def.rates.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(k, _)| *k)
        .collect();
        let (family_name, allowed): (&str, &[&str]) = match def.family.as_str() {
            "exponential" => ("exponential", &["rate", "median", "mean"]),
            "weibull" => ("weibull", &["shape", "scale"]),
            "gompertz" => ("gompertz", &["shape", "rate"]),
            "loglogistic" => ("loglogistic", &["shape", "scale"]),
            "lognormal" => ("lognormal", &["meanlog", "median", "sdlog"]),
            "uniform" => ("uniform", &["min", "max"]),
            "piecewise" => ("piecewise", &["starts", "rates"]),
            other => {
                let families = [
                    "exponential",
                    "weibull",
                    "gompertz",
                    "loglogistic",
                    "lognormal",
                    "piecewise",
                    "uniform",
                ];
                return Err(BuildError::new(
                    p("family"),
                    format!(
                        "unknown hazard family `{other}`.{}",
                        did_you_mean(other, families)
                    ),
                )
                .help(format!("families are {}", quote_list(&families))));
            }
        };
        debug_assert!(allowed.iter().all(|a| PARAMS.contains(a)));
        if let Some(extra) = given.iter().find(|g| !allowed.contains(g)) {
            return Err(BuildError::new(
                p(extra),
                format!("`{extra}` is not a parameter of the {family_name} family"),
            )
            .help(format!("{family_name} takes {}", quote_list(allowed))));
        }
        let missing = |k: &str| {
            BuildError::new(p("family"), format!("the {family_name} family needs `{k}`"))
                .help(format!("{family_name} takes {}", quote_list(allowed)))
        };
        let months = |q: Option<Quantity>, k: &str| q.map(|q| q.0).ok_or_else(|| missing(k));
        let one_of = |a: Option<f64>, b: Option<f64>, names: &str| -> Result<f64> {
            match (a, b) {
                (Some(x), None) | (None, Some(x)) => Ok(x),
                _ => Err(BuildError::new(
                    p("family"),
                    format!("the {family_name} family needs exactly one of {names}"),
                )),
            }
        };
        // A time the family is given by (a median, a mean): positive, and with a rate per
        // month that is a finite number, so the message names what the file says.
        let time = |q: Quantity, k: &str| -> Result<f64> {
            let t = q.0;
            let rate = match (family_name, k) {
                ("exponential", "median") => std::f64::consts::LN_2 / t,
                ("exponential", _) => 1.0 / t,
                _ => 1.0,
            };
            if t.is_finite() && t > 0.0 && rate.is_finite() {
                Ok(t)
            } else {
                let why = if t.is_finite() && t > 0.0 {
                    "so short that its rate per month is beyond the largest number"
                } else {
                    "not a positive duration"
                };
                Err(BuildError::new(
                    p(k),
                    format!(
                        "the {family_name} family's `{k}` is {} months, {why}",
                        show(t)
                    ),
                )
                .help(family_help(family_name)))
            }
        };
        let family = match family_name {
            "exponential" => {
                let rate = match (def.rate, def.median, def.mean) {
                    (Some(r), None, None) => r,
                    (None, Some(m), None) => std::f64::consts::LN_2 / time(m, "median")?,
                    (None, None, Some(m)) => 1.0 / time(m, "mean")?,
                    _ => {
                        return Err(BuildError::new(
                            p("family"),
                            "the exponential family needs exactly one of `rate`, `median` or `mean`",
                        ));
                    }
                };
                Family::Exponential { rate }
            }
            "weibull" => Family::Weibull {
                shape: def.shape.ok_or_else(|| missing("shape"))?,
                scale: months(def.scale, "scale")?,
            },
            "loglogistic" => Family::LogLogistic {
                shape: def.shape.ok_or_else(|| missing("shape"))?,
                scale: months(def.scale, "scale")?,
            },
            "gompertz" => Family::Gompertz {
                shape: def.shape.ok_or_else(|| missing("shape"))?,
                rate: def.rate.ok_or_else(|| missing("rate"))?,
            },
            "lognormal" => {
                let median = match def.median {
                    Some(m) => Some(time(m, "median")?.ln()),
                    None => None,
                };
                let meanlog = one_of(def.meanlog, median, "`meanlog` or `median`")?;
                Family::LogNormal {
                    meanlog,
                    sdlog: def.sdlog.ok_or_else(|| missing("sdlog"))?,
                }
            }
            "uniform" => Family::Uniform {
                min: months(def.min, "min")?,
                max: months(def.max, "max")?,
            },
            _ => {
                let starts: Vec<f64> = def
                    .starts
                    .as_ref()
                    .ok_or_else(|| missing("starts"))?
                    .iter()
                    .map(|q| q.0)
                    .collect();
                let rates = def.rates.clone().ok_or_else(|| missing("rates"))?;
                Family::piecewise(starts, rates).map_err(|e| {
                    BuildError::new(p(e.parameter), e.message).help(family_help("piecewise"))
                })?
            }
        };
        family.validate().map_err(|e| {
            BuildError::new(p(e.parameter), e.message).help(family_help(family_name))
        })?;
        Ok(family)
    }
}
