//! The validated, immutable model the engine runs.
//!
//! A scenario file is read and checked by [`crate::scenario`] and compiled into a [`Model`]:
//! names resolved to indices, durations to months, rules compiled, strategies expanded into
//! complete transition tables. Nothing here can fail at simulation time except the bound on
//! events per patient.
//!
//! Where does relapse after HSCT2 get its hazard? In the [`Transition`] from the `hsct2`
//! state to the relapse state, inside [`Strategy::exits`] (one table per strategy, because a
//! strategy may change hazards); its [`Timing::Hazard`] holds the family and parameters, its
//! `effects` the covariate hazard ratios.

pub mod cohort;
pub mod economics;
pub mod figures;
pub mod hazard;
pub mod limits;
pub mod rule;
pub mod variable;

use cohort::Cohort;
use hazard::Hazard;
use rule::Rule;
use variable::Variable;

/// Index of a state in [`Model::states`].
pub type StateId = usize;

/// Cause of death, for splitting mortality into relapse death and non-relapse mortality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathCause {
    /// Death from the disease: counts as a relapse event (CIR), not as NRM.
    Relapse,
    /// Non-relapse mortality (toxicity, infection, GVHD, background mortality).
    NonRelapse,
}

/// A clinical state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Short stable name (CSV columns use it).
    pub name: String,
    /// Human-readable label for figures.
    pub label: String,
    /// No exits: the patient stays for ever.
    pub absorbing: bool,
    /// For death states, the cause.
    pub death: Option<DeathCause>,
    /// Entering this state is a relapse event (ends leukaemia-free survival).
    pub relapse: bool,
    /// The first entry starts the "since HSCT2" time origin.
    pub hsct2: bool,
}

/// Where a transition or branch leads: a state, or a decision resolved instantly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A clinical state.
    State(StateId),
    /// A decision node (index in [`Strategy::decisions`]).
    Decision(usize),
}

/// Which time a transition's hazard is a function of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Time since entering the current state (semi-Markov).
    Reset,
    /// Time since cohort entry (Markov in calendar time).
    Forward,
    /// Attained age in months, from the age variable (background mortality).
    Age {
        /// Variable holding age in years at entry.
        variable: usize,
    },
}

/// When a transition happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Timing {
    /// Drawn from a hazard (by inversion of its cumulative hazard).
    Hazard(Hazard),
    /// A fixed delay after entering the state (e.g. end of a maintenance course).
    After(f64),
    /// At a fixed time since cohort entry (a landmark); never if the state is entered later.
    At(f64),
}

/// A covariate effect on a transition's hazard.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Multiply the hazard by `hr` when the condition holds (e.g. chronic GVHD: HR 2.9).
    When {
        /// Condition over variables and history.
        condition: Rule,
        /// Hazard ratio.
        hr: f64,
    },
    /// Multiply by `hr^(value − reference)` (e.g. per HCT-CI point: HR 1.32).
    PerUnit {
        /// Numeric expression, usually one variable.
        value: Rule,
        /// Value at which the multiplier is 1.
        reference: f64,
        /// Natural log of the hazard ratio per unit.
        log_hr: f64,
    },
}

/// One possible move out of a state.
#[derive(Debug, Clone)]
pub struct Transition {
    /// Where it leads.
    pub to: Node,
    /// Its timing.
    pub timing: Timing,
    /// The clock its hazard runs on.
    pub clock: Clock,
    /// Only available to patients meeting this condition (checked on entering the state).
    pub condition: Option<Rule>,
    /// Covariate effects (proportional hazards).
    pub effects: Vec<Effect>,
    /// A strategy-level hazard ratio on top of the effects (1 when none).
    pub hr: f64,
    /// `from->to`, for messages and parameter names.
    pub name: String,
    /// Provenance of the numbers (study ids, "assumption: …").
    pub source: Option<String>,
}

impl Transition {
    /// True for a constant hazard that does not depend on the patient: the engine can add
    /// it into one total rate.
    pub fn constant_rate(&self) -> Option<f64> {
        match &self.timing {
            Timing::Hazard(h) if self.condition.is_none() && self.effects.is_empty() => {
                h.constant_rate().map(|r| r * self.hr)
            }
            _ => None,
        }
    }
}

/// All exits of one state under one strategy.
#[derive(Debug, Clone, Default)]
pub struct Exits {
    /// The competing transitions, in file order.
    pub transitions: Vec<Transition>,
    /// If every exit is a constant hazard: cumulative rates for the one-draw choice, and the
    /// total. The time to leave is then one exponential with the total rate, and the exit
    /// is chosen with probability rate / total (equivalent in law to the minimum of the
    /// individual times, at a third of the cost).
    pub constant: Option<ConstantExits>,
}

/// Precomputed constant-hazard exits.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstantExits {
    /// Running sums of the exits' probabilities (rate / total), without the last (which
    /// is 1), padded with +∞ to a multiple of 4: the exit taken is the number of
    /// thresholds a uniform reaches, counted four at a time without branches.
    pub thresholds: Vec<f64>,
    /// Each exit's target, in transition order.
    pub targets: Vec<Node>,
    /// Sum of all rates.
    pub total: f64,
    /// Mean time to leave (1 / total; infinite when every rate is 0).
    pub mean_wait: f64,
}

