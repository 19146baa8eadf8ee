//! Checks that a set of parts is exactly one complete run, and merges it.
//!
//! A merge that quietly combined the wrong files would give plausible, wrong curves, so
//! everything is checked before anything is added: one program version (this one — the
//! estimates are computed here, and exactness holds only if the same code simulated every
//! shard), one scenario (every file of its composition, by SHA-256), one seed, one number
//! of patients and of shards, every shard exactly once, and each part's accumulators shaped
//! for its scenario, covering exactly the patients the split rule gives it, and satisfying
//! every invariant of a simulated tally under the scenario's rules ([`Tally::check`]). The
//! merge itself adds with checked arithmetic ([`Tally::checked_merge`]): no counter or sum
//! can wrap around.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::Shard;
use super::part::{PROGRAM_VERSION, Part, PartError, ScenarioRecord};
use crate::aggregate::{Layout, Tally};
use crate::model::Model;
use crate::scenario::ScenarioError;

/// A merged run: the model rebuilt from the embedded scenario and the merged accumulators.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The model, with the seed and number of patients the shards ran with.
    pub model: Model,
    /// The scenario the shards ran.
    pub scenario: ScenarioRecord,
    /// Number of shards merged.
    pub shards: u64,
    /// The accumulators of the whole run.
    pub tally: Tally,
}

/// Why parts cannot be merged; each message names the files and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A part file cannot be read.
    #[error(transparent)]
    Part(#[from] PartError),
    /// Nothing to merge.
    #[error(
        "no part files to merge in {}: a folder's part files are named part-K-of-N.json; write them by running the shards of a scenario into one folder",
        list_paths(.searched)
    )]
    NoParts {
        /// Where we looked.
        searched: Vec<PathBuf>,
    },
    /// Two parts come from different runs.
    #[error(
        "{} and {} are not from the same run: {what}; merge the parts of one run only (move the others to another folder)",
        .first.display(),
        .second.display()
    )]
    Mismatch {
        /// The reference part (the lowest shard).
        first: PathBuf,
        /// The part that differs.
        second: PathBuf,
        /// What differs, with both values.
        what: String,
    },
    /// The parts were simulated by another version of hsctsim.
    #[error(
        "{} was simulated by hsctsim {theirs}, but this is hsctsim {PROGRAM_VERSION}: a merge is exact only with the version that ran the shards; merge with hsctsim {theirs}, or run the shards again with this version",
        .path.display()
    )]
    Version {
        /// The part.
        path: PathBuf,
        /// Its program version.
        theirs: String,
    },
    /// Two files claim the same shard.
    #[error(
        "shard {shard} appears twice, in {} and in {}; keep one of them (if both came from the same run they are identical)",
        .first.display(),
        .second.display()
    )]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Some shards have no part.
    #[error(
        "{} of {count} shards missing: {} (found {found} part files{}); run the missing shards (shard {} of {count} and the others listed, into the same folder, or resubmit those array tasks), then merge again",
        .missing.len(),
        list_shards(.missing),
        .folder.as_ref().map_or(String::new(), |f| format!(" in {}", f.display())),
        .missing[0]
    )]
    Missing {
        /// Shards of the run.
        count: u64,
        /// Shard numbers without a part.
        missing: Vec<u64>,
        /// Parts found.
        found: usize,
        /// The folder the parts came from, if one.
        folder: Option<PathBuf>,
    },
    /// A part does not fit its own scenario or split.
    #[error("{}: {problem}; run that shard again with this hsctsim", .path.display())]
    Inconsistent {
        /// The part.
        path: PathBuf,
        /// What does not fit.
        problem: String,
    },
    /// The embedded scenario no longer loads.
    #[error(
        "the scenario embedded in {} does not load with this hsctsim: {error}",
        .path.display()
    )]
    Scenario {
        /// The part.
        path: PathBuf,
        /// The scenario's error.
        error: Box<ScenarioError>,
    },
}

fn list_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    if shown.is_empty() {
        "(nothing given)".into()
    } else {
        shown.join(", ")
    }
}

/// Shard numbers as ranges: `3, 7-9, 12`; long lists are cut after 20 ranges.
fn list_shards(shards: &[u64]) -> String {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &s in shards {
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == s => *last = s,
            _ => ranges.push((s, s)),
        }
    }
    let mut text = String::new();
    for (i, (first, last)) in ranges.iter().enumerate() {
        if i == 20 {
            let _ = write!(text, ", … ({} ranges in all)", ranges.len());
            break;
        }
        if i > 0 {
            text.push_str(", ");
        }
        if first == last {
            let _ = write!(text, "{first}");
        } else {
            let _ = write!(text, "{first}-{last}");
        }
    }
    text
}

/// Checks that `parts` are all the shards of one run and merges them.
pub fn merge(parts: Vec<(PathBuf, Part)>) -> Result<Merged, MergeError> {
    merge_from(parts, &[])
}

/// Reads the parts in `inputs` (folders and files) and merges them.
pub fn merge_inputs(inputs: &[PathBuf]) -> Result<Merged, MergeError> {
    let parts = super::part::read_all(inputs)?;
    merge_from(parts, inputs)
}

