//! `hsctsim calibrate`: fit parameters to targets; write the fitted model and the check
//! tables before and after.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use hsctsim::calibrate::check::{self, Selection};
use hsctsim::calibrate::fit::{self, Fit, format_value};
use hsctsim::output::manifest::CommandManifest;

use super::{Failure, Overrides, print_out};
use hsctsim::model::worker_threads as effective_threads;

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
    let mut fit = Fit::load(file).map_err(Failure::input)?;
    if let Some(n) = overrides.patients {
        // The fit file's own bounds (`calibrate.patients`), so a command line cannot ask
        // for what the file may not.
        if !(100..=100_000_000).contains(&n) {
            return Err(Failure::input(format!(
                "--patients for calibrate is per cohort and evaluation: between 100 and 100000000, got {n}"
            )));
        }
        fit.patients = n;
    }
    if let Some(s) = overrides.seed {
        fit.seed = s;
    }
    if let Some(m) = options.max_evaluations {
        fit.max_evaluations = m;
    }
    let stem = hsctsim::scenario::name::made_safe(
        &file
            .file_stem()
            .map_or("fit".into(), |s| s.to_string_lossy().into_owned()),
    );
    let dir = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join("calibrate").join(&stem));
    super::check::plan_folder(
        &dir,
        &[
            (file, "the fit file"),
            (Path::new(&fit.targets.file), "the target file"),
        ],
        &fit.targets.model.composed,
        options.force,
    )?;
    let threads = effective_threads(overrides.threads.unwrap_or(0));
    let check_patients = options.check_patients.unwrap_or(fit.targets.patients);
    let map = |e: check::CheckError| match e {
        check::CheckError::Scenario(s) => Failure::input(s),
        other => Failure::run(other),
    };
    let verbose = !options.quiet;
    let say = |m: String| {
        if verbose {
            super::say(format_args!("{m}"));
        }
    };
    say(format!(
        "fitting {} parameters to the fit targets of {} ({} patients per cohort, seed {}, at most {} evaluations, {} threads)",
        fit.parameters.len(),
        fit.targets.file,
        fit.patients,
        fit.seed,
        fit.max_evaluations,
        threads
    ));
    let interactive = verbose && std::io::stderr().is_terminal();
    let every = if interactive { 10 } else { 100 };
    let progress = |evaluation: usize, f: f64, best: f64| {
        if verbose && evaluation.is_multiple_of(every) {
            super::say(format_args!(
                "  evaluation {evaluation:>5}: objective {f:>10.2}, best {best:>10.2}"
            ));
        }
    };
    let start: Vec<f64> = fit.parameters.iter().map(|p| p.start).collect();
    let before = fit
        .simulate(&start, check_patients, threads, Selection::All)
        .map_err(map)?;
    let result = fit.run(threads, Some(&progress)).map_err(map)?;
    let after = fit
        .simulate(&result.fitted, check_patients, threads, Selection::All)
        .map_err(map)?;
    let rows_before = check::rows(&fit.targets, &before);
    let rows_after = check::rows(&fit.targets, &after);
    let fitted_text = fit::fitted_model_text(&fit, &result).map_err(Failure::run)?;
    // The fitted file must load as it is written (checked after writing, so a long fit is
    // never lost to a problem in writing it).
    let loads = hsctsim::scenario::compose::from_text(&fitted_text, "fitted_model.toml", None)
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
    for (rows, when) in [(&rows_before, "before"), (&rows_after, "after")] {
        files.extend(super::check::calibration_figures(
            rows,
            &format!("calibration_{when}"),
            Some(format!(
                "Calibration {when} fitting: published vs simulated"
            )),
        )?);
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
            .chain(super::check::model_files(&fit.targets.model.composed))
            .collect::<Vec<_>>(),
            fit.seed,
            fit.patients,
            result.seconds,
        )
        .to_json(),
    ));
    super::check::write_folder(&dir, &files, options.force)?;
    super::warn_omitted(&dir, &files);
    print_out(&text)?;
    say(format!("→ {}", dir.display()));
    loads.map_err(|e| Failure::run(format!("the fitted model does not load: {e}")))
}