impl Exits {
    /// Builds the exits and the constant-hazard shortcut where it applies.
    pub fn new(transitions: Vec<Transition>) -> Exits {
        let rates: Option<Vec<f64>> = transitions.iter().map(|t| t.constant_rate()).collect();
        let constant = rates.filter(|r| !r.is_empty()).map(|rates| {
            let total: f64 = rates.iter().sum();
            let mut running = 0.0;
            let mut thresholds: Vec<f64> = rates[..rates.len() - 1]
                .iter()
                .map(|r| {
                    running += r;
                    running / total
                })
                .collect();
            thresholds.resize(thresholds.len().div_ceil(4).max(1) * 4, f64::INFINITY);
            ConstantExits {
                thresholds,
                targets: transitions.iter().map(|t| t.to).collect(),
                total,
                mean_wait: 1.0 / total,
            }
        });
        Exits {
            transitions,
            constant,
        }
    }
}

/// A branch of a decision.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Where the patient goes.
    pub to: Node,
    /// Variables assigned on taking the branch (e.g. `donor = "HID"`).
    pub set: Vec<(usize, f64)>,
}

/// How a decision picks its branch.
#[derive(Debug, Clone)]
pub enum Choice {
    /// First branch whose condition holds; the last has none, so every patient goes somewhere.
    Rules(Vec<(Option<Rule>, Branch)>),
    /// At random with these probabilities (running sums, the last exactly 1).
    Chance(Vec<(f64, Branch)>),
}

/// An instantaneous decision node.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Name (transitions and branches refer to it).
    pub name: String,
    /// The branching.
    pub choice: Choice,
}

/// A strategy: a complete, self-contained variant of the model.
#[derive(Debug, Clone)]
pub struct Strategy {
    /// Short name (CSV).
    pub name: String,
    /// Label for figures.
    pub label: String,
    /// Initial values of policy variables under this strategy.
    pub policy: Vec<(usize, f64)>,
    /// Exits by state index (empty for absorbing states).
    pub exits: Vec<Exits>,
    /// Decision nodes by index.
    pub decisions: Vec<Decision>,
}

/// How patients enter the model at t = 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Running sums of probabilities with targets (one element: everybody enters there).
    pub cumulative: Vec<(f64, Node)>,
}

/// Simulation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Number of patients (each runs under every strategy).
    pub patients: u64,
    /// Master seed.
    pub seed: u64,
    /// Follow-up from each time origin, in months.
    pub horizon: f64,
    /// Step of the output time grid, in months (a whole number of steps fits the horizon).
    pub grid_step: f64,
    /// Landmark times for the summary (on the grid).
    pub landmarks: Vec<f64>,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Bound on transitions per patient and strategy (turns endless loops into errors).
    pub max_events: u32,
    /// Index of the strategy the others are compared with.
    pub reference: usize,
}

impl Settings {
    /// Number of grid points, 0 and the horizon included.
    pub fn grid_len(&self) -> usize {
        (self.horizon / self.grid_step).round() as usize + 1
    }

    /// Grid times.
    pub fn grid(&self) -> Vec<f64> {
        (0..self.grid_len())
            .map(|i| i as f64 * self.grid_step)
            .collect()
    }
}

/// A complete model ready to simulate.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name (output folder).
    pub name: String,
    /// What the scenario is about.
    pub description: String,
    /// States in clinical order.
    pub states: Vec<State>,
    /// Variables (attributes first, then policy variables).
    pub variables: Vec<Variable>,
    /// Cohort distributions.
    pub cohort: Cohort,
    /// Entry.
    pub entry: Entry,
    /// Strategies (at least one).
    pub strategies: Vec<Strategy>,
    /// Settings.
    pub settings: Settings,
    /// True if any rule reads the patient's history (visits, time since a state).
    pub uses_history: bool,
    /// Figure text from the scenario's `[figures]` table (titles, labels, landmark).
    pub figures: figures::FigureOverrides,
    /// Costs, utilities and discounting, if the scenario has an `[economics]` table.
    pub economics: Option<economics::Economics>,
}

impl Model {
    /// Index of a state by name.
    pub fn state_index(&self, name: &str) -> Option<StateId> {
        self.states.iter().position(|s| s.name == name)
    }

    /// Index of a strategy by name.
    pub fn strategy_index(&self, name: &str) -> Option<usize> {
        self.strategies.iter().position(|s| s.name == name)
    }

    /// True if some state starts the HSCT2 time origin.
    pub fn has_hsct2_origin(&self) -> bool {
        self.states.iter().any(|s| s.hsct2)
    }
}

/// Worker threads for a `threads` setting: the setting, or every core for 0 (the one
/// place that says what 0 means).
pub fn worker_threads(setting: usize) -> usize {
    if setting > 0 {
        setting
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}
