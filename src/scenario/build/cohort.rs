//! `[cohort]`: each attribute's distribution (levels, yes/no, numeric with truncation) and
//! where patients enter.
//!
//! Separate from `variables`, which says what an attribute is: this says how patients are
//! drawn, in the attribute's unit.

use super::checks::{check_identifier, check_probability, cumulative_probabilities};
use super::variables::attribute_unit;
use super::{Builder, Result, key, path_with};
use crate::model::Entry;
use crate::model::cohort::{Attribute, AttributeDistribution, Cohort, Numeric, show};
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::{AttributeDef, Measure};
use crate::suggest::did_you_mean;
use crate::toml_path;

impl Builder {
    pub(super) fn cohort(&self, defs: &[AttributeDef]) -> Result<Cohort> {
        let mut attributes = Vec::new();
        for (i, a) in defs.iter().enumerate() {
            let path = toml_path!["cohort", "attributes", i];
            let variable = i; // attributes are the first variables, in order
            let distribution = if let Some(levels) = &a.levels {
                let mut ps = Vec::new();
                for (level, p) in levels {
                    let lp = path_with(&path, &[key("levels"), key(level)]);
                    check_identifier(level, "level", lp.clone())?;
                    let p = p
                        .as_float()
                        .or_else(|| p.as_integer().map(|i| i as f64))
                        .ok_or_else(|| {
                            BuildError::new(
                                lp.clone(),
                                format!("the probability of level `{level}` must be a number"),
                            )
                        })?;
                    ps.push((p, lp));
                }
                if ps.is_empty() {
                    return Err(BuildError::new(
                        path_with(&path, &[key("levels")]),
                        "a categorical attribute needs at least one level",
                    ));
                }
                let cumulative = cumulative_probabilities(
                    &ps,
                    path_with(&path, &[key("levels")]),
                    &format!("`{}`'s levels", a.name),
                )?;
                AttributeDistribution::Category { cumulative }
            } else if let Some(p) = a.probability {
                AttributeDistribution::Bool {
                    probability: check_probability(
                        p,
                        path_with(&path, &[key("probability")]),
                        "`probability`",
                    )?,
                }
            } else {
                self.numeric_attribute(a, &path)?
            };
            attributes.push(Attribute {
                variable,
                distribution,
            });
        }
        Ok(Cohort { attributes })
    }

