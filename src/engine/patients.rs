//! The one loop over patients and strategies, generic over a life [`Kernel`].
//!
//! What every run does for each patient, whichever kernel lives the lives: draw who the
//! patient is (attributes and entry, from the patient's attribute stream); restart the same
//! events stream for each strategy (common random numbers, so strategies are compared on
//! the same patients' luck); live the life under each strategy; count its transitions and
//! random draws; record the paired deaths across strategies and the patient's costs and
//! QALYs; and turn a life over the bound on events into an error that shows where it
//! loops. A kernel only lives one life into the tally; it is a type parameter, so the hot
//! loop is compiled once per kernel with nothing dispatched at run time.

use std::ops::Range;

use crate::aggregate::Tally;
use crate::econ::LifeValues;
use crate::life::{self, TooManyEvents, Trajectory};
use crate::model::{Model, Node};
use crate::rng::{Purpose, Stream};

use super::{EngineError, Scratch, Work};

/// What a kernel reports of one life, for the loop's bookkeeping across strategies.
pub(crate) struct Lived {
    /// Death time from entry (`+∞` if alive at the horizon).
    pub death: f64,
    /// Costs, life-years and QALYs (zero without economics).
    pub values: LifeValues,
    /// Transitions made.
    pub transitions: u32,
}

/// Lives one life into the tally: the one part of a run in which the general life and the
/// constant-hazard fast path differ.
///
/// A kernel is made for a batch of patients (a chunk) and finished once after it, so it may
/// keep counts over the batch and fold them in at the end. It must draw exactly the numbers
/// the general life ([`life::live`]) draws, in the same order, stop with [`TooManyEvents`]
/// where that does, and leave the same accumulators.
pub(crate) trait Kernel {
    /// The kernel's lives may have costs and QALYs: false only where the model has no
    /// economics, so that the loop does not keep zeros for them.
    const ECONOMICS: bool = true;

    /// Lives `patient` under strategy number `strategy` from `entry`, drawing from `rng`,
    /// and records the life into `tally`'s accumulators of that strategy. `life.attributes`
    /// holds the patient's attributes.
    fn live(
        &mut self,
        patient: u64,
        strategy: usize,
        entry: Node,
        rng: &mut Stream,
        tally: &mut Tally,
        life: &mut life::Scratch,
    ) -> Result<Lived, TooManyEvents>;

    /// Adds what the kernel kept over the batch into `tally`.
    fn finish(self, tally: &mut Tally);
}

/// Simulates a range of patients under every strategy into `tally`, each life by `kernel`.
///
/// Never inlined: each kernel's loop is then a function of its own, as small as its kernel
/// allows, and LLVM inlines the life into it (into one function holding both loops it
/// stops inlining the general life, which costs the general engine 2 % more instructions).
#[inline(never)]
pub(crate) fn simulate_patients<K: Kernel>(
    work: &Work,
    mut kernel: K,
    patients: Range<u64>,
    tally: &mut Tally,
    scratch: &mut Scratch,
) -> Result<(), EngineError> {
    let Work {
        model,
        layout,
        draw,
        ..
    } = *work;
    let seed = model.settings.seed;
    let paired = model.strategies.len() > 1;
    for patient in patients {
        let entry = entry_of(model, seed, draw, patient, tally, &mut scratch.life);
        // What happens to them: the same stream restarted for each strategy.
        let events = Stream::new(seed, draw, patient, Purpose::Events);
        for s in 0..model.strategies.len() {
            let mut rng = events.clone();
            let lived = match kernel.live(patient, s, entry, &mut rng, tally, &mut scratch.life) {
                Ok(lived) => lived,
                Err(bound) => {
                    let life = &mut scratch.life;
                    // By value: a reference would keep the stream in memory in the hot loop.
                    let events = events.clone();
                    return Err(loops(model, s, patient, entry, events, life, bound));
                }
            };
            scratch.deaths[s] = lived.death;
            if K::ECONOMICS {
                scratch.lives[s] = lived.values;
            }
            tally.events += u64::from(lived.transitions);
            tally.draws += rng.draws();
        }
        if paired {
            tally.record_paired(layout, &scratch.deaths);
        }
        if K::ECONOMICS
            && let Some(economics) = &mut tally.economics
        {
            economics
                .record(&scratch.lives)
                .map_err(|source| EngineError::EconomicValue {
                    patient,
                    strategy: model.strategies[source.strategy].name.clone(),
                    source,
                })?;
        }
        tally.patients += 1;
    }
    kernel.finish(tally);
    Ok(())
}

/// The error for a life over the bound on events: the same life replayed by the general
/// life (same stream, so the same path whichever kernel found it) shows where it loops.
#[cold]
#[inline(never)]
fn loops(
    model: &Model,
    strategy: usize,
    patient: u64,
    entry: Node,
    mut events: Stream,
    scratch: &mut life::Scratch,
    bound: TooManyEvents,
) -> EngineError {
    let strategy = &model.strategies[strategy];
    let mut path = Trajectory::default();
    let _ = life::live(model, strategy, entry, &mut events, scratch, &mut path);
    let recent = path.steps.iter().rev().take(8).rev();
    EngineError::TooManyEvents {
        patient,
        strategy: strategy.name.clone(),
        events: bound.events,
        time: bound.time,
        recent: recent
            .map(|step| model.states[step.state].name.clone())
            .collect(),
    }
}

/// Who the patient is: attributes (into `scratch.attributes`) and entry target, drawn from
/// the patient's attribute stream, the same under every strategy.
#[inline(always)]
fn entry_of(
    model: &Model,
    seed: u64,
    draw: u64,
    patient: u64,
    tally: &mut Tally,
    scratch: &mut life::Scratch,
) -> Node {
    let random_entry = model.entry.cumulative.len() > 1;
    let mut entry = model.entry.cumulative[0].1;
    if random_entry || !model.cohort.attributes.is_empty() {
        let mut attributes = Stream::new(seed, draw, patient, Purpose::Attributes);
        model.cohort.draw(&mut attributes, &mut scratch.attributes);
        if random_entry {
            entry = pick_entry(model, attributes.uniform());
        }
        tally.draws += attributes.draws();
    }
    entry
}

fn pick_entry(model: &Model, u: f64) -> Node {
    let cumulative: &[(f64, Node)] = &model.entry.cumulative;
    let index = cumulative
        .iter()
        .position(|(c, _)| u < *c)
        .unwrap_or(cumulative.len() - 1);
    cumulative[index].1
}
