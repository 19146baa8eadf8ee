//! Any bytes as a scenario file: loading and checking never panic, every error renders
//! with the name of the file at fault (this one, or a built-in model it builds on), and whatever passes the checks simulates without panicking and
//! gives curves that are proportions, from accumulators that satisfy every invariant a part
//! reader checks (so no honest part is ever refused).
#![no_main]

use hsctsim::aggregate::results::Results;
use hsctsim::aggregate::{Layout, Tally};
use hsctsim::engine::Scratch;
use hsctsim::engine::{EngineError, simulate_patients};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Composed in memory: an `extends` in the input names no file of this machine (chains
    // of files are the `compose` target's).
    let mut files = hsctsim::scenario::compose::Memory::default();
    files.files.insert("fuzz.toml".into(), text.to_string());
    let top = files.top("fuzz.toml").expect("just inserted");
    let composed = hsctsim::scenario::compose::compose(top, None, &mut files.clone());
    let mut model = match composed.and_then(|c| c.build("fuzz")) {
        Ok(model) => model,
        Err(error) => {
            let shown = error.to_string();
            // An override can break a rule of a built-in model the file builds on; the
            // error then points into that model's file.
            assert!(
                shown.starts_with("fuzz.toml") || shown.starts_with("models/"),
                "{shown}"
            );
            assert!(!shown.contains('\u{1b}'), "{shown:?}");
            return;
        }
    };
    // A few patients, and a low bound on events so a model that loops ends quickly.
    model.settings.patients = model.settings.patients.min(8);
    model.settings.max_events = model.settings.max_events.min(500);
    let layout = Layout::new(&model);
    let mut tally = Tally::new(&layout);
    let mut scratch = Scratch::new(&model);
    let patients = 0..model.settings.patients;
    match simulate_patients(&model, &layout, 0, patients, &mut tally, &mut scratch) {
        Ok(()) => {}
        Err(EngineError::TooManyEvents { .. }) => return,
        // Costs that overflow are the model's (a run error naming the patient), not ours.
        Err(EngineError::EconomicValue { .. }) => return,
        Err(other) => panic!("{other}"),
    }
    let patients = model.settings.patients;
    if let Err(violation) = tally.check(patients, Some(&layout)) {
        panic!("a simulated tally breaks an invariant: {violation}");
    }
    let results = Results::from_tally(&model, &tally);
    for row in &results.curves {
        assert!(
            (0.0..=1.0).contains(&row.estimate),
            "a curve left [0, 1]: {row:?}"
        );
        assert!(row.lower <= row.estimate && row.estimate <= row.upper, "{row:?}");
    }
});
