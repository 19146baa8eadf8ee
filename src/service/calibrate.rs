//! The calibrate service: a fit specification's parameters fitted to its targets
//! (Nelder–Mead over common random numbers), written with the fitted model, the check
//! tables before and after, the parameters, the trace and their figures.

use std::path::{Path, PathBuf};

use super::check::{calibration_figures, check_failed, model_files, plan_folder, write_folder};
use super::{ServiceError, Session, SettingsOverride};
use crate::calibrate::check::{self, Selection};
use crate::calibrate::fit::{self, Fit, format_value};
use crate::model::worker_threads;
use crate::output::manifest::CommandManifest;

/// A fit and where to write it.
#[derive(Debug, Clone, Default)]
pub struct CalibrateRequest {
    /// The fit specification.
    pub file: PathBuf,
    /// Patients per cohort and evaluation, seed and threads in place of the file's.
    pub settings: SettingsOverride,
    /// Output folder (default `output/calibrate/<file name>`).
    pub out: Option<PathBuf>,
    /// Evaluation budget (in place of the file's).
    pub max_evaluations: Option<usize>,
    /// Patients per cohort for the check tables before and after (default: the target file's).
    pub check_patients: Option<u64>,
    /// Replace a previous output of ours.
    pub replace: bool,
}

/// What a completed fit wrote.
#[derive(Debug, Clone)]
pub struct CalibrateReport {
    /// The output folder.
    pub written: PathBuf,
    /// The report, as in `calibrate.txt`.
    pub text: String,
    /// Things the user should know that did not stop the fit.
    pub warnings: Vec<String>,
    /// Why the fitted model written does not load, if it does not (the folder is written
    /// all the same, so a long fit is never lost; the front end reports this as a failure).
    pub fitted_model_error: Option<String>,
}

/// How a fit reports progress: a line of text (the start, every so many evaluations).
pub type Log<'a> = &'a (dyn Fn(String) + Sync);

