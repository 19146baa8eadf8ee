//! The check service: every target of a target file simulated and set against its
//! published value, written as `check.csv`, `check.txt`, the calibration figure and a
//! manifest; and what `check` and `calibrate` share (their folder's plan, its files, its
//! figure).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Destination, ServiceError, Session, SettingsOverride, kept, refused, write_failed};
use crate::atomic::{Kind, Plan};
use crate::calibrate::check::{self, RunSettings};
use crate::calibrate::targets::Targets;
use crate::model::worker_threads;
use crate::output::{self, manifest::CommandManifest};
use crate::plot::{self, PlotOptions};
use crate::scenario::compose::Composed;

/// What a completed check wrote.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The output folder.
    pub written: PathBuf,
    /// The table, as in `check.txt`.
    pub text: String,
    /// Things the user should know that did not stop the check.
    pub warnings: Vec<String>,
}

/// Plans an output folder of `check` or `calibrate`: `inputs` (path, what) and the files of
/// `composed` may not be in it or be it.
pub fn plan_folder(
    dir: &Path,
    inputs: &[(&Path, &str)],
    composed: &Composed,
    replace: bool,
) -> Result<(), ServiceError> {
    let mut plan = Plan::new(replace);
    for (path, what) in inputs {
        plan.input(path, *what);
    }
    // Exactly the files the model was composed of (built-in models are not files).
    for path in composed.composition().files() {
        plan.input(path, "a model file");
    }
    plan.output(dir, Kind::Folder(output::FOLDER), "the output folder");
    plan.check().map_err(refused)
}

/// The files a model was composed of (the built-in model by its file), for a manifest.
pub fn model_files(composed: &Composed) -> impl Iterator<Item = (&str, &[u8])> {
    composed
        .composition()
        .layers
        .iter()
        .map(|l| (l.path.as_str(), l.text.as_bytes()))
}

/// Writes a `check` or `calibrate` folder all or nothing; a stop while it is written
/// leaves nothing.
pub fn write_folder(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    replace: bool,
    session: Session,
) -> Result<(), ServiceError> {
    output::write_folder(dir, files, replace, Some(session.stop))
        .map_err(|e| write_failed(e, &kept(&[dir])))
}

/// The calibration figure of a check's rows as files for an output folder
/// (`figures/<stem>.svg` and `.png`); none when no target is a proportion. After the
/// simulation a figure never costs the tables: one that cannot be drawn at all is left out
/// and the warning says so.
pub fn calibration_figures(
    rows: &[check::CheckedTarget],
    stem: &str,
    title: Option<String>,
    warnings: &mut Vec<String>,
) -> Vec<(String, Vec<u8>)> {
    let drawn = check::figure_rows(rows);
    if drawn.is_empty() {
        return Vec::new();
    }
    let options = PlotOptions {
        title,
        ..PlotOptions::after_simulation()
    };
    match plot::render_check_rows(&drawn, stem, &options) {
        Ok(rendered) => rendered
            .into_iter()
            .map(|f| (format!("figures/{}", f.file_name), f.bytes))
            .collect(),
        Err(e) => {
            warnings.push(format!(
                "the {stem} figure could not be drawn ({e}); the tables are complete"
            ));
            Vec::new()
        }
    }
}

/// The failure of a check's simulation: a cohort's scenario is the input's fault.
pub fn check_failed(e: check::CheckError) -> ServiceError {
    match e {
        check::CheckError::Scenario(s) => ServiceError::input(s),
        other => ServiceError::run(other),
    }
}

/// Checks a target file against its model (or `model`) and writes `check.csv`,
/// `check.txt`, the manifest and (with figures) `figures/calibration.{svg,png}` into the
/// output folder (default `output/check/<file name>`).
pub fn check(
    file: &Path,
    model: Option<&str>,
    settings: &SettingsOverride,
    to: &Destination,
    session: Session,
) -> Result<CheckReport, ServiceError> {
    let targets = Targets::load(file, model).map_err(ServiceError::input)?;
    let stem = crate::scenario::name::made_safe(
        &file
            .file_stem()
            .map_or("targets".into(), |s| s.to_string_lossy().into_owned()),
    );
    let dir = to
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join("check").join(&stem));
    plan_folder(
        &dir,
        &[(file, "the target file")],
        &targets.model.composed,
        to.replace,
    )?;
    let patients = settings.patients.unwrap_or(targets.patients);
    let threads = worker_threads(settings.threads.unwrap_or(0));
    let seed = settings.seed.unwrap_or(targets.seed);
    let progress = session.progress;
    progress.start(check::total_patients(&targets, patients), "patients");
    let advance = |n: u64| progress.advance(n);
    let started = Instant::now();
    let simulated = check::simulate_all(
        &targets,
        &targets.model.composed,
        &RunSettings {
            patients,
            seed,
            threads,
            progress: Some(&advance),
        },
        check::Selection::All,
    );
    progress.finish();
    let simulated = simulated.map_err(check_failed)?;
    let wall = started.elapsed().as_secs_f64();
    let rows = check::rows(&targets, &simulated);
    let summary = check::summarize(&rows);
    let text = format!(
        "{} against {} ({} patients per cohort, seed {}, {:.1} s)\n\n{}\n{summary}\n{} numbers excluded in the file, with reasons\n",
        targets.file,
        targets.model.name,
        patients,
        seed,
        wall,
        check::table(&rows),
        targets.excluded.len()
    );
    // Every file read: the target file and each file the model was composed of.
    let mut inputs = vec![(targets.file.as_str(), targets.source.as_bytes())];
    inputs.extend(model_files(&targets.model.composed));
    let manifest = CommandManifest::new("check", &inputs, seed, patients, wall);
    let mut files = vec![
        ("check.csv".to_string(), check::to_csv(&rows)),
        ("check.txt".to_string(), text.clone().into_bytes()),
        ("manifest.json".to_string(), manifest.to_json()),
    ];
    let mut warnings = Vec::new();
    if to.figures {
        files.extend(calibration_figures(
            &rows,
            "calibration",
            None,
            &mut warnings,
        ));
    }
    write_folder(&dir, &files, to.replace, session)?;
    warnings.extend(super::omitted_warnings(&dir, &files));
    Ok(CheckReport {
        written: dir,
        text,
        warnings,
    })
}
