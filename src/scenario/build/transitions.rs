//! `[[transitions]]`: one move between states, its timing (a rate, a hazard, a fixed delay
//! or month), clock, condition and covariate effects (`if` and `per`, with their units).
//!
//! Separate from `strategies`, which decides which transitions a strategy has: this compiles
//! one, with each field's error at the place (base or override) that set it.

use super::help::{CURE_HELP, family_help};
use super::variables::unknown_unit;
use super::{Builder, Result, key, path_with};
use crate::model::hazard::{Family, Hazard};
use crate::model::rule::Rule;
use crate::model::variable::{TimeUnit, Unit, VarSource};
use crate::model::{Clock, Effect, Timing, Transition};
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::{Quantity, TransitionDef};
use crate::suggest::did_you_mean;

impl Builder {
    /// The value of a `per` effect, in the unit its hazard ratio is per: a time (`age`,
    /// `time_since('hsct2')`) must say which (`unit = "years"`: an HR per year, not per
    /// month), and a number without a unit must not.
    fn per_unit(
        &mut self,
        text: &str,
        unit: Option<&str>,
        ep: &dyn Fn(&str) -> Path,
    ) -> Result<Rule> {
        let rule = self.number_rule(text, ep("per"))?;
        let declared = match unit {
            None => None,
            Some(u) => Some(match Unit::parse(u) {
                Some(Unit::Time(t)) => t,
                Some(Unit::None) => {
                    return Err(BuildError::new(
                        ep("unit"),
                        "`unit = \"none\"` is the default of a `per` that is not a time",
                    )
                    .help("remove `unit`"));
                }
                None => return Err(unknown_unit(u, ep("unit"))),
            }),
        };
        match (rule.unit(), declared) {
            (Unit::None, None) => Ok(rule),
            (Unit::Time(_), Some(per)) => Ok(rule.converted_to(per)),
            (Unit::Time(t), None) => Err(BuildError::new(
                ep("per"),
                format!(
                    "`{text}` is a time in {}, so the hazard ratio could be per day, per month or per year",
                    t.name()
                ),
            )
            .help({
                let others: Vec<String> = TimeUnit::ALL
                    .iter()
                    .rev()
                    .filter(|u| **u != t)
                    .map(|u| format!("\"{}\"", u.name()))
                    .collect();
                format!(
                    "say which: unit = \"{}\" for a hazard ratio per {} of `{text}` (or {}); `reference` is then in that unit too",
                    t.name(),
                    t.singular(),
                    others.join(", ")
                )
            })),
            (Unit::None, Some(per)) => {
                let declare = match self.variables.iter().find(|v| v.name == text.trim()) {
                    Some(v) => format!(
                        "; if `{}` is a time in {}, declare it: unit = \"{}\" on the {} `{}`",
                        v.name,
                        per.name(),
                        per.name(),
                        if v.source == VarSource::Attribute {
                            "attribute"
                        } else {
                            "policy variable"
                        },
                        v.name
                    ),
                    None => String::new(),
                };
                Err(BuildError::new(
                    ep("unit"),
                    format!(
                        "`unit` says the hazard ratio is per {}, but `{text}` is a number without a unit",
                        per.singular()
                    ),
                )
                .help(format!("remove `unit` for a hazard ratio per unit of `{text}`{declare}")))
            }
        }
    }

