//! Compiles a parsed scenario file into a validated [`Model`].
//!
//! Every check that can be made before simulating is made here, and each failure names the
//! exact place in the file and a fix: unknown names (with suggestions), parameters out of
//! range, probabilities that do not sum to 1, states without exits, unreachable states,
//! decision loops that take no time. What passes cannot make the engine panic.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::cohort::{Attribute, AttributeDistribution, Cohort, Numeric, show};
use crate::model::hazard::{Family, Hazard};
use crate::model::rule::{Rule, RuleError, RuleScope};
use crate::model::variable::{TimeUnit, Unit, VarKind, VarSource, Variable, quote_list};
use crate::model::*;
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::*;
use crate::suggest::did_you_mean;
use crate::toml_path;

type Result<T> = std::result::Result<T, BuildError>;

/// Tolerance on probabilities summing to 1 (printed values are often rounded).
const PROBABILITY_TOLERANCE: f64 = 1e-6;
use crate::model::limits::{MAX_CURVE_VALUES, MAX_IDENTIFIER_BYTES};
pub use crate::model::limits::{MAX_GRID_POINTS, MAX_HORIZON_MONTHS, MAX_PATIENTS, MAX_STATES};

fn path_with(base: &Path, tail: &[Segment]) -> Path {
    let mut p = base.clone();
    p.extend_from_slice(tail);
    p
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
}

/// Checks a name used in CSV columns and rules.
fn check_identifier(name: &str, what: &str, path: Path) -> Result<()> {
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(BuildError::new(
            path,
            format!("this {what} name is longer than {MAX_IDENTIFIER_BYTES} characters"),
        )
        .help("use a short name (letters, digits and underscores) and put the long form in a `label` or `description`"));
    }
    let ok = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(
            BuildError::new(path, format!("{what} name `{name}` is not a valid name")).help(
                "use letters, digits and underscores, starting with a letter (e.g. `relapse2`)",
            ),
        )
    }
}

fn check_probability(p: f64, path: Path, what: &str) -> Result<f64> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(BuildError::new(
            path,
            format!("{what} must be a probability in [0, 1], got {p}"),
        ))
    }
}

/// Running sums of probabilities that must sum to 1; the last is set to exactly 1.
fn cumulative_probabilities(ps: &[(f64, Path)], whole: Path, what: &str) -> Result<Vec<f64>> {
    let mut total = 0.0;
    let mut out = Vec::with_capacity(ps.len());
    for (p, path) in ps {
        total += check_probability(*p, path.clone(), what)?;
        out.push(total);
    }
    if (total - 1.0).abs() > PROBABILITY_TOLERANCE {
        return Err(BuildError::new(
            whole,
            format!(
                "the probabilities of {what} sum to {}, not 1",
                (total * 1e9).round() / 1e9
            ),
        )
        .help("adjust them so they add up to 1 (rounding within 1e-6 is accepted)"));
    }
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    Ok(out)
}

fn rule_error(path: Path, source: &str, e: RuleError) -> BuildError {
    BuildError {
        path,
        inner: Some(e.offset.min(source.len())..(e.offset + e.len.max(1)).min(source.len().max(1))),
        message: format!("in rule `{}`: {}", shorten(source, 80), e.message),
        help: Some(RULE_HELP.into()),
    }
}

/// `text`, cut to `max` characters with an ellipsis (rules and names in messages).
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

/// The message for a `unit = "…"` that is not one we know.
fn unknown_unit(text: &str, path: Path) -> BuildError {
    let names = ["years", "months", "weeks", "days", "none"];
    BuildError::new(
        path,
        format!("unknown unit `{text}`.{}", did_you_mean(text, names)),
    )
    .help(format!("a unit is one of {}", Unit::CHOICES))
}

