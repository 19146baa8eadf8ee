//! Runs split into shards whose partial results merge into exactly the single run.
//!
//! Why this works: a patient's random numbers depend only on (seed, PSA draw, patient
//! index), and the accumulators ([`Tally`](crate::aggregate::Tally)) hold integers and
//! fixed-point sums whose merge is exact and order-independent. So any split of the
//! patients, simulated anywhere, adds up to the same bits as one run on one machine; a
//! shard only has to know which patients are its own.
//!
//! The split rule (part of the part-file format since version 1): the run's work is the
//! sequence of (draw, patient) pairs, draw-major, `draws × patients` long; shard `k` of
//! `N` takes the contiguous range `[⌊k·T/N⌋, ⌊(k+1)·T/N⌋)` of it, where `T = draws ×
//! patients`. Shard sizes then differ by at most one patient, every pair belongs to exactly
//! one shard, and shards are empty only when there are more shards than patients. A
//! deterministic run has one draw, so a shard is simply a contiguous range of patients.
//! When PSA draws arrive, a shard may span several draws and is stored as one
//! [`part::Block`] per draw: parts written today stay valid.
//!
//! - [`part`]: the part file (versioned, self-describing, checksummed JSON, carrying every
//!   file of the composed scenario so that a merge reads nothing else).
//! - [`merge`]: checks that a set of parts is one complete run, and merges it.
//!
//! ```no_run
//! use hsctsim::engine::Control;
//! use hsctsim::shard::{Shard, merge, part};
//!
//! // The scenario with every file it extends: each part carries them all.
//! let composed = hsctsim::scenario::compose::load("scenarios/reference_markov.toml")?;
//! let source = composed.composition().clone();
//! let model = composed.build(&source.default_name())?;
//! for k in 0..4 {
//!     // Each of these could run on a different machine.
//!     let part = part::run_shard(&model, &source, Shard::new(k, 4)?, &Control::default())?;
//!     part::write(std::path::Path::new("parts"), &part, false)?;
//! }
//! let parts = part::read_all(&["parts".into()])?;
//! let merged = merge::merge(parts)?;
//! println!("{} patients", merged.tally.patients);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod merge;
pub mod part;
pub mod psa;

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Most shards a run may be split into: far more than any array job (Slurm's default
/// `MaxArraySize` is 1001), small enough that a typing slip is caught.
pub const MAX_SHARDS: u64 = 1_000_000;

/// One shard of a run: number `index` of `count`, counted from 0 like Slurm array task ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shard {
    /// Which shard, in `0..count`.
    pub index: u64,
    /// How many shards the run is split into.
    pub count: u64,
}

/// A `--shard` value that is not `k/N` with `0 ≤ k < N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shard {given}: {problem}")]
pub struct ShardSpecError {
    /// What was given.
    pub given: String,
    /// What is wrong and how to write it.
    pub problem: String,
}

