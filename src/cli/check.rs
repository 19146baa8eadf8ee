//! `hsctsim check`: the command line's words for [`hsctsim::service::check`].

use std::path::Path;

use hsctsim::service::Destination;

use super::interrupt::Interrupt;
use super::{Failure, OutputOptions, Overrides, print_out, progress};

/// Checks a target file against its model (or `model`), prints the table and writes the
/// check folder.
pub fn check(
    file: &Path,
    model: Option<&str>,
    overrides: &Overrides,
    options: &OutputOptions,
) -> Result<(), Failure> {
    let interrupt = Interrupt::install();
    let bar = progress::Bar::new(options.quiet);
    let report = hsctsim::service::check::check(
        file,
        model,
        &overrides.settings(),
        &Destination {
            out: options.out.clone(),
            replace: options.force,
            figures: options.figures,
        },
        interrupt.session(&bar),
    )
    .map_err(|e| super::service_failure(e, &interrupt))?;
    for warning in &report.warnings {
        super::say(format_args!("warning: {warning}"));
    }
    print_out(&report.text)?;
    if !options.quiet {
        super::say(format_args!(
            "→ {}",
            report.written.join("check.csv").display()
        ));
    }
    Ok(())
}
