//! `hsctsim merge`: the command line's words for [`hsctsim::service::merge`] (run parts)
//! and the PSA merge (parts of a sharded PSA).

use std::path::PathBuf;

use super::Failure;
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
    let interrupt = Interrupt::install();
    let silent = hsctsim::service::Silent;
    let report =
        hsctsim::service::merge::merge(inputs, out, force, figures, interrupt.session(&silent))
            .map_err(|e| super::service_failure(e, &interrupt))?;
    for warning in &report.warnings {
        super::say(format_args!("warning: {warning}"));
    }
    if !quiet {
        super::say(format_args!(
            "merged {} shards: {} patients × {} strategies in {:.2} s → {}",
            report.shards,
            report.patients,
            report.strategies,
            report.seconds,
            report.written.display()
        ));
    }
    Ok(())
}
