//! Compiles a parsed scenario file into a validated [`Model`].
//!
//! Every check that can be made before simulating is made here, and each failure names the
//! exact place in the file and a fix: unknown names (with suggestions), parameters out of
//! range, probabilities that do not sum to 1, states without exits, unreachable states,
//! decision loops that take no time. What passes cannot make the engine panic.
//!
//! The builder goes through the file in the order its parts depend on each other, one file
//! per part of the format: `states` (and the names transitions lead to), `variables`
//! (attributes, policy variables, their units and values), `cohort` (attribute distributions
//! and the entry), `decisions`, `transitions` (with covariate effects) over `hazards` (the
//! families), `background` mortality, `strategies` (each a base model with its overrides),
//! `settings` (`[simulation]`), then the whole-model checks of `graph` and the `economics`.
//! What they share is here and in `checks` (names, probabilities), `rules` (rule text in the
//! file) and `help` (the fix for each kind of error). How a strategy's override merges into
//! a transition is `scenario::overrides`, shared with composition.

use crate::model::Model;
use crate::model::State;
use crate::model::rule::RuleScope;
use crate::model::variable::Variable;
use crate::scenario::error::{BuildError, Path, Segment};
use crate::scenario::format::ScenarioFile;
use crate::toml_path;

mod background;
mod checks;
mod cohort;
mod decisions;
mod economics;
mod graph;
mod hazards;
mod help;
mod rules;
mod settings;
mod states;
mod strategies;
mod transitions;
mod variables;

pub use crate::model::limits::{MAX_GRID_POINTS, MAX_HORIZON_MONTHS, MAX_PATIENTS, MAX_STATES};
pub use help::family_help;

use economics::economics;
use graph::check_graph;
use help::default_help;

type Result<T> = std::result::Result<T, BuildError>;

fn path_with(base: &Path, tail: &[Segment]) -> Path {
    let mut p = base.clone();
    p.extend_from_slice(tail);
    p
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
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
}