impl Shard {
    /// Shard `index` of `count`, checked.
    pub fn new(index: u64, count: u64) -> Result<Shard, ShardSpecError> {
        let error = |problem: String| ShardSpecError {
            given: format!("{index}/{count}"),
            problem,
        };
        if count == 0 || count > MAX_SHARDS {
            return Err(error(format!(
                "the number of shards must be between 1 and {MAX_SHARDS}"
            )));
        }
        if index >= count {
            return Err(error(format!(
                "shards are numbered from 0 to {} (like Slurm's --array=0-{}); {index} is out of range",
                count - 1,
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// The whole run as a single shard.
    pub fn whole() -> Shard {
        Shard { index: 0, count: 1 }
    }

    /// This shard's contiguous range of `0..total` (see the module documentation).
    pub fn range(&self, total: u64) -> Range<u64> {
        // u128: k·T overflows u64 for large runs split many ways.
        let bound = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.count)) as u64;
        bound(self.index)..bound(self.index + 1)
    }

    /// This shard's work as (draw, patient range) pieces, one per draw it touches; empty
    /// pieces are left out, so an empty shard has none.
    pub fn blocks(&self, draws: u64, patients: u64) -> Vec<(u64, Range<u64>)> {
        let total = draws.saturating_mul(patients);
        let work = self.range(total);
        let mut pieces = Vec::new();
        let mut at = work.start;
        while at < work.end {
            let draw = at / patients;
            let first = at % patients;
            let last = (work.end - draw * patients).min(patients);
            pieces.push((draw, first..last));
            at = draw * patients + last;
        }
        pieces
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardSpecError;

    /// Parses `k/N`, e.g. `3/100`.
    fn from_str(text: &str) -> Result<Shard, ShardSpecError> {
        let error = |problem: &str| ShardSpecError {
            given: text.to_string(),
            problem: problem.to_string(),
        };
        let (index, count) = text.split_once('/').ok_or_else(|| {
            error("write it as k/N: shard k (from 0) of N, e.g. 3/100 for the fourth of 100")
        })?;
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| error("k and N must be whole numbers, e.g. 3/100 (shard 3 of 0..99)"))
        };
        Shard::new(number(index)?, number(count)?).map_err(|e| ShardSpecError {
            given: text.to_string(),
            problem: e.problem,
        })
    }
}

/// The files among `inputs` (files, and the entries of folders, sorted) whose names pass
/// `is_name`. Unreadable folders count as holding none: the caller's reader reports them.
pub fn find_named(
    inputs: &[std::path::PathBuf],
    is_name: fn(&str) -> bool,
) -> Vec<std::path::PathBuf> {
    let named = |p: &std::path::Path| p.file_name().is_some_and(|n| is_name(&n.to_string_lossy()));
    let mut found = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(input)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| named(p))
                .collect();
            names.sort();
            found.extend(names);
        } else if named(input) {
            found.push(input.clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_patients_contiguously_and_evenly() {
        for total in [0u64, 1, 2, 6, 7, 100, 4097, 1_000_003] {
            for count in [1u64, 2, 3, 7, 100, 1000] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard::new(index, count).unwrap().range(total);
                    assert_eq!(r.start, next, "{index}/{count} of {total}");
                    let size = r.end - r.start;
                    assert!(size == total / count || size == total / count + 1);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn huge_runs_do_not_overflow() {
        let total = crate::scenario::build::MAX_PATIENTS;
        let last = Shard::new(MAX_SHARDS - 1, MAX_SHARDS).unwrap().range(total);
        assert_eq!(last.end, total);
        assert_eq!(last.end - last.start, total / MAX_SHARDS);
    }

    #[test]
    fn blocks_split_draw_major_work_at_draw_boundaries() {
        // One draw: a block is the patient range.
        assert_eq!(Shard::new(1, 3).unwrap().blocks(1, 10), vec![(0, 3..6)]);
        // More shards than patients: some shards are empty.
        assert_eq!(Shard::new(0, 3).unwrap().blocks(1, 2), vec![]);
        // Three draws of 10 patients in 4 shards: [0,7) [7,15) [15,22) [22,30).
        let shards: Vec<_> = (0..4)
            .map(|k| Shard::new(k, 4).unwrap().blocks(3, 10))
            .collect();
        assert_eq!(shards[0], vec![(0, 0..7)]);
        assert_eq!(shards[1], vec![(0, 7..10), (1, 0..5)]);
        assert_eq!(shards[2], vec![(1, 5..10), (2, 0..2)]);
        assert_eq!(shards[3], vec![(2, 2..10)]);
    }

    #[test]
    fn shard_specifications_parse_with_helpful_errors() {
        assert_eq!(
            "3/100".parse(),
            Ok(Shard {
                index: 3,
                count: 100
            })
        );
        assert_eq!(" 0 / 1 ".parse(), Ok(Shard::whole()));
        for (bad, says) in [
            ("3", "k/N"),
            ("3-100", "k/N"),
            ("a/4", "whole numbers"),
            ("-1/4", "whole numbers"),
            ("4/4", "numbered from 0 to 3"),
            ("0/0", "between 1 and"),
            ("0/2000000", "between 1 and"),
        ] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.starts_with(&format!("shard {bad}")), "{e}");
        }
    }
}
