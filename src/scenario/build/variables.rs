//! Variables: cohort attributes and policy variables (`[[variables]]`), their kinds and
//! units, and the values the file gives them (defaults, `set = { … }`).
//!
//! Separate because a variable's kind and unit decide how every value and rule that names it
//! is read, and attributes and policy variables share one namespace.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::checks::check_identifier;
use super::{Builder, Result, key, path_with};
use crate::model::variable::{TimeUnit, Unit, VarKind, VarSource, Variable, quote_list};
use crate::scenario::error::{BuildError, Path};
use crate::scenario::format::{AttributeDef, Measure, VariableDef};
use crate::suggest::did_you_mean;
use crate::toml_path;

/// The message for a `unit = "…"` that is not one we know.
pub(super) fn unknown_unit(text: &str, path: Path) -> BuildError {
    let names = ["years", "months", "weeks", "days", "none"];
    BuildError::new(
        path,
        format!("unknown unit `{text}`.{}", did_you_mean(text, names)),
    )
    .help(format!("a unit is one of {}", Unit::CHOICES))
}

/// The unit of a numeric attribute (declared, else inferred, see
/// [`AttributeDef::unit`]), checked.
pub(super) fn attribute_unit(a: &AttributeDef, path: &Path) -> Result<Unit> {
    match (a.unit(), &a.unit) {
        (Some(unit), _) => Ok(unit),
        (None, Some(text)) => Err(unknown_unit(text, path_with(path, &[key("unit")]))),
        (None, None) => Ok(Unit::None),
    }
}

/// The unit of a policy variable: declared, else months if its default is written as a
/// duration (`default = "6m"`), else none.
fn policy_unit(v: &VariableDef, kind: &VarKind, path: &Path) -> Result<Unit> {
    let unit_path = path_with(path, &[key("unit")]);
    match (&v.unit, kind) {
        (Some(_), VarKind::Bool | VarKind::Category(_)) => Err(BuildError::new(
            unit_path,
            format!("`{}` is not a number, so it has no unit", v.name),
        )
        .help("remove `unit`; it belongs to variables with type = \"number\"")),
        (Some(text), VarKind::Number) => {
            Unit::parse(text).ok_or_else(|| unknown_unit(text, unit_path))
        }
        (None, VarKind::Number) => {
            let written = match &v.default {
                Some(value @ toml::Value::String(_)) => Measure::deserialize(value.clone())
                    .ok()
                    .and_then(|m| m.unit),
                _ => None,
            };
            Ok(written.map_or(Unit::None, |_| Unit::Time(TimeUnit::Months)))
        }
        (None, _) => Ok(Unit::None),
    }
}

impl Builder {
    fn add_variable(
        &mut self,
        name: &str,
        kind: VarKind,
        source: VarSource,
        unit: Unit,
        path: Path,
    ) -> Result<()> {
        check_identifier(name, "variable", path.clone())?;
        if crate::model::rule::RESERVED_NAMES.contains(&name) {
            return Err(
                BuildError::new(path, format!("`{name}` is reserved in rules"))
                    .help("choose another name for the variable"),
            );
        }
        if self.variables.iter().any(|v| v.name == name) {
            return Err(
                BuildError::new(path, format!("variable `{name}` is declared twice"))
                    .help("attribute and policy variable names must be unique"),
            );
        }
        self.variables
            .push(Variable::new(name, kind, source).with_unit(unit));
        Ok(())
    }

