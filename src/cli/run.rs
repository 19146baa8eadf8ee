//! `hsctsim run` (whole or one shard) and `hsctsim validate`.
//!
//! Order of work, so nothing half-done is ever in place: plan every destination (output
//! folder or part file, export file) against the inputs, each other and what is there
//! ([`hsctsim::atomic::Plan`]) before simulating; simulate (rows of the export stream into a
//! staged file); stop there on Ctrl-C; render the figures in memory; stage the output folder
//! and flush the export (a full disk shows here, before anything is in place); commit both
//! together, or neither.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hsctsim::aggregate::Tally;
use hsctsim::aggregate::results::Results;
use hsctsim::atomic::{self, Kind, Plan, Stage, WriteError};
use hsctsim::engine::ordered::InOrderError;
use hsctsim::engine::{self, Control, EngineError};
use hsctsim::export::{self, Censoring, PatientExport};
use hsctsim::model::Model;
use hsctsim::output::manifest::PatientExportRecord;
use hsctsim::output::{self, Manifest};
use hsctsim::plot::PlotOptions;
use hsctsim::shard::Shard;
use hsctsim::shard::part::{self, ScenarioSource};

use super::destination::{kept, refused, write_failed};
use super::interrupt::Interrupt;
use super::{ExportArgs, Failure, Overrides, load_source, print_out, progress};

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

/// Checks a run's destinations (path, kind, what it is, whether it may replace a previous
/// output of ours) against its inputs, each other and what is there, before anything is
/// simulated.
fn plan(source: &ScenarioSource, outputs: &[(&Path, Kind, &str, bool)]) -> Result<(), Failure> {
    let mut plan = Plan::new(false);
    super::plan_scenario(&mut plan, source);
    for (path, kind, what, replace) in outputs {
        plan.output_replacing(path, *kind, *what, *replace);
    }
    plan.check().map_err(refused)
}

