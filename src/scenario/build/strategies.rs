//! `[[strategies]]`: each strategy's policy values, replaced decisions and transitions (the
//! base merged with its overrides), compiled into the exits of every state.
//!
//! Separate because this is where the parts meet: a base transition no strategy overrides is
//! compiled once, and each error points at the base or the override that set the field.

use super::checks::check_identifier;
use super::{Builder, Result, key, path_with};
use crate::model::variable::quote_list;
use crate::model::{Decision, Exits, Node, Strategy, Transition};
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::{ScenarioFile, StrategyDef, TransitionDef};
use crate::scenario::overrides::{field_is_set, merge_override};
use crate::suggest::did_you_mean;
use crate::toml_path;

impl Builder {
    pub(super) fn strategies(
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
            Node::State(s) if self.states[s].absorbing => Err(BuildError::new(path, format!("`{from}` is absorbing (a death or end state) and cannot have exits"))
                .help("remove the transition, or drop `absorbing`/`death` from the state")),
            Node::State(s) => Ok(s),
            Node::Decision(_) => Err(BuildError::new(path, format!("`{from}` is a decision; decisions leave through their branches, not transitions"))
                .help("move this into the decision's `branches`")),
        }
    }
}
