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
