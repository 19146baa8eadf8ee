//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hsctsim::aggregate::Tally;
use hsctsim::aggregate::results::Results;
use hsctsim::engine::{Control, simulate};
use hsctsim::model::Model;

/// Loads a shipped scenario.
pub fn scenario(name: &str) -> Model {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    hsctsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses scenario text.
pub fn parse(text: &str) -> Model {
    hsctsim::scenario::parse(text, "test.toml", "test").unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a model with a given number of patients and threads.
pub fn run(model: &Model, patients: u64, threads: usize) -> (Tally, Results) {
    let mut model = model.clone();
    model.settings.patients = patients;
    let tally = simulate(
        &model,
        &Control {
            threads,
            ..Control::default()
        },
    )
    .expect("simulation");
    let results = Results::from_tally(&model, &tally);
    (tally, results)
}

/// One curve as (time, estimate) pairs.
pub fn curve(results: &Results, strategy: &str, origin: &str, measure: &str) -> Vec<(f64, f64)> {
    results
        .curves
        .iter()
        .filter(|r| r.strategy == strategy && r.origin.as_str() == origin && r.measure == measure)
        .map(|r| (r.time, r.estimate))
        .collect()
}

/// Runs the `hsctsim` binary; returns its exit code, stdout and stderr (and fails the test
/// if it panicked: every failure must be a message).
pub fn hsctsim(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "hsctsim panicked:\n{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// The value of attribute `name` in an SVG element's opening tag.
pub fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    let end = start + element[start..].find('"')?;
    Some(&element[start..end])
}