/// The unit of a numeric attribute (declared, else inferred, see
/// [`AttributeDef::unit`]), checked.
fn attribute_unit(a: &AttributeDef, path: &Path) -> Result<Unit> {
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

/// How rules are written, for every rule error.
const RULE_HELP: &str = "rules compare variables and times: `age >= 60 and cgvhd`, `disease in ['AML', 'ALL']`, `remission >= 6m`, `visited('hsct2')`, `time_since('hsct2') > 3m`; a number with a unit (6m, 2y) is converted into the unit of the time it meets, a number without one is in that unit; see \"Rules\" and \"Units\" in the README";

/// What a cure fraction is.
const CURE_HELP: &str = "`cure` is the fraction of patients who never have this event, from 0 up to (not including) 1: cure = 0.3 means 30 %";

/// The parameters a hazard family takes and their ranges.
pub fn family_help(family: &str) -> String {
    match family {
        "exponential" => "a constant hazard takes rate ≥ 0 per month (0 switches it off), or a median or mean time > 0, e.g. hazard = { family = \"exponential\", median = \"8m\" }",
        "weibull" => "weibull takes shape > 0 (below 1 the hazard falls, above 1 it rises) and scale > 0, a time, e.g. { family = \"weibull\", shape = 1.3, scale = \"14m\" }",
        "gompertz" => "gompertz takes rate > 0 (the hazard per month at time 0) and a finite shape (below 0 the hazard falls and some patients never have the event)",
        "loglogistic" => "loglogistic takes shape > 0 and scale > 0, a time (the median), e.g. { family = \"loglogistic\", shape = 2, scale = \"10m\" }",
        "lognormal" => "lognormal takes meanlog (or median, a time > 0) and sdlog > 0, e.g. { family = \"lognormal\", median = \"2m\", sdlog = 0.5 }",
        "uniform" => "uniform takes times 0 ≤ min < max, e.g. { family = \"uniform\", min = \"1m\", max = \"3m\" }",
        _ => "piecewise takes starts = [0, \"6m\", …] (first 0, strictly increasing) and one rate ≥ 0 per month for each start",
    }
    .to_string()
}

/// A fix for errors raised without one, from the key they are about.
fn default_help(path: &Path) -> String {
    let key = path.iter().rev().find_map(|s| match s {
        Segment::Key(k) => Some(k.as_str()),
        Segment::Index(_) => None,
    });
    match key.unwrap_or("") {
        "patients" => format!("the number of virtual patients, from 1 to {MAX_PATIENTS}, e.g. patients = 100_000 (each runs under every strategy)"),
        "seed" => "any whole number ≥ 0, e.g. seed = 1; the same seed gives the same results".into(),
        "horizon" => "a positive duration, e.g. horizon = \"5y\"".into(),
        "grid" => "a positive duration that divides the horizon, e.g. grid = \"1m\" (monthly points) or \"3m\"".into(),
        "threads" => "threads = 0 uses all cores; otherwise 1 to 4096".into(),
        "max_events" => "the default 10 000 transitions per patient is far above any real life; raise it only for models with many short cycles".into(),
        "probability" | "probabilities" | "p" | "levels" => "a probability is a number from 0 to 1, e.g. 0.3 for 30 %".into(),
        "hr" => "a hazard ratio is a positive number: 1 means no effect, 2 doubles the hazard, 0.5 halves it".into(),
        "cure" => CURE_HELP.into(),
        "enabled" => "to switch a transition off for one strategy: [[strategies]] … transitions = [ { from = \"a\", to = \"b\", enabled = false } ]".into(),
        "name" => "names are identifiers (letters, digits, _), unique among states, decisions, strategies and variables".into(),
        "decisions" | "branches" => "a decision has branches = [ { to = \"…\", if = \"rule\" }, …, { to = \"…\" } ], or chance branches each with p".into(),
        "from" | "to" => "name a state (or, for `to`, a decision) declared in the file".into(),
        "after" | "at" => "a duration ≥ 0, e.g. after = \"3m\"".into(),
        "reference" | "min" | "max" | "mean" | "sd" | "median" | "meanlog" | "sdlog" | "value" | "values" | "distribution" => "a numeric attribute is one of: fixed (value), normal (mean, sd > 0), lognormal (median or meanlog, sdlog > 0), uniform (min < max), gamma (mean, sd > 0), discrete (values, probabilities); min/max truncate".into(),
        _ => "see \"Scenario format\" in the README for what this key accepts".into(),
    }
}

/// Compiles a scenario file. `default_name` names the scenario when the file does not.
///
/// Every error comes with a fix: its own, or one for the key it is about.
pub fn build(file: &ScenarioFile, default_name: &str) -> Result<Model> {
    build_with(file, default_name, &[])
}

/// Compiles a composed scenario. States named in `inherited` come from the model it
/// extends and may go unused: a scenario about relapse never reaches the model's
/// graft-failure states, and that is no error. Every state the scenario itself adds must
/// still be reachable. Every error comes with a fix, as for [`build`].
pub fn build_with(file: &ScenarioFile, default_name: &str, inherited: &[String]) -> Result<Model> {
    compile(file, default_name, inherited).map_err(|mut e| {
        if e.help.is_none() {
            e.help = Some(default_help(&e.path));
        }
        e
    })
}

fn compile(file: &ScenarioFile, default_name: &str, inherited: &[String]) -> Result<Model> {
    crate::scenario::sizes::check(file)?;
    let mut b = Builder::default();
    let state_names: Vec<String> = file.states.iter().map(|s| s.name.clone()).collect();
    b.states(&file.states)?;
    b.variables(&file.cohort.attributes, &file.variables)?;
    b.decision_names(&file.decisions)?;
    let cohort = b.cohort(&file.cohort.attributes)?;
    let entry = match &file.cohort.entry {
        Some(entry) => b.entry(entry)?,
        None => {
            return Err(BuildError::new(
                toml_path!["cohort"],
                "the cohort has no `entry`: patients must start somewhere",
            )
            .help("add [cohort] with entry = \"relapse1\" (a state or decision), or extend a model that has one: [scenario] model = \"hsct-review\""));
        }
    };
    let background = match &file.background_mortality {
        Some(bg) => Some(b.background(bg)?),
        None => None,
    };
    let base_decisions = b.decisions(&file.decisions)?;
    let strategies = b.strategies(file, &base_decisions, background.as_ref())?;
    let settings = b.settings(&file.simulation, &strategies)?;
    let name = match &file.scenario.name {
        Some(name) => crate::scenario::name::checked(name, toml_path!["scenario", "name"])?,
        None => crate::scenario::name::made_safe(default_name),
    };
    let mut model = Model {
        name,
        description: file.scenario.description.clone().unwrap_or_default(),
        states: b.states,
        variables: b.variables,
        cohort,
        entry,
        strategies,
        settings,
        uses_history: b.uses_history,
        figures: Default::default(),
        economics: None,
    };
    check_graph(&model, file, inherited)?;
    if let Some(def) = &file.economics {
        let scope = RuleScope {
            variables: &model.variables,
            states: &state_names,
        };
        model.economics = Some(economics(def, &model.states, &scope)?);
    }
    model.figures = crate::scenario::figures::build(file.figures.as_ref(), &model)?;
    Ok(model)
}

#[derive(Default)]
struct Builder {
    states: Vec<State>,
    state_names: Vec<String>,
    variables: Vec<Variable>,
    decision_names: Vec<String>,
    uses_history: bool,
}

impl Builder {
    fn scope(&self) -> RuleScope<'_> {
        RuleScope {
            variables: &self.variables,
            states: &self.state_names,
        }
    }

    fn states(&mut self, defs: &[StateDef]) -> Result<()> {
        if defs.is_empty() {
            return Err(
                BuildError::new(toml_path!["states"], "the scenario has no states").help(
                    "add [[states]] tables, e.g. name = \"relapse\", or start from a \
                         built-in model with model = \"hsct-review\" (see `hsctsim models`)",
                ),
            );
        }
        for (i, d) in defs.iter().enumerate() {
            let path = toml_path!["states", i, "name"];
            check_identifier(&d.name, "state", path.clone())?;
            if self.state_names.contains(&d.name) {
                return Err(
                    BuildError::new(path, format!("state `{}` is declared twice", d.name))
                        .help("state names must be unique; rename or remove one"),
                );
            }
            let death = match d.death.as_deref() {
                None => None,
                Some("relapse") => Some(DeathCause::Relapse),
                Some("nrm") => Some(DeathCause::NonRelapse),
                Some(other) => {
                    return Err(BuildError::new(
                        toml_path!["states", i, "death"],
                        format!(
                            "unknown cause of death `{other}`.{}",
                            did_you_mean(other, ["relapse", "nrm"])
                        ),
                    )
                    .help("use death = \"relapse\" (death from disease) or death = \"nrm\" (non-relapse mortality)"));
                }
            };
            if d.hsct2 && (d.absorbing || death.is_some()) {
                return Err(BuildError::new(
                    toml_path!["states", i, "hsct2"],
                    format!(
                        "state `{}` cannot both start the HSCT2 time origin and be absorbing",
                        d.name
                    ),
                )
                .help("mark the state entered at the second transplant with hsct2 = true"));
            }
            self.state_names.push(d.name.clone());
            self.states.push(State {
                name: d.name.clone(),
                label: d.label.clone().unwrap_or_else(|| d.name.clone()),
                absorbing: d.absorbing || death.is_some(),
                death,
                relapse: d.relapse,
                hsct2: d.hsct2,
            });
        }
        Ok(())
    }

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

    fn variables(&mut self, attributes: &[AttributeDef], policy: &[VariableDef]) -> Result<()> {
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

    fn decision_names(&mut self, decisions: &[DecisionDef]) -> Result<()> {
        for (i, d) in decisions.iter().enumerate() {
            let path = toml_path!["decisions", i, "name"];
            check_identifier(&d.name, "decision", path.clone())?;
            if self.state_names.contains(&d.name) || self.decision_names.contains(&d.name) {
                return Err(BuildError::new(
                    path,
                    format!("`{}` is already the name of a state or decision", d.name),
                )
                .help("states and decisions share one namespace; rename the decision"));
            }
            self.decision_names.push(d.name.clone());
        }
        Ok(())
    }

    /// Value of a variable from a TOML value, type-checked.
    fn value_of(&self, var: usize, value: &toml::Value, path: Path) -> Result<f64> {
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

    fn variable_index(&self, name: &str, path: Path) -> Result<usize> {
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
    fn assignments(
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

    fn cohort(&self, defs: &[AttributeDef]) -> Result<Cohort> {
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

    fn target(&self, name: &str, path: Path) -> Result<Target> {
        if let Some(i) = self.state_names.iter().position(|s| s == name) {
            return Ok(Target::State(i));
        }
        if let Some(i) = self.decision_names.iter().position(|s| s == name) {
            return Ok(Target::Decision(i));
        }
        let all = self
            .state_names
            .iter()
            .chain(&self.decision_names)
            .map(String::as_str);
        Err(BuildError::new(
            path,
            format!(
                "unknown state or decision `{name}`.{}",
                did_you_mean(name, all)
            ),
        )
        .help(format!("states are {}", quote_list(&self.state_names))))
    }

    fn entry(&self, value: &toml::Value) -> Result<Entry> {
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

    fn condition(&mut self, text: &str, path: Path) -> Result<Rule> {
        let rule =
            Rule::parse_condition(text, &self.scope()).map_err(|e| rule_error(path, text, e))?;
        self.uses_history |= rule.uses_history();
        Ok(rule)
    }

    fn number_rule(&mut self, text: &str, path: Path) -> Result<Rule> {
        let rule =
            Rule::parse_number(text, &self.scope()).map_err(|e| rule_error(path, text, e))?;
        self.uses_history |= rule.uses_history();
        Ok(rule)
    }

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

    /// A hazard family from `{ family = …, … }`, with parameter-level errors.
    fn family(&self, def: &HazardDef, path: &Path) -> Result<Family> {
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

    /// Compiles one transition; `field` gives the path of each field (base or override).
    fn transition(
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

    fn branches(&mut self, defs: &[BranchDef], decision: &str, path: &Path) -> Result<Choice> {
        if defs.is_empty() {
            return Err(BuildError::new(
                path.clone(),
                format!("decision `{decision}` has no branches"),
            ));
        }
        let chance = defs.iter().any(|b| b.p.is_some());
        let mut compiled = Vec::new();
        for (k, b) in defs.iter().enumerate() {
            let bp = path_with(path, &[Segment::Index(k)]);
            let to = self.target(&b.to, path_with(&bp, &[key("to")]))?;
            let set = match &b.set {
                Some(s) => self.assignments(s, &path_with(&bp, &[key("set")]))?,
                None => Vec::new(),
            };
            let branch = Branch { to, set };
            if chance {
                if b.condition.is_some() || b.p.is_none() {
                    return Err(BuildError::new(bp, format!("decision `{decision}` mixes probabilities and rules"))
                        .help("give every branch a `p` (chance), or none (rules); to combine, let a rule branch lead to a chance decision"));
                }
                compiled.push((Some(b.p.unwrap_or(0.0)), None, branch));
            } else {
                let condition = match &b.condition {
                    Some(text) => Some(self.condition(text, path_with(&bp, &[key("if")]))?),
                    None => None,
                };
                if condition.is_none() && k + 1 < defs.len() {
                    return Err(BuildError::new(bp, format!("branch {k} of `{decision}` has no `if`, so the branches after it can never be taken"))
                        .help("only the last branch may omit `if` (it is the `else`)"));
                }
                compiled.push((None, condition, branch));
            }
        }
        if chance {
            let ps: Vec<(f64, Path)> = compiled
                .iter()
                .enumerate()
                .map(|(k, (p, _, _))| {
                    (
                        p.unwrap_or(0.0),
                        path_with(path, &[Segment::Index(k), key("p")]),
                    )
                })
                .collect();
            let cumulative =
                cumulative_probabilities(&ps, path.clone(), &format!("decision `{decision}`"))?;
            Ok(Choice::Chance(
                cumulative
                    .into_iter()
                    .zip(compiled.into_iter().map(|(_, _, b)| b))
                    .collect(),
            ))
        } else {
            if compiled.last().is_some_and(|(_, c, _)| c.is_some()) {
                return Err(BuildError::new(path_with(path, &[Segment::Index(defs.len() - 1)]), format!("the last branch of `{decision}` has an `if`, so some patients may match no branch"))
                    .help("add a final branch without `if`, e.g. { to = \"palliative\" }"));
            }
            Ok(Choice::Rules(
                compiled.into_iter().map(|(_, c, b)| (c, b)).collect(),
            ))
        }
    }

    fn decisions(&mut self, defs: &[DecisionDef]) -> Result<Vec<Decision>> {
        let mut out = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            let choice = self.branches(
                &d.branches,
                &d.name,
                &toml_path!["decisions", i, "branches"],
            )?;
            out.push(Decision {
                name: d.name.clone(),
                choice,
            });
        }
        Ok(out)
    }

    fn background(&self, bg: &BackgroundDef) -> Result<Transition> {
        let path = toml_path!["background_mortality"];
        let p = |k: &str| path_with(&path, &[key(k)]);
        let to = self.target(&bg.to, p("to"))?;
        match to {
            Target::State(s) if self.states[s].death.is_some() => {}
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

    fn strategies(
        &mut self,
        file: &ScenarioFile,
        base_decisions: &[Decision],
        background: Option<&Transition>,
    ) -> Result<Vec<Strategy>> {
        // Validate base transitions' endpoints and duplicates once, with their own paths.
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (i, t) in file.transitions.iter().enumerate() {
            self.transition_source(&t.from, toml_path!["transitions", i, "from"])?;
            if seen.contains(&(t.from.as_str(), t.to.as_str())) {
                return Err(BuildError::new(toml_path!["transitions", i], format!("transition {}->{} is declared twice", t.from, t.to))
                    .help("competing causes of the same move are one transition with one hazard; add the rates or use effects"));
            }
            if t.enabled.is_some() {
                return Err(BuildError::new(
                    toml_path!["transitions", i, "enabled"],
                    "`enabled` belongs in a strategy's transitions, to switch a base transition off",
                ));
            }
            seen.push((&t.from, &t.to));
        }
        let defs: Vec<StrategyDef> = if file.strategies.is_empty() {
            vec![StrategyDef {
                name: "default".into(),
                label: Some("Default".into()),
                description: None,
                set: None,
                decisions: None,
                transitions: Vec::new(),
            }]
        } else {
            file.strategies.clone()
        };
        let mut out = Vec::new();
        let mut names = std::collections::HashSet::new();
        // A base transition no strategy overrides compiles to the same value (and the same
        // error, at the same path) in every strategy: compile it once, so validation is
        // linear in the number of strategies rather than strategies × model.
        let mut compiled: Vec<Option<Transition>> = vec![None; file.transitions.len()];
        for (si, sd) in defs.iter().enumerate() {
            let spath = toml_path!["strategies", si];
            check_identifier(&sd.name, "strategy", path_with(&spath, &[key("name")]))?;
            if !names.insert(sd.name.as_str()) {
                return Err(BuildError::new(
                    path_with(&spath, &[key("name")]),
                    format!("strategy `{}` is declared twice", sd.name),
                )
                .help("strategy names must be unique; rename or remove one"));
            }
            // Policy variables: defaults, then the strategy's values.
            let mut policy = Vec::new();
            for (vi, v) in file.variables.iter().enumerate() {
                let var = self.variable_index(&v.name, toml_path!["variables", vi, "name"])?;
                let value = match &v.default {
                    Some(d) => self.value_of(var, d, toml_path!["variables", vi, "default"])?,
                    None => 0.0,
                };
                policy.push((var, value));
            }
            if let Some(set) = &sd.set {
                for (var, value) in self.assignments(set, &path_with(&spath, &[key("set")]))? {
                    if let Some(slot) = policy.iter_mut().find(|(v, _)| *v == var) {
                        slot.1 = value;
                    }
                }
            }
            // Decisions: base, with replacements.
            let mut decisions = base_decisions.to_vec();
            for (name, branches) in sd.decisions.iter().flatten() {
                let dpath = path_with(&spath, &[key("decisions"), key(name)]);
                let Some(index) = decisions.iter().position(|d| &d.name == name) else {
                    return Err(BuildError::new(
                        dpath,
                        format!(
                            "strategy `{}` replaces unknown decision `{name}`.{}",
                            sd.name,
                            did_you_mean(name, self.decision_names.iter().map(String::as_str))
                        ),
                    )
                    .help(format!(
                        "decisions are {}",
                        quote_list(&self.decision_names)
                    )));
                };
                decisions[index].choice = self.branches(branches, name, &dpath)?;
            }
            // Transitions: base merged with overrides.
            let mut merged: Vec<(TransitionDef, Option<usize>, Option<usize>)> = file
                .transitions
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, t)| (t, Some(i), None))
                .collect();
            for (oi, o) in sd.transitions.iter().enumerate() {
                let opath = path_with(&spath, &[key("transitions"), Segment::Index(oi)]);
                self.transition_source(&o.from, path_with(&opath, &[key("from")]))?;
                match merged
                    .iter()
                    .position(|(t, _, _)| t.from == o.from && t.to == o.to)
                {
                    Some(k) if o.enabled == Some(false) => {
                        merged.remove(k);
                    }
                    Some(k) => {
                        let base = &mut merged[k];
                        merge_override(&mut base.0, o);
                        base.2 = Some(oi);
                    }
                    None if o.enabled == Some(false) => {
                        return Err(BuildError::new(
                            opath,
                            format!(
                                "strategy `{}` disables {}->{}, which is not a transition of the model",
                                sd.name, o.from, o.to
                            ),
                        ));
                    }
                    None => merged.push((o.clone(), None, Some(oi))),
                }
            }
            let mut exits: Vec<Vec<Transition>> = vec![Vec::new(); self.states.len()];
            for (def, base_index, override_index) in &merged {
                let field = |f: &str| -> Path {
                    let from_override =
                        override_index.is_some_and(|oi| field_is_set(&sd.transitions[oi], f));
                    match (from_override, override_index, base_index) {
                        (true, Some(oi), _) | (false, Some(oi), None) => {
                            path_with(&spath, &[key("transitions"), Segment::Index(*oi), key(f)])
                        }
                        (_, _, Some(bi)) => toml_path!["transitions", *bi, f],
                        _ => path_with(&spath, &[key("transitions")]),
                    }
                };
                let from = self
                    .state_names
                    .iter()
                    .position(|s| s == &def.from)
                    .unwrap_or(0);
                let t = match (override_index, base_index) {
                    (None, Some(bi)) => match &compiled[*bi] {
                        Some(t) => t.clone(),
                        None => {
                            let t = self.transition(def, &def.from, &field)?;
                            compiled[*bi] = Some(t.clone());
                            t
                        }
                    },
                    _ => self.transition(def, &def.from, &field)?,
                };
                exits[from].push(t);
            }
            if let Some(bg) = background {
                for (s, e) in exits.iter_mut().enumerate() {
                    if !self.states[s].absorbing {
                        e.push(bg.clone());
                    }
                }
            }
            out.push(Strategy {
                name: sd.name.clone(),
                label: sd.label.clone().unwrap_or_else(|| sd.name.clone()),
                policy,
                exits: exits.into_iter().map(Exits::new).collect(),
                decisions,
            });
        }
        Ok(out)
    }

    /// A transition's `from` must be a non-absorbing state.
    fn transition_source(&self, from: &str, path: Path) -> Result<usize> {
        match self.target(from, path.clone())? {
            Target::State(s) if self.states[s].absorbing => Err(BuildError::new(path, format!("`{from}` is absorbing (a death or end state) and cannot have exits"))
                .help("remove the transition, or drop `absorbing`/`death` from the state")),
            Target::State(s) => Ok(s),
            Target::Decision(_) => Err(BuildError::new(path, format!("`{from}` is a decision; decisions leave through their branches, not transitions"))
                .help("move this into the decision's `branches`")),
        }
    }

    fn settings(&self, sim: &SimulationDef, strategies: &[Strategy]) -> Result<Settings> {
        let p = |k: &str| toml_path!["simulation", k];
        let patients = sim.patients.unwrap_or(100_000);
        if patients < 1 || patients as u64 > MAX_PATIENTS {
            return Err(BuildError::new(
                p("patients"),
                format!("`patients` must be between 1 and {MAX_PATIENTS}, got {patients}"),
            ));
        }
        let seed = sim.seed.unwrap_or(1);
        if seed < 0 {
            return Err(BuildError::new(
                p("seed"),
                format!("`seed` must be ≥ 0, got {seed}"),
            ));
        }
        let horizon = sim.horizon.map_or(60.0, |q| q.0);
        if !(horizon.is_finite() && horizon > 0.0) {
            return Err(BuildError::new(
                p("horizon"),
                format!("`horizon` must be a positive duration, got {horizon}"),
            )
            .help("e.g. horizon = \"5y\""));
        }
        if horizon > MAX_HORIZON_MONTHS {
            return Err(BuildError::new(
                p("horizon"),
                format!(
                    "`horizon` is {horizon} months ({:.0} years); the limit is {MAX_HORIZON_MONTHS} months (1000 years)",
                    horizon / 12.0
                ),
            )
            .help("bare numbers are months: give a unit, e.g. horizon = \"50y\""));
        }
        let grid_step = sim.grid.map_or(1.0, |q| q.0);
        if !(grid_step.is_finite() && grid_step > 0.0) {
            return Err(BuildError::new(
                p("grid"),
                format!("`grid` must be a positive duration, got {grid_step}"),
            ));
        }
        let steps = horizon / grid_step;
        if (steps - steps.round()).abs() > 1e-9 * steps.max(1.0) {
            return Err(BuildError::new(p("grid"), format!("the horizon ({horizon} months) is not a whole number of grid steps ({grid_step} months)"))
                .help("choose a step that divides the horizon, e.g. \"1m\" or \"3m\""));
        }
        if steps.round() as usize + 1 > MAX_GRID_POINTS {
            return Err(BuildError::new(
                p("grid"),
                format!(
                    "the grid would have {} points; the limit is {MAX_GRID_POINTS}",
                    steps.round() as usize + 1
                ),
            )
            .help("use a coarser grid step"));
        }
        // Curves and occupancy are kept (and written) per grid time, strategy and state.
        let values = (steps.round() as u64 + 1)
            .saturating_mul(strategies.len() as u64)
            .saturating_mul(self.states.len() as u64);
        if values > MAX_CURVE_VALUES {
            return Err(BuildError::new(
                p("grid"),
                format!(
                    "{} grid times × {} strategies × {} states make {values} curve values; the limit is {MAX_CURVE_VALUES}",
                    steps.round() as u64 + 1,
                    strategies.len(),
                    self.states.len()
                ),
            )
            .help("use a coarser grid step, or compare fewer strategies in one scenario"));
        }
        let landmarks = match &sim.landmarks {
            Some(l) => {
                let mut out = Vec::new();
                for (k, q) in l.iter().enumerate() {
                    let lp = toml_path!["simulation", "landmarks", k];
                    let x = q.0;
                    let on_grid = ((x / grid_step) - (x / grid_step).round()).abs() < 1e-9;
                    if !(x.is_finite() && x > 0.0 && x <= horizon + 1e-9 && on_grid) {
                        return Err(BuildError::new(lp, format!("landmark {x} months must be a grid time in (0, {horizon}]"))
                            .help("landmarks are read off the grid; pick multiples of the grid step within the horizon"));
                    }
                    out.push((x / grid_step).round() * grid_step);
                }
                out
            }
            None => (1..)
                .map(|k| k as f64 * 12.0)
                .take_while(|x| *x <= horizon + 1e-9)
                .filter(|x| ((x / grid_step) - (x / grid_step).round()).abs() < 1e-9)
                .collect(),
        };
        let threads = sim.threads.unwrap_or(0);
        if !(0..=4096).contains(&threads) {
            return Err(BuildError::new(
                p("threads"),
                format!("`threads` must be between 0 (all cores) and 4096, got {threads}"),
            ));
        }
        let max_events = sim.max_events.unwrap_or(10_000);
        if !(1..=100_000_000).contains(&max_events) {
            return Err(BuildError::new(
                p("max_events"),
                format!("`max_events` must be between 1 and 1e8, got {max_events}"),
            ));
        }
        let reference = match &sim.reference {
            Some(name) => strategies
                .iter()
                .position(|s| &s.name == name)
                .ok_or_else(|| {
                    BuildError::new(
                        p("reference"),
                        format!(
                            "unknown strategy `{name}`.{}",
                            did_you_mean(name, strategies.iter().map(|s| s.name.as_str()))
                        ),
                    )
                    .help(format!(
                        "strategies are {}",
                        quote_list(
                            &strategies
                                .iter()
                                .map(|s| s.name.clone())
                                .collect::<Vec<_>>()
                        )
                    ))
                })?,
            None => 0,
        };
        Ok(Settings {
            patients: patients as u64,
            seed: seed as u64,
            horizon,
            grid_step,
            landmarks,
            threads: threads as usize,
            max_events: max_events as u32,
            reference,
        })
    }
}

/// True if the override sets this field itself (so errors point at the override).
pub(crate) fn field_is_set(o: &TransitionDef, field: &str) -> bool {
    match field {
        "to" | "from" => true,
        "rate" => o.rate.is_some(),
        "hazard" => o.hazard.is_some(),
        "cure" => o.cure.is_some(),
        "clock" => o.clock.is_some(),
        "after" => o.after.is_some(),
        "at" => o.at.is_some(),
        "if" => o.condition.is_some(),
        "effects" => o.effects.is_some(),
        "hr" => o.hr.is_some(),
        "source" => o.source.is_some(),
        _ => false,
    }
}

/// Applies a strategy's override to a base transition: given fields replace; a new timing
/// (rate, hazard, after or at) replaces the whole old timing.
pub(crate) fn merge_override(base: &mut TransitionDef, o: &TransitionDef) {
    if o.rate.is_some() || o.hazard.is_some() || o.after.is_some() || o.at.is_some() {
        base.rate = o.rate;
        base.hazard = o.hazard.clone();
        base.after = o.after;
        base.at = o.at;
    }
    if o.cure.is_some() {
        base.cure = o.cure;
    }
    if o.clock.is_some() {
        base.clock = o.clock.clone();
    }
    if o.condition.is_some() {
        base.condition = o.condition.clone();
    }
    if o.effects.is_some() {
        base.effects = o.effects.clone();
    }
    if o.hr.is_some() {
        base.hr = o.hr;
    }
    if o.source.is_some() {
        base.source = o.source.clone();
    }
}

/// Structural checks on each strategy's graph.
fn check_graph(model: &Model, file: &ScenarioFile, inherited: &[String]) -> Result<()> {
    let n = model.states.len();
    let mut reachable_any = vec![false; n];
    for strategy in &model.strategies {
        let d = strategy.decisions.len();
        let branch_targets = |k: usize| -> Vec<Target> {
            match &strategy.decisions[k].choice {
                Choice::Rules(r) => r.iter().map(|(_, b)| b.to).collect(),
                Choice::Chance(c) => c.iter().map(|(_, b)| b.to).collect(),
            }
        };
        // Decision loops that take no time.
        let mut colour = vec![0u8; d];
        fn visit(
            k: usize,
            colour: &mut [u8],
            next: &dyn Fn(usize) -> Vec<Target>,
            stack: &mut Vec<usize>,
        ) -> Option<Vec<usize>> {
            colour[k] = 1;
            stack.push(k);
            for t in next(k) {
                if let Target::Decision(j) = t {
                    if colour[j] == 1 {
                        let start = stack.iter().position(|x| *x == j).unwrap_or(0);
                        return Some(stack[start..].to_vec());
                    }
                    if colour[j] == 0
                        && let Some(c) = visit(j, colour, next, stack)
                    {
                        return Some(c);
                    }
                }
            }
            stack.pop();
            colour[k] = 2;
            None
        }
        for k in 0..d {
            if colour[k] == 0
                && let Some(cycle) = visit(k, &mut colour, &branch_targets, &mut Vec::new())
            {
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|c| strategy.decisions[*c].name.as_str())
                    .collect();
                let pos = file
                    .decisions
                    .iter()
                    .position(|x| x.name == names[0])
                    .unwrap_or(0);
                return Err(BuildError::new(
                    toml_path!["decisions", pos],
                    format!(
                        "decisions {} → {} form a loop that takes no time (strategy `{}`)",
                        names.join(" → "),
                        names[0],
                        strategy.name
                    ),
                )
                .help("a decision must eventually lead to a state"));
            }
        }
        // States a target can lead to instantly (through decisions).
        let resolve = |t: Target| -> Vec<usize> {
            let mut out = Vec::new();
            let mut stack = vec![t];
            let mut seen = vec![false; d];
            while let Some(t) = stack.pop() {
                match t {
                    Target::State(s) => out.push(s),
                    Target::Decision(k) if !seen[k] => {
                        seen[k] = true;
                        stack.extend(branch_targets(k));
                    }
                    Target::Decision(_) => {}
                }
            }
            out
        };
        let successors: Vec<Vec<usize>> = (0..n)
            .map(|s| {
                strategy.exits[s]
                    .transitions
                    .iter()
                    .flat_map(|t| resolve(t.to))
                    .collect()
            })
            .collect();
        if let Some(cycle) = instant_loop(model, strategy, &resolve) {
            return Err(instant_loop_error(model, file, strategy, &cycle));
        }
        for (k, (_, target)) in model.entry.cumulative.iter().enumerate() {
            if let Some(s) = resolve(*target)
                .into_iter()
                .find(|s| model.states[*s].absorbing)
            {
                let path = match file.cohort.entry.as_ref() {
                    Some(toml::Value::Table(t)) => toml_path![
                        "cohort",
                        "entry",
                        t.keys().nth(k).cloned().unwrap_or_default()
                    ],
                    _ => toml_path!["cohort", "entry"],
                };
                return Err(BuildError::new(
                    path,
                    format!(
                        "patients would enter `{}`, an absorbing state, at time 0 (strategy `{}`)",
                        model.states[s].name, strategy.name
                    ),
                )
                .help(
                    "the entry must be a living state such as relapse after HSCT1 or graft failure",
                ));
            }
        }
        let mut reachable = vec![false; n];
        let mut stack: Vec<usize> = model
            .entry
            .cumulative
            .iter()
            .flat_map(|(_, t)| resolve(*t))
            .collect();
        while let Some(s) = stack.pop() {
            if !reachable[s] {
                reachable[s] = true;
                stack.extend(&successors[s]);
            }
        }
        // Which states can reach an absorbing state.
        let mut can_end = vec![false; n];
        for (s, st) in model.states.iter().enumerate() {
            can_end[s] = st.absorbing;
        }
        let mut changed = true;
        while changed {
            changed = false;
            for s in 0..n {
                if !can_end[s] && successors[s].iter().any(|t| can_end[*t]) {
                    can_end[s] = true;
                    changed = true;
                }
            }
        }
        for s in 0..n {
            let st = &model.states[s];
            if !reachable[s] {
                continue;
            }
            if !st.absorbing && strategy.exits[s].transitions.is_empty() {
                return Err(BuildError::new(toml_path!["states", s], format!("state `{}` has no exits under strategy `{}` but is not absorbing", st.name, strategy.name))
                    .help("add a transition out of it, or mark it absorbing = true (or death = \"relapse\"/\"nrm\")"));
            }
            if !can_end[s] {
                return Err(BuildError::new(toml_path!["states", s], format!("patients who enter `{}` can never reach an absorbing state under strategy `{}`: they would loop for ever", st.name, strategy.name))
                    .help("add a path to a death or other absorbing state (e.g. a death hazard)"));
            }
            reachable_any[s] = true;
        }
    }
    for (s, st) in model.states.iter().enumerate() {
        if !reachable_any[s] && !inherited.contains(&st.name) {
            let kind = if st.absorbing {
                "absorbing state"
            } else {
                "state"
            };
            return Err(BuildError::new(
                toml_path!["states", s, "name"],
                format!(
                    "{kind} `{}` cannot be reached from the entry state under any strategy",
                    st.name
                ),
            )
            .help("add a transition into it, or remove it"));
        }
    }
    Ok(())
}

/// Compiles `[economics]`.
fn economics(
    def: &EconomicsDef,
    states: &[State],
    scope: &RuleScope,
) -> Result<crate::model::economics::Economics> {
    use crate::model::economics::{EventValue, StateValue};
    let p = |tail: &[Segment]| path_with(&toml_path!["economics"], tail);
    let rate = |value: Option<f64>, key: &str| -> Result<f64> {
        let value = value.ok_or_else(|| {
            BuildError::new(toml_path!["economics"], format!("`{key}` is missing")).help(format!(
                "give the annual discount rate, e.g. {key} = 0.03 (0 for none)"
            ))
        })?;
        if value.is_finite() && (0.0..1.0).contains(&value) {
            Ok(value)
        } else {
            Err(BuildError::new(
                p(&[key_segment(key)]),
                format!("`{key}` is an annual rate in [0, 1), got {value}"),
            ))
        }
    };
    let annual_discount_costs = rate(def.discount_costs, "discount_costs")?;
    let annual_discount_effects = rate(def.discount_effects, "discount_effects")?;
    let wtp = def.wtp.clone().unwrap_or_default();
    if let Some((k, bad)) = wtp
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(BuildError::new(
            p(&[key_segment("wtp"), Segment::Index(k)]),
            format!("willingness to pay must be finite and ≥ 0, got {bad}"),
        ));
    }
    let state_index = |name: &str, path: Path| -> Result<usize> {
        states.iter().position(|s| s.name == name).ok_or_else(|| {
            BuildError::new(
                path,
                format!(
                    "unknown state `{name}`.{}",
                    did_you_mean(name, states.iter().map(|s| s.name.as_str()))
                ),
            )
        })
    };
    let condition = |text: &Option<String>, path: Path| -> Result<Option<Rule>> {
        let Some(text) = text else { return Ok(None) };
        let rule =
            Rule::parse_condition(text, scope).map_err(|e| rule_error(path.clone(), text, e))?;
        if rule.uses_history() {
            return Err(BuildError::new(path, "economic conditions may use the patient's variables, not history (time, visits, time_since)")
                .help("make the cost a state of its own, or condition on a variable set by a decision"));
        }
        Ok(Some(rule))
    };
    let finite = |value: Option<f64>, path: Path, what: &str| -> Result<f64> {
        match value {
            None => Ok(0.0),
            Some(v) if v.is_finite() => Ok(v),
            Some(v) => Err(BuildError::new(
                path,
                format!("{what} must be finite, got {v}"),
            )),
        }
    };
    let n = states.len();
    let mut state_values: Vec<Vec<StateValue>> = vec![Vec::new(); n];
    for (k, v) in def.states.iter().enumerate() {
        let vp = |f: &str| p(&[key_segment("states"), Segment::Index(k), key_segment(f)]);
        let s = state_index(&v.state, vp("state"))?;
        if states[s].absorbing {
            return Err(BuildError::new(
                vp("state"),
                format!("`{}` is absorbing: no time is lived in it", v.state),
            )
            .help("put one-off costs on entering it in [[economics.events]] (on = \"state\")"));
        }
        if v.cost.is_none() && v.utility.is_none() {
            return Err(BuildError::new(
                vp("state"),
                "give `cost` (per month), `utility` (per year), or both",
            ));
        }
        let utility = finite(v.utility, vp("utility"), "`utility`")?;
        if !(-1.0..=1.0).contains(&utility) {
            return Err(BuildError::new(
                vp("utility"),
                format!(
                    "a utility weight is at most 1 (full health) and rarely below −1, got {utility}"
                ),
            ));
        }
        state_values[s].push(StateValue {
            condition: condition(&v.condition, vp("if"))?,
            cost: finite(v.cost, vp("cost"), "`cost`")?,
            utility,
        });
    }
    let mut on_enter: Vec<Vec<EventValue>> = vec![Vec::new(); n];
    let mut on_transition = Vec::new();
    for (k, e) in def.events.iter().enumerate() {
        let ep = |f: &str| p(&[key_segment("events"), Segment::Index(k), key_segment(f)]);
        if e.cost.is_none() && e.disutility.is_none() {
            return Err(BuildError::new(
                ep("on"),
                "give `cost`, `disutility` (QALYs lost), or both",
            ));
        }
        let value = EventValue {
            condition: condition(&e.condition, ep("if"))?,
            cost: finite(e.cost, ep("cost"), "`cost`")?,
            disutility: finite(e.disutility, ep("disutility"), "`disutility`")?,
        };
        match e.on.split_once("->") {
            Some((from, to)) => {
                let (from, to) = (
                    state_index(from.trim(), ep("on"))?,
                    state_index(to.trim(), ep("on"))?,
                );
                on_transition.push((from, to, value));
            }
            None => on_enter[state_index(e.on.trim(), ep("on"))?].push(value),
        }
    }
    Ok(crate::model::economics::Economics {
        currency: def.currency.clone().unwrap_or_default(),
        price_year: def.price_year,
        illustrative: def.illustrative,
        note: def.note.clone().unwrap_or_default(),
        annual_discount_costs,
        annual_discount_effects,
        wtp,
        states: state_values,
        on_enter,
        on_transition,
        alive: states.iter().map(|s| s.death.is_none()).collect(),
    })
}

fn key_segment(k: &str) -> Segment {
    Segment::Key(k.to_string())
}

/// When a state's first unconditional exit that can fire without delay fires: `None` for
/// `after = 0` (on entry), `Some(x)` for `at = x` (at month x, if entered by then).
fn instant_exit(state: &Exits, at: Option<f64>) -> Option<usize> {
    state.transitions.iter().position(|t| {
        t.condition.is_none()
            && match (&t.timing, at) {
                (Timing::After(delay), _) => *delay == 0.0,
                (Timing::At(x), Some(at)) => *x == at,
                _ => false,
            }
    })
}

/// A cycle of states whose moves all happen at one instant (`after = 0`, or `at` the same
/// month), which a patient would go round for ever without time passing; returned as
/// (state, index of the exit taken) pairs. Conditional exits are left out (their rules may
/// keep the loop from closing); a loop through them is caught at run time by `max_events`.
fn instant_loop(
    model: &Model,
    strategy: &Strategy,
    resolve: &dyn Fn(Target) -> Vec<usize>,
) -> Option<Vec<(usize, usize)>> {
    let mut instants: Vec<Option<f64>> = vec![None];
    for exits in &strategy.exits {
        for t in &exits.transitions {
            if let Timing::At(x) = t.timing
                && !instants.contains(&Some(x))
            {
                instants.push(Some(x));
            }
        }
    }
    let n = model.states.len();
    for at in instants {
        // The instant move out of each state, if any, and where it can lead.
        let moves: Vec<Option<(usize, Vec<usize>)>> = (0..n)
            .map(|s| {
                instant_exit(&strategy.exits[s], at)
                    .map(|k| (k, resolve(strategy.exits[s].transitions[k].to)))
            })
            .collect();
        // Depth-first search for a cycle; colour 1 = on the current path.
        fn visit(
            s: usize,
            moves: &[Option<(usize, Vec<usize>)>],
            colour: &mut [u8],
            path: &mut Vec<(usize, usize)>,
        ) -> Option<Vec<(usize, usize)>> {
            colour[s] = 1;
            if let Some((k, targets)) = &moves[s] {
                path.push((s, *k));
                for &t in targets {
                    if colour[t] == 1 {
                        let start = path.iter().position(|(x, _)| *x == t).unwrap_or(0);
                        return Some(path[start..].to_vec());
                    }
                    if colour[t] == 0
                        && let Some(cycle) = visit(t, moves, colour, path)
                    {
                        return Some(cycle);
                    }
                }
                path.pop();
            }
            colour[s] = 2;
            None
        }
        let mut colour = vec![0u8; n];
        for s in 0..n {
            if colour[s] == 0
                && let Some(cycle) = visit(s, &moves, &mut colour, &mut Vec::new())
            {
                return Some(cycle);
            }
        }
    }
    None
}

/// The error for an instant loop, pointing at the first move of the cycle in the file.
fn instant_loop_error(
    model: &Model,
    file: &ScenarioFile,
    strategy: &Strategy,
    cycle: &[(usize, usize)],
) -> BuildError {
    let names: Vec<&str> = cycle
        .iter()
        .map(|(s, _)| model.states[*s].name.as_str())
        .collect();
    let (state, k) = cycle[0];
    let transition = &strategy.exits[state].transitions[k];
    let key = if matches!(transition.timing, Timing::At(_)) {
        "at"
    } else {
        "after"
    };
    let to = transition.name.split_once("->").map_or("", |(_, to)| to);
    let from = model.states[state].name.as_str();
    let strategy_index = file.strategies.iter().position(|s| s.name == strategy.name);
    let path = strategy_index
        .and_then(|si| {
            file.strategies[si]
                .transitions
                .iter()
                .position(|t| t.from == from && t.to == to && field_is_set(t, key))
                .map(|oi| toml_path!["strategies", si, "transitions", oi, key])
        })
        .or_else(|| {
            file.transitions
                .iter()
                .position(|t| t.from == from && t.to == to)
                .map(|i| toml_path!["transitions", i, key])
        })
        .unwrap_or_else(|| toml_path!["states", state]);
    BuildError::new(
        path,
        format!(
            "{} → {} form a loop that takes no time (strategy `{}`): a patient would go round it for ever at one instant",
            names.join(" → "),
            names[0],
            strategy.name
        ),
    )
    .help("give one of these moves a duration (a hazard, or after = \"1d\"), or a condition that ends the loop")
}
