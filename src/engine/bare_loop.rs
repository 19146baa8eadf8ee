//! The bare loop the engine is measured against: the same per-patient streams and the same
//! number of random draws, and nothing else.
//!
//! The ratio "engine time / bare-loop time" says how much the model logic and the
//! aggregation cost on top of the random numbers themselves.

use rayon::prelude::*;

use crate::rng::{Purpose, Stream};

/// What the bare loop does with each draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareVariate {
    /// A uniform in (0, 1).
    Uniform,
    /// A standard exponential (ziggurat), the engine's typical variate.
    Exponential,
}

/// Draws `total_draws` numbers spread evenly over `patients` patients, each from its own
/// stream as in the engine, on `threads` threads; returns a checksum (so nothing is
/// optimised away).
pub fn bare_loop(
    seed: u64,
    patients: u64,
    total_draws: u64,
    variate: BareVariate,
    threads: usize,
) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    let work = || {
        (0..patients.div_ceil(super::CHUNK) as usize)
            .into_par_iter()
            .map(|chunk| {
                let start = chunk as u64 * super::CHUNK;
                let end = (start + super::CHUNK).min(patients);
                let mut sum = 0.0;
                for patient in start..end {
                    // Patient i draws floor((i+1)·D/N) − floor(i·D/N) numbers: D in total.
                    let share =
                        |i: u64| ((i as u128 * total_draws as u128) / patients as u128) as u64;
                    let draws = share(patient + 1) - share(patient);
                    let mut rng = Stream::new(seed, 0, patient, Purpose::Events);
                    for _ in 0..draws {
                        sum += match variate {
                            BareVariate::Uniform => rng.uniform(),
                            BareVariate::Exponential => rng.exponential(),
                        };
                    }
                }
                sum
            })
            .sum::<f64>()
    };
    match pool {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}
