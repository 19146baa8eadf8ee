//! Named parameters: a path-like name for every number of a model file that calibration may
//! move, read and written on the parsed file.
//!
//! Names select elements by what they are called in the file, not by position, so a name
//! survives edits that reorder the file:
//!
//! ```text
//! transitions[hsct2->death_nrm].rate
//! transitions[hsct2->death_nrm].hr                        (1 when the file has none)
//! transitions[remission2->relapse2].cure
//! transitions[remission2->relapse2].hazard.scale          (shape, rate, median, meanlog, sdlog, mean, min, max, rates[i])
//! transitions[hsct2->death_nrm].effects[cgvhd].hr         (an effect by its `if`/`per` text, or by index)
//! decisions[relapse_plan].branches[1].p                   (the other branches are rescaled to keep the sum 1)
//! cohort.attributes[cgvhd].probability
//! cohort.attributes[status].levels.active                 (the other levels are rescaled)
//! cohort.attributes[age].mean                             (sd, median, sdlog, meanlog, value, min, max, probabilities[i])
//! economics.states[hsct2].cost                            (cost per month; or utility; an entry by its state, or by index)
//! economics.events[relapse->hsct2].cost                   (or disutility; an entry by its `on` text, or by index)
//! economics.events[hsct2 if donor_type == 'MUD'].cost     (by `on` and `if` when several share the `on`; `[hsct2]` is the one without `if`)
//! ```
//!
//! Each name also maps to a TOML path of the file (`transitions[12].effects[3].hr`) so the
//! fitted value can be written back into the text of the model, comments and all.

use crate::scenario::error::{Path, Segment};
use crate::scenario::format::{Quantity, ScenarioFile, TransitionDef};
use crate::toml_path;

/// A parsed parameter name.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterPath {
    /// The name as written.
    pub text: String,
    target: Field,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Transition {
        from: String,
        to: String,
        field: TransitionField,
    },
    BranchProbability {
        decision: String,
        branch: usize,
    },
    Attribute {
        name: String,
        field: AttributeField,
    },
    Economics {
        list: EconomicList,
        key: EntryKey,
        field: String,
    },
}

/// `[[economics.states]]` or `[[economics.events]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EconomicList {
    States,
    Events,
}

impl EconomicList {
    fn key(self) -> &'static str {
        match self {
            EconomicList::States => "states",
            EconomicList::Events => "events",
        }
    }

    fn fields(self) -> [&'static str; 2] {
        match self {
            EconomicList::States => ["cost", "utility"],
            EconomicList::Events => ["cost", "disutility"],
        }
    }
}