/// Runs a fit specification; `log` receives its progress lines and `every` says how many
/// evaluations apart they come.
pub fn calibrate(
    request: &CalibrateRequest,
    log: Log,
    every: usize,
    session: Session,
) -> Result<CalibrateReport, ServiceError> {
    let file = request.file.as_path();
    let mut fit = Fit::load(file).map_err(ServiceError::input)?;
    if let Some(n) = request.settings.patients {
        // The fit file's own bounds (`calibrate.patients`), so a request cannot ask for
        // what the file may not.
        if !(100..=100_000_000).contains(&n) {
            return Err(ServiceError::input(format!(
                "the patients of a calibration are per cohort and evaluation: between 100 and 100000000, got {n}"
            )));
        }
        fit.patients = n;
    }
    if let Some(s) = request.settings.seed {
        fit.seed = s;
    }
    if let Some(m) = request.max_evaluations {
        fit.max_evaluations = m;
    }
    let stem = crate::scenario::name::made_safe(
        &file
            .file_stem()
            .map_or("fit".into(), |s| s.to_string_lossy().into_owned()),
    );
    let dir = request
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join("calibrate").join(&stem));
    plan_folder(
        &dir,
        &[
            (file, "the fit file"),
            (Path::new(&fit.targets.file), "the target file"),
        ],
        &fit.targets.model.composed,
        request.replace,
    )?;
    let threads = worker_threads(request.settings.threads.unwrap_or(0));
    let check_patients = request.check_patients.unwrap_or(fit.targets.patients);
    log(format!(
        "fitting {} parameters to the fit targets of {} ({} patients per cohort, seed {}, at most {} evaluations, {} threads)",
        fit.parameters.len(),
        fit.targets.file,
        fit.patients,
        fit.seed,
        fit.max_evaluations,
        threads
    ));
    let every = every.max(1);
    let progress = |evaluation: usize, f: f64, best: f64| {
        if evaluation.is_multiple_of(every) {
            log(format!(
                "  evaluation {evaluation:>5}: objective {f:>10.2}, best {best:>10.2}"
            ));
        }
    };
    let start: Vec<f64> = fit.parameters.iter().map(|p| p.start).collect();
    let before = fit
        .simulate(&start, check_patients, threads, Selection::All)
        .map_err(check_failed)?;
    let result = fit.run(threads, Some(&progress)).map_err(check_failed)?;
    let after = fit
        .simulate(&result.fitted, check_patients, threads, Selection::All)
        .map_err(check_failed)?;
    let rows_before = check::rows(&fit.targets, &before);
    let rows_after = check::rows(&fit.targets, &after);
    let fitted_text = fit::fitted_model_text(&fit, &result).map_err(ServiceError::run)?;
    // The fitted file must load as it is written (checked after writing, so a long fit is
    // never lost to a problem in writing it).
    let loads = crate::scenario::compose::from_text(&fitted_text, "fitted_model.toml", None)
        .and_then(|c| c.build("fitted_model"))
        .map(|_| ());

    let mut parameters = csv::Writer::from_writer(Vec::new());
    let _ = parameters.write_record(["name", "paths", "scale", "min", "max", "start", "fitted"]);
    for (p, (s, v)) in fit
        .parameters
        .iter()
        .zip(result.start.iter().zip(&result.fitted))
    {
        let paths: Vec<&str> = p.paths.iter().map(|x| x.text.as_str()).collect();
        let _ = parameters.write_record([
            p.name.clone(),
            paths.join(" | "),
            format!("{:?}", p.scale).to_lowercase(),
            format_value(p.min),
            format_value(p.max),
            format_value(*s),
            format_value(*v),
        ]);
    }
    let mut trace = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["evaluation".to_string(), "objective".to_string()];
    header.extend(fit.parameters.iter().map(|p| p.name.clone()));
    let _ = trace.write_record(&header);
    for (e, f, values) in &result.trace {
        let mut row = vec![e.to_string(), format!("{f}")];
        row.extend(values.iter().map(|v| format!("{v}")));
        let _ = trace.write_record(&row);
    }
    let summary_before = check::summarize(&rows_before);
    let summary_after = check::summarize(&rows_after);
    let mut text = format!(
        "calibrate {}: {} parameters, {} evaluations in {:.0} s ({}), objective {:.2} → {:.2}\n\n",
        fit.file,
        fit.parameters.len(),
        result.evaluations,
        result.seconds,
        if result.converged {
            "converged"
        } else {
            "evaluation budget used up"
        },
        result.objective_start,
        result.objective
    );
    for (p, (s, v)) in fit
        .parameters
        .iter()
        .zip(result.start.iter().zip(&result.fitted))
    {
        text.push_str(&format!(
            "  {:<58} {:>10} → {:>10}\n",
            p.name,
            format_value(*s),
            format_value(*v)
        ));
    }
    text.push_str(&format!(
        "\nbefore ({check_patients} patients per cohort):\n{summary_before}\n\nafter:\n{summary_after}\n\n{}",
        check::table(&rows_after)
    ));
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("fitted_model.toml".into(), fitted_text.into_bytes()),
        ("check_before.csv".into(), check::to_csv(&rows_before)),
        ("check_after.csv".into(), check::to_csv(&rows_after)),
        (
            "parameters.csv".into(),
            parameters.into_inner().unwrap_or_default(),
        ),
        ("trace.csv".into(), trace.into_inner().unwrap_or_default()),
        ("calibrate.txt".into(), text.clone().into_bytes()),
    ];
    let mut warnings = Vec::new();
    for (rows, when) in [(&rows_before, "before"), (&rows_after, "after")] {
        files.extend(calibration_figures(
            rows,
            &format!("calibration_{when}"),
            Some(format!(
                "Calibration {when} fitting: published vs simulated"
            )),
            &mut warnings,
        ));
    }
    files.push((
        "manifest.json".into(),
        CommandManifest::new(
            "calibrate",
            &[
                (fit.file.as_str(), fit.source.as_bytes()),
                (fit.targets.file.as_str(), fit.targets.source.as_bytes()),
            ]
            .into_iter()
            .chain(model_files(&fit.targets.model.composed))
            .collect::<Vec<_>>(),
            fit.seed,
            fit.patients,
            result.seconds,
        )
        .to_json(),
    ));
    write_folder(&dir, &files, request.replace, session)?;
    warnings.extend(super::omitted_warnings(&dir, &files));
    Ok(CalibrateReport {
        written: dir,
        text,
        warnings,
        fitted_model_error: loads.err().map(|e| e.to_string()),
    })
}
