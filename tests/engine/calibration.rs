//! The calibrated model, its targets, and the `models`, `check` and `calibrate` commands.

use crate::common;

use std::path::{Path, PathBuf};

use hsctsim::calibrate::check::{self, RunSettings, Selection};
use hsctsim::calibrate::fit::Fit;
use hsctsim::calibrate::targets::{Targets, Usage};
use hsctsim::scenario::parameter::ParameterPath;
use hsctsim::scenario::{builtin, compose, describe};

use crate::common::{hsctsim, root};

/// Every number of the built-in model carries its provenance.
#[test]
fn every_number_of_the_builtin_model_has_a_source() {
    for m in builtin::MODELS {
        let composed = compose::builtin_model(m.name).unwrap().unwrap();
        composed.build(m.name).unwrap_or_else(|e| panic!("{e}"));
        let missing = describe::missing_sources(&composed.file);
        assert!(missing.is_empty(), "{}: no source for {missing:?}", m.name);
        // The embedded text is the file in the repository.
        let on_disk = std::fs::read_to_string(root().join(m.file)).unwrap();
        assert_eq!(on_disk, m.text, "{} is stale; rebuild", m.file);
    }
}

/// The shipped scenarios start from the built-in model, load and run.
#[test]
fn shipped_scenarios_compose_and_run() {
    for name in [
        "donor_policy",
        "hsct2_vs_dli",
        "eligibility",
        "graft_failure",
        "hsct3_policy",
        "mm_maintenance",
    ] {
        let path = root().join("scenarios").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("model = \"hsct-review\""),
            "{name} should extend the built-in model, not copy it"
        );
        let model = common::scenario(name);
        assert!(
            model.strategies.len() >= 2,
            "{name}: a comparison needs two strategies"
        );
        let (tally, results) = common::run(&model, 5_000, 2);
        assert_eq!(tally.patients, 5_000);
        assert!(!results.summary.is_empty());
    }
}

