//! A run whose chunks are handed over in patient order: the driver of the patient-level
//! export.
//!
//! Why not [`super::simulate`]: rayon splits the patients in halves, so one worker starts
//! at the first patient and another in the middle, and rows written as chunks finish would
//! come out in an order that depends on the threads. Here workers claim chunks from a
//! counter in patient order, and each finished chunk's [`LifeFollower`] (e.g. its buffer of
//! CSV rows) waits until every earlier chunk has been delivered. A worker may run at most
//! [`window`] chunks ahead of the oldest undelivered one, so at most that many buffers are
//! held at once whatever the number of patients: memory stays flat, the output is the same
//! bytes for any number of threads, and the accumulators are the same as [`super::simulate`]'s.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

use super::{CHUNK, Control, EngineError, LifeFollower, Work, simulate_patients_following};
use crate::aggregate::{Layout, Tally};
use crate::engine::Scratch;
use crate::model::Model;

/// Why an in-order run stopped.
#[derive(Debug)]
pub enum InOrderError<E> {
    /// The simulation stopped (a model that loops, Ctrl-C, no threads).
    Engine(EngineError),
    /// Delivering a chunk failed (e.g. the disk is full); the run stopped there.
    Deliver(E),
}

impl<E: std::fmt::Display> std::fmt::Display for InOrderError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InOrderError::Engine(e) => e.fmt(f),
            InOrderError::Deliver(e) => e.fmt(f),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for InOrderError<E> {}

/// Chunks a worker may run ahead of the oldest chunk not yet delivered, for `threads`
/// workers: enough that a slow chunk rarely idles the others, small enough that the held
/// buffers stay a few megabytes.
pub fn window(threads: usize) -> u64 {
    4 * threads.max(1) as u64
}

/// Shared state of the workers, behind one mutex.
struct Queue<F> {
    /// Next chunk to hand to a worker.
    next_claim: u64,
    /// Next chunk to deliver.
    next_deliver: u64,
    /// Finished chunks waiting for their turn.
    finished: BTreeMap<u64, F>,
    /// A worker is delivering (outside the lock): the others leave delivery to it.
    delivering: bool,
    /// Set when the run must stop (error or cancel); workers then leave.
    stopped: bool,
}

/// Simulates the run like [`super::simulate`] and hands each chunk's follower (made by
/// `new_follower`) to `deliver` in patient order, one chunk at a time.
///
/// One worker at a time delivers, outside the queue's lock, so the others keep simulating
/// (up to the window) while a chunk is written; `deliver` never runs twice at once and sees
/// chunks strictly in order. On the first error (from the engine or from `deliver`) every
/// worker stops at its next chunk and nothing more is delivered.
pub fn simulate_in_order<F, D, E>(
    model: &Model,
    control: &Control,
    new_follower: impl Fn() -> F + Sync,
    deliver: D,
) -> Result<Tally, InOrderError<E>>
where
    F: LifeFollower + Send,
    D: FnMut(F) -> Result<(), E> + Send,
    E: Send,
{
    let threads = match control.threads {
        0 => model.settings.threads,
        t => t,
    };
    let threads = crate::model::worker_threads(threads);
    let (first, last) = control.patients.unwrap_or((0, model.settings.patients));
    let total = last.saturating_sub(first);
    let chunks = total.div_ceil(CHUNK);
    let layout = Layout::new(model);
    let work = Work {
        model,
        layout: &layout,
        draw: control.draw,
        fast: None,
    };
    let window = window(threads);
    let queue = Mutex::new(Queue {
        next_claim: 0,
        next_deliver: 0,
        finished: BTreeMap::new(),
        delivering: false,
        stopped: false,
    });
    // Only the worker holding the delivery turn (`Queue::delivering`) locks this.
    let deliver = Mutex::new(deliver);
    let turn = Condvar::new();
    let done = AtomicU64::new(0);
    let failure: Mutex<Option<InOrderError<E>>> = Mutex::new(None);
    let tallies: Mutex<Vec<Tally>> = Mutex::new(Vec::new());

    // A worker's life: claim the next chunk when the window allows, simulate it, queue its
    // follower, deliver whatever is now next in order.
    let worker = || {
        let mut tally = Tally::new(&layout);
        let mut scratch = Scratch::new(model);
        let fail = |error: InOrderError<E>| {
            let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(error);
        };
        loop {
            let chunk = {
                let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if q.stopped || q.next_claim >= chunks {
                        break None;
                    }
                    if control.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        q.stopped = true;
                        fail(InOrderError::Engine(EngineError::Cancelled {
                            done: done.load(Ordering::Relaxed),
                            total,
                        }));
                        turn.notify_all();
                        break None;
                    }
                    if q.next_claim < q.next_deliver + window {
                        q.next_claim += 1;
                        break Some(q.next_claim - 1);
                    }
                    q = turn.wait(q).unwrap_or_else(|p| p.into_inner());
                }
            };
            let Some(chunk) = chunk else { break };
            let start = first + chunk * CHUNK;
            let range = start..(start + CHUNK).min(last);
            let count = range.end - range.start;
            let mut follower = new_follower();
            let simulated =
                simulate_patients_following(&work, range, &mut tally, &mut scratch, &mut follower);
            let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(error) = simulated {
                q.stopped = true;
                fail(InOrderError::Engine(error));
                turn.notify_all();
                break;
            }
            done.fetch_add(count, Ordering::Relaxed);
            if let Some(progress) = control.progress {
                progress(count);
            }
            q.finished.insert(chunk, follower);
            if q.delivering {
                continue; // the worker delivering will take this chunk in its turn
            }
            q.delivering = true;
            loop {
                let next = q.next_deliver;
                let ready = if q.stopped {
                    None
                } else {
                    q.finished.remove(&next)
                };
                let Some(ready) = ready else {
                    q.delivering = false;
                    break;
                };
                drop(q);
                let delivered = {
                    let mut deliver = deliver.lock().unwrap_or_else(|p| p.into_inner());
                    (*deliver)(ready)
                };
                q = queue.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(error) = delivered {
                    q.stopped = true;
                    fail(InOrderError::Deliver(error));
                }
                q.next_deliver += 1;
                turn.notify_all();
            }
            turn.notify_all();
        }
        tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tally);
    };

    // A worker that panics (a bug) must not leave the others waiting for its chunk.
    let guarded_worker = || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&worker));
        if let Err(panic) = outcome {
            let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
            q.stopped = true;
            turn.notify_all();
            drop(q);
            std::panic::resume_unwind(panic);
        }
    };
    let started = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let spawned = std::thread::Builder::new()
                .name(format!("hsctsim-worker-{i}"))
                .spawn_scoped(scope, guarded_worker);
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    // Stop the workers already started and report.
                    let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
                    q.stopped = true;
                    turn.notify_all();
                    return Err(EngineError::Threads {
                        threads,
                        message: e.to_string(),
                    });
                }
            }
        }
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Ok(())
    });
    started.map_err(InOrderError::Engine)?;
    if let Some(error) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let mut merged = Tally::new(&layout);
    for tally in tallies.into_inner().unwrap_or_else(|p| p.into_inner()) {
        merged.merge(&tally);
    }
    Ok(merged)
}
