//! The run service: a scenario simulated whole (curves, summary, manifest, figures and the
//! patient export) or as one shard (a part file), and validation without a run.
//!
//! Order of work, so nothing half-done is ever in place: plan every destination (output
//! folder or part file, export file) against the inputs, each other and what is there
//! ([`crate::atomic::Plan`]) before simulating; simulate (rows of the export stream into a
//! staged file); stop there if asked; render the figures in memory; stage the output folder
//! and flush the export (a full disk shows here, before anything is in place); commit both
//! together, or neither.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{
    Progress, ServiceError, Session, SettingsOverride, figures_failed_warning, kept,
    omitted_warnings, plan_scenario, refused, stage_failed, write_failed,
};
use crate::aggregate::Tally;
use crate::aggregate::results::Results;
use crate::atomic::{self, Kind, Plan, Stage, WriteError};
use crate::engine::ordered::InOrderError;
use crate::engine::{self, Control, EngineError};
use crate::export::{self, Censoring, PatientExport};
use crate::model::Model;
use crate::output::manifest::PatientExportRecord;
use crate::output::{self, Manifest};
use crate::plot::{PlotError, PlotOptions, RunData};
use crate::shard::Shard;
use crate::shard::part::{self, ScenarioSource};

/// What to run and where to write it.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Values in place of the scenario's.
    pub settings: SettingsOverride,
    /// Output folder (default `output/<name>`; for a shard, the parts folder, default
    /// `parts/<name>`).
    pub out: Option<PathBuf>,
    /// Only this shard of the patients, into a part file.
    pub shard: Option<Shard>,
    /// Also write every simulated life here, optionally censored like a study.
    pub export: Option<(PathBuf, Option<Censoring>)>,
    /// Replace previous outputs of ours.
    pub replace: bool,
    /// Render the figures.
    pub figures: bool,
}

/// What a completed run wrote.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The output folder, or for a shard the part file.
    pub written: PathBuf,
    /// Patients simulated (this shard's, for a shard).
    pub patients: std::ops::Range<u64>,
    /// The scenario's patients.
    pub total_patients: u64,
    /// Strategies each patient ran under.
    pub strategies: usize,
    /// Wall-clock seconds of the simulation.
    pub seconds: f64,
    /// Patients per second.
    pub patients_per_second: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Rows and path of the patient export, if written.
    pub export: Option<(u64, PathBuf)>,
    /// Things the user should know that did not stop the run (figures replaced by notes).
    pub warnings: Vec<String>,
}

/// Simulates a scenario and writes its output folder, or with a shard its part file.
pub fn run(request: &RunRequest, session: Session) -> Result<RunReport, ServiceError> {
    let (model, source) = super::load(&request.scenario, &request.settings)?;
    match request.shard {
        None => run_whole(&model, &source, request, session),
        Some(shard) => run_shard(&model, &source, shard, request, session),
    }
}

