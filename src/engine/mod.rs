//! The simulation engine: patients in parallel, each on its own random stream.
//!
//! Patients are split into fixed chunks; rayon workers take chunks and record lives into
//! per-worker [`Tally`] accumulators, which are merged at the end. Because a patient's
//! random numbers depend only on (seed, PSA draw, patient index) and accumulators are
//! integers, the result does not depend on the number of threads or the order of work.
//!
//! The layers: a life ([`crate::life`]) below the recorders ([`crate::aggregate`]), and
//! here, above both, the one loop over patients and strategies (`engine/patients.rs`), generic over
//! two life kernels, the general one (`engine/general.rs`) and the constant-hazard fast path
//! (`engine/constant.rs`), and the parallel drivers that hand it chunks ([`simulate`],
//! [`ordered::simulate_in_order`]). [`Control::cross_check`] runs every chunk on both
//! kernels and compares the tallies.

pub mod bare_loop;
mod constant;
mod general;
pub mod ordered;
mod patients;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::aggregate::{Layout, Tally};
use crate::econ::LifeValues;
use crate::life::{self, Observer};
use crate::model::Model;
use constant::{Constant, ConstantModel};
use general::General;

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
    /// Run every chunk on both kernels where the fast path applies and stop with
    /// [`EngineError::KernelsDisagree`] unless their tallies are equal (the run takes the
    /// time of both). For tests and CI: the two kernels' equality, checked on a real run.
    pub cross_check: bool,
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
    /// The constant-hazard kernel and the general one left different tallies (or stopped
    /// differently) for the same patients: a bug in the engine, found by
    /// [`Control::cross_check`].
    #[error(
        "the constant-hazard kernel and the general one disagree on patients {first} to {last}: this is a bug in hsctsim, please report it with the scenario"
    )]
    KernelsDisagree {
        /// First patient of the chunk.
        first: u64,
        /// Last patient of the chunk.
        last: u64,
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
                    if control.cross_check {
                        cross_checked(&work, range, &mut tally, &mut scratch)?;
                    } else {
                        simulate_patients_following(
                            &work,
                            range,
                            &mut tally,
                            &mut scratch,
                            &mut (),
                        )?;
                    }
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

/// Per-thread buffers of the patient loop, reused for every patient so the hot loop does
/// not allocate: a life's, and the current patient's outcomes under each strategy.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// The life's buffers (attributes, variables, history).
    pub life: life::Scratch,
    /// The current patient's death time from entry under each strategy.
    pub deaths: Vec<f64>,
    /// The current patient's costs and QALYs under each strategy.
    pub lives: Vec<LifeValues>,
}

impl Scratch {
    /// Buffers sized for a model.
    pub fn new(model: &Model) -> Scratch {
        Scratch {
            life: life::Scratch::new(model),
            deaths: vec![f64::INFINITY; model.strategies.len()],
            lives: vec![Default::default(); model.strategies.len()],
        }
    }
}

/// [`simulate_patients`] with a [`LifeFollower`] watching every life as well: the one
/// patient loop on the constant-hazard kernel where the model allows it and nothing
/// follows, else on the general kernel.
pub(crate) fn simulate_patients_following<F: LifeFollower>(
    work: &Work,
    patients: Range<u64>,
    tally: &mut Tally,
    scratch: &mut Scratch,
    follower: &mut F,
) -> Result<(), EngineError> {
    let Work { model, layout, .. } = *work;
    match work.fast {
        Some(table) if !F::FOLLOWS => {
            let kernel = Constant::new(model, table, layout, tally);
            patients::simulate_patients(work, kernel, patients, tally, scratch)
        }
        _ => {
            let kernel = General::new(model, layout, follower);
            patients::simulate_patients(work, kernel, patients, tally, scratch)
        }
    }
}

/// Runs a chunk on both kernels (where the fast path applies) and adds it to `tally` only
/// if they agree.
#[cold]
fn cross_checked(
    work: &Work,
    patients: Range<u64>,
    tally: &mut Tally,
    scratch: &mut Scratch,
) -> Result<(), EngineError> {
    let Work { model, layout, .. } = *work;
    let Some(table) = work.fast else {
        return simulate_patients_following(work, patients, tally, scratch, &mut ());
    };
    let mut fast = Tally::new(layout);
    let kernel = Constant::new(model, table, layout, &fast);
    let fast_run = patients::simulate_patients(work, kernel, patients.clone(), &mut fast, scratch);
    let mut general = Tally::new(layout);
    let mut nobody = ();
    let kernel = General::new(model, layout, &mut nobody);
    let general_run =
        patients::simulate_patients(work, kernel, patients.clone(), &mut general, scratch);
    let agreed = agree(
        fast_run.map(|()| fast),
        general_run.map(|()| general),
        patients,
    )?;
    tally.merge(&agreed);
    Ok(())
}

/// The one result of two kernels' runs of the same patients, if they are the same.
fn agree(
    fast: Result<Tally, EngineError>,
    general: Result<Tally, EngineError>,
    patients: Range<u64>,
) -> Result<Tally, EngineError> {
    match (fast, general) {
        (Ok(fast), Ok(general)) if fast == general => Ok(fast),
        (Err(fast), Err(general)) if fast == general => Err(fast),
        _ => Err(EngineError::KernelsDisagree {
            first: patients.start,
            last: patients.end.saturating_sub(1),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cross-check passes equal results through and refuses any difference.
    #[test]
    fn kernels_agree_only_on_equal_results() {
        let text = "[simulation]\npatients = 10\n[[states]]\nname = \"well\"\n\
            [[states]]\nname = \"dead\"\ndeath = \"nrm\"\n[cohort]\nentry = \"well\"\n\
            [[transitions]]\nfrom = \"well\"\nto = \"dead\"\nrate = 0.1\n\
            [[strategies]]\nname = \"only\"\n";
        let model = crate::scenario::parse(text, "test.toml", "test").expect("a valid model");
        let layout = Layout::new(&model);
        let tally = Tally::new(&layout);
        let mut other = tally.clone();
        other.draws += 1;
        let error = EngineError::Cancelled { done: 0, total: 1 };
        let disagree = Err(EngineError::KernelsDisagree { first: 5, last: 9 });
        assert_eq!(
            agree(Ok(tally.clone()), Ok(tally.clone()), 5..10),
            Ok(tally.clone())
        );
        assert_eq!(agree(Ok(tally.clone()), Ok(other), 5..10), disagree);
        assert_eq!(
            agree(Err(error.clone()), Err(error.clone()), 5..10),
            Err(error.clone())
        );
        assert_eq!(
            agree(Ok(tally.clone()), Err(error.clone()), 5..10),
            disagree
        );
        assert_eq!(agree(Err(error), Ok(tally), 5..10), disagree);
    }
}