    /// Compiles one transition; `field` gives the path of each field (base or override).
    pub(super) fn transition(
        &mut self,
        def: &TransitionDef,
        from: &str,
        field: &dyn Fn(&str) -> Path,
    ) -> Result<Transition> {
        let to = self.target(&def.to, field("to"))?;
        let timings = [
            def.rate.is_some(),
            def.hazard.is_some(),
            def.after.is_some(),
            def.at.is_some(),
        ];
        let name = format!("{from}->{}", def.to);
        if timings.iter().filter(|t| **t).count() != 1 {
            return Err(BuildError::new(field("to"), format!("transition {name} needs exactly one of `rate`, `hazard`, `after` or `at`"))
                .help("rate = 0.1 (per month); hazard = { family = \"weibull\", shape = 1.2, scale = \"12m\" }; after = \"3m\"; at = \"24m\""));
        }
        let cure = def.cure.unwrap_or(0.0);
        let with_cure = |family: Family, at: Path| -> Result<Timing> {
            Hazard::new(family, cure).map(Timing::Hazard).map_err(|e| {
                if e.parameter == "cure" {
                    BuildError::new(field("cure"), e.message).help(CURE_HELP)
                } else {
                    BuildError::new(at, e.message).help(family_help("exponential"))
                }
            })
        };
        let timing = if let Some(rate) = def.rate {
            with_cure(Family::Exponential { rate }, field("rate"))?
        } else if let Some(h) = &def.hazard {
            let hazard_path = field("hazard");
            let family = self.family(h, &hazard_path)?;
            with_cure(family, hazard_path)?
        } else {
            if def.cure.is_some() {
                return Err(BuildError::new(
                    field("cure"),
                    "`cure` applies to hazards, not to fixed `after`/`at` times",
                ));
            }
            let (q, k) = if let Some(q) = def.after {
                (q, "after")
            } else {
                (def.at.unwrap_or(Quantity(f64::NAN)), "at")
            };
            if !(q.0.is_finite() && q.0 >= 0.0) {
                return Err(BuildError::new(
                    field(k),
                    format!("`{k}` must be a non-negative duration, got {}", q.0),
                ));
            }
            if k == "after" {
                Timing::After(q.0)
            } else {
                Timing::At(q.0)
            }
        };
        let clock = match def.clock.as_deref() {
            None | Some("reset") => Clock::Reset,
            Some("forward") => Clock::Forward,
            Some(other) => return Err(BuildError::new(field("clock"), format!("unknown clock `{other}`.{}", did_you_mean(other, ["reset", "forward"])))
                .help("clock = \"reset\" (time since entering the state) or \"forward\" (time since cohort entry)")),
        };
        let condition = match &def.condition {
            Some(text) => Some(self.condition(text, field("if"))?),
            None => None,
        };
        let mut effects = Vec::new();
        for (k, e) in def.effects.iter().flatten().enumerate() {
            let ep = |f: &str| path_with(&field("effects"), &[Segment::Index(k), key(f)]);
            if !(e.hr.is_finite() && e.hr > 0.0) {
                return Err(BuildError::new(
                    ep("hr"),
                    format!("a hazard ratio must be positive and finite, got {}", e.hr),
                ));
            }
            effects.push(match (&e.condition, &e.per) {
                (Some(c), None) => {
                    for (k, given) in [
                        ("reference", e.reference.is_some()),
                        ("unit", e.unit.is_some()),
                    ] {
                        if given {
                            return Err(BuildError::new(
                                ep(k),
                                format!("`{k}` goes with `per`, not with `if`"),
                            ));
                        }
                    }
                    Effect::When {
                        condition: self.condition(c, ep("if"))?,
                        hr: e.hr,
                    }
                }
                (None, Some(v)) => {
                    let reference = e.reference.unwrap_or(0.0);
                    if !reference.is_finite() {
                        // hr^(value − ∞) is 0 or NaN, which would switch the effect off.
                        return Err(BuildError::new(
                            ep("reference"),
                            format!("`reference` must be a finite number, got {reference}"),
                        )
                        .help("the value of `per` at which the hazard ratio is 1, e.g. reference = 50"));
                    }
                    Effect::PerUnit {
                        value: self.per_unit(v, e.unit.as_deref(), &ep)?,
                        reference,
                        log_hr: e.hr.ln(),
                    }
                }
                _ => {
                    return Err(BuildError::new(
                        path_with(&field("effects"), &[Segment::Index(k)]),
                        "an effect needs exactly one of `if` (a condition) or `per` (a number)",
                    )
                    .help("{ if = \"cgvhd\", hr = 2.9 } or { per = \"hct_ci\", hr = 1.32 }"));
                }
            });
        }
        if !effects.is_empty() && !matches!(timing, Timing::Hazard(_)) {
            return Err(BuildError::new(
                field("effects"),
                "covariate effects need a hazard; fixed `after`/`at` times have none",
            ));
        }
        let hr = def.hr.unwrap_or(1.0);
        if !(hr.is_finite() && hr > 0.0) {
            return Err(BuildError::new(
                field("hr"),
                format!("`hr` must be positive and finite, got {hr}"),
            ));
        }
        Ok(Transition {
            to,
            timing,
            clock,
            condition,
            effects,
            hr,
            name,
            source: def.source.clone(),
        })
    }
}