/// Checks a scenario without running it; returns its one-line description.
pub fn validate(scenario: &Path) -> Result<String, ServiceError> {
    // Read and composed once: what is summarised is what was checked.
    let composed = crate::scenario::compose::load(scenario).map_err(ServiceError::input)?;
    let default_name = composed.composition().default_name();
    let model = composed.build(&default_name).map_err(ServiceError::input)?;
    // A [psa] table is checked too: its errors would otherwise wait for the analysis.
    let psa = match composed.file.psa {
        Some(_) => {
            let psa =
                crate::psa::Psa::compile(composed, &default_name).map_err(ServiceError::input)?;
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
    Ok(format!(
        "{}: ok — {} states, {} transitions, {} decisions, {} strategies, {} attributes; {} patients, horizon {} months{psa}",
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

/// A run's data files and, with `options`, its figures (under `figures/`), rendered in
/// memory so that nothing is on disk until everything could be made. Figures that cannot
/// be drawn do not cost the data: a figure that cannot be laid out is replaced by a note
/// (with [`PlotOptions::after_simulation`]), and when no figure can be drawn at all the
/// files come without them and the reason is returned beside them (`hsctsim plot` can
/// retry from the data).
pub fn run_files_with_figures(
    results: &Results,
    manifest: &Manifest,
    options: Option<&PlotOptions>,
) -> (Vec<(String, Vec<u8>)>, Option<PlotError>) {
    let mut files = output::run_files(results, manifest);
    let Some(options) = options else {
        return (files, None);
    };
    match crate::plot::render(&RunData::from_results(results, manifest), options) {
        Ok(figures) => {
            files.extend(
                figures
                    .into_iter()
                    .map(|f| (format!("figures/{}", f.file_name), f.bytes)),
            );
            (files, None)
        }
        Err(e) => (files, Some(e)),
    }
}

/// Writes a run folder (data files, and figures with `options`), all or nothing; returns
/// why the figures are missing, if they are.
pub fn write_run(
    dir: &Path,
    results: &Results,
    manifest: &Manifest,
    options: Option<&PlotOptions>,
    replace: bool,
) -> Result<Option<PlotError>, WriteError> {
    let (files, figures_failed) = run_files_with_figures(results, manifest, options);
    output::write_folder(dir, &files, replace, None)?;
    Ok(figures_failed)
}

/// Checks a run's destinations (path, kind, what it is, whether it may replace a previous
/// output of ours) against its inputs, each other and what is there, before anything is
/// simulated.
fn plan(
    source: &ScenarioSource,
    outputs: &[(&Path, Kind, &str, bool)],
) -> Result<(), ServiceError> {
    let mut plan = Plan::new(false);
    plan_scenario(&mut plan, source);
    for (path, kind, what, replace) in outputs {
        plan.output_replacing(path, *kind, *what, *replace);
    }
    plan.check().map_err(refused)
}

/// The patient export as a destination to plan, if the request asks for one.
fn export_output(request: &RunRequest) -> Option<(&Path, Kind, &'static str, bool)> {
    request.export.as_ref().map(|(path, _)| {
        (
            path.as_path(),
            Kind::File(export::SIGNATURE),
            "the patient export",
            request.replace,
        )
    })
}

/// The patient export's staged file, started before the simulation streams rows into it.
fn create_export(
    request: &RunRequest,
    model: &Model,
) -> Result<Option<PatientExport>, ServiceError> {
    request
        .export
        .as_ref()
        .map(|(path, censoring)| {
            PatientExport::create(path, model, *censoring, request.replace).map_err(stage_failed)
        })
        .transpose()
}

/// What a simulation produced.
enum Simulated {
    Whole(Tally),
    Part(Box<part::Part>),
}

/// Simulates with or without the export, showing progress and watching the stop flag.
fn simulate(
    model: &Model,
    patients: u64,
    threads: usize,
    session: Session,
    mut export: Option<&mut PatientExport>,
    shard: Option<(&ScenarioSource, Shard)>,
) -> Result<(Simulated, f64), InOrderError<WriteError>> {
    let progress: &dyn Progress = session.progress;
    progress.start(patients, "patients");
    let advance = |n: u64| progress.advance(n);
    let started = Instant::now();
    let control = Control {
        threads,
        progress: Some(&advance),
        cancel: Some(session.stop),
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
    progress.finish();
    let wall = started.elapsed().as_secs_f64();
    // A stop that arrives after the last chunk still means "stop": nothing is written.
    if outcome.is_ok() && session.stop.load(Ordering::SeqCst) {
        return Err(InOrderError::Engine(EngineError::Cancelled {
            done: patients,
            total: patients,
        }));
    }
    outcome.map(|s| (s, wall))
}

/// The error of a run that stopped; `kept` says what was left in place.
fn stopped(e: InOrderError<WriteError>, kept: &str) -> ServiceError {
    match e {
        InOrderError::Engine(EngineError::Cancelled { done, total }) => {
            let percent = if total > 0 {
                100.0 * done as f64 / total as f64
            } else {
                100.0
            };
            ServiceError::interrupted(format!(
                "after {done} of {total} patients ({percent:.1} %); nothing was written: {kept}"
            ))
        }
        InOrderError::Engine(e) => ServiceError::run(e),
        InOrderError::Deliver(e) => ServiceError::run(format!("{e}; nothing was written: {kept}")),
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
    request: &RunRequest,
    session: Session,
) -> Result<RunReport, ServiceError> {
    let dir = request
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&model.name));
    let export_path = request.export.as_ref().map(|(p, _)| p.as_path());
    let mut outputs = vec![(
        dir.as_path(),
        Kind::Folder(output::FOLDER),
        "the output folder",
        request.replace,
    )];
    outputs.extend(export_output(request));
    plan(source, &outputs)?;
    let destinations: Vec<&Path> = std::iter::once(dir.as_path()).chain(export_path).collect();
    let mut patient_export = create_export(request, model)?;
    let threads = crate::model::worker_threads(model.settings.threads);
    let (simulated, wall) = simulate(
        model,
        model.settings.patients,
        threads,
        session,
        patient_export.as_mut(),
        None,
    )
    .map_err(|e| stopped(e, &kept(&destinations)))?;
    let Simulated::Whole(tally) = simulated else {
        unreachable!("a whole run gives a tally")
    };
    let results = Results::from_tally(model, &tally);
    let mut manifest = Manifest::composed(model, source, &tally, threads, wall);
    if let (Some(export), Some(path)) = (&patient_export, export_path) {
        manifest.patient_export = Some(export_record(export, path));
    }
    let figures = request.figures.then(PlotOptions::after_simulation);
    let (files, figures_failed) = run_files_with_figures(&results, &manifest, figures.as_ref());
    let failed = |e| write_failed(e, &kept(&destinations));
    let mut folder = output::stage_folder(&dir, &files, request.replace).map_err(failed)?;
    let mut stages: Vec<&mut Stage> = Vec::with_capacity(2);
    if let Some(export) = patient_export.as_mut() {
        export.finish().map_err(failed)?;
        stages.push(export.stage());
    }
    stages.push(folder.stage());
    atomic::commit(&mut stages, Some(session.stop)).map_err(failed)?;
    let mut warnings = omitted_warnings(&dir, &files);
    if let Some(e) = figures_failed {
        warnings.push(figures_failed_warning(&e, &dir, "data files"));
    }
    Ok(RunReport {
        written: dir,
        patients: 0..tally.patients,
        total_patients: tally.patients,
        strategies: model.strategies.len(),
        seconds: wall,
        patients_per_second: manifest.patients_per_second,
        threads,
        export: manifest
            .patient_export
            .as_ref()
            .map(|r| (r.rows, PathBuf::from(&r.path))),
        warnings,
    })
}

/// One shard's patients: a part file (and the shard's patient export).
fn run_shard(
    model: &Model,
    source: &ScenarioSource,
    shard: Shard,
    request: &RunRequest,
    session: Session,
) -> Result<RunReport, ServiceError> {
    let dir = request
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("parts").join(&model.name));
    let part_path = dir.join(part::file_name(shard));
    let export_path = request.export.as_ref().map(|(p, _)| p.as_path());
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
    outputs.extend(export_output(request));
    plan(source, &outputs)?;
    part::check_destination(&dir, model, source, shard, request.replace).map_err(part_failed)?;
    let destinations: Vec<&Path> = std::iter::once(part_path.as_path())
        .chain(export_path)
        .collect();
    let mut patient_export = create_export(request, model)?;
    let threads = crate::model::worker_threads(model.settings.threads);
    let patients = shard.range(model.settings.patients);
    let (simulated, wall) = simulate(
        model,
        patients.end - patients.start,
        threads,
        session,
        patient_export.as_mut(),
        Some((source, shard)),
    )
    .map_err(|e| stopped(e, &kept(&destinations)))?;
    let Simulated::Part(part) = simulated else {
        unreachable!("a shard run gives a part")
    };
    let failed = |e| write_failed(e, &kept(&destinations));
    let mut staged_part = part::stage(&dir, &part, request.replace).map_err(part_failed)?;
    let rows = patient_export.as_ref().map(PatientExport::rows);
    let mut stages: Vec<&mut Stage> = Vec::with_capacity(2);
    if let Some(export) = patient_export.as_mut() {
        export.finish().map_err(failed)?;
        stages.push(export.stage());
    }
    if let Some(staged) = staged_part.as_mut() {
        stages.push(staged.stage());
    }
    atomic::commit(&mut stages, Some(session.stop)).map_err(failed)?;
    let count = patients.end - patients.start;
    Ok(RunReport {
        written: part_path,
        patients,
        total_patients: model.settings.patients,
        strategies: model.strategies.len(),
        seconds: wall,
        patients_per_second: if wall > 0.0 { count as f64 / wall } else { 0.0 },
        threads,
        export: rows.zip(export_path.map(Path::to_path_buf)),
        warnings: Vec::new(),
    })
}

/// A part file in the way is the user's input; a system failure is the run's.
pub fn part_failed(e: part::PartError) -> ServiceError {
    match e {
        part::PartError::Io { .. } => ServiceError::run(format!("{e}; nothing was written")),
        part::PartError::Exists { .. } => ServiceError {
            remedy: Some(super::Remedy::ReplaceOrElsewhere),
            ..ServiceError::input(e)
        },
        _ => ServiceError::input(e),
    }
}
