//! `hsctsim merge`: part files of a sharded run → the single run's output folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hsctsim::aggregate::results::Results;
use hsctsim::atomic::{Kind, Plan};
use hsctsim::output::{self, Manifest};
use hsctsim::plot::PlotOptions;
use hsctsim::shard::merge::{MergeError, merge_inputs};
use hsctsim::shard::part::PartError;

use super::Failure;
use super::destination::{kept, refused, write_failed};
use super::interrupt::Interrupt;

/// Checks and merges the parts in `inputs` and writes the output folder.
pub fn merge(
    inputs: &[PathBuf],
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    figures: bool,
) -> Result<(), Failure> {
    let psa_parts = hsctsim::shard::psa::find_parts(inputs);
    if !psa_parts.is_empty() {
        let run_parts = hsctsim::shard::find_named(inputs, hsctsim::shard::part::is_part_name);
        if !run_parts.is_empty() {
            return Err(Failure::input(format!(
                "the inputs hold parts of two kinds: {} of a run (part-K-of-N.json, e.g. {}) and {} of a PSA (psa-part-K-of-N.json, e.g. {}); merge each kind on its own, e.g. by writing them to separate folders with --out",
                run_parts.len(),
                run_parts[0].display(),
                psa_parts.len(),
                psa_parts[0].display()
            )));
        }
        return super::psa::merge(
            &psa_parts,
            &super::OutputOptions {
                out,
                force,
                quiet,
                figures,
            },
        );
    }
    let started = Instant::now();
    let merged = merge_inputs(inputs).map_err(|e| match e {
        // A folder that cannot be listed or a file that cannot be read for a system reason
        // is not the user's input being wrong.
        MergeError::Part(PartError::Io { ref source, .. })
            if source.kind() != std::io::ErrorKind::NotFound =>
        {
            Failure::run(e)
        }
        _ => Failure::input(e),
    })?;
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&merged.model.name));
    plan_merge(inputs, &dir, force)?;
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
    let output::RunFiles {
        files,
        figures_failed,
    } = output::run_files_with_figures(&results, &manifest, options.as_ref());
    let interrupt = Interrupt::install();
    output::write_folder(&dir, &files, force, Some(interrupt.flag()))
        .map_err(|e| write_failed(e, &interrupt, &kept(&[&dir])))?;
    super::warn_omitted(&dir, &files);
    if let Some(e) = figures_failed {
        super::say(format_args!(
            "warning: the figures could not be drawn ({e}); the data files in {} are complete, and `hsctsim plot {}` draws them again",
            dir.display(),
            dir.display()
        ));
    }
    if !quiet {
        super::say(format_args!(
            "merged {} shards: {} patients × {} strategies in {:.2} s → {}",
            merged.shards,
            merged.tally.patients,
            merged.model.strategies.len(),
            wall,
            dir.display()
        ));
    }
    Ok(())
}

/// A merge's output folder may not be, or contain, what it merges (`merge parts --out parts
/// --force` would delete the parts).
pub fn plan_merge(inputs: &[PathBuf], dir: &Path, force: bool) -> Result<(), Failure> {
    let mut plan = Plan::new(force);
    for input in inputs {
        plan.input(input, "an input of the merge");
    }
    plan.output(dir, Kind::Folder(output::FOLDER), "the output folder");
    plan.check().map_err(refused)
}
