//! `[background_mortality]`: a life table (annual probabilities or rates by age) as one more
//! exit out of every living state, on the patient's age clock.
//!
//! Separate because it is read in its own units (age in years, annual values) and added to
//! every strategy rather than declared per state.

use super::{Builder, Result, key, path_with};
use crate::model::hazard::{Family, Hazard};
use crate::model::variable::{TimeUnit, Unit, VarKind, VarSource};
use crate::model::{Clock, Node, Timing, Transition};
use crate::scenario::error::{BuildError, Segment};
use crate::scenario::format::BackgroundDef;
use crate::toml_path;

impl Builder {
    pub(super) fn background(&self, bg: &BackgroundDef) -> Result<Transition> {
        let path = toml_path!["background_mortality"];
        let p = |k: &str| path_with(&path, &[key(k)]);
        let to = self.target(&bg.to, p("to"))?;
        match to {
            Node::State(s) if self.states[s].death.is_some() => {}
            _ => {
                return Err(BuildError::new(
                    p("to"),
                    format!(
                        "background mortality must lead to a death state, and `{}` is not one",
                        bg.to
                    ),
                )
                .help("use the non-relapse death state, e.g. to = \"death_nrm\""));
            }
        }
        let variable = self.variable_index(&bg.age, p("age"))?;
        if self.variables[variable].kind != VarKind::Number
            || self.variables[variable].source != VarSource::Attribute
        {
            return Err(BuildError::new(
                p("age"),
                format!(
                    "`{}` must be a numeric cohort attribute (age in years)",
                    bg.age
                ),
            ));
        }
        // The life table is read by age in years; an age without a unit is taken as years.
        match self.variables[variable].unit {
            Unit::None | Unit::Time(TimeUnit::Years) => {}
            Unit::Time(other) => {
                return Err(BuildError::new(
                    p("age"),
                    format!(
                        "`{}` is in {}, but background mortality reads age in years",
                        bg.age,
                        other.name()
                    ),
                )
                .help(format!(
                    "declare the attribute `{}` in years (unit = \"years\", with its numbers in years)",
                    bg.age
                )));
            }
        }
        let rates: Vec<f64> = match (&bg.annual_probability, &bg.annual_rate) {
            (Some(q), None) => {
                if let Some((k, bad)) = q
                    .iter()
                    .enumerate()
                    .find(|(_, x)| !(x.is_finite() && **x >= 0.0 && **x < 1.0))
                {
                    return Err(BuildError::new(
                        path_with(&path, &[key("annual_probability"), Segment::Index(k)]),
                        format!("an annual probability of death must be in [0, 1), got {bad}"),
                    ));
                }
                q.iter().map(|x| -(-x).ln_1p() / 12.0).collect()
            }
            (None, Some(r)) => {
                // Checked as written (per year), not as the monthly rate it becomes.
                if let Some((k, bad)) = r
                    .iter()
                    .enumerate()
                    .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
                {
                    return Err(BuildError::new(
                        path_with(&path, &[key("annual_rate"), Segment::Index(k)]),
                        format!("an annual death rate must be finite and ≥ 0, got {bad}"),
                    ));
                }
                r.iter().map(|x| x / 12.0).collect()
            }
            _ => {
                return Err(BuildError::new(
                    path.clone(),
                    "give exactly one of `annual_probability` (qx) or `annual_rate`",
                ));
            }
        };
        let starts: Vec<f64> = bg.ages.iter().map(|a| a * 12.0).collect();
        let family = Family::piecewise(starts, rates).map_err(|e| {
            let k = if e.parameter == "starts" {
                "ages"
            } else if bg.annual_rate.is_some() {
                "annual_rate"
            } else {
                "annual_probability"
            };
            BuildError::new(
                p(k),
                e.message
                    .replace("starts", "ages")
                    .replace("rates", "values"),
            )
        })?;
        let hazard =
            Hazard::new(family, 0.0).map_err(|e| BuildError::new(path.clone(), e.message))?;
        Ok(Transition {
            to,
            timing: Timing::Hazard(hazard),
            clock: Clock::Age { variable },
            condition: None,
            effects: Vec::new(),
            hr: 1.0,
            name: format!("background->{}", bg.to),
            source: bg.source.clone(),
        })
    }
}
