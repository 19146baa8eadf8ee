//! The merge service: the part files of a sharded run, checked and combined into the
//! output folder a single run would have written (figures included).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{
    ServiceError, Session, figures_failed_warning, kept, omitted_warnings, refused, write_failed,
};
use crate::aggregate::results::Results;
use crate::atomic::{Kind, Plan};
use crate::output::{self, Manifest};
use crate::plot::PlotOptions;
use crate::shard::merge::{MergeError, merge_inputs};
use crate::shard::part::PartError;

/// What a completed merge wrote.
#[derive(Debug, Clone)]
pub struct MergeReport {
    /// The output folder.
    pub written: PathBuf,
    /// Shards merged.
    pub shards: u64,
    /// Patients in all.
    pub patients: u64,
    /// Strategies.
    pub strategies: usize,
    /// Seconds taken.
    pub seconds: f64,
    /// Things the user should know that did not stop the merge (figures replaced by notes).
    pub warnings: Vec<String>,
}

/// Checks and merges the run parts in `inputs` (folders of part files, or part files) and
/// writes the output folder `out` (default `output/<scenario name>`).
pub fn merge(
    inputs: &[PathBuf],
    out: Option<PathBuf>,
    replace: bool,
    figures: bool,
    session: Session,
) -> Result<MergeReport, ServiceError> {
    let started = Instant::now();
    let merged = merge_inputs(inputs).map_err(|e| match e {
        // A folder that cannot be listed or a file that cannot be read for a system reason
        // is not the user's input being wrong.
        MergeError::Part(PartError::Io { ref source, .. })
            if source.kind() != std::io::ErrorKind::NotFound =>
        {
            ServiceError::run(e)
        }
        MergeError::NoParts { .. } => ServiceError {
            remedy: Some(super::Remedy::RunShards(None)),
            ..ServiceError::input(e)
        },
        MergeError::Missing {
            count, ref missing, ..
        } => ServiceError {
            remedy: Some(super::Remedy::RunShards(
                missing.first().map(|k| (*k, count)),
            )),
            ..ServiceError::input(e)
        },
        _ => ServiceError::input(e),
    })?;
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&merged.model.name));
    plan_merge(inputs, &dir, replace)?;
    let results = Results::from_tally(&merged.model, &merged.tally);
    let wall = started.elapsed().as_secs_f64();
    let mut manifest = Manifest::composed(
        &merged.model,
        &merged.scenario.layers,
        &merged.tally,
        1,
        wall,
    );
    manifest.merged_from_shards = Some(merged.shards);
    let options = figures.then(PlotOptions::after_simulation);
    let (files, figures_failed) =
        super::run::run_files_with_figures(&results, &manifest, options.as_ref());
    output::write_folder(&dir, &files, replace, Some(session.stop))
        .map_err(|e| write_failed(e, &kept(&[&dir])))?;
    let mut warnings = omitted_warnings(&dir, &files);
    if let Some(e) = figures_failed {
        warnings.push(figures_failed_warning(&e, &dir, "data files"));
    }
    Ok(MergeReport {
        written: dir,
        shards: merged.shards,
        patients: merged.tally.patients,
        strategies: merged.model.strategies.len(),
        seconds: wall,
        warnings,
    })
}

/// A merge's output folder may not be, or contain, what it merges (merging `parts` into
/// `parts` with replacement would delete the parts).
pub fn plan_merge(inputs: &[PathBuf], dir: &Path, replace: bool) -> Result<(), ServiceError> {
    let mut plan = Plan::new(replace);
    for input in inputs {
        plan.input(input, "an input of the merge");
    }
    plan.output(dir, Kind::Folder(output::FOLDER), "the output folder");
    plan.check().map_err(refused)
}