/// A scenario's mistakes are reported in the scenario, the model's in the model.
#[test]
fn composed_errors_name_the_file_that_caused_them() {
    let dir = std::env::temp_dir().join(format!("hsctsim-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[scenario]\nmodel = \"hsct-review\"\n\n[[strategies]]\nname = \"x\"\nset = { donor_type = \"HLA\" }\n",
    )
    .unwrap();
    let (code, _, err) = hsctsim(&["validate", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:6:"), "{err}");
    assert!(
        err.contains("`HLA` is not a level of `donor_type`"),
        "{err}"
    );
    // An override that breaks a rule written in the model: reported where the rule is.
    std::fs::write(
        &bad,
        "[scenario]\nmodel = \"hsct-review\"\n\n[[variables]]\nname = \"donor_type\"\nlevels = [\"MUD\", \"sibling\"]\ndefault = \"MUD\"\n",
    )
    .unwrap();
    let (code, _, err) = hsctsim(&["validate", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("models/hsct_review.toml:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn models_lists_and_shows_with_sources() {
    let (code, out, _) = hsctsim(&["models"]);
    assert_eq!(code, 0);
    assert!(out.contains("hsct-review"));
    let (code, out, _) = hsctsim(&["models", "--show", "hsct-review"]);
    assert_eq!(code, 0);
    assert!(out.contains("hsct2 → death_nrm"), "{out}");
    assert!(out.contains("source: E054"), "{out}");
    assert!(!out.contains("(no source given)"), "{out}");
    let (code, _, err) = hsctsim(&["models", "--show", "hsct-reveiw"]);
    assert_eq!(code, 2);
    assert!(err.contains("Did you mean `hsct-review`"), "{err}");
}

/// The curated file loads; every kept number is fit or validation, excluded ones have reasons.
#[test]
fn target_file_is_curated() {
    let t = Targets::load(root().join("calibration/targets.toml"), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let kept = t.all().count();
    let fit = t.all().filter(|(_, x)| x.usage == Usage::Fit).count();
    assert!(kept >= 60 && fit >= 30, "{kept} kept, {fit} fitted");
    assert!(t.excluded.iter().all(|e| !e.reason.trim().is_empty()));
    let landmarks = t.all().filter(|(_, x)| x.is_landmark()).count();
    assert!(landmarks >= 50, "{landmarks}");
    for (_, x) in t.all() {
        assert!(x.id.starts_with('T') || x.id.starts_with('E'), "{}", x.id);
    }
}

fn yalniz_hazard_ratios(
    t: &Targets,
    model: &compose::Composed,
    patients: u64,
    seed: u64,
) -> (f64, f64) {
    let cohort = t.cohorts.iter().find(|c| c.name == "yalniz_aml").unwrap();
    let values = check::simulate_cohort(
        t,
        model,
        cohort,
        &RunSettings {
            patients,
            seed,
            threads: 0,
            progress: None,
        },
        Selection::All,
    )
    .unwrap();
    let hr = |id: &str| {
        let k = cohort.targets.iter().position(|x| x.id == id).unwrap();
        values[k].estimate
    };
    (hr("E039"), hr("E040"))
}

/// The OS hazard ratios of chronic GVHD (published 2.9) and HCT-CI ≥ 2 (2.6) emerge from the
/// simulated patients — estimated by Cox from the two groups' deaths, on a seed neither
/// the target file nor the fit uses — within 20 % of the published values.
#[test]
fn os_hazard_ratios_emerge_within_20_percent() {
    let t = Targets::load(root().join("calibration/targets.toml"), None).unwrap();
    let (cgvhd, hct_ci) = yalniz_hazard_ratios(&t, &t.model.composed, 200_000, 424_242);
    assert!(
        (cgvhd / 2.9 - 1.0).abs() <= 0.2,
        "chronic GVHD: OS HR {cgvhd:.2}, published 2.9"
    );
    assert!(
        (hct_ci / 2.6 - 1.0).abs() <= 0.2,
        "HCT-CI ≥ 2: OS HR {hct_ci:.2}, published 2.6"
    );
}

/// …and they are not one transition's doing: with the chronic-GVHD effect on non-relapse
/// mortality alone, or on relapse and post-relapse survival alone, the OS hazard ratio
/// falls well short of the published one; likewise HCT-CI without its post-relapse part.
#[test]
fn os_hazard_ratios_need_every_pathway() {
    let t = Targets::load(root().join("calibration/targets.toml"), None).unwrap();
    let without = |paths: &[&str]| {
        let mut model = t.model.composed.clone();
        for p in paths {
            ParameterPath::parse(p)
                .unwrap()
                .set(&mut model.file, 1.0)
                .unwrap();
        }
        yalniz_hazard_ratios(&t, &model, 100_000, 424_242)
    };
    let nrm = [
        "transitions[hsct2->death_nrm].effects[cgvhd].hr",
        "transitions[remission2->death_nrm].effects[cgvhd].hr",
        "transitions[maintenance->death_nrm].effects[cgvhd].hr",
    ];
    let relapse = [
        "transitions[hsct2->relapse2].effects[cgvhd].hr",
        "transitions[remission2->relapse2].effects[cgvhd].hr",
        "transitions[maintenance->relapse2].effects[cgvhd].hr",
        "transitions[relapse2->death_relapse].effects[cgvhd].hr",
        "transitions[dli->palliative].effects[cgvhd].hr",
    ];
    let (full, _) = yalniz_hazard_ratios(&t, &t.model.composed, 100_000, 424_242);
    let (nrm_only, _) = without(&relapse);
    let (relapse_only, _) = without(&nrm);
    for (what, hr) in [
        ("NRM effect alone", nrm_only),
        ("relapse effects alone", relapse_only),
    ] {
        assert!(
            hr < 0.85 * full && hr < 0.8 * 2.9,
            "{what}: OS HR {hr:.2} against {full:.2} with every pathway"
        );
    }
    let (_, hct_ci_full) = yalniz_hazard_ratios(&t, &t.model.composed, 100_000, 424_242);
    let (_, hct_ci_nrm_only) = without(&[
        "transitions[relapse2->death_relapse].effects[hct_ci].hr",
        "transitions[dli->palliative].effects[hct_ci].hr",
    ]);
    assert!(
        hct_ci_nrm_only < 0.95 * hct_ci_full,
        "HCT-CI: {hct_ci_nrm_only:.2} without post-relapse effects vs {hct_ci_full:.2}"
    );
}

fn small_fit(dir: &Path) -> PathBuf {
    let spec = dir.join("fit.toml");
    let targets = root().join("calibration/targets.toml");
    std::fs::write(
        &spec,
        format!(
            "[calibrate]\ntargets = {:?}\npatients = 2000\nseed = 3\nmax_evaluations = 12\nrestarts = 0\n\n[[parameters]]\npath = \"transitions[hsct2->death_nrm].rate\"\n\n[[parameters]]\npaths = [\"transitions[remission2->relapse2].cure\", \"transitions[maintenance->relapse2].cure\"]\n",
            targets.to_str().unwrap()
        ),
    )
    .unwrap();
    spec
}

/// Same seed ⇒ the same fit, on one thread or two.
#[test]
fn calibrate_is_deterministic() {
    let dir = std::env::temp_dir().join(format!("hsctsim-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fit = Fit::load(small_fit(&dir)).unwrap_or_else(|e| panic!("{e}"));
    let a = fit.run(1, None).unwrap();
    let b = fit.run(2, None).unwrap();
    assert_eq!(a.fitted, b.fitted);
    assert_eq!(a.objective, b.objective);
    assert!(a.objective <= a.objective_start);
    assert_eq!(a.evaluations, b.evaluations);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The commands write what the README says, with the columns the figures read.
#[test]
fn check_and_calibrate_write_their_files() {
    let dir = std::env::temp_dir().join(format!("hsctsim-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("check");
    let (code, stdout, err) = hsctsim(&[
        "check",
        "calibration/targets.toml",
        "-n",
        "2000",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("landmark targets"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("check.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for column in [
        "study",
        "id",
        "endpoint",
        "origin",
        "horizon",
        "published",
        "published_lower",
        "published_upper",
        "simulated",
        "simulated_lower",
        "simulated_upper",
        "n",
        "overlap",
    ] {
        assert!(
            header.split(',').any(|c| c == column),
            "{column} missing: {header}"
        );
    }
    let t = Targets::load(root().join("calibration/targets.toml"), None).unwrap();
    assert_eq!(csv.lines().count(), 1 + t.all().count());
    // The calibration figure, a row per proportion target, each study with its subgroup.
    let svg = std::fs::read_to_string(out.join("figures/calibration.svg")).unwrap();
    assert!(svg.contains("Lee [11]: HID") && svg.contains("Lee [11]: cord blood"));
    assert!(
        std::fs::metadata(out.join("figures/calibration.png"))
            .unwrap()
            .len()
            > 10_000
    );
    // `hsctsim plot` re-renders it from the folder, with its options.
    std::fs::remove_dir_all(out.join("figures")).unwrap();
    let (code, _, err) = hsctsim(&[
        "plot",
        out.to_str().unwrap(),
        "--format",
        "svg",
        "--title",
        "Checked again",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(out.join("figures/calibration.svg")).unwrap();
    assert!(svg.contains("Checked again") && svg.contains("Lee [11]: HID"));
    assert!(!out.join("figures/calibration.png").exists());

    let spec = small_fit(&dir);
    let fitted = dir.join("fitted");
    let (code, _, err) = hsctsim(&[
        "calibrate",
        spec.to_str().unwrap(),
        "--check-patients",
        "2000",
        "-q",
        "-o",
        fitted.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for file in [
        "fitted_model.toml",
        "check_before.csv",
        "check_after.csv",
        "parameters.csv",
        "trace.csv",
        "calibrate.txt",
        "figures/calibration_before.svg",
        "figures/calibration_before.png",
        "figures/calibration_after.svg",
        "figures/calibration_after.png",
    ] {
        assert!(fitted.join(file).is_file(), "{file}");
    }
    // The fitted model is a model file like any other: check it, and scenarios can extend it.
    let model = fitted.join("fitted_model.toml");
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(text.starts_with("# Fitted by `hsctsim calibrate"));
    assert!(text.contains("[fitted by hsctsim calibrate (fit.toml, seed 3); start"));
    let (code, _, err) = hsctsim(&[
        "check",
        "calibration/targets.toml",
        "--model",
        model.to_str().unwrap(),
        "-n",
        "1000",
        "-q",
        "--no-figures",
        "-o",
        dir.join("check2").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("check2/check.csv").is_file());
    assert!(!dir.join("check2/figures").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What the calibration figure draws of a check: every percentage target as a proportion
/// (medians as survival at the published median), no hazard ratio.
#[test]
fn the_calibration_figure_draws_every_proportion_target() {
    let t = Targets::load(root().join("calibration/targets.toml"), None).unwrap();
    let simulated = check::simulate_all(
        &t,
        &t.model.composed,
        &RunSettings {
            patients: 500,
            seed: 1,
            threads: 0,
            progress: None,
        },
        Selection::All,
    )
    .unwrap();
    let rows = check::rows(&t, &simulated);
    let drawn = hsctsim::calibrate::check::figure_rows(&rows);
    let percent: Vec<_> = rows.iter().filter(|r| r.scale == "percent").collect();
    assert!(
        percent.len() < rows.len(),
        "the file has hazard-ratio targets"
    );
    assert_eq!(drawn.len(), percent.len());
    for (row, d) in percent.iter().zip(&drawn) {
        assert_eq!(d.published, row.published / 100.0, "{}", row.id);
        assert_eq!(d.simulated, row.simulated / 100.0, "{}", row.id);
        assert!(!d.in_months(), "{} is a proportion", row.id);
        assert!((0.0..=1.0).contains(&d.published) && (0.0..=1.0).contains(&d.simulated));
    }
    assert!(percent.iter().any(|r| r.endpoint.starts_with("median")));
}

// ---- files that target and fit files name (issue 13, items 14 and 15) ----

/// A target file whose one cohort runs the model it names in `model`.
fn target_file(model: &str) -> String {
    format!(
        "[targets]\npatients = 1000\nmodel = {model:?}\n\n[[cohorts]]\nname = \"study\"\nstudy = \"Someone [1]\"\n[[cohorts.scenario.strategies]]\nname = \"hsct2\"\nset = {{ hsct2_offer = \"all\" }}\n\n[[cohorts.targets]]\nid = \"T001\"\nendpoint = \"os\"\nhorizon = \"24m\"\nvalue = 40\nn = 50\n"
    )
}

/// The built-in model's text with its one `rate = 0.04` line (line and column returned)
/// replaced by `rate = {value}`.
fn model_with_rate(value: &str) -> (String, usize, usize) {
    let text = builtin::find("hsct-review").unwrap().text;
    let at = text.find("\nrate = 0.04\n").unwrap() + 1;
    assert_eq!(text.matches("\nrate = 0.04\n").count(), 1);
    let line = text[..at].matches('\n').count() + 1;
    (
        text.replacen("\nrate = 0.04\n", &format!("\nrate = {value}\n"), 1),
        line,
        8,
    )
}

#[test]
fn an_error_in_a_target_files_model_is_reported_in_the_model_with_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let targets = dir.join("t.toml");
    std::fs::write(&targets, target_file("model.toml")).unwrap();
    let model = dir.join("model.toml");
    let link = format!(
        "target file {}:3:9 (model = \"model.toml\")",
        targets.display()
    );
    for (value, says, quoted) in [
        (
            "\"x\"",
            "invalid type: string \"x\", expected a number",
            true,
        ),
        ("-0.04", "`rate` must be finite and ≥ 0", true),
        ("= 1", "is not valid TOML", false),
    ] {
        let (text, line, col) = model_with_rate(value);
        std::fs::write(&model, &text).unwrap();
        let e = Targets::load(&targets, None).unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.file, model.display().to_string(), "{shown}");
        assert_eq!(e.location.map(|l| l.0), Some(line), "{shown}");
        if quoted {
            assert_eq!(e.location, Some((line, col)), "{shown}");
            assert!(shown.contains(&format!("rate = {value}")), "{shown}");
        }
        assert!(e.message.contains(says), "{shown}");
        assert_eq!(*e.chain, [link.as_str()], "{shown}");
        assert!(shown.contains(&format!("\n  from {link}")), "{shown}");
    }
    // Through `hsctsim check`: exit 2, the same message, nothing written.
    let out = dir.join("out");
    let (code, _, err) = hsctsim(&[
        "check",
        targets.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}:", model.display())) && err.contains(&link),
        "{err}"
    );
    assert!(!out.exists());
    // A model file that extends another: the chain has both links, innermost first.
    let (broken, line, _) = model_with_rate("-0.04");
    std::fs::write(dir.join("base.toml"), broken).unwrap();
    std::fs::write(&model, "[scenario]\nextends = \"base.toml\"\n").unwrap();
    let e = Targets::load(&targets, None).unwrap_err();
    assert_eq!(e.file, dir.join("base.toml").display().to_string(), "{e}");
    assert_eq!(e.location.map(|l| l.0), Some(line), "{e}");
    assert_eq!(
        *e.chain,
        [
            format!("{}:2:11 (extends = \"base.toml\")", model.display()),
            link.clone()
        ],
        "{e}"
    );
}

#[test]
fn a_target_files_model_is_read_only_if_it_is_a_regular_toml_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("folder.toml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.toml")).unwrap();
    std::fs::write(dir.join("secret.toml"), "token = \"s3cr3t\"\n").unwrap();
    for (named, says) in [
        ("/etc/passwd", "`/etc/passwd` is not a .toml file"),
        ("passwd.toml", "is a symbolic link to `/etc/passwd`"),
        ("folder.toml", "folder.toml` is a folder, not a file"),
        ("missing.toml", "missing.toml`: no such file"),
        ("hsct-reveiw", "is neither a built-in model"),
    ] {
        let targets = dir.join("t.toml");
        std::fs::write(&targets, target_file(named)).unwrap();
        let e = Targets::load(&targets, None).unwrap_err();
        let shown = e.to_string();
        // Located at the `model =` value of the target file.
        assert_eq!(e.file, targets.display().to_string(), "{shown}");
        assert_eq!(e.location, Some((3, 9)), "{shown}");
        assert!(e.message.contains(says), "{named}: {shown}");
        assert!(e.help.is_some(), "{shown}");
        assert!(!shown.contains("root:"), "{shown}");
    }
    let targets = dir.join("t.toml");
    std::fs::write(&targets, target_file("hsct-reveiw")).unwrap();
    let e = Targets::load(&targets, None).unwrap_err().to_string();
    assert!(e.contains("Did you mean `hsct-review`"), "{e}");
    // A .toml file that is not a scenario: named, not quoted.
    std::fs::write(&targets, target_file("secret.toml")).unwrap();
    let e = Targets::load(&targets, None).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("secret.toml: is not a scenario file"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert_eq!(e.chain.len(), 1, "{shown}");
}

#[test]
fn a_fit_files_targets_and_model_are_read_as_named_files_with_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fit_file = |targets: &str, model: Option<&str>| {
        let path = dir.join("fit.toml");
        let model = model.map_or(String::new(), |m| format!("model = {m:?}\n"));
        std::fs::write(
            &path,
            format!(
                "[calibrate]\ntargets = {targets:?}\n{model}patients = 200\n\n[[parameters]]\npath = \"transitions[hsct2->death_nrm].rate\"\n"
            ),
        )
        .unwrap();
        path
    };
    std::fs::write(dir.join("scenario.toml"), "[simulation]\npatients = 10\n").unwrap();
    std::fs::write(dir.join("t.toml"), target_file("hsct-review")).unwrap();
    // Refusals of the named files themselves: at the fit file's line, nothing quoted.
    for (targets, model, at, says) in [
        (
            "/etc/passwd",
            None,
            (2, 11),
            "`/etc/passwd` is not a .toml file",
        ),
        (
            "t.toml",
            Some("/etc/passwd"),
            (3, 9),
            "`/etc/passwd` is not a .toml file",
        ),
        (
            "t.toml",
            Some("nosuch.toml"),
            (3, 9),
            "nosuch.toml`: no such file",
        ),
        ("nosuch.toml", None, (2, 11), "nosuch.toml`: no such file"),
    ] {
        let path = fit_file(targets, model);
        let e = Fit::load(&path).unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.file, path.display().to_string(), "{shown}");
        assert_eq!(e.location, Some(at), "{shown}");
        assert!(e.message.contains(says), "{shown}");
        assert!(!shown.contains("root:"), "{shown}");
        assert!(!shown.contains("relative to the target file"), "{shown}");
    }
    let fit = fit_file("scenario.toml", None);
    let e = Fit::load(&fit).unwrap_err().to_string();
    assert!(e.contains("scenario.toml: is not a target file"), "{e}");
    assert!(e.contains("from fit file"), "{e}");
    // An error inside the target file, and inside the model the fit file names.
    std::fs::write(
        dir.join("t.toml"),
        target_file("hsct-review").replace("value = 40", "value = 400"),
    )
    .unwrap();
    let fit = fit_file("t.toml", None);
    let e = Fit::load(&fit).unwrap_err();
    assert_eq!(e.file, dir.join("t.toml").display().to_string(), "{e}");
    assert_eq!(
        *e.chain,
        [format!(
            "fit file {}:2:11 (targets = \"t.toml\")",
            fit.display()
        )],
        "{e}"
    );
    std::fs::write(dir.join("t.toml"), target_file("hsct-review")).unwrap();
    let (broken, line, _) = model_with_rate("-0.04");
    std::fs::write(dir.join("model.toml"), broken).unwrap();
    let fit = fit_file("t.toml", Some("model.toml"));
    let e = Fit::load(&fit).unwrap_err();
    assert_eq!(e.file, dir.join("model.toml").display().to_string(), "{e}");
    assert_eq!(e.location.map(|l| l.0), Some(line), "{e}");
    assert_eq!(
        *e.chain,
        [format!(
            "fit file {}:3:9 (model = \"model.toml\")",
            fit.display()
        )],
        "{e}"
    );
}

#[test]
fn a_check_folder_records_every_file_of_its_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let targets = dir.join("t.toml");
    std::fs::write(&targets, target_file("model.toml")).unwrap();
    let model = dir.join("model.toml");
    std::fs::write(&model, "[scenario]\nmodel = \"hsct-review\"\n").unwrap();
    let out = dir.join("out");
    let (code, _, err) = hsctsim(&[
        "check",
        targets.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--patients",
        "500",
        "--no-figures",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let inputs: Vec<(&str, &str)> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap(), i["sha256"].as_str().unwrap()))
        .collect();
    let sha = |path: &Path| hsctsim::output::manifest::sha256_hex(&std::fs::read(path).unwrap());
    assert_eq!(
        inputs,
        [
            (targets.to_str().unwrap(), sha(&targets).as_str()),
            (model.to_str().unwrap(), sha(&model).as_str()),
            (
                "models/hsct_review.toml",
                sha(&root().join("models/hsct_review.toml")).as_str()
            ),
        ]
    );
}
