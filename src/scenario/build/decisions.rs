//! `[[decisions]]`: their names (one namespace with states) and their branches, chosen by
//! rules in order or by chance.
//!
//! Separate because a decision takes no time and is checked differently from a transition:
//! rules need a final `else`, chances must sum to 1, and strategies may replace the branches.

use super::checks::{check_identifier, cumulative_probabilities};
use super::{Builder, Result, key, path_with};
use crate::model::{Branch, Choice, Decision};
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::{BranchDef, DecisionDef};
use crate::toml_path;

impl Builder {
    pub(super) fn decision_names(&mut self, decisions: &[DecisionDef]) -> Result<()> {
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

    pub(super) fn branches(
        &mut self,
        defs: &[BranchDef],
        decision: &str,
        path: &Path,
    ) -> Result<Choice> {
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

    pub(super) fn decisions(&mut self, defs: &[DecisionDef]) -> Result<Vec<Decision>> {
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
}