/// An entry of a list chosen by what it names (a state, an event) or by position.
#[derive(Debug, Clone, PartialEq)]
enum EntryKey {
    Index(usize),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
enum TransitionField {
    Rate,
    Hr,
    Cure,
    After,
    At,
    Hazard(String),
    HazardRate(usize),
    EffectHr(EffectKey),
}

#[derive(Debug, Clone, PartialEq)]
enum EffectKey {
    Index(usize),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
enum AttributeField {
    Probability,
    Level(String),
    Number(String),
    DiscreteProbability(usize),
}

/// Why a parameter name cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter `{name}`: {message}")]
pub struct ParameterError {
    /// The name.
    pub name: String,
    /// What is wrong, and how to write it.
    pub message: String,
}

fn err(name: &str, message: impl Into<String>) -> ParameterError {
    ParameterError {
        name: name.to_string(),
        message: message.into(),
    }
}

/// Splits `a[b].c[d]` into (key, selector) pairs, brackets balanced so selectors may hold
/// rule texts such as `donor_type in ['HID', 'cord']`.
fn segments(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        if key.is_empty() {
            return Err(format!("empty name before position {}", i + 1));
        }
        let mut selector = None;
        if i < chars.len() && chars[i] == '[' {
            let mut depth = 0;
            let open = i;
            loop {
                if i >= chars.len() {
                    return Err("unbalanced `[`".into());
                }
                match chars[i] {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            selector = Some(
                chars[open + 1..i]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string(),
            );
            i += 1;
        }
        out.push((key, selector));
        if i < chars.len() {
            if chars[i] != '.' {
                return Err(format!("expected `.` at position {}", i + 1));
            }
            i += 1;
        }
    }
    Ok(out)
}

const HAZARD_FIELDS: [&str; 9] = [
    "rate", "shape", "scale", "median", "mean", "meanlog", "sdlog", "min", "max",
];
const ATTRIBUTE_NUMBERS: [&str; 8] = [
    "value", "mean", "sd", "median", "meanlog", "sdlog", "min", "max",
];

impl ParameterPath {
    /// Parses a name (see the module documentation for the forms).
    pub fn parse(text: &str) -> Result<ParameterPath, ParameterError> {
        let text = text.trim();
        let segs = segments(text).map_err(|m| err(text, m))?;
        let help = "write e.g. transitions[hsct2->death_nrm].hr, transitions[hsct2->death_nrm].effects[cgvhd].hr, decisions[relapse_plan].branches[1].p or cohort.attributes[cgvhd].probability";
        let sel = |s: &Option<String>| -> Result<String, ParameterError> {
            s.clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| err(text, format!("a selector in brackets is missing; {help}")))
        };
        let index = |s: &str| -> Result<usize, ParameterError> {
            s.parse()
                .map_err(|_| err(text, format!("`{s}` is not an index (0, 1, …)")))
        };
        let target = match segs.as_slice() {
            [(t, s), rest @ ..] if t == "transitions" => {
                let pair = sel(s)?;
                let (from, to) = pair
                    .split_once("->")
                    .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                    .ok_or_else(|| {
                        err(
                            text,
                            "select a transition as [from->to], e.g. transitions[hsct2->death_nrm]",
                        )
                    })?;
                let field = match rest {
                    [(f, None)] if f == "rate" => TransitionField::Rate,
                    [(f, None)] if f == "hr" => TransitionField::Hr,
                    [(f, None)] if f == "cure" => TransitionField::Cure,
                    [(f, None)] if f == "after" => TransitionField::After,
                    [(f, None)] if f == "at" => TransitionField::At,
                    [(h, None), (f, None)]
                        if h == "hazard" && HAZARD_FIELDS.contains(&f.as_str()) =>
                    {
                        TransitionField::Hazard(f.clone())
                    }
                    [(h, None), (f, Some(i))] if h == "hazard" && f == "rates" => {
                        TransitionField::HazardRate(index(i)?)
                    }
                    [(e, Some(k)), (f, None)] if e == "effects" && f == "hr" => {
                        TransitionField::EffectHr(match k.parse::<usize>() {
                            Ok(i) => EffectKey::Index(i),
                            Err(_) => EffectKey::Text(k.clone()),
                        })
                    }
                    _ => {
                        return Err(err(
                            text,
                            "a transition's parameter is rate, hr, cure, after, at, hazard.<shape|scale|rate|median|mean|meanlog|sdlog|min|max>, hazard.rates[i] or effects[<if or per text, or index>].hr",
                        ));
                    }
                };
                Field::Transition { from, to, field }
            }
            [(d, s), (b, Some(i)), (p, None)]
                if d == "decisions" && b == "branches" && p == "p" =>
            {
                Field::BranchProbability {
                    decision: sel(s)?,
                    branch: index(i)?,
                }
            }
            [(c, None), (a, s), rest @ ..] if c == "cohort" && a == "attributes" => {
                let name = sel(s)?;
                let field = match rest {
                    [(f, None)] if f == "probability" => AttributeField::Probability,
                    [(l, None), (level, None)] if l == "levels" => {
                        AttributeField::Level(level.clone())
                    }
                    [(f, None)] if ATTRIBUTE_NUMBERS.contains(&f.as_str()) => {
                        AttributeField::Number(f.clone())
                    }
                    [(f, Some(i))] if f == "probabilities" => {
                        AttributeField::DiscreteProbability(index(i)?)
                    }
                    _ => {
                        return Err(err(
                            text,
                            "an attribute's parameter is probability, levels.<level>, probabilities[i] or one of value, mean, sd, median, meanlog, sdlog, min, max",
                        ));
                    }
                };
                Field::Attribute { name, field }
            }
            [(e, None), (l, s), (f, None)] if e == "economics" => {
                let list = match l.as_str() {
                    "states" => EconomicList::States,
                    "events" => EconomicList::Events,
                    _ => {
                        return Err(err(
                            text,
                            "an economic value is economics.states[<state>].<cost|utility> or economics.events[<on>].<cost|disutility>",
                        ));
                    }
                };
                if !list.fields().contains(&f.as_str()) {
                    return Err(err(
                        text,
                        format!(
                            "an entry of economics.{} has {}",
                            list.key(),
                            list.fields().join(" and ")
                        ),
                    ));
                }
                let key = sel(s)?;
                Field::Economics {
                    list,
                    key: match key.parse::<usize>() {
                        Ok(i) => EntryKey::Index(i),
                        Err(_) => EntryKey::Text(key),
                    },
                    field: f.clone(),
                }
            }
            _ => return Err(err(text, format!("not a parameter name; {help}"))),
        };
        Ok(ParameterPath {
            text: text.to_string(),
            target,
        })
    }

    /// True for a probability (fitted on the logit scale by default).
    pub fn is_probability(&self) -> bool {
        matches!(
            self.target,
            Field::BranchProbability { .. }
                | Field::Attribute {
                    field: AttributeField::Probability
                        | AttributeField::Level(_)
                        | AttributeField::DiscreteProbability(_),
                    ..
                }
                | Field::Transition {
                    field: TransitionField::Cure,
                    ..
                }
        )
    }

    fn transition_index(
        &self,
        file: &ScenarioFile,
        from: &str,
        to: &str,
    ) -> Result<usize, ParameterError> {
        file.transitions
            .iter()
            .position(|t| t.from == from && t.to == to)
            .ok_or_else(|| {
                let known: Vec<String> = file
                    .transitions
                    .iter()
                    .map(|t| format!("{}->{}", t.from, t.to))
                    .collect();
                err(
                    &self.text,
                    format!(
                        "the model has no transition {from}->{to}.{}",
                        crate::suggest::did_you_mean(
                            &format!("{from}->{to}"),
                            known.iter().map(String::as_str)
                        )
                    ),
                )
            })
    }

    fn effect_index(&self, t: &TransitionDef, key: &EffectKey) -> Result<usize, ParameterError> {
        let effects = t.effects.as_deref().unwrap_or(&[]);
        let found = match key {
            EffectKey::Index(i) => (*i < effects.len()).then_some(*i),
            EffectKey::Text(k) => effects.iter().position(|e| {
                e.condition.as_deref().map(str::trim) == Some(k.as_str())
                    || e.per.as_deref().map(str::trim) == Some(k.as_str())
            }),
        };
        found.ok_or_else(|| {
            let known: Vec<String> = effects
                .iter()
                .map(|e| e.condition.clone().or(e.per.clone()).unwrap_or_default())
                .collect();
            err(
                &self.text,
                format!(
                    "transition {}->{} has no such effect; its effects are {}",
                    t.from,
                    t.to,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known
                            .iter()
                            .map(|k| format!("[{k}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            )
        })
    }

    /// Where the number sits in the model file (for writing it back), and where the
    /// `source` of the element that carries it sits.
    pub fn toml_paths(&self, file: &ScenarioFile) -> Result<(Path, Path), ParameterError> {
        match &self.target {
            Field::Transition { from, to, field } => {
                let i = self.transition_index(file, from, to)?;
                let base: Path = toml_path!["transitions", i];
                let with = |tail: &[Segment]| {
                    let mut p = base.clone();
                    p.extend_from_slice(tail);
                    p
                };
                let k = |s: &str| Segment::Key(s.to_string());
                let source = with(&[k("source")]);
                Ok(match field {
                    TransitionField::Rate => (with(&[k("rate")]), source),
                    TransitionField::Hr => (with(&[k("hr")]), source),
                    TransitionField::Cure => (with(&[k("cure")]), source),
                    TransitionField::After => (with(&[k("after")]), source),
                    TransitionField::At => (with(&[k("at")]), source),
                    TransitionField::Hazard(f) => (with(&[k("hazard"), k(f)]), source),
                    TransitionField::HazardRate(r) => {
                        (with(&[k("hazard"), k("rates"), Segment::Index(*r)]), source)
                    }
                    TransitionField::EffectHr(key) => {
                        let e = self.effect_index(&file.transitions[i], key)?;
                        (
                            with(&[k("effects"), Segment::Index(e), k("hr")]),
                            with(&[k("effects"), Segment::Index(e), k("source")]),
                        )
                    }
                })
            }
            Field::BranchProbability { decision, branch } => {
                let d = self.decision_index(file, decision)?;
                Ok((
                    toml_path!["decisions", d, "branches", *branch, "p"],
                    toml_path!["decisions", d, "source"],
                ))
            }
            Field::Attribute { name, field } => {
                let a = self.attribute_index(file, name)?;
                let value = match field {
                    AttributeField::Probability => {
                        toml_path!["cohort", "attributes", a, "probability"]
                    }
                    AttributeField::Level(l) => toml_path!["cohort", "attributes", a, "levels", l],
                    AttributeField::Number(f) => toml_path!["cohort", "attributes", a, f],
                    AttributeField::DiscreteProbability(i) => {
                        toml_path!["cohort", "attributes", a, "probabilities", *i]
                    }
                };
                Ok((value, toml_path!["cohort", "attributes", a, "source"]))
            }
            Field::Economics { list, key, field } => {
                let i = self.economic_index(file, *list, key)?;
                Ok((
                    toml_path!["economics", list.key(), i, field.as_str()],
                    toml_path!["economics", list.key(), i, "source"],
                ))
            }
        }
    }

    /// The entry of `[[economics.states]]`/`[[economics.events]]` a name selects: by index,
    /// or by the state / `on` text it is written for (which must then be unique).
    fn economic_index(
        &self,
        file: &ScenarioFile,
        list: EconomicList,
        key: &EntryKey,
    ) -> Result<usize, ParameterError> {
        let economics = file.economics.as_ref().ok_or_else(|| {
            err(
                &self.text,
                "the scenario has no [economics] table; add one with the value to vary",
            )
        })?;
        let entries: Vec<(&str, Option<&str>)> = match list {
            EconomicList::States => economics
                .states
                .iter()
                .map(|v| (v.state.as_str(), v.condition.as_deref()))
                .collect(),
            EconomicList::Events => economics
                .events
                .iter()
                .map(|v| (v.on.as_str(), v.condition.as_deref()))
                .collect(),
        };
        let names: Vec<&str> = entries.iter().map(|e| e.0).collect();
        let list_name = format!("economics.{}", list.key());
        let squeeze = |t: &str| t.replace(' ', "");
        match key {
            EntryKey::Index(i) if *i < names.len() => Ok(*i),
            EntryKey::Index(i) => Err(err(
                &self.text,
                format!(
                    "{list_name} has {} entries; [{i}] is not one of them",
                    names.len()
                ),
            )),
            EntryKey::Text(k) => {
                // `hsct2 if donor_type == 'MUD'` selects by `on` (or `state`) and rule, so a
                // name keeps meaning the same entry when entries are added or reordered;
                // `hsct2` alone is the entry without a rule when several share the `on`.
                let (name, rule) = match k.split_once(" if ") {
                    Some((n, r)) => (squeeze(n), Some(squeeze(r))),
                    None => (squeeze(k), None),
                };
                let found: Vec<usize> = (0..names.len())
                    .filter(|&i| squeeze(names[i]) == name)
                    .collect();
                let chosen: Vec<usize> = match &rule {
                    Some(r) => found
                        .iter()
                        .copied()
                        .filter(|&i| entries[i].1.map(squeeze).as_deref() == Some(r.as_str()))
                        .collect(),
                    None if found.len() > 1 => found
                        .iter()
                        .copied()
                        .filter(|&i| entries[i].1.is_none())
                        .collect(),
                    None => found.clone(),
                };
                let rules = || {
                    found
                        .iter()
                        .map(|&i| match entries[i].1 {
                            Some(r) => format!("{list_name}[{} if {r}]", names[i]),
                            None => format!("{list_name}[{}]", names[i]),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match chosen.as_slice() {
                    [i] => Ok(*i),
                    [] if found.is_empty() => Err(err(
                        &self.text,
                        format!(
                            "{list_name} has no entry for `{name}`.{}",
                            crate::suggest::did_you_mean(&name, names.iter().copied())
                        ),
                    )),
                    [] => Err(err(
                        &self.text,
                        format!(
                            "{list_name} has no entry `{k}`; its entries for `{name}` are {}",
                            rules()
                        ),
                    )),
                    _ => Err(err(
                        &self.text,
                        format!(
                            "{list_name} has {} entries `{k}`; select one by its rule ({}) or by index, e.g. {list_name}[{}]",
                            chosen.len(),
                            rules(),
                            chosen[0]
                        ),
                    )),
                }
            }
        }
    }

    fn decision_index(&self, file: &ScenarioFile, name: &str) -> Result<usize, ParameterError> {
        file.decisions
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| {
                err(
                    &self.text,
                    format!(
                        "the model has no decision `{name}`.{}",
                        crate::suggest::did_you_mean(
                            name,
                            file.decisions.iter().map(|d| d.name.as_str())
                        )
                    ),
                )
            })
    }

    fn attribute_index(&self, file: &ScenarioFile, name: &str) -> Result<usize, ParameterError> {
        file.cohort
            .attributes
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| {
                err(
                    &self.text,
                    format!(
                        "the cohort has no attribute `{name}`.{}",
                        crate::suggest::did_you_mean(
                            name,
                            file.cohort.attributes.iter().map(|a| a.name.as_str())
                        )
                    ),
                )
            })
    }

    /// Every value this parameter changes when set, with its place in the file: the value
    /// itself, and for a probability that must sum to 1 with others (branch `p`, levels,
    /// discrete probabilities) the whole group, so a fitted file can be written consistently.
    pub fn written_values(&self, file: &ScenarioFile) -> Result<Vec<(Path, f64)>, ParameterError> {
        let (value_path, _) = self.toml_paths(file)?;
        let group = |len: usize, at: &dyn Fn(usize) -> (Path, f64)| (0..len).map(at).collect();
        Ok(match &self.target {
            Field::BranchProbability { decision, .. } => {
                let d = self.decision_index(file, decision)?;
                let branches = &file.decisions[d].branches;
                group(branches.len(), &|k| {
                    (
                        toml_path!["decisions", d, "branches", k, "p"],
                        branches[k].p.unwrap_or(0.0),
                    )
                })
            }
            Field::Attribute {
                name,
                field: AttributeField::Level(_),
            } => {
                let a = self.attribute_index(file, name)?;
                let levels = file.cohort.attributes[a].levels.clone().unwrap_or_default();
                levels
                    .iter()
                    .map(|(k, v)| {
                        (
                            toml_path!["cohort", "attributes", a, "levels", k],
                            v.as_float()
                                .or(v.as_integer().map(|i| i as f64))
                                .unwrap_or(0.0),
                        )
                    })
                    .collect()
            }
            Field::Attribute {
                name,
                field: AttributeField::DiscreteProbability(_),
            } => {
                let a = self.attribute_index(file, name)?;
                let ps = file.cohort.attributes[a]
                    .probabilities
                    .clone()
                    .unwrap_or_default();
                group(ps.len(), &|k| {
                    (
                        toml_path!["cohort", "attributes", a, "probabilities", k],
                        ps[k],
                    )
                })
            }
            _ => vec![(value_path, self.get(file)?)],
        })
    }

    /// True if the value belongs to a group of probabilities that must sum to 1.
    pub fn is_in_sum_to_one_group(&self) -> bool {
        matches!(
            self.target,
            Field::BranchProbability { .. }
                | Field::Attribute {
                    field: AttributeField::Level(_) | AttributeField::DiscreteProbability(_),
                    ..
                }
        )
    }

    /// The current value in a parsed file.
    pub fn get(&self, file: &ScenarioFile) -> Result<f64, ParameterError> {
        let missing = |what: &str| err(&self.text, format!("the model gives no {what} here"));
        match &self.target {
            Field::Transition { from, to, field } => {
                let t = &file.transitions[self.transition_index(file, from, to)?];
                match field {
                    TransitionField::Rate => t.rate.ok_or_else(|| missing("`rate`")),
                    TransitionField::Hr => Ok(t.hr.unwrap_or(1.0)),
                    TransitionField::Cure => Ok(t.cure.unwrap_or(0.0)),
                    TransitionField::After => {
                        t.after.map(|q| q.0).ok_or_else(|| missing("`after`"))
                    }
                    TransitionField::At => t.at.map(|q| q.0).ok_or_else(|| missing("`at`")),
                    TransitionField::Hazard(f) => {
                        let h = t.hazard.as_ref().ok_or_else(|| missing("`hazard`"))?;
                        hazard_field(h, f).ok_or_else(|| missing(&format!("hazard `{f}`")))
                    }
                    TransitionField::HazardRate(i) => t
                        .hazard
                        .as_ref()
                        .and_then(|h| h.rates.as_ref())
                        .and_then(|r| r.get(*i).copied())
                        .ok_or_else(|| missing(&format!("hazard rates[{i}]"))),
                    TransitionField::EffectHr(key) => {
                        let e = self.effect_index(t, key)?;
                        Ok(t.effects.as_ref().map_or(1.0, |v| v[e].hr))
                    }
                }
            }
            Field::BranchProbability { decision, branch } => {
                let d = &file.decisions[self.decision_index(file, decision)?];
                d.branches
                    .get(*branch)
                    .and_then(|b| b.p)
                    .ok_or_else(|| missing(&format!("probability `p` on branch {branch}")))
            }
            Field::Attribute { name, field } => {
                let a = &file.cohort.attributes[self.attribute_index(file, name)?];
                match field {
                    AttributeField::Probability => {
                        a.probability.ok_or_else(|| missing("`probability`"))
                    }
                    AttributeField::Level(l) => a
                        .levels
                        .as_ref()
                        .and_then(|t| t.get(l))
                        .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                        .ok_or_else(|| missing(&format!("level `{l}`"))),
                    AttributeField::Number(f) => {
                        attribute_number(a, f).ok_or_else(|| missing(&format!("`{f}`")))
                    }
                    AttributeField::DiscreteProbability(i) => a
                        .probabilities
                        .as_ref()
                        .and_then(|p| p.get(*i).copied())
                        .ok_or_else(|| missing(&format!("probabilities[{i}]"))),
                }
            }
            Field::Economics { list, key, field } => {
                let i = self.economic_index(file, *list, key)?;
                let economics = file.economics.as_ref().expect("checked by economic_index");
                let value = match (list, field.as_str()) {
                    (EconomicList::States, "cost") => economics.states[i].cost,
                    (EconomicList::States, _) => economics.states[i].utility,
                    (EconomicList::Events, "cost") => economics.events[i].cost,
                    (EconomicList::Events, _) => economics.events[i].disutility,
                };
                value.ok_or_else(|| missing(&format!("`{field}`")))
            }
        }
    }

    /// Sets the value in a parsed file (probabilities that must sum to 1 are rescaled around it).
    pub fn set(&self, file: &mut ScenarioFile, value: f64) -> Result<(), ParameterError> {
        self.get(file)?; // same checks and messages as reading
        match &self.target {
            Field::Transition { from, to, field } => {
                let i = self.transition_index(file, from, to)?;
                let key = match field {
                    TransitionField::EffectHr(k) => {
                        Some(self.effect_index(&file.transitions[i], k)?)
                    }
                    _ => None,
                };
                let t = &mut file.transitions[i];
                match field {
                    TransitionField::Rate => t.rate = Some(value),
                    TransitionField::Hr => t.hr = Some(value),
                    TransitionField::Cure => t.cure = Some(value),
                    TransitionField::After => t.after = Some(Quantity(value)),
                    TransitionField::At => t.at = Some(Quantity(value)),
                    TransitionField::Hazard(f) => {
                        if let Some(h) = t.hazard.as_mut() {
                            set_hazard_field(h, f, value);
                        }
                    }
                    TransitionField::HazardRate(r) => {
                        if let Some(rates) = t.hazard.as_mut().and_then(|h| h.rates.as_mut()) {
                            rates[*r] = value;
                        }
                    }
                    TransitionField::EffectHr(_) => {
                        if let (Some(effects), Some(e)) = (t.effects.as_mut(), key) {
                            effects[e].hr = value;
                        }
                    }
                }
            }
            Field::BranchProbability { decision, branch } => {
                let d = self.decision_index(file, decision)?;
                let branches = &mut file.decisions[d].branches;
                let mut ps: Vec<f64> = branches.iter().map(|b| b.p.unwrap_or(0.0)).collect();
                rescale(&mut ps, *branch, value);
                for (b, p) in branches.iter_mut().zip(ps) {
                    b.p = Some(p);
                }
            }
            Field::Attribute { name, field } => {
                let a = self.attribute_index(file, name)?;
                let attr = &mut file.cohort.attributes[a];
                match field {
                    AttributeField::Probability => attr.probability = Some(value),
                    AttributeField::Level(l) => {
                        if let Some(levels) = attr.levels.as_mut() {
                            let keys: Vec<String> = levels.keys().cloned().collect();
                            let mut ps: Vec<f64> = keys
                                .iter()
                                .map(|k| {
                                    levels[k]
                                        .as_float()
                                        .or(levels[k].as_integer().map(|i| i as f64))
                                        .unwrap_or(0.0)
                                })
                                .collect();
                            let at = keys.iter().position(|k| k == l).unwrap_or(0);
                            rescale(&mut ps, at, value);
                            for (k, p) in keys.iter().zip(ps) {
                                levels.insert(k.clone(), toml::Value::Float(p));
                            }
                        }
                    }
                    AttributeField::Number(f) => set_attribute_number(attr, f, value),
                    AttributeField::DiscreteProbability(i) => {
                        if let Some(ps) = attr.probabilities.as_mut() {
                            rescale(ps, *i, value);
                        }
                    }
                }
            }
            Field::Economics { list, key, field } => {
                let i = self.economic_index(file, *list, key)?;
                if let Some(economics) = file.economics.as_mut() {
                    let slot = match (list, field.as_str()) {
                        (EconomicList::States, "cost") => &mut economics.states[i].cost,
                        (EconomicList::States, _) => &mut economics.states[i].utility,
                        (EconomicList::Events, "cost") => &mut economics.events[i].cost,
                        (EconomicList::Events, _) => &mut economics.events[i].disutility,
                    };
                    *slot = Some(value);
                }
            }
        }
        Ok(())
    }

    /// Sets the value alone, without rescaling the other probabilities of its group: for
    /// setting a whole group at once (a Dirichlet draw), whose values already sum to 1.
    pub fn set_exact(&self, file: &mut ScenarioFile, value: f64) -> Result<(), ParameterError> {
        self.get(file)?;
        match &self.target {
            Field::BranchProbability { decision, branch } => {
                let d = self.decision_index(file, decision)?;
                file.decisions[d].branches[*branch].p = Some(value);
            }
            Field::Attribute {
                name,
                field: AttributeField::Level(l),
            } => {
                let a = self.attribute_index(file, name)?;
                if let Some(levels) = file.cohort.attributes[a].levels.as_mut() {
                    levels.insert(l.clone(), toml::Value::Float(value));
                }
            }
            Field::Attribute {
                name,
                field: AttributeField::DiscreteProbability(i),
            } => {
                let a = self.attribute_index(file, name)?;
                if let Some(ps) = file.cohort.attributes[a].probabilities.as_mut() {
                    ps[*i] = value;
                }
            }
            _ => return self.set(file, value),
        }
        Ok(())
    }
}

/// Sets `ps[at] = value` and scales the others so the total stays what it was (1). When the
/// others are all 0 (an explicit choice of the file) they stay 0, and the builder will say
/// that the probabilities no longer sum to 1.
fn rescale(ps: &mut [f64], at: usize, value: f64) {
    let total: f64 = ps.iter().sum();
    let others: f64 = total - ps[at];
    let factor = if others > 0.0 {
        (total - value).max(0.0) / others
    } else {
        0.0
    };
    for (k, p) in ps.iter_mut().enumerate() {
        *p = if k == at { value } else { *p * factor };
    }
}

fn hazard_field(h: &crate::scenario::format::HazardDef, f: &str) -> Option<f64> {
    match f {
        "rate" => h.rate,
        "shape" => h.shape,
        "scale" => h.scale.map(|q| q.0),
        "median" => h.median.map(|q| q.0),
        "mean" => h.mean.map(|q| q.0),
        "meanlog" => h.meanlog,
        "sdlog" => h.sdlog,
        "min" => h.min.map(|q| q.0),
        "max" => h.max.map(|q| q.0),
        _ => None,
    }
}

fn set_hazard_field(h: &mut crate::scenario::format::HazardDef, f: &str, v: f64) {
    match f {
        "rate" => h.rate = Some(v),
        "shape" => h.shape = Some(v),
        "scale" => h.scale = Some(Quantity(v)),
        "median" => h.median = Some(Quantity(v)),
        "mean" => h.mean = Some(Quantity(v)),
        "meanlog" => h.meanlog = Some(v),
        "sdlog" => h.sdlog = Some(v),
        "min" => h.min = Some(Quantity(v)),
        "max" => h.max = Some(Quantity(v)),
        _ => {}
    }
}

/// In the attribute's unit, as the model uses it (`median = "8.4m"` of a time in months: 8.4).
fn attribute_number(a: &crate::scenario::format::AttributeDef, f: &str) -> Option<f64> {
    a.number(f)
}

/// In the attribute's unit; written in the unit the old value was written in.
fn set_attribute_number(a: &mut crate::scenario::format::AttributeDef, f: &str, v: f64) {
    a.set_number(f, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"
[[states]]
name = "a"
[[states]]
name = "b"
[[states]]
name = "d"
death = "nrm"
[cohort]
entry = "a"
[[cohort.attributes]]
name = "status"
levels = { good = 0.5, mid = 0.3, bad = 0.2 }
[[cohort.attributes]]
name = "cgvhd"
probability = 0.3
[[decisions]]
name = "plan"
branches = [ { to = "b", p = 0.8 }, { to = "d", p = 0.2 } ]
[[transitions]]
from = "a"
to = "plan"
rate = 1.0
[[transitions]]
from = "b"
to = "d"
hazard = { family = "weibull", shape = 0.8, scale = "12m" }
effects = [ { if = "status in ['mid', 'bad']", hr = 2.0 }, { if = "cgvhd", hr = 3.0 } ]
"#;

    fn file() -> ScenarioFile {
        crate::scenario::parse_file(MODEL, "m.toml").unwrap()
    }

    #[test]
    fn reads_and_writes_by_name() {
        let mut f = file();
        let p =
            ParameterPath::parse("transitions[b->d].effects[status in ['mid', 'bad']].hr").unwrap();
        assert_eq!(p.get(&f).unwrap(), 2.0);
        p.set(&mut f, 2.5).unwrap();
        assert_eq!(f.transitions[1].effects.as_ref().unwrap()[0].hr, 2.5);
        let (value, source) = p.toml_paths(&f).unwrap();
        assert_eq!(value, toml_path!["transitions", 1, "effects", 0, "hr"]);
        assert_eq!(source, toml_path!["transitions", 1, "effects", 0, "source"]);

        let p = ParameterPath::parse("transitions[b->d].hazard.scale").unwrap();
        assert_eq!(p.get(&f).unwrap(), 12.0);
        let p = ParameterPath::parse("transitions[a->plan].hr").unwrap();
        assert_eq!(p.get(&f).unwrap(), 1.0, "absent hr reads as 1");
        let p = ParameterPath::parse("transitions[b->d].effects[1].hr").unwrap();
        assert_eq!(p.get(&f).unwrap(), 3.0);
    }

    #[test]
    fn probabilities_stay_a_distribution() {
        let mut f = file();
        let p = ParameterPath::parse("decisions[plan].branches[1].p").unwrap();
        assert!(p.is_probability());
        p.set(&mut f, 0.4).unwrap();
        let ps: Vec<f64> = f.decisions[0]
            .branches
            .iter()
            .map(|b| b.p.unwrap())
            .collect();
        assert!((ps[0] - 0.6).abs() < 1e-12 && (ps[1] - 0.4).abs() < 1e-12);
        let p = ParameterPath::parse("cohort.attributes[status].levels.bad").unwrap();
        p.set(&mut f, 0.6).unwrap();
        let levels = f.cohort.attributes[0].levels.as_ref().unwrap();
        let get = |k: &str| levels[k].as_float().unwrap();
        assert!((get("bad") - 0.6).abs() < 1e-12);
        assert!((get("good") - 0.25).abs() < 1e-12 && (get("mid") - 0.15).abs() < 1e-12);
        // The changed file still builds.
        crate::scenario::build::build(&f, "m").unwrap();
    }

    #[test]
    fn bad_names_say_how_to_write_them() {
        for (name, needle) in [
            ("transitions[b-d].hr", "[from->to]"),
            ("transitions[b->x].hr", "no transition b->x"),
            (
                "transitions[b->d].effects[age].hr",
                "its effects are [status in ['mid', 'bad']], [cgvhd]",
            ),
            ("transitions[b->d].speed", "rate, hr, cure"),
            (
                "cohort.attributes[cgvhs].probability",
                "Did you mean `cgvhd`",
            ),
            ("decisions[plan].branches[x].p", "not an index"),
            ("states[a]", "not a parameter name"),
        ] {
            let e = ParameterPath::parse(name)
                .and_then(|p| p.get(&file()).map(|_| ()))
                .unwrap_err();
            assert!(e.to_string().contains(needle), "{name}: {e}");
        }
    }
}
