//! `hsctsim run` and `hsctsim validate`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hsctsim::aggregate::results::Results;
use hsctsim::engine::{self, Control};
use hsctsim::output::{self, Manifest};
use hsctsim::plot::PlotOptions;

use super::{Failure, Overrides, load, progress};

/// Simulates a scenario and writes its output folder, figures included unless `figures` is
/// false.
pub fn run(
    scenario: &Path,
    out: Option<PathBuf>,
    overrides: &Overrides,
    force: bool,
    quiet: bool,
    figures: bool,
) -> Result<(), Failure> {
    let model = load(scenario, overrides)?;
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&model.name));
    output::check_destination(&dir, force).map_err(Failure::input)?;

    let threads = effective_threads(model.settings.threads);
    let bar = progress::patients_bar(model.settings.patients, quiet);
    let advance = |n: u64| bar.inc(n);
    let started = Instant::now();
    let tally = engine::simulate(
        &model,
        &Control {
            threads,
            progress: Some(&advance),
            ..Control::default()
        },
    )
    .map_err(Failure::run)?;
    let results = Results::from_tally(&model, &tally);
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let bytes = std::fs::read(scenario)
        .map_err(|e| Failure::input(format!("{}: {e}", scenario.display())))?;
    let manifest = Manifest::new(
        &model,
        &scenario.display().to_string(),
        &bytes,
        &tally,
        threads,
        wall,
    );
    if figures {
        output::write_run_with_figures(&dir, &results, &manifest, &PlotOptions::default(), force)
    } else {
        output::write_run(&dir, &results, &manifest, force)
    }
    .map_err(Failure::run)?;
    if !quiet {
        eprintln!(
            "{} patients × {} strategies in {:.2} s ({:.0} patients/s, {} threads) → {}",
            tally.patients,
            model.strategies.len(),
            wall,
            manifest.patients_per_second,
            threads,
            dir.display()
        );
    }
    Ok(())
}

/// Checks a scenario without running it.
pub fn validate(scenario: &Path) -> Result<(), Failure> {
    let model = hsctsim::scenario::load(scenario).map_err(Failure::input)?;
    let transitions: usize = model.strategies[0]
        .exits
        .iter()
        .map(|e| e.transitions.len())
        .sum();
    println!(
        "{}: ok — {} states, {} transitions, {} decisions, {} strategies, {} attributes; {} patients, horizon {} months",
        scenario.display(),
        model.states.len(),
        transitions,
        model.strategies[0].decisions.len(),
        model.strategies.len(),
        model.cohort.attributes.len(),
        model.settings.patients,
        model.settings.horizon
    );
    Ok(())
}

/// Threads actually used: the setting, or all cores for 0.
pub fn effective_threads(setting: usize) -> usize {
    if setting > 0 {
        setting
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}
