//! `hsctsim run` (whole or one shard) and `hsctsim validate`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hsctsim::aggregate::results::Results;
use hsctsim::engine::{self, Control, EngineError};
use hsctsim::model::Model;
use hsctsim::output::{self, Manifest};
use hsctsim::plot::PlotOptions;
use hsctsim::shard::Shard;
use hsctsim::shard::part::{self, ScenarioSource};

use super::{Failure, Overrides, load_source, progress};

/// Simulates a scenario and writes its output folder (figures included unless `figures` is
/// false), or with `shard` one part file.
pub fn run(
    scenario: &Path,
    out: Option<PathBuf>,
    overrides: &Overrides,
    shard: Option<&str>,
    force: bool,
    quiet: bool,
    figures: bool,
) -> Result<(), Failure> {
    let shard = shard
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(Failure::input)?;
    let (model, source) = load_source(scenario, overrides)?;
    match shard {
        None => run_whole(&model, &source, out, force, quiet, figures),
        Some(shard) => run_shard(&model, &source, shard, out, force, quiet),
    }
}

/// All patients: curves, summary and manifest.
fn run_whole(
    model: &Model,
    source: &ScenarioSource,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    figures: bool,
) -> Result<(), Failure> {
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&model.name));
    output::check_destination(&dir, force).map_err(Failure::input)?;
    let threads = effective_threads(model.settings.threads);
    let ((tally, results), wall) =
        simulate_with_progress(model.settings.patients, threads, quiet, |control| {
            let tally = engine::simulate(model, control)?;
            let results = Results::from_tally(model, &tally);
            Ok((tally, results))
        })?;
    let manifest = Manifest::new(
        model,
        &source.path,
        source.text.as_bytes(),
        &tally,
        threads,
        wall,
    );
    write_results(&dir, &results, &manifest, force, figures)?;
    if !quiet {
        eprintln!(
            "{} patients × {} strategies in {:.2} s ({:.2} M patients/s, {} threads) → {}",
            tally.patients,
            model.strategies.len(),
            wall,
            manifest.patients_per_second / 1e6,
            threads,
            dir.display()
        );
    }
    Ok(())
}

/// Writes a run folder, with its figures unless told not to (shared with `merge`).
pub fn write_results(
    dir: &Path,
    results: &Results,
    manifest: &Manifest,
    force: bool,
    figures: bool,
) -> Result<(), Failure> {
    if figures {
        output::write_run_with_figures(dir, results, manifest, &PlotOptions::default(), force)
    } else {
        output::write_run(dir, results, manifest, force)
    }
    .map_err(Failure::run)
}

/// One shard's patients: a part file.
fn run_shard(
    model: &Model,
    source: &ScenarioSource,
    shard: Shard,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
) -> Result<(), Failure> {
    let dir = out.unwrap_or_else(|| PathBuf::from("parts").join(&model.name));
    part::check_destination(&dir, model, source, shard, force).map_err(Failure::input)?;
    let threads = effective_threads(model.settings.threads);
    let patients = shard.range(model.settings.patients);
    let (part, wall) =
        simulate_with_progress(patients.end - patients.start, threads, quiet, |control| {
            part::run_shard(model, source, shard, control)
        })?;
    let path = part::write(&dir, &part, force).map_err(|e| match e {
        part::PartError::Exists { .. } => Failure::input(e),
        _ => Failure::run(e),
    })?;
    if !quiet {
        eprintln!(
            "shard {shard}: patients {}..{} of {} × {} strategies in {:.2} s ({} threads) → {}",
            patients.start,
            patients.end,
            model.settings.patients,
            model.strategies.len(),
            wall,
            threads,
            path.display()
        );
    }
    Ok(())
}

/// Runs `work` with a progress bar over `patients`; returns its result and wall seconds.
fn simulate_with_progress<T>(
    patients: u64,
    threads: usize,
    quiet: bool,
    work: impl FnOnce(&Control) -> Result<T, EngineError>,
) -> Result<(T, f64), Failure> {
    let bar = progress::patients_bar(patients, quiet);
    let advance = |n: u64| bar.inc(n);
    let started = Instant::now();
    let result = work(&Control {
        threads,
        progress: Some(&advance),
        ..Control::default()
    })
    .map_err(Failure::run)?;
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok((result, wall))
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