    pub(super) fn variables(
        &mut self,
        attributes: &[AttributeDef],
        policy: &[VariableDef],
    ) -> Result<()> {
        for (i, a) in attributes.iter().enumerate() {
            let path = toml_path!["cohort", "attributes", i];
            let kind = match (&a.levels, a.probability, &a.distribution) {
                (Some(levels), None, None) => VarKind::Category(levels.keys().cloned().collect()),
                (None, Some(_), None) => VarKind::Bool,
                (None, None, Some(_)) => VarKind::Number,
                _ => {
                    return Err(BuildError::new(
                        path,
                        format!("attribute `{}` needs exactly one of `levels`, `probability` or `distribution`", a.name),
                    )
                    .help("categorical: levels = { AML = 0.6, ALL = 0.4 }; yes/no: probability = 0.3; numeric: distribution = \"normal\", mean = 50, sd = 12"));
                }
            };
            let unit = match kind {
                VarKind::Number => attribute_unit(a, &path)?,
                _ if a.unit.is_some() => {
                    return Err(BuildError::new(
                        path_with(&path, &[key("unit")]),
                        format!(
                            "`{}` is {}, not a number, so it has no unit",
                            a.name,
                            if a.probability.is_some() {
                                "yes/no"
                            } else {
                                "categorical"
                            }
                        ),
                    )
                    .help("remove `unit`; it belongs to numeric attributes (distribution = …)"));
                }
                _ => Unit::None,
            };
            self.add_variable(
                &a.name,
                kind,
                VarSource::Attribute,
                unit,
                path_with(&path, &[key("name")]),
            )?;
        }
        for (i, v) in policy.iter().enumerate() {
            let path = toml_path!["variables", i];
            let kind = match (v.kind.as_deref(), &v.levels) {
                (None | Some("category"), Some(levels)) => {
                    if levels.is_empty() {
                        return Err(BuildError::new(
                            path_with(&path, &[key("levels")]),
                            "a categorical variable needs at least one level",
                        ));
                    }
                    VarKind::Category(levels.clone())
                }
                (Some("number"), None) => VarKind::Number,
                (Some("bool"), None) => VarKind::Bool,
                _ => {
                    return Err(BuildError::new(
                        path,
                        format!(
                            "variable `{}` needs `levels = [...]`, or type = \"number\" or \"bool\"",
                            v.name
                        ),
                    ));
                }
            };
            let unit = policy_unit(v, &kind, &path)?;
            self.add_variable(
                &v.name,
                kind,
                VarSource::Policy,
                unit,
                path_with(&path, &[key("name")]),
            )?;
        }
        Ok(())
    }

    /// Value of a variable from a TOML value, type-checked.
    pub(super) fn value_of(&self, var: usize, value: &toml::Value, path: Path) -> Result<f64> {
        let v = &self.variables[var];
        let bad = || {
            BuildError::new(
                path.clone(),
                format!("`{}` is {}, got {}", v.name, v.kind.describe(), value),
            )
        };
        match (&v.kind, value) {
            (VarKind::Number, toml::Value::Integer(i)) => Ok(*i as f64),
            (VarKind::Number, toml::Value::Float(f)) if f.is_finite() => Ok(*f),
            (VarKind::Number, toml::Value::Float(f)) => Err(BuildError::new(
                path.clone(),
                format!("`{}` must be a finite number, got {f}", v.name),
            )),
            (VarKind::Number, toml::Value::String(s)) => {
                let measure = Measure::deserialize(value.clone())
                    .map_err(|e| BuildError::new(path.clone(), e.to_string()))?;
                measure.in_unit(v.unit).ok_or_else(|| {
                    BuildError::new(
                        path.clone(),
                        format!(
                            "\"{s}\" is a duration, but `{}` is a number without a unit",
                            v.name
                        ),
                    )
                    .help(format!(
                        "write a number (e.g. {}), or, if `{}` is a time, declare its unit on the variable: unit = \"months\" (or years, weeks, days)",
                        measure.number, v.name
                    ))
                })
            }
            (VarKind::Bool, toml::Value::Boolean(b)) => Ok(f64::from(*b)),
            (VarKind::Category(levels), toml::Value::String(s)) => {
                match levels.iter().position(|l| l == s) {
                    Some(i) => Ok(i as f64),
                    None => Err(BuildError::new(
                        path.clone(),
                        format!(
                            "`{s}` is not a level of `{}`.{}",
                            v.name,
                            did_you_mean(s, levels.iter().map(String::as_str))
                        ),
                    )
                    .help(format!("levels are {}", quote_list(levels)))),
                }
            }
            _ => Err(bad()),
        }
    }

    pub(super) fn variable_index(&self, name: &str, path: Path) -> Result<usize> {
        self.variables
            .iter()
            .position(|v| v.name == name)
            .ok_or_else(|| {
                BuildError::new(
                    path,
                    format!(
                        "unknown variable `{name}`.{}",
                        did_you_mean(name, self.variables.iter().map(|v| v.name.as_str()))
                    ),
                )
                .help("variables are declared as [[cohort.attributes]] or [[variables]]")
            })
    }

    /// `set = { var = value }` tables of strategies and branches.
    pub(super) fn assignments(
        &self,
        set: &BTreeMap<String, toml::Value>,
        path: &Path,
    ) -> Result<Vec<(usize, f64)>> {
        let mut out = Vec::new();
        for (name, value) in set {
            let p = path_with(path, &[key(name)]);
            let var = self.variable_index(name, p.clone())?;
            if self.variables[var].source == VarSource::Attribute {
                return Err(BuildError::new(p, format!("`{name}` is a patient attribute; strategies and decisions cannot change who the patient is"))
                    .help("declare a policy variable in [[variables]] for what a strategy decides"));
            }
            out.push((var, self.value_of(var, value, p)?));
        }
        Ok(out)
    }
}
