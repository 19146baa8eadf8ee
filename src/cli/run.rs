//! `hsctsim run` (whole or one shard) and `hsctsim validate`: the command line's words for
//! [`hsctsim::service::run`], which does the work in its safe order.

use std::path::{Path, PathBuf};

use hsctsim::export::Censoring;
use hsctsim::service::run::{self as service, RunRequest};
use hsctsim::shard::Shard;

use super::interrupt::Interrupt;
use super::{ExportArgs, Failure, Overrides, print_out, progress};

/// Switches of `hsctsim run`.
#[derive(Debug, Clone, Copy)]
pub struct Flags {
    /// Replace existing outputs.
    pub force: bool,
    /// No progress bar or summary line.
    pub quiet: bool,
    /// Render figures with the run.
    pub figures: bool,
}

/// Simulates a scenario and writes its output folder, or with `shard` one part file.
pub fn run(
    scenario: &Path,
    out: Option<PathBuf>,
    overrides: &Overrides,
    shard: Option<&str>,
    export: &ExportArgs,
    flags: Flags,
) -> Result<(), Failure> {
    let shard = shard
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(|e| Failure::input(format!("--{e}")))?;
    let censoring = censoring(export)?;
    let request = RunRequest {
        scenario: scenario.to_path_buf(),
        settings: overrides.settings(),
        out,
        shard,
        export: export.export_patients.clone().map(|path| (path, censoring)),
        replace: flags.force,
        figures: flags.figures,
    };
    let interrupt = Interrupt::install();
    let bar = progress::Bar::new(flags.quiet);
    let report = service::run(&request, interrupt.session(&bar))
        .map_err(|e| super::service_failure(e, &interrupt))?;
    for warning in &report.warnings {
        super::say(format_args!("warning: {warning}"));
    }
    if flags.quiet {
        return Ok(());
    }
    match shard {
        None => super::say(format_args!(
            "{} patients × {} strategies in {:.2} s ({:.2} M patients/s, {} threads) → {}",
            report.total_patients,
            report.strategies,
            report.seconds,
            report.patients_per_second / 1e6,
            report.threads,
            report.written.display()
        )),
        Some(shard) => super::say(format_args!(
            "shard {shard}: patients {}..{} of {} × {} strategies in {:.2} s ({} threads) → {}",
            report.patients.start,
            report.patients.end,
            report.total_patients,
            report.strategies,
            report.seconds,
            report.threads,
            report.written.display()
        )),
    }
    if let Some((rows, path)) = &report.export {
        super::say(format_args!(
            "{rows} rows of patient data → {}",
            path.display()
        ));
    }
    Ok(())
}

/// `--accrual` and `--min-follow-up` as censoring, if given.
fn censoring(export: &ExportArgs) -> Result<Option<Censoring>, Failure> {
    if export.accrual.is_none() && export.min_follow_up.is_none() {
        return Ok(None);
    }
    let months = |flag: &str, text: &Option<String>| -> Result<f64, Failure> {
        match text {
            None => Ok(0.0),
            Some(text) => hsctsim::duration::parse_months(text)
                .map_err(|e| Failure::input(format!("{flag}: {e}"))),
        }
    };
    let accrual = months("--accrual", &export.accrual)?;
    let follow_up = months("--min-follow-up", &export.min_follow_up)?;
    Censoring::new(accrual, follow_up)
        .map(Some)
        .map_err(|e| Failure::input(format!("--accrual/--min-follow-up: {e}")))
}

/// Checks a scenario without running it.
pub fn validate(scenario: &Path) -> Result<(), Failure> {
    let line = service::validate(scenario).map_err(Failure::input)?;
    print_out(&format!("{line}\n"))
}
