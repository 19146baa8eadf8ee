//! `hsctsim psa` and `hsctsim owsa` (and the merge of PSA parts): the command line's words
//! for [`hsctsim::service::sensitivity`].

use std::path::{Path, PathBuf};

use hsctsim::service::sensitivity::{self as service, AnalysisReport};
use hsctsim::service::{Destination, ServiceError, Silent};
use hsctsim::shard::Shard;

use super::interrupt::Interrupt;
use super::{Failure, OutputOptions, Overrides, progress};

fn destination(options: &OutputOptions) -> Destination {
    Destination {
        out: options.out.clone(),
        replace: options.force,
        figures: options.figures,
    }
}

/// Prints a finished analysis's warnings and (unless quiet) its summary.
fn report(
    outcome: Result<AnalysisReport, ServiceError>,
    interrupt: &Interrupt,
    quiet: bool,
) -> Result<(), Failure> {
    let report = outcome.map_err(|e| super::service_failure(e, interrupt))?;
    for warning in &report.warnings {
        super::say(format_args!("warning: {warning}"));
    }
    if !quiet {
        super::say(format_args!("{}", report.summary));
    }
    Ok(())
}

/// `hsctsim psa SCENARIO` (with `shard`: one part file for `hsctsim merge`).
pub fn psa(
    scenario: &Path,
    overrides: &Overrides,
    draws: Option<u64>,
    shard: Option<&str>,
    options: &OutputOptions,
) -> Result<(), Failure> {
    let shard = shard
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(|e| Failure::input(format!("--{e}")))?;
    let interrupt = Interrupt::install();
    let bar = progress::Bar::new(options.quiet);
    let outcome = service::psa(
        scenario,
        &overrides.settings(),
        draws,
        shard,
        &destination(options),
        interrupt.session(&bar),
    );
    report(outcome, &interrupt, options.quiet)
}

/// `hsctsim merge` of PSA part files: the same folder as the unsharded `hsctsim psa`.
pub fn merge(files: &[PathBuf], options: &OutputOptions) -> Result<(), Failure> {
    let interrupt = Interrupt::install();
    let outcome = service::merge_psa(files, &destination(options), interrupt.session(&Silent));
    report(outcome, &interrupt, options.quiet)
}

/// `hsctsim owsa SCENARIO`.
pub fn owsa(
    scenario: &Path,
    overrides: &Overrides,
    selection: &service::Selection,
    options: &OutputOptions,
) -> Result<(), Failure> {
    let interrupt = Interrupt::install();
    let bar = progress::Bar::new(options.quiet);
    let outcome = service::owsa(
        scenario,
        &overrides.settings(),
        selection,
        &destination(options),
        interrupt.session(&bar),
    );
    report(outcome, &interrupt, options.quiet)
}
