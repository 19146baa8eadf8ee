//! The command line: outputs, their contract, the no-clobber rule, help.

use std::path::Path;
use std::process::Output;

use crate::common::{output as hsctsim, reference};

fn run_into(dir: &Path, extra: &[&str]) -> Output {
    let scenario = reference();
    let mut args = vec![
        "run",
        scenario.as_str(),
        "--out",
        dir.to_str().unwrap(),
        "--patients",
        "20000",
        "--quiet",
    ];
    args.extend(extra);
    hsctsim(&args)
}

#[test]
fn run_writes_the_three_files_with_their_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reference");
    let out = run_into(&dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let curves = std::fs::read_to_string(dir.join("curves.csv")).unwrap();
    assert!(curves.starts_with("strategy,origin,measure,time,estimate,lower,upper\n"));
    let measures: std::collections::BTreeSet<&str> = curves
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    for m in [
        "os",
        "lfs",
        "cir",
        "nrm",
        "state:relapse",
        "state:hsct2",
        "state:death_nrm",
    ] {
        assert!(measures.contains(m), "missing measure {m}");
    }
    let origins: std::collections::BTreeSet<&str> = curves
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(origins.into_iter().collect::<Vec<_>>(), ["entry", "hsct2"]);
    // 61 monthly grid points per curve.
    assert_eq!(
        curves
            .lines()
            .filter(|l| l.starts_with("standard,entry,os,"))
            .count(),
        61
    );
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.starts_with("strategy,origin,statistic,time,estimate,se,lower,upper\n"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    for key in [
        "version",
        "scenario_path",
        "scenario_sha256",
        "seed",
        "patients",
        "threads",
        "wall_seconds",
        "patients_per_second",
    ] {
        assert!(manifest.get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(manifest["patients"], 20000);
    assert_eq!(manifest["scenario_sha256"].as_str().unwrap().len(), 64);
    // Nothing half-written is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("reference")]);
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reference");
    assert!(run_into(&dir, &[]).status.success());
    std::fs::write(dir.join("mine.txt"), "user's file").unwrap();
    let out = run_into(&dir, &["--seed", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert!(dir.join("mine.txt").exists(), "the old folder was touched");
    let out = run_into(&dir, &["--seed", "2", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.join("mine.txt").exists(),
        "the folder is replaced as a whole"
    );
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"seed\": 2"));
}

#[test]
fn same_seed_same_bytes_through_the_binary_with_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert!(run_into(&a, &["--threads", "1"]).status.success());
    assert!(run_into(&b, &["--threads", "2"]).status.success());
    for file in ["curves.csv", "summary.csv"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn help_works_everywhere() {
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["validate", "--help"],
        vec!["bench", "--help"],
        vec!["merge", "--help"],
    ] {
        let out = hsctsim(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let out = hsctsim(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hsctsim(&["run", &reference(), "--patients", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("number of patients must be between 1"));
}

/// `--patients` takes counts as people write them, and refuses fractions with the forms it
/// takes.
#[test]
fn patients_accept_underscores_and_exponents() {
    let scenario = reference();
    for (count, expected) in [("2e4", 20000), ("20_000", 20000), ("20000", 20000)] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        let out = hsctsim(&[
            "run",
            &scenario,
            "--out",
            dir.to_str().unwrap(),
            "--patients",
            count,
            "--quiet",
            "--no-figures",
        ]);
        assert!(
            out.status.success(),
            "{count}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
        assert!(
            manifest.contains(&format!("\"patients\": {expected}")),
            "{count}: {manifest}"
        );
    }
    let out = hsctsim(&["run", &scenario, "--patients", "2.5e0", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1_000_000 or 1e6"), "{stderr}");
    let out = hsctsim(&["run", &scenario, "--patients", "2e12", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("between 1 and 1000000000000, got 2000000000000"),
        "{stderr}"
    );
}
