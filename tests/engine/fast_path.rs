//! The constant-hazard fast path leaves exactly the general engine's accumulators, bit for
//! bit, over randomly generated all-exponential models (loops, zero rates, an HSCT2 origin
//! anywhere, several entry states and strategies, awkward grids), and reports a model that
//! loops without end in the same words.

use crate::common;

use std::fmt::Write;

use hsctsim::engine::{Control, EngineError, simulate, uses_fast_path};
use hsctsim::model::Model;
use proptest::prelude::*;

/// Runs a model on the fast path and on the general engine.
fn both(model: &Model, threads: usize) -> [Result<hsctsim::aggregate::Tally, EngineError>; 2] {
    [false, true].map(|general_engine| {
        simulate(
            model,
            &Control {
                threads,
                general_engine,
                ..Control::default()
            },
        )
    })
}

/// A random all-exponential model. `edges` are (from, to, rate) among `transient` states;
/// every transient state also dies (so every life ends), the first strategy runs the file's
/// rates and the second scales some by a hazard ratio or switches one off.
#[allow(clippy::too_many_arguments)]
fn model_text(
    transient: usize,
    edges: &[(usize, usize, f64)],
    relapse_flags: &[bool],
    hsct2_at: usize,
    entry_mix: bool,
    horizon: f64,
    step: f64,
    seed: u64,
) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "[simulation]\npatients = 5000\nseed = {seed}\nhorizon = {horizon}\ngrid = {step}\nlandmarks = []"
    )
    .unwrap();
    for i in 0..transient {
        let relapse = relapse_flags[i % relapse_flags.len()] && i > 0;
        writeln!(
            s,
            "[[states]]\nname = \"s{i}\"\nrelapse = {relapse}\nhsct2 = {}",
            i == hsct2_at
        )
        .unwrap();
    }
    s.push_str("[[states]]\nname = \"death_relapse\"\ndeath = \"relapse\"\n");
    s.push_str("[[states]]\nname = \"death_nrm\"\ndeath = \"nrm\"\n");
    if entry_mix && transient > 1 {
        s.push_str("[cohort]\nentry = { s0 = 0.7, s1 = 0.3 }\n");
    } else {
        s.push_str("[cohort]\nentry = \"s0\"\n");
    }
    let mut seen = std::collections::HashSet::new();
    let mut first_edge = None;
    for &(from, to, rate) in edges {
        let (from, to) = (from % transient, to % transient);
        if from == to || !seen.insert((from, to)) {
            continue;
        }
        first_edge.get_or_insert((from, to));
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{from}\"\nto = \"s{to}\"\nrate = {rate}"
        )
        .unwrap();
    }
    for i in 0..transient {
        if i + 1 < transient && seen.insert((i, i + 1)) {
            writeln!(
                s,
                "[[transitions]]\nfrom = \"s{i}\"\nto = \"s{}\"\nrate = 0.2",
                i + 1
            )
            .unwrap();
        }
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{i}\"\nto = \"death_relapse\"\nrate = {}",
            0.02 + 0.01 * i as f64
        )
        .unwrap();
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{i}\"\nto = \"death_nrm\"\nrate = 0.01"
        )
        .unwrap();
    }
    s.push_str("[[strategies]]\nname = \"file\"\n");
    s.push_str("[[strategies]]\nname = \"changed\"\n");
    s.push_str("transitions = [ { from = \"s0\", to = \"death_nrm\", hr = 1.7 }");
    if let Some((from, to)) = first_edge {
        write!(
            s,
            ", {{ from = \"s{from}\", to = \"s{to}\", enabled = false }}"
        )
        .unwrap();
    }
    s.push_str(" ]\n");
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_equals_general_engine(
        transient in 1usize..7,
        edges in prop::collection::vec((0usize..7, 0usize..7, prop::sample::select(vec![0.0, 0.05, 0.3, 1.5])), 0..10),
        relapse_flags in prop::collection::vec(any::<bool>(), 1..4),
        hsct2_at in 0usize..8,
        entry_mix in any::<bool>(),
        grid in prop::sample::select(vec![(60.0, 1.0), (24.0, 0.5), (21.0, 0.7), (36.0, 12.0), (10.0, 1.0 / 3.0)]),
        seed in 0u64..1_000_000,
    ) {
        let text = model_text(transient, &edges, &relapse_flags, hsct2_at, entry_mix, grid.0, grid.1, seed);
        let model = common::parse(&text);
        // The fast path takes states with up to five exits (four thresholds); the
        // generator sometimes gives one six.
        let most_exits = model
            .strategies
            .iter()
            .flat_map(|s| s.exits.iter().map(|e| e.transitions.len()))
            .max()
            .unwrap_or(0);
        prop_assert_eq!(uses_fast_path(&model), most_exits <= 5, "{}", text);
        let [fast, general] = both(&model, 2);
        let (fast, general) = (fast.expect("fast path"), general.expect("general engine"));
        prop_assert!(fast.patients > 0);
        prop_assert_eq!(fast, general, "{}", text);
    }
}

/// The shipped reference model: same tally, and the fast path is the one `simulate` takes.
#[test]
fn reference_model_same_tally_both_ways() {
    let mut model = common::scenario("reference_markov");
    model.settings.patients = 200_000;
    assert!(uses_fast_path(&model));
    let [fast, general] = both(&model, 2);
    assert_eq!(fast.unwrap(), general.unwrap());
}

/// Models the fast path cannot run take the general engine.
#[test]
fn models_with_patient_specific_hazards_take_the_general_engine() {
    for name in ["donor_policy", "graft_failure", "donor_policy_cea"] {
        assert!(!uses_fast_path(&common::scenario(name)), "{name}");
    }
}

/// A life that loops past the bound on events is reported as the general engine reports it.
#[test]
fn endless_loop_is_the_same_error() {
    let mut text = model_text(
        3,
        &[(1, 0, 5.0), (0, 1, 5.0)],
        &[false],
        9,
        false,
        60.0,
        1.0,
        7,
    );
    text = text.replace("patients = 5000", "patients = 5000\nmax_events = 30");
    let model = common::parse(&text);
    assert!(uses_fast_path(&model));
    // One thread: the first looping patient is then the same one for both.
    let [fast, general] = both(&model, 1);
    let (fast, general) = (fast.unwrap_err(), general.unwrap_err());
    assert!(matches!(fast, EngineError::TooManyEvents { .. }), "{fast}");
    assert_eq!(fast, general);
}
