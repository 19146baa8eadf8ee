//! Checks on each strategy's graph as a whole: decision loops and state loops that take no
//! time, entries into absorbing states, states without exits or without a way to an end,
//! and states no strategy reaches.
//!
//! Separate because these checks need the whole compiled model, so they run after every
//! part has been built, and each points back at the place in the file that closes the loop.

use super::Result;
use crate::model::{Choice, Exits, Model, Node, Strategy, Timing};
use crate::scenario::error::BuildError;
use crate::scenario::format::ScenarioFile;
use crate::scenario::overrides::field_is_set;
use crate::toml_path;

/// Structural checks on each strategy's graph.
pub(super) fn check_graph(model: &Model, file: &ScenarioFile, inherited: &[String]) -> Result<()> {
    let n = model.states.len();
    let mut reachable_any = vec![false; n];
    for strategy in &model.strategies {
        let d = strategy.decisions.len();
        let branch_targets = |k: usize| -> Vec<Node> {
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
            next: &dyn Fn(usize) -> Vec<Node>,
            stack: &mut Vec<usize>,
        ) -> Option<Vec<usize>> {
            colour[k] = 1;
            stack.push(k);
            for t in next(k) {
                if let Node::Decision(j) = t {
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
        let resolve = |t: Node| -> Vec<usize> {
            let mut out = Vec::new();
            let mut stack = vec![t];
            let mut seen = vec![false; d];
            while let Some(t) = stack.pop() {
                match t {
                    Node::State(s) => out.push(s),
                    Node::Decision(k) if !seen[k] => {
                        seen[k] = true;
                        stack.extend(branch_targets(k));
                    }
                    Node::Decision(_) => {}
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
    resolve: &dyn Fn(Node) -> Vec<usize>,
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
