//! `hsctsim run` (whole or one shard) and `hsctsim validate`.
//!
//! Order of work, so nothing half-done is ever in place: check every destination (output
//! folder, part file, export file) before simulating; simulate (rows of the export stream
//! into a temporary file); stop there on Ctrl-C; flush the export to disk (a full disk shows
//! here, before anything is in place); write the output folder atomically; rename the
//! export into place.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hsctsim::aggregate::Tally;
use hsctsim::aggregate::results::Results;
use hsctsim::engine::ordered::InOrderError;
use hsctsim::engine::{self, Control, EngineError};
use hsctsim::export::file::FileError;
use hsctsim::export::{Censoring, PatientExport};
use hsctsim::model::Model;
use hsctsim::output::manifest::PatientExportRecord;
use hsctsim::output::{self, Manifest};
use hsctsim::plot::PlotOptions;
use hsctsim::shard::Shard;
use hsctsim::shard::part::{self, ScenarioSource};

use super::interrupt::Interrupt;
use super::{ExportArgs, Failure, Overrides, load_source, progress};

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
        .map_err(Failure::input)?;
    let censoring = censoring(export)?;
    let (model, source) = load_source(scenario, overrides)?;
    if let Some(path) = &export.export_patients {
        refuse_to_overwrite_scenario(path, &source)?;
    }
    let export = export
        .export_patients
        .as_deref()
        .map(|path| (path, censoring));
    let interrupt = Interrupt::install();
    match shard {
        None => run_whole(&model, &source, out, export, flags, &interrupt),
        Some(shard) => run_shard(&model, &source, shard, out, export, flags, &interrupt),
    }
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

/// `--force` must never turn a typo into the loss of the scenario file itself, or of a
/// file it extends.
fn refuse_to_overwrite_scenario(export: &Path, scenario: &ScenarioSource) -> Result<(), Failure> {
    if let Some(layer) = scenario.layer_at(export) {
        let what = if std::ptr::eq(layer, &scenario.layers[0]) {
            "the scenario file itself"
        } else {
            "a file the scenario extends"
        };
        return Err(Failure::input(format!(
            "--export-patients {} is {what} ({}); choose another file, e.g. patients.csv",
            export.display(),
            layer.path
        )));
    }
    Ok(())
}

/// An existing file in the way is the user's input (exit 2); anything else is the run's.
fn file_failure(e: FileError) -> Failure {
    match e {
        FileError::Exists(_) | FileError::IsFolder(_) => Failure::input(e),
        FileError::Io { .. } => Failure::run(format!("{e}; nothing was written")),
    }
}

/// Simulates with or without the export, a progress bar and the interrupt flag.
fn simulate(
    model: &Model,
    patients: u64,
    threads: usize,
    quiet: bool,
    interrupt: &Interrupt,
    mut export: Option<&mut PatientExport>,
    shard: Option<(&ScenarioSource, Shard)>,
) -> Result<(Simulated, f64), InOrderError<FileError>> {
    let bar = progress::patients_bar(patients, quiet);
    let advance = |n: u64| bar.inc(n);
    let started = Instant::now();
    let control = Control {
        threads,
        progress: Some(&advance),
        cancel: Some(interrupt.flag()),
        ..Control::default()
    };
    let mut block = |control: &Control| -> Result<Tally, InOrderError<FileError>> {
        match export.as_deref_mut() {
            Some(export) => export.simulate(model, control),
            None => engine::simulate(model, control).map_err(InOrderError::Engine),
        }
    };
    let outcome = match shard {
        None => block(&control).map(Simulated::Whole),
        Some((source, shard)) => part::run_shard_with(model, source, shard, &control, block)
            .map(|p| Simulated::Part(Box::new(p))),
    };
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    // A signal that arrives after the last chunk still means "stop": nothing is written.
    if outcome.is_ok() && interrupt.flag().load(std::sync::atomic::Ordering::SeqCst) {
        return Err(InOrderError::Engine(EngineError::Cancelled {
            done: patients,
            total: patients,
        }));
    }
    outcome.map(|s| (s, wall))
}

/// What a simulation produced.
enum Simulated {
    Whole(Tally),
    Part(Box<part::Part>),
}

/// The message and exit code of a run that stopped; `kept` says what was left in place.
fn stopped(e: InOrderError<FileError>, interrupt: &Interrupt, kept: &str) -> Failure {
    match e {
        InOrderError::Engine(EngineError::Cancelled { done, total }) => {
            let (signal, code) = interrupt.received();
            let percent = if total > 0 {
                100.0 * done as f64 / total as f64
            } else {
                100.0
            };
            Failure::interrupted(
                code,
                format!(
                    "interrupted by {signal} after {done} of {total} patients ({percent:.1} %); nothing was written: {kept}"
                ),
            )
        }
        InOrderError::Engine(e) => Failure::run(e),
        InOrderError::Deliver(e) => Failure::run(format!("{e}; nothing was written: {kept}")),
    }
}

/// Describes what an interrupted or failed run left: the destination as it was.
fn kept(destination: &Path, export: Option<&Path>) -> String {
    let mut text = if destination.exists() {
        format!("{} was left as it was", destination.display())
    } else {
        format!("{} does not exist", destination.display())
    };
    if let Some(export) = export {
        if export.exists() {
            text.push_str(&format!(", {} was left as it was", export.display()));
        } else {
            text.push_str(&format!(", {} was not written", export.display()));
        }
    }
    text
}

