//! `hsctsim calibrate`: the command line's words for [`hsctsim::service::calibrate`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use hsctsim::service::calibrate::CalibrateRequest;

use super::interrupt::Interrupt;
use super::{Failure, Overrides, print_out};

/// Options of the command beyond the common ones.
pub struct CalibrateOptions {
    /// Output folder.
    pub out: Option<PathBuf>,
    /// Evaluation budget (overrides the file).
    pub max_evaluations: Option<usize>,
    /// Patients per cohort for the check tables before and after (default: the target file's).
    pub check_patients: Option<u64>,
    /// Replace an existing output folder.
    pub force: bool,
    /// No progress lines.
    pub quiet: bool,
}

/// Runs a fit specification.
pub fn calibrate(
    file: &Path,
    overrides: &Overrides,
    options: &CalibrateOptions,
) -> Result<(), Failure> {
    let request = CalibrateRequest {
        file: file.to_path_buf(),
        settings: overrides.settings(),
        out: options.out.clone(),
        max_evaluations: options.max_evaluations,
        check_patients: options.check_patients,
        replace: options.force,
    };
    let verbose = !options.quiet;
    let log = |m: String| {
        if verbose {
            super::say(format_args!("{m}"));
        }
    };
    let every = if verbose && std::io::stderr().is_terminal() {
        10
    } else {
        100
    };
    let interrupt = Interrupt::install();
    let silent = hsctsim::service::Silent;
    let report =
        hsctsim::service::calibrate::calibrate(&request, &log, every, interrupt.session(&silent))
            .map_err(|e| super::service_failure(e, &interrupt))?;
    for warning in &report.warnings {
        super::say(format_args!("warning: {warning}"));
    }
    print_out(&report.text)?;
    log(format!("→ {}", report.written.display()));
    match report.fitted_model_error {
        None => Ok(()),
        Some(e) => Err(Failure::run(format!("the fitted model does not load: {e}"))),
    }
}