    fn numeric_attribute(&self, a: &AttributeDef, path: &Path) -> Result<AttributeDistribution> {
        let name = a.distribution.as_deref().unwrap_or("");
        let p = |k: &str| path_with(path, &[key(k)]);
        let unit = attribute_unit(a, path)?;
        // A number of the attribute in its unit: a duration is converted into it.
        let in_unit = |m: Measure, at: Path| -> Result<f64> {
            m.in_unit(unit).ok_or_else(|| {
                let written = m.unit.map_or("", |u| u.suffix());
                BuildError::new(
                    at,
                    format!(
                        "\"{}{written}\" is a duration, but `{}` is declared without a unit (unit = \"none\")",
                        show(m.number),
                        a.name
                    ),
                )
                .help(format!(
                    "write the number without a unit ({}), or declare the attribute's time unit, e.g. unit = \"months\"",
                    show(m.number)
                ))
            })
        };
        let need = |v: Option<Measure>, k: &str| -> Result<f64> {
            match v {
                Some(m) => {
                    let x = in_unit(m, p(k))?;
                    if x.is_finite() {
                        Ok(x)
                    } else {
                        Err(BuildError::new(
                            p(k),
                            format!("`{k}` must be finite, got {x}"),
                        ))
                    }
                }
                None => Err(BuildError::new(
                    p("distribution"),
                    format!("a {name} distribution needs `{k}`"),
                )),
            }
        };
        // Where a refused parameter sits in the file (a lognormal's centre may be its median).
        let refused = |e: crate::model::cohort::NumericError| {
            let k = match e.parameter {
                "meanlog" if a.median.is_some() => "median",
                other => other,
            };
            BuildError::new(p(k), e.message).help(e.fix)
        };
        let distribution = match name {
            "fixed" => Numeric::fixed(need(a.value, "value")?),
            "normal" => Numeric::normal(need(a.mean, "mean")?, need(a.sd, "sd")?),
            "lognormal" => {
                let meanlog = match (a.meanlog, a.median) {
                    (Some(m), None) => m,
                    (None, Some(_)) => {
                        let median = need(a.median, "median")?;
                        if median.is_nan() || median <= 0.0 {
                            return Err(BuildError::new(
                                p("median"),
                                format!("`median` must be positive, got {median}"),
                            )
                            .help("a lognormal's median is above 0"));
                        }
                        median.ln()
                    }
                    _ => {
                        return Err(BuildError::new(
                            p("distribution"),
                            "a lognormal distribution needs exactly one of `meanlog` or `median`",
                        ));
                    }
                };
                let sdlog = a.sdlog.ok_or_else(|| {
                    BuildError::new(p("distribution"), "a lognormal distribution needs `sdlog`")
                })?;
                Numeric::lognormal(meanlog, sdlog)
            }
            "uniform" => Numeric::uniform(need(a.min, "min")?, need(a.max, "max")?),
            "gamma" => Numeric::gamma(need(a.mean, "mean")?, need(a.sd, "sd")?),
            "discrete" => {
                let values = a.values.as_ref().ok_or_else(|| {
                    BuildError::new(p("distribution"), "a discrete distribution needs `values`")
                })?;
                let probs = a.probabilities.as_ref().ok_or_else(|| {
                    BuildError::new(
                        p("distribution"),
                        "a discrete distribution needs `probabilities`",
                    )
                })?;
                if values.len() != probs.len() || values.is_empty() {
                    return Err(BuildError::new(
                        p("probabilities"),
                        format!(
                            "`values` and `probabilities` must have the same, non-zero length (got {} and {})",
                            values.len(),
                            probs.len()
                        ),
                    ));
                }
                let ps: Vec<(f64, Path)> = probs
                    .iter()
                    .enumerate()
                    .map(|(k, x)| {
                        (
                            *x,
                            path_with(path, &[key("probabilities"), Segment::Index(k)]),
                        )
                    })
                    .collect();
                let cumulative =
                    cumulative_probabilities(&ps, p("probabilities"), &format!("`{}`", a.name))?;
                let mut numbers = Vec::with_capacity(values.len());
                for (k, m) in values.iter().enumerate() {
                    let at = path_with(path, &[key("values"), Segment::Index(k)]);
                    let x = in_unit(*m, at.clone())?;
                    if !x.is_finite() {
                        return Err(BuildError::new(
                            at,
                            format!("every value must be a finite number, got {x}"),
                        ));
                    }
                    numbers.push(x);
                }
                Numeric::discrete(numbers, cumulative)
            }
            other => {
                return Err(BuildError::new(
                    p("distribution"),
                    format!(
                        "unknown distribution `{other}`.{}",
                        did_you_mean(
                            other,
                            [
                                "fixed",
                                "normal",
                                "lognormal",
                                "uniform",
                                "gamma",
                                "discrete"
                            ]
                        )
                    ),
                )
                .help(
                    "use one of `fixed`, `normal`, `lognormal`, `uniform`, `gamma`, `discrete`",
                ));
            }
        }
        .map_err(refused)?;
        // For uniform, min/max are the bounds themselves; elsewhere they truncate (±inf: no
        // bound).
        let bound = |m: Option<Measure>, k: &str, none: f64| -> Result<f64> {
            m.map_or(Ok(none), |m| in_unit(m, p(k)))
        };
        let (min, max) = match distribution {
            Numeric::Uniform { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            _ => (
                bound(a.min, "min", f64::NEG_INFINITY)?,
                bound(a.max, "max", f64::INFINITY)?,
            ),
        };
        AttributeDistribution::truncated(distribution, min, max).map_err(refused)
    }

    pub(super) fn entry(&self, value: &toml::Value) -> Result<Entry> {
        let path = toml_path!["cohort", "entry"];
        match value {
            toml::Value::String(s) => Ok(Entry {
                cumulative: vec![(1.0, self.target(s, path)?)],
            }),
            toml::Value::Table(t) if !t.is_empty() => {
                let mut ps = Vec::new();
                let mut targets = Vec::new();
                for (name, p) in t {
                    let p_path = path_with(&path, &[key(name)]);
                    targets.push(self.target(name, p_path.clone())?);
                    let p = p
                        .as_float()
                        .or_else(|| p.as_integer().map(|i| i as f64))
                        .ok_or_else(|| {
                            BuildError::new(p_path.clone(), "entry probabilities must be numbers")
                        })?;
                    ps.push((p, p_path));
                }
                let cumulative = cumulative_probabilities(&ps, path, "entry states")?;
                Ok(Entry {
                    cumulative: cumulative.into_iter().zip(targets).collect(),
                })
            }
            _ => Err(BuildError::new(
                path,
                "`entry` must be a state name or a table of probabilities",
            )
            .help("entry = \"relapse1\", or entry = { relapse1 = 0.8, graft_failure = 0.2 }")),
        }
    }
}
