//! The simulation engine: patients in parallel, each on its own random stream.
//!
//! Patients are split into fixed chunks; rayon workers take chunks and record lives into
//! per-worker [`Tally`] accumulators, which are merged at the end. Because a patient's
//! random numbers depend only on (seed, PSA draw, patient index) and accumulators are
//! integers, the result does not depend on the number of threads or the order of work.

pub mod baseline;
mod constant;
pub mod life;
pub mod ordered;
pub use crate::rng;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::aggregate::{Layout, Tally};
use crate::model::{Model, Target};
use constant::ConstantModel;
use life::{Observer, Scratch, TooManyEvents, Trajectory, live};
use rng::{Purpose, Stream};

/// Patients per unit of parallel work (and per progress update).
pub const CHUNK: u64 = 4096;

/// How to run: which patients, how many threads, and hooks for progress and Ctrl-C.
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    /// Worker threads; 0 takes the scenario's setting (0 there: all cores).
    pub threads: usize,
    /// Patient indices to simulate; `None`: all of the scenario's patients.
    pub patients: Option<(u64, u64)>,
    /// PSA draw (0 for a deterministic run).
    pub draw: u64,
    /// Called with the number of patients finished, after each chunk.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Set to stop early (e.g. on Ctrl-C); the run then returns [`EngineError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// Run the general engine even where the constant-hazard fast path applies (the two
    /// give the same bits; tests and benchmarks compare them).
    pub general_engine: bool,
}

/// Why a run stopped without a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A patient made more transitions than `max_events`: the model loops without escape.
    #[error(
        "patient {patient} under strategy `{strategy}` made more than {events} transitions by month {time:.3} (last states: {}); the model seems to loop without end. Add an exit from the loop, or raise [simulation] max_events if such long lives are real",
        recent.join(" → ")
    )]
    TooManyEvents {
        /// Patient index.
        patient: u64,
        /// Strategy name.
        strategy: String,
        /// The bound.
        events: u32,
        /// Time reached.
        time: f64,
        /// Recent states.
        recent: Vec<String>,
    },
    /// A life's cost, life-years or QALYs cannot be summed exactly (not finite, or beyond
    /// the economic sums' bound): the run stops rather than leave the patient out.
    #[error("patient {patient} under strategy `{strategy}`: {source}")]
    EconomicValue {
        /// Patient index.
        patient: u64,
        /// Strategy name.
        strategy: String,
        /// Which value, and why it cannot be summed.
        source: crate::aggregate::economics::ValueOutOfRange,
    },
    /// The run was cancelled.
    #[error("cancelled after {done} of {total} patients")]
    Cancelled {
        /// Patients finished.
        done: u64,
        /// Patients asked for.
        total: u64,
    },
    /// The thread pool could not start.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        message: String,
    },
}

/// A pool of `threads` workers (0: all cores).
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool, EngineError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("hsctsim-worker-{i}"))
        .build()
        .map_err(|e| EngineError::Threads {
            threads,
            message: e.to_string(),
        })
}

/// True if [`simulate`] runs this model on the constant-hazard fast path (every exit a
/// constant hazard, nothing patient-specific): the same results, a few times faster.
pub fn uses_fast_path(model: &Model) -> bool {
    ConstantModel::new(model).is_some()
}

/// Runs the model and returns its accumulators.
pub fn simulate(model: &Model, control: &Control) -> Result<Tally, EngineError> {
    let threads = match control.threads {
        0 => model.settings.threads,
        t => t,
    };
    let pool = pool(threads)?;
    let (first, last) = control.patients.unwrap_or((0, model.settings.patients));
    let layout = Layout::new(model);
    let fast = match control.general_engine {
        false => ConstantModel::new(model),
        true => None,
    };
    let work = Work {
        model,
        layout: &layout,
        draw: control.draw,
        fast: fast.as_ref(),
    };
    let chunks = (last.saturating_sub(first)).div_ceil(CHUNK) as usize;
    let done = std::sync::atomic::AtomicU64::new(0);
    pool.install(|| {
        (0..chunks)
            .into_par_iter()
            .with_min_len(2)
            .try_fold(
                || -> (Tally, Scratch) { (Tally::new(&layout), Scratch::new(model)) },
                |(mut tally, mut scratch), chunk| {
                    if control.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        return Err(EngineError::Cancelled {
                            done: done.load(Ordering::Relaxed),
                            total: last - first,
                        });
                    }
                    let start = first + chunk as u64 * CHUNK;
                    let range = start..(start + CHUNK).min(last);
                    let count = range.end - range.start;
                    simulate_patients_following(&work, range, &mut tally, &mut scratch, &mut ())?;
                    done.fetch_add(count, Ordering::Relaxed);
                    if let Some(progress) = control.progress {
                        progress(count);
                    }
                    Ok((tally, scratch))
                },
            )
            .map(|r| r.map(|(tally, _)| tally))
            .try_reduce(
                || Tally::new(&layout),
                |mut a, b| {
                    a.merge(&b);
                    Ok(a)
                },
            )
    })
}