/// A staged output that could not be started (before the simulation).
fn stage_failure(e: WriteError) -> Failure {
    match e {
        WriteError::Io { .. } => Failure::run(format!("{e}; nothing was written")),
        other => Failure::input(other),
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
) -> Result<(Simulated, f64), InOrderError<WriteError>> {
    let bar = progress::patients_bar(patients, quiet);
    let advance = |n: u64| bar.inc(n);
    let started = Instant::now();
    let control = Control {
        threads,
        progress: Some(&advance),
        cancel: Some(interrupt.flag()),
        ..Control::default()
    };
    let mut block = |control: &Control| -> Result<Tally, InOrderError<WriteError>> {
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
fn stopped(e: InOrderError<WriteError>, interrupt: &Interrupt, kept: &str) -> Failure {
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
    let export_path = export.map(|(p, _)| p);
    let mut outputs = vec![(
        dir.as_path(),
        Kind::Folder(output::FOLDER),
        "the output folder",
        flags.force,
    )];
    if let Some(path) = export_path {
        outputs.push((
            path,
            Kind::File(export::SIGNATURE),
            "the patient export",
            flags.force,
        ));
    }
    plan(source, &outputs)?;
    let destinations: Vec<&Path> = std::iter::once(dir.as_path()).chain(export_path).collect();
    let mut patient_export = match export {
        Some((path, censoring)) => Some(
            PatientExport::create(path, model, censoring, flags.force).map_err(stage_failure)?,
        ),
        None => None,
    };
    let threads = effective_threads(model.settings.threads);
    let (simulated, wall) = simulate(
        model,
        model.settings.patients,
        threads,
        flags.quiet,
        interrupt,
        patient_export.as_mut(),
        None,
    )
    .map_err(|e| stopped(e, interrupt, &kept(&destinations)))?;
    let Simulated::Whole(tally) = simulated else {
        unreachable!("a whole run gives a tally")
    };
    let results = Results::from_tally(model, &tally);
    let mut manifest = Manifest::composed(model, source, &tally, threads, wall);
    if let (Some(export), Some(path)) = (&patient_export, export_path) {
        manifest.patient_export = Some(export_record(export, path));
    }
    let figures = flags.figures.then(PlotOptions::after_simulation);
    let output::RunFiles {
        files,
        figures_failed,
    } = output::run_files_with_figures(&results, &manifest, figures.as_ref());
    let failed = |e| write_failed(e, interrupt, &kept(&destinations));
    let mut folder = output::stage_folder(&dir, &files, flags.force).map_err(failed)?;
    let mut stages: Vec<&mut Stage> = Vec::with_capacity(2);
    if let Some(export) = patient_export.as_mut() {
        export.finish().map_err(failed)?;
        stages.push(export.stage());
    }
    stages.push(folder.stage());
    atomic::commit(&mut stages, Some(interrupt.flag())).map_err(failed)?;
    super::warn_omitted(&dir, &files);
    if let Some(e) = figures_failed {
        super::say(format_args!(
            "warning: the figures could not be drawn ({e}); the data files in {} are complete, and `hsctsim plot {}` draws them again",
            dir.display(),
            dir.display()
        ));
    }
    if !flags.quiet {
        super::say(format_args!(
            "{} patients × {} strategies in {:.2} s ({:.2} M patients/s, {} threads) → {}",
            tally.patients,
            model.strategies.len(),
            wall,
            manifest.patients_per_second / 1e6,
            threads,
            dir.display()
        ));
        if let Some(record) = &manifest.patient_export {
            super::say(format_args!(
                "{} rows of patient data → {}",
                record.rows, record.path
            ));
        }
    }
    Ok(())
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
    let part_path = dir.join(part::file_name(shard));
    let export_path = export.map(|(p, _)| p);
    // A part of the same run may always be rewritten (`part::check_destination` says what
    // "same" means); anything else in its place never.
    let mut outputs = vec![
        (dir.as_path(), Kind::Collection, "the parts folder", false),
        (
            part_path.as_path(),
            Kind::File(part::SIGNATURE),
            "the part file",
            true,
        ),
    ];
    if let Some(path) = export_path {
        outputs.push((
            path,
            Kind::File(export::SIGNATURE),
            "the patient export",
            flags.force,
        ));
    }
    plan(source, &outputs)?;
    part::check_destination(&dir, model, source, shard, flags.force).map_err(part_failure)?;
    let destinations: Vec<&Path> = std::iter::once(part_path.as_path())
        .chain(export_path)
        .collect();
    let mut patient_export = match export {
        Some((path, censoring)) => Some(
            PatientExport::create(path, model, censoring, flags.force).map_err(stage_failure)?,
        ),
        None => None,
    };
    let threads = effective_threads(model.settings.threads);
    let patients = shard.range(model.settings.patients);
    let (simulated, wall) = simulate(
        model,
        patients.end - patients.start,
        threads,
        flags.quiet,
        interrupt,
        patient_export.as_mut(),
        Some((source, shard)),
    )
    .map_err(|e| stopped(e, interrupt, &kept(&destinations)))?;
    let Simulated::Part(part) = simulated else {
        unreachable!("a shard run gives a part")
    };
    let failed = |e| write_failed(e, interrupt, &kept(&destinations));
    let mut staged_part = part::stage(&dir, &part, flags.force).map_err(part_failure)?;
    let rows = patient_export.as_ref().map(PatientExport::rows);
    let mut stages: Vec<&mut Stage> = Vec::with_capacity(2);
    if let Some(export) = patient_export.as_mut() {
        export.finish().map_err(failed)?;
        stages.push(export.stage());
    }
    if let Some(staged) = staged_part.as_mut() {
        stages.push(staged.stage());
    }
    atomic::commit(&mut stages, Some(interrupt.flag())).map_err(failed)?;
    if !flags.quiet {
        super::say(format_args!(
            "shard {shard}: patients {}..{} of {} × {} strategies in {:.2} s ({} threads) → {}",
            patients.start,
            patients.end,
            model.settings.patients,
            model.strategies.len(),
            wall,
            threads,
            part_path.display()
        ));
        if let (Some(rows), Some(path)) = (rows, export_path) {
            super::say(format_args!(
                "{rows} rows of patient data → {}",
                path.display()
            ));
        }
    }
    Ok(())
}

/// A part file in the way is the user's input (exit 2); a system failure is the run's.
fn part_failure(e: part::PartError) -> Failure {
    match e {
        part::PartError::Io { .. } => Failure::run(format!("{e}; nothing was written")),
        _ => Failure::input(e),
    }
}

/// Checks a scenario without running it.
pub fn validate(scenario: &Path) -> Result<(), Failure> {
    // Read and composed once: what is summarised is what was checked.
    let composed = hsctsim::scenario::compose::load(scenario).map_err(Failure::input)?;
    let default_name = composed.composition().default_name();
    let model = composed.build(&default_name).map_err(Failure::input)?;
    // A [psa] table is checked too: its errors would otherwise wait for `hsctsim psa`.
    let psa = match composed.file.psa {
        Some(_) => {
            let psa =
                hsctsim::psa::Psa::compile(composed, &default_name).map_err(Failure::input)?;
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
    print_out(&format!(
        "{}: ok — {} states, {} transitions, {} decisions, {} strategies, {} attributes; {} patients, horizon {} months{psa}\n",
        scenario.display(),
        model.states.len(),
        transitions,
        model.strategies[0].decisions.len(),
        model.strategies.len(),
        model.cohort.attributes.len(),
        model.settings.patients,
        model.settings.horizon
    ))
}

/// Threads actually used: the setting, or all cores for 0.
pub fn effective_threads(setting: usize) -> usize {
    if setting > 0 {
        setting
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}
