//! One patient's life under one strategy.
//!
//! Like hesim's `patient::jump`: in each state, draw a time for every competing exit, take
//! the earliest, move the clock, repeat until an absorbing state or the end of follow-up.
//! Decisions are resolved instantly on the way into a state. Each state entry is reported
//! to an [`Observer`] as it happens: the aggregator's recorder updates the curves' counts
//! on the fly (no stored path, no second pass), a [`Trajectory`] keeps the path for export
//! and tests.
//!
//! The layer of a life: it knows the model and the random streams and nothing that records
//! or schedules. The recorders (`aggregate`) implement [`Observer`] above it; the engine's
//! one patient loop and its parallel driver sit above both. What entering a state counts as
//! ([`entering`]) and the choice among constant-hazard exits ([`exit::constant_exit`]) are
//! defined here once, for the general life and the engine's constant-hazard kernel alike.

pub mod entering;
pub mod exit;

use crate::model::rule::RuleContext;
use crate::model::{Choice, Model, Node, StateId, Strategy};
use crate::rng::Stream;
use entering::{follow_up_after_hsct2, opens_hsct2};
use exit::{constant_target, next_exit};

/// Receives a life as it unfolds.
pub trait Observer {
    /// The patient enters `state` at `time` (months since cohort entry). The first call is
    /// the entry state at time 0; the last state entered lasts beyond the end of follow-up
    /// (it is absorbing, or the patient is still there when follow-up ends). `values` are the
    /// patient's variables at that moment (attributes, policy, branch assignments), for
    /// observers whose bookkeeping depends on them (costs by donor type, exported rows).
    fn enter(&mut self, state: StateId, time: f64, values: &[f64]);

    /// Follow-up ends at `time` with the patient alive in the last state entered (not
    /// absorbing): a patient-level export writes its censoring row here. Not called when the
    /// life ends in an absorbing state. Aggregators need nothing here: their windows close
    /// at the horizon anyway.
    #[inline]
    fn follow_up_ends(&mut self, time: f64) {
        let _ = time;
    }
}

/// Both observers see every entry (e.g. the aggregator and a patient-level export).
impl<A: Observer, B: Observer> Observer for (A, B) {
    #[inline]
    fn enter(&mut self, state: StateId, time: f64, values: &[f64]) {
        self.0.enter(state, time, values);
        self.1.enter(state, time, values);
    }

    #[inline]
    fn follow_up_ends(&mut self, time: f64) {
        self.0.follow_up_ends(time);
        self.1.follow_up_ends(time);
    }
}

/// Observes nothing: the engine's stand-in when only the aggregator watches.
impl Observer for () {
    #[inline(always)]
    fn enter(&mut self, _state: StateId, _time: f64, _values: &[f64]) {}
}

/// An observer lent to the engine (so the caller keeps it afterwards).
impl<O: Observer + ?Sized> Observer for &mut O {
    #[inline]
    fn enter(&mut self, state: StateId, time: f64, values: &[f64]) {
        (**self).enter(state, time, values);
    }

    #[inline]
    fn follow_up_ends(&mut self, time: f64) {
        (**self).follow_up_ends(time);
    }
}

/// A state entered at a time (months since cohort entry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The state.
    pub state: StateId,
    /// When it was entered.
    pub time: f64,
}

/// The states a patient went through, kept in memory (for export and tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trajectory {
    /// States entered, in order; the first is the entry state at time 0.
    pub steps: Vec<Step>,
}

impl Observer for Trajectory {
    fn enter(&mut self, state: StateId, time: f64, _values: &[f64]) {
        self.steps.push(Step { state, time });
    }
}

/// Why a life could not be simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct TooManyEvents {
    /// Transitions made before giving up.
    pub events: u32,
    /// Time reached.
    pub time: f64,
}

/// Per-thread buffers of a life, reused for every patient so the hot loop does not
/// allocate.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// Attribute values drawn for the current patient (by variable index).
    pub attributes: Vec<f64>,
    /// Variable values during the current life.
    pub values: Vec<f64>,
    /// Entries into each state so far.
    pub visits: Vec<u32>,
    /// Time of the last entry into each state (NaN if never).
    pub last_entry: Vec<f64>,
}