/// Follows every life besides the aggregator, e.g. a patient-level export: told who is
/// about to live, then sees the life's state entries like any [`Observer`].
pub trait LifeFollower: Observer {
    /// False only for the no-op follower `()`: plain runs then hand the engine the
    /// aggregator alone, exactly as without followers, so they pay nothing for this hook.
    const FOLLOWS: bool = true;

    /// A life begins: `patient` under strategy number `strategy`, with the patient's
    /// attribute values (by variable index; attributes are the first variables).
    fn begin(&mut self, patient: u64, strategy: usize, attributes: &[f64]);
}

/// Follows nothing: plain runs compile to the aggregator alone.
impl LifeFollower for () {
    const FOLLOWS: bool = false;

    #[inline(always)]
    fn begin(&mut self, _patient: u64, _strategy: usize, _attributes: &[f64]) {}
}

/// Simulates a range of patients under every strategy into `tally`.
pub fn simulate_patients(
    model: &Model,
    layout: &Layout,
    draw: u64,
    patients: Range<u64>,
    tally: &mut Tally,
    scratch: &mut Scratch,
) -> Result<(), EngineError> {
    let fast = ConstantModel::new(model);
    let work = Work {
        model,
        layout,
        draw,
        fast: fast.as_ref(),
    };
    simulate_patients_following(&work, patients, tally, scratch, &mut ())
}

/// What every chunk of a run shares.
#[derive(Clone, Copy)]
pub(crate) struct Work<'a> {
    /// The model.
    pub model: &'a Model,
    /// Its accumulators' layout.
    pub layout: &'a Layout,
    /// PSA draw.
    pub draw: u64,
    /// The constant-hazard fast path's tables, when the model allows it.
    pub fast: Option<&'a ConstantModel>,
}

/// [`simulate_patients`] with a [`LifeFollower`] watching every life as well.
pub(crate) fn simulate_patients_following<F: LifeFollower>(
    work: &Work,
    patients: Range<u64>,
    tally: &mut Tally,
    scratch: &mut Scratch,
    follower: &mut F,
) -> Result<(), EngineError> {
    match work.fast {
        Some(table) if !F::FOLLOWS => {
            constant::simulate_patients(work, table, patients, tally, scratch)
        }
        _ => simulate_general(work, patients, tally, scratch, follower),
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
    scratch: &mut Scratch,
) -> Target {
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

/// The general engine: any model, any follower.
fn simulate_general<F: LifeFollower>(
    work: &Work,
    patients: Range<u64>,
    tally: &mut Tally,
    scratch: &mut Scratch,
    follower: &mut F,
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
        let entry = entry_of(model, seed, draw, patient, tally, scratch);
        // What happens to them: the same stream restarted for each strategy.
        let events = Stream::new(seed, draw, patient, Purpose::Events);
        for (s, strategy) in model.strategies.iter().enumerate() {
            let mut rng = events.clone();
            let mut recorder = tally.recorder(layout, s, model.economics.as_ref());
            let lived = if F::FOLLOWS {
                follower.begin(patient, s, &scratch.attributes);
                let mut both = (&mut recorder, &mut *follower);
                live(model, strategy, entry, &mut rng, scratch, &mut both)
            } else {
                live(model, strategy, entry, &mut rng, scratch, &mut recorder)
            };
            let transitions = match lived {
                Ok(transitions) => transitions,
                Err(TooManyEvents {
                    events: bound,
                    time,
                }) => {
                    // Replay the same life (same stream) to show where it loops.
                    let mut path = Trajectory::default();
                    let _ = live(
                        model,
                        strategy,
                        entry,
                        &mut events.clone(),
                        scratch,
                        &mut path,
                    );
                    let recent = path.steps.iter().rev().take(8).rev();
                    return Err(EngineError::TooManyEvents {
                        patient,
                        strategy: strategy.name.clone(),
                        events: bound,
                        time,
                        recent: recent
                            .map(|step| model.states[step.state].name.clone())
                            .collect(),
                    });
                }
            };
            let outcome = recorder.finish();
            scratch.deaths[s] = outcome.death;
            scratch.lives[s] = outcome.values;
            tally.events += u64::from(transitions);
            tally.draws += rng.draws();
        }
        if paired {
            tally.record_paired(layout, &scratch.deaths);
        }
        if let Some(economics) = &mut tally.economics {
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
    Ok(())
}

fn pick_entry(model: &Model, u: f64) -> Target {
    let cumulative: &[(f64, Target)] = &model.entry.cumulative;
    let index = cumulative
        .iter()
        .position(|(c, _)| u < *c)
        .unwrap_or(cumulative.len() - 1);
    cumulative[index].1
}