/// The manifest's record of the export.
fn export_record(export: &PatientExport, path: &Path) -> PatientExportRecord {
    PatientExportRecord {
        path: path.display().to_string(),
        rows: export.rows(),
        accrual_months: export.censoring().map(|c| c.accrual()),
        min_follow_up_months: export.censoring().map(|c| c.min_follow_up()),
    }
}

/// All patients: curves, summary and manifest (and the patient export).
fn run_whole(
    model: &Model,
    source: &ScenarioSource,
    out: Option<PathBuf>,
    export: Option<(&Path, Option<Censoring>)>,
    flags: Flags,
    interrupt: &Interrupt,
) -> Result<(), Failure> {
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&model.name));
    output::check_destination(&dir, flags.force).map_err(Failure::input)?;
    let mut patient_export = match export {
        Some((path, censoring)) => {
            Some(PatientExport::create(path, model, censoring, flags.force).map_err(file_failure)?)
        }
        None => None,
    };
    let threads = effective_threads(model.settings.threads);
    let export_path = export.map(|(p, _)| p);
    let (simulated, wall) = simulate(
        model,
        model.settings.patients,
        threads,
        flags.quiet,
        interrupt,
        patient_export.as_mut(),
        None,
    )
    .map_err(|e| stopped(e, interrupt, &kept(&dir, export_path)))?;
    let Simulated::Whole(tally) = simulated else {
        unreachable!("a whole run gives a tally")
    };
    let results = Results::from_tally(model, &tally);
    let mut manifest = Manifest::composed(model, source, &tally, threads, wall);
    if let (Some(export), Some(path)) = (&mut patient_export, export_path) {
        manifest.patient_export = Some(export_record(export, path));
        export.finish().map_err(file_failure)?;
    }
    write_results(&dir, &results, &manifest, flags.force, flags.figures).map_err(|e| {
        Failure::run(format!(
            "{}; nothing was written: {}",
            e.message,
            kept(&dir, export_path)
        ))
    })?;
    if let Some(export) = patient_export {
        export.commit().map_err(file_failure)?;
    }
    if !flags.quiet {
        eprintln!(
            "{} patients × {} strategies in {:.2} s ({:.2} M patients/s, {} threads) → {}",
            tally.patients,
            model.strategies.len(),
            wall,
            manifest.patients_per_second / 1e6,
            threads,
            dir.display()
        );
        if let Some(record) = &manifest.patient_export {
            eprintln!("{} rows of patient data → {}", record.rows, record.path);
        }
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

/// One shard's patients: a part file (and the shard's patient export).
fn run_shard(
    model: &Model,
    source: &ScenarioSource,
    shard: Shard,
    out: Option<PathBuf>,
    export: Option<(&Path, Option<Censoring>)>,
    flags: Flags,
    interrupt: &Interrupt,
) -> Result<(), Failure> {
    let dir = out.unwrap_or_else(|| PathBuf::from("parts").join(&model.name));
    part::check_destination(&dir, model, source, shard, flags.force).map_err(Failure::input)?;
    let mut patient_export = match export {
        Some((path, censoring)) => {
            Some(PatientExport::create(path, model, censoring, flags.force).map_err(file_failure)?)
        }
        None => None,
    };
    let export_path = export.map(|(p, _)| p);
    let threads = effective_threads(model.settings.threads);
    let patients = shard.range(model.settings.patients);
    let part_path = dir.join(part::file_name(shard));
    let (simulated, wall) = simulate(
        model,
        patients.end - patients.start,
        threads,
        flags.quiet,
        interrupt,
        patient_export.as_mut(),
        Some((source, shard)),
    )
    .map_err(|e| stopped(e, interrupt, &kept(&part_path, export_path)))?;
    let Simulated::Part(part) = simulated else {
        unreachable!("a shard run gives a part")
    };
    if let Some(export) = &mut patient_export {
        export.finish().map_err(file_failure)?;
    }
    let path = part::write(&dir, &part, flags.force).map_err(|e| match e {
        part::PartError::Exists { .. } => Failure::input(e),
        _ => Failure::run(e),
    })?;
    let rows = patient_export.as_ref().map(PatientExport::rows);
    if let Some(export) = patient_export {
        export.commit().map_err(file_failure)?;
    }
    if !flags.quiet {
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
        if let (Some(rows), Some(path)) = (rows, export_path) {
            eprintln!("{rows} rows of patient data → {}", path.display());
        }
    }
    Ok(())
}

/// Checks a scenario without running it.
pub fn validate(scenario: &Path) -> Result<(), Failure> {
    let model = hsctsim::scenario::load(scenario).map_err(Failure::input)?;
    // A [psa] table is checked too: its errors would otherwise wait for `hsctsim psa`.
    let composed = hsctsim::scenario::compose::load(scenario).map_err(Failure::input)?;
    let psa = match composed.file.psa {
        Some(_) => {
            let name = model.name.clone();
            let psa = hsctsim::psa::Psa::compile(composed, &name).map_err(Failure::input)?;
            format!(
                "; [psa]: {} uncertain parameters, {} draws × {} patients",
                psa.parameters.len(),
                psa.draws,
                psa.patients
            )
        }
        None => String::new(),
    };
    let transitions: usize = model.strategies[0]
        .exits
        .iter()
        .map(|e| e.transitions.len())
        .sum();
    println!(
        "{}: ok — {} states, {} transitions, {} decisions, {} strategies, {} attributes; {} patients, horizon {} months{psa}",
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