/// [`merge`], naming `inputs` in messages about missing parts.
pub fn merge_from(
    mut parts: Vec<(PathBuf, Part)>,
    inputs: &[PathBuf],
) -> Result<Merged, MergeError> {
    if parts.is_empty() {
        return Err(MergeError::NoParts {
            searched: inputs.to_vec(),
        });
    }
    // The lowest shard is the reference, so messages do not depend on the file order.
    parts.sort_by(|(pa, a), (pb, b)| (a.shard, pa).cmp(&(b.shard, pb)));
    let (first_path, first) = &parts[0];
    for (path, part) in &parts {
        check_same_run(first_path, first, path, part)?;
    }
    if first.program_version != PROGRAM_VERSION {
        return Err(MergeError::Version {
            path: first_path.clone(),
            theirs: first.program_version.clone(),
        });
    }
    check_complete(&parts, inputs)?;
    let model = rebuild_model(first_path, first)?;
    let layout = Layout::new(&model);
    let mut tally = Tally::new(&layout);
    for (path, part) in &parts {
        check_fits(path, part, &layout)?;
        for block in &part.blocks {
            tally
                .checked_merge(&block.tally)
                .map_err(|violation| MergeError::Inconsistent {
                    path: path.clone(),
                    problem: format!(
                        "adding its block of draw {}, patients {}..{} to the others fails: {violation}",
                        block.draw, block.first_patient, block.last_patient
                    ),
                })?;
        }
    }
    // What every shard satisfies, the whole run does too (and merging kept every count).
    tally
        .check(first.patients, Some(&layout))
        .map_err(|violation| MergeError::Inconsistent {
            path: first_path.clone(),
            problem: format!("the merged accumulators break an invariant: {violation}"),
        })?;
    Ok(Merged {
        model,
        scenario: first.scenario.clone(),
        shards: first.shards,
        tally,
    })
}

fn check_same_run(
    first_path: &Path,
    first: &Part,
    path: &Path,
    part: &Part,
) -> Result<(), MergeError> {
    let mismatch = |what: String| {
        Err(MergeError::Mismatch {
            first: first_path.to_path_buf(),
            second: path.to_path_buf(),
            what,
        })
    };
    if part.program_version != first.program_version {
        return mismatch(format!(
            "they were simulated by different versions of hsctsim ({} and {})",
            first.program_version, part.program_version
        ));
    }
    if let Some(layer) = part.scenario.layers.difference(&first.scenario.layers) {
        return mismatch(format!(
            "they simulate different scenarios (`{}` and `{}`): {layer}; were the scenario's files edited between the shards?",
            first.scenario.name, part.scenario.name,
        ));
    }
    if part.seed != first.seed {
        return mismatch(format!(
            "they were run with different seeds ({} and {}; was the seed set for only some shards?)",
            first.seed, part.seed
        ));
    }
    if part.patients != first.patients || part.draws != first.draws {
        return mismatch(format!(
            "they were run with different numbers of patients ({} and {}; was the number of patients set for only some shards?)",
            first.patients, part.patients
        ));
    }
    if part.shards != first.shards {
        return mismatch(format!(
            "the run was split differently (shard {} and shard {})",
            first.shard(),
            part.shard()
        ));
    }
    Ok(())
}

fn check_complete(parts: &[(PathBuf, Part)], inputs: &[PathBuf]) -> Result<(), MergeError> {
    let count = parts[0].1.shards;
    let mut seen: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (path, part) in parts {
        if let Some(other) = seen.insert(part.shard, path) {
            return Err(MergeError::Duplicate {
                shard: part.shard(),
                first: other.clone(),
                second: path.clone(),
            });
        }
    }
    if seen.len() as u64 != count {
        let missing: Vec<u64> = (0..count).filter(|k| !seen.contains_key(k)).collect();
        let folder = match inputs {
            [one] if one.is_dir() => Some(one.clone()),
            _ => None,
        };
        return Err(MergeError::Missing {
            count,
            missing,
            found: parts.len(),
            folder,
        });
    }
    Ok(())
}

/// The model of the run, from the files embedded in a part (nothing is read from disk) and
/// the run's settings.
fn rebuild_model(path: &Path, part: &Part) -> Result<Model, MergeError> {
    let layers = &part.scenario.layers;
    let mut model = layers
        .compose()
        .and_then(|composed| composed.build(&layers.default_name()))
        .map_err(|error| MergeError::Scenario {
            path: path.to_path_buf(),
            error: Box::new(error),
        })?;
    model.settings.seed = part.seed;
    model.settings.patients = part.patients;
    if model.name != part.scenario.name {
        return Err(MergeError::Inconsistent {
            path: path.to_path_buf(),
            problem: format!(
                "its scenario is named `{}`, but its embedded text builds `{}`",
                part.scenario.name, model.name
            ),
        });
    }
    Ok(model)
}

/// Checks a part's blocks against the split rule, and their accumulators against the
/// scenario's shape and every invariant of a simulated tally.
fn check_fits(path: &Path, part: &Part, layout: &Layout) -> Result<(), MergeError> {
    let inconsistent = |problem: String| {
        Err(MergeError::Inconsistent {
            path: path.to_path_buf(),
            problem,
        })
    };
    let expected = part.shard().blocks(part.draws, part.patients);
    let found: Vec<_> = part.blocks.iter().map(|b| (b.draw, b.patients())).collect();
    if found != expected {
        return inconsistent(format!(
            "shard {} of {} patients should hold (draw, patients) {expected:?}, but holds {found:?}",
            part.shard(),
            part.patients
        ));
    }
    for block in &part.blocks {
        let n = block.last_patient - block.first_patient;
        if let Err(violation) = block.tally.check(n, Some(layout)) {
            return inconsistent(format!(
                "its accumulators for draw {}, patients {}..{} do not fit its scenario or are not ones a simulation produces: {violation}",
                block.draw, block.first_patient, block.last_patient
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_shards_are_listed_as_ranges() {
        assert_eq!(list_shards(&[3]), "3");
        assert_eq!(list_shards(&[0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8");
        let many: Vec<u64> = (0..100).map(|k| k * 2).collect();
        assert!(list_shards(&many).ends_with("… (100 ranges in all)"));
    }
}
