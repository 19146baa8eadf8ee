//! `hsctsim check`: every target of a file, published against simulated.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hsctsim::atomic::{Kind, Plan};
use hsctsim::calibrate::check::{self, RunSettings};
use hsctsim::calibrate::targets::Targets;
use hsctsim::output::manifest::CommandManifest;
use hsctsim::output::{self};
use hsctsim::plot::{self, PlotOptions};
use hsctsim::scenario::compose::Composed;

use super::destination::{kept, refused, write_failed};
use super::interrupt::Interrupt;
use super::{Failure, OutputOptions, Overrides, print_out, progress};
use hsctsim::model::worker_threads as effective_threads;

/// Plans an output folder of `check` or `calibrate`: `inputs` (path, what) and the files of
/// `composed` may not be in it or be it.
pub fn plan_folder(
    dir: &Path,
    inputs: &[(&Path, &str)],
    composed: &Composed,
    force: bool,
) -> Result<(), Failure> {
    let mut plan = Plan::new(force);
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

/// Writes a `check` or `calibrate` folder all or nothing; Ctrl-C while it is written leaves
/// nothing.
pub fn write_folder(dir: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<(), Failure> {
    let interrupt = Interrupt::install();
    output::write_folder(dir, files, force, Some(interrupt.flag()))
        .map_err(|e| write_failed(e, &interrupt, &kept(&[dir])))
}

/// Checks a target file against its model (or `model`), prints the table and writes
/// `check.csv`, `check.txt` and (with `options.figures`) `figures/calibration.{svg,png}` into
/// the output folder.
pub fn check(
    file: &Path,
    model: Option<&str>,
    overrides: &Overrides,
    options: &OutputOptions,
) -> Result<(), Failure> {
    let OutputOptions {
        ref out,
        force,
        quiet,
        figures,
    } = *options;
    let targets = Targets::load(file, model).map_err(Failure::input)?;
    let stem = hsctsim::scenario::name::made_safe(
        &file
            .file_stem()
            .map_or("targets".into(), |s| s.to_string_lossy().into_owned()),
    );
    let dir = out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join("check").join(&stem));
    plan_folder(
        &dir,
        &[(file, "the target file")],
        &targets.model.composed,
        force,
    )?;
    let patients = overrides.patients.unwrap_or(targets.patients);
    let threads = effective_threads(overrides.threads.unwrap_or(0));
    let bar = progress::patients_bar(check::total_patients(&targets, patients), quiet);
    let advance = |n: u64| bar.inc(n);
    let started = Instant::now();
    let simulated = check::simulate_all(
        &targets,
        &targets.model.composed,
        &RunSettings {
            patients,
            seed: overrides.seed.unwrap_or(targets.seed),
            threads,
            progress: Some(&advance),
        },
        check::Selection::All,
    )
    .map_err(|e| match e {
        check::CheckError::Scenario(s) => Failure::input(s),
        other => Failure::run(other),
    })?;
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let rows = check::rows(&targets, &simulated);
    let summary = check::summarize(&rows);
    let text = format!(
        "{} against {} ({} patients per cohort, seed {}, {:.1} s)\n\n{}\n{summary}\n{} numbers excluded in the file, with reasons\n",
        targets.file,
        targets.model.name,
        patients,
        overrides.seed.unwrap_or(targets.seed),
        wall,
        check::table(&rows),
        targets.excluded.len()
    );
    let seed = overrides.seed.unwrap_or(targets.seed);
    // Every file read: the target file and each file the model was composed of.
    let mut inputs = vec![(targets.file.as_str(), targets.source.as_bytes())];
    inputs.extend(model_files(&targets.model.composed));
    let manifest = CommandManifest::new("check", &inputs, seed, patients, wall);
    let mut files = vec![
        ("check.csv".to_string(), check::to_csv(&rows)),
        ("check.txt".to_string(), text.clone().into_bytes()),
        ("manifest.json".to_string(), manifest.to_json()),
    ];
    if figures {
        files.extend(calibration_figures(&rows, "calibration", None)?);
    }
    write_folder(&dir, &files, force)?;
    super::warn_omitted(&dir, &files);
    print_out(&text)?;
    if !quiet {
        super::say(format_args!("→ {}", dir.join("check.csv").display()));
    }
    Ok(())
}

/// The calibration figure of a check's rows as files for an output folder
/// (`figures/<stem>.svg` and `.png`); none when no target is a proportion.
pub fn calibration_figures(
    rows: &[check::Row],
    stem: &str,
    title: Option<String>,
) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let drawn = hsctsim::calibrate::check::figure_rows(rows);
    if drawn.is_empty() {
        return Ok(Vec::new());
    }
    let options = PlotOptions {
        title,
        ..PlotOptions::after_simulation()
    };
    // After the simulation, a figure never costs the tables: one that cannot be drawn at
    // all is left out with a warning.
    match plot::render_check_rows(&drawn, stem, &options) {
        Ok(rendered) => Ok(rendered
            .into_iter()
            .map(|f| (format!("figures/{}", f.file_name), f.bytes))
            .collect()),
        Err(e) => {
            super::say(format_args!(
                "warning: the {stem} figure could not be drawn ({e}); the tables are complete"
            ));
            Ok(Vec::new())
        }
    }
}
