//! `hsctsim merge`: part files of a sharded run → the single run's output folder.

use std::path::PathBuf;
use std::time::Instant;

use hsctsim::aggregate::results::Results;
use hsctsim::output::{self, Manifest};
use hsctsim::shard::merge::{MergeError, merge_inputs};
use hsctsim::shard::part::PartError;

use super::Failure;

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
    output::check_destination(&dir, force).map_err(Failure::input)?;
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
    super::run::write_results(&dir, &results, &manifest, force, figures)?;
    if !quiet {
        eprintln!(
            "merged {} shards: {} patients × {} strategies in {:.2} s → {}",
            merged.shards,
            merged.tally.patients,
            merged.model.strategies.len(),
            wall,
            dir.display()
        );
    }
    Ok(())
}
