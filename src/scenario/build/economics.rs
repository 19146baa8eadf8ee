//! `[economics]`: discount rates, willingness to pay, costs and utilities per state, and
//! one-off costs and disutilities of events.
//!
//! Separate because it is compiled after the model is complete, against its states and
//! variables, and its conditions may not read the patient's history.

use super::rules::rule_error;
use super::{Result, path_with};
use crate::model::State;
use crate::model::rule::{Rule, RuleScope};
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::EconomicsDef;
use crate::suggest::did_you_mean;
use crate::toml_path;

/// Compiles `[economics]`.
pub(super) fn economics(
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
