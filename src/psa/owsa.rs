//! One-way sensitivity analysis: each scalar parameter of `[psa]` at its low and then its
//! high value, the others at the scenario's values, and the tornado of incremental net
//! benefit it gives.
//!
//! Every run simulates the same patients (draw 0, the deterministic run's streams), so the
//! differences between runs are the parameters' effects, not Monte Carlo noise; and as
//! many of them as the deterministic run ([`patients`]), so the base case from which the
//! bars start is the run's base case, number for number.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::{Means, Psa, PsaError};
use crate::engine;

/// The comparison a tornado shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The strategy whose incremental net benefit is shown.
    pub strategy: usize,
    /// Against this one.
    pub comparator: usize,
    /// Willingness to pay per QALY.
    pub wtp: f64,
}

/// One parameter's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Parameter index in `[psa]`.
    pub parameter: usize,
    /// Low value.
    pub low: f64,
    /// High value.
    pub high: f64,
    /// Per strategy, with the parameter at its low value.
    pub at_low: Vec<Means>,
    /// Per strategy, with the parameter at its high value.
    pub at_high: Vec<Means>,
}

/// The one-way analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct OneWay {
    /// Per strategy, every parameter as written.
    pub base: Vec<Means>,
    /// Scalar parameters, in file order.
    pub bars: Vec<Bar>,
    /// Patients per run.
    pub patients: u64,
}

impl OneWay {
    /// Incremental net benefit of the comparison in a set of per-strategy means.
    pub fn inmb(means: &[Means], c: &Comparison) -> f64 {
        means[c.strategy].nmb(c.wtp) - means[c.comparator].nmb(c.wtp)
    }

    /// The default comparison at `wtp`: the strategy with the highest base-case net benefit
    /// other than `reference`, against `reference`.
    pub fn default_comparison(&self, reference: usize, wtp: f64) -> Option<Comparison> {
        let strategy = (0..self.base.len())
            .filter(|&s| s != reference)
            .max_by(|&a, &b| {
                self.base[a]
                    .nmb(wtp)
                    .total_cmp(&self.base[b].nmb(wtp))
                    .then(b.cmp(&a))
            })?;
        Some(Comparison {
            strategy,
            comparator: reference,
            wtp,
        })
    }
}

/// Patients per one-way run: the deterministic run's (`[simulation] patients`, or what the
/// caller set there), not the PSA's per-draw count — with the same patients and streams the
/// base case is then exactly `hsctsim run`'s, and the tornado is read against it.
pub fn patients(psa: &Psa) -> u64 {
    psa.base.settings.patients
}

/// Runs the base case and every scalar parameter at its low and high values, `patients`
/// patients each, in parallel; `progress` is told of each finished run.
pub fn run(
    psa: &Psa,
    patients: u64,
    threads: usize,
    progress: Option<&(dyn Fn(u64) + Sync)>,
    cancel: Option<&AtomicBool>,
) -> Result<OneWay, PsaError> {
    let threads = if threads == 0 {
        psa.base.settings.threads
    } else {
        threads
    };
    let pool = engine::pool(threads).map_err(|source| PsaError::Engine { draw: 0, source })?;
    // Run k: 0 = base; 2i+1 / 2i+2 = value i of the flattened list at low / high.
    let mut runs: Vec<Option<(usize, usize, f64)>> = vec![None];
    let mut at = 0;
    for (i, p) in psa.parameters.iter().enumerate() {
        if let Some((low, high)) = p.range {
            runs.push(Some((i, at, low)));
            runs.push(Some((i, at, high)));
        }
        at += p.distribution.dimension();
    }
    let total = runs.len() as u64;
    let width = psa.width();
    let results: Vec<Vec<Means>> = pool.install(|| {
        runs.par_iter()
            .with_max_len(1)
            .map(|run| {
                if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return Err(PsaError::Cancelled { done: 0, total });
                }
                let mut values = vec![None; width];
                if let Some((_, slot, value)) = *run {
                    values[slot] = Some(value);
                }
                let model = psa.model_with(&values).map_err(|message| PsaError::Draw {
                    draw: 0,
                    values: run.map_or("base case".into(), |(i, _, v)| {
                        format!("{} = {v}", psa.parameters[i].name)
                    }),
                    message,
                })?;
                let means = psa
                    .simulate(&model, 0, patients)
                    .map_err(|source| PsaError::Engine { draw: 0, source })?;
                if let Some(progress) = progress {
                    progress(1);
                }
                Ok(means)
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut results = results.into_iter();
    let base = results.next().unwrap_or_default();
    let bars = runs[1..]
        .chunks(2)
        .zip(results.collect::<Vec<_>>().chunks(2))
        .filter_map(|(pair, means)| match (pair, means) {
            ([Some((i, _, low)), Some((_, _, high))], [at_low, at_high]) => Some(Bar {
                parameter: *i,
                low: *low,
                high: *high,
                at_low: at_low.clone(),
                at_high: at_high.clone(),
            }),
            _ => None,
        })
        .collect();
    Ok(OneWay {
        base,
        bars,
        patients,
    })
}