impl Scratch {
    /// Buffers sized for a model.
    pub fn new(model: &Model) -> Scratch {
        Scratch {
            attributes: vec![0.0; model.variables.len()],
            values: vec![0.0; model.variables.len()],
            visits: vec![0; model.states.len()],
            last_entry: vec![f64::NAN; model.states.len()],
        }
    }
}

/// Simulates one life, reporting each state entry to `observer`, and returns the number of
/// transitions made. `entry` is the patient's entry target (drawn with the attributes);
/// `scratch.attributes` must hold the patient's attributes.
pub fn live<O: Observer>(
    model: &Model,
    strategy: &Strategy,
    entry: Node,
    rng: &mut Stream,
    scratch: &mut Scratch,
    observer: &mut O,
) -> Result<u32, TooManyEvents> {
    let settings = &model.settings;
    let horizon = settings.horizon;
    let Scratch {
        attributes,
        values,
        visits,
        last_entry,
    } = scratch;
    // Guarded: an empty copy is still a libc call, once per life.
    if !attributes.is_empty() {
        values.copy_from_slice(attributes);
    }
    for &(variable, value) in &strategy.policy {
        values[variable] = value;
    }
    if model.uses_history {
        visits.fill(0);
        last_entry.fill(f64::NAN);
    }

    let mut time = 0.0;
    // Follow-up ends at the horizon, or later for patients transplanted within it, so that
    // curves "since HSCT2" have full follow-up too.
    let mut follow_up_end = horizon;
    let mut transplanted = false;
    let mut state = match entry {
        Node::State(state) => state,
        decision => resolve(strategy, decision, time, rng, values, visits, last_entry),
    };
    let mut events = 0u32;
    loop {
        // Enter the state.
        observer.enter(state, time, values);
        if model.uses_history {
            visits[state] += 1;
            last_entry[state] = time;
        }
        let info = &model.states[state];
        if !transplanted && opens_hsct2(info.hsct2, time, horizon) {
            transplanted = true;
            follow_up_end = follow_up_after_hsct2(time, horizon);
        }
        if info.absorbing {
            return Ok(events);
        }

        // The earliest of the competing exits.
        let exits = &strategy.exits[state];
        let (next_time, target) = match &exits.constant {
            Some(constant) => constant_target(constant, time, rng),
            None => next_exit(exits, time, rng, values, visits, last_entry),
        };
        if next_time > follow_up_end {
            // Still in this state at the end of follow-up.
            observer.follow_up_ends(follow_up_end);
            return Ok(events);
        }

        events += 1;
        if events > settings.max_events {
            return Err(TooManyEvents {
                events: events - 1,
                time,
            });
        }
        time = next_time;
        state = match target {
            Node::State(state) => state,
            decision => resolve(strategy, decision, time, rng, values, visits, last_entry),
        };
    }
}

/// Follows decisions from `target` to a state, applying branch assignments.
#[inline(never)]
fn resolve(
    strategy: &Strategy,
    mut target: Node,
    time: f64,
    rng: &mut Stream,
    values: &mut [f64],
    visits: &[u32],
    last_entry: &[f64],
) -> StateId {
    // The loader rejects decision loops, so this ends within one pass over the decisions.
    for _ in 0..=strategy.decisions.len() {
        let decision = match target {
            Node::State(state) => return state,
            Node::Decision(k) => &strategy.decisions[k],
        };
        let branch = match &decision.choice {
            Choice::Rules(rules) => {
                let context = RuleContext {
                    values,
                    time,
                    visits,
                    last_entry,
                };
                let chosen = rules.iter().find(|(condition, _)| {
                    condition.as_ref().is_none_or(|c| c.eval_bool(&context))
                });
                match chosen.or(rules.last()) {
                    Some((_, branch)) => branch,
                    None => return 0,
                }
            }
            Choice::Chance(branches) => {
                let u = rng.uniform();
                let k = branches
                    .iter()
                    .position(|(c, _)| u < *c)
                    .unwrap_or(branches.len() - 1);
                &branches[k].1
            }
        };
        for &(variable, value) in &branch.set {
            values[variable] = value;
        }
        target = branch.to;
    }
    // Unreachable for validated models.
    0
}
