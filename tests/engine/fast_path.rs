//! The constant-hazard fast path leaves exactly the general engine's accumulators, bit for
//! bit, over randomly generated all-exponential models (up to 14 states, loops, zero rates
//! and zero-rate states, absorbing states that are not deaths, relapse-flagged and HSCT2
//! entry states, HSCT2 origins anywhere, landmarks, several entry states and strategies,
//! awkward grids), reports a model that loops without end in the same words, and the
//! engine's cross-check mode runs a whole run on both kernels.

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

/// The shape of a random all-exponential model (see [`model_text`]).
#[derive(Debug, Clone)]
struct Shape {
    /// Transient states `s0…`; with the absorbing states and the two deaths at most 14.
    transient: usize,
    /// Absorbing states that are not deaths (`a0…`, "cured" or "lost").
    absorbing: usize,
    /// (from, to, rate): `from` among the transient states, `to` among transient and
    /// absorbing ones (taken modulo their numbers).
    edges: Vec<(usize, usize, f64)>,
    /// Relapse flags, cycled over the states (the entry states and absorbing ones too).
    relapse_flags: Vec<bool>,
    /// HSCT2 states by bit (transient only; bits 0 and 1 are the entry states).
    hsct2_bits: u16,
    /// Transient states whose every exit has rate 0, by bit: the patient stays for ever.
    zero_bits: u16,
    /// Two entry states (s0 70 %, s1 30 %) rather than one.
    entry_mix: bool,
    /// Landmarks as fractions of the horizon, put on the grid.
    landmarks: Vec<f64>,
    /// Horizon and grid step.
    grid: (f64, f64),
    seed: u64,
}

/// A random all-exponential model of a [`Shape`]. Every transient state also dies (so
/// every life ends) unless it is a zero-rate state; the first strategy runs the file's
/// rates and the second scales one by a hazard ratio and switches one edge off.
fn model_text(shape: &Shape) -> String {
    let Shape {
        transient,
        absorbing,
        ref edges,
        ref relapse_flags,
        hsct2_bits,
        zero_bits,
        entry_mix,
        ref landmarks,
        grid: (horizon, step),
        seed,
    } = *shape;
    let absorbing = absorbing.min(12 - transient);
    let zero = |i: usize| zero_bits >> i & 1 == 1;
    let mut s = String::new();
    let steps = (horizon / step).round() as usize;
    let mut marks: Vec<usize> = landmarks
        .iter()
        .map(|f| ((f * steps as f64).round() as usize).clamp(1, steps))
        .collect();
    marks.sort_unstable();
    marks.dedup();
    let marks: Vec<String> = marks
        .iter()
        .map(|m| format!("{}", *m as f64 * step))
        .collect();
    writeln!(
        s,
        "[simulation]\npatients = 5000\nseed = {seed}\nhorizon = {horizon}\ngrid = {step}\nlandmarks = [{}]",
        marks.join(", ")
    )
    .unwrap();
    let mut flag = relapse_flags.iter().cycle();
    for i in 0..transient {
        writeln!(
            s,
            "[[states]]\nname = \"s{i}\"\nrelapse = {}\nhsct2 = {}",
            flag.next().unwrap(),
            hsct2_bits >> i & 1 == 1
        )
        .unwrap();
    }
    for k in 0..absorbing {
        writeln!(
            s,
            "[[states]]\nname = \"a{k}\"\nabsorbing = true\nrelapse = {}",
            flag.next().unwrap()
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
    let name = |to: usize| match to < transient {
        true => format!("s{to}"),
        false => format!("a{}", to - transient),
    };
    let mut seen = std::collections::HashSet::new();
    let mut first_edge = None;
    for &(from, to, rate) in edges {
        let (from, to) = (from % transient, to % (transient + absorbing));
        if from == to || !seen.insert((from, to)) {
            continue;
        }
        first_edge.get_or_insert((from, to));
        let rate = if zero(from) { 0.0 } else { rate };
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{from}\"\nto = \"{}\"\nrate = {rate}",
            name(to)
        )
        .unwrap();
    }
    // Every absorbing state reachable (the loader refuses one that is not).
    for k in 0..absorbing {
        let from = k % transient;
        if seen.insert((from, transient + k)) {
            let rate = if zero(from) { 0.0 } else { 0.1 };
            writeln!(
                s,
                "[[transitions]]\nfrom = \"s{from}\"\nto = \"a{k}\"\nrate = {rate}"
            )
            .unwrap();
        }
    }
    for i in 0..transient {
        let zero = zero(i);
        let rate = |r: f64| if zero { 0.0 } else { r };
        if i + 1 < transient && seen.insert((i, i + 1)) {
            writeln!(
                s,
                "[[transitions]]\nfrom = \"s{i}\"\nto = \"s{}\"\nrate = {}",
                i + 1,
                rate(0.2)
            )
            .unwrap();
        }
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{i}\"\nto = \"death_relapse\"\nrate = {}",
            rate(0.02 + 0.01 * i as f64)
        )
        .unwrap();
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{i}\"\nto = \"death_nrm\"\nrate = {}",
            rate(0.01)
        )
        .unwrap();
    }
    s.push_str("[[strategies]]\nname = \"file\"\n");
    s.push_str("[[strategies]]\nname = \"changed\"\n");
    s.push_str("transitions = [ { from = \"s0\", to = \"death_nrm\", hr = 1.7 }");
    if let Some((from, to)) = first_edge {
        write!(
            s,
            ", {{ from = \"s{from}\", to = \"{}\", enabled = false }}",
            name(to)
        )
        .unwrap();
    }
    s.push_str(" ]\n");
    s
}

/// Random shapes: up to 14 states, absorbing non-death states, relapse-flagged and HSCT2
/// entry states, zero-rate states, landmarks, awkward grids.
fn shapes() -> impl Strategy<Value = Shape> {
    (
        (1usize..=12, 0usize..=3),
        prop::collection::vec(
            (
                0usize..14,
                0usize..14,
                prop::sample::select(vec![0.0, 0.05, 0.3, 1.5]),
            ),
            0..16,
        ),
        prop::collection::vec(any::<bool>(), 1..5),
        (
            any::<u16>(),
            prop::sample::select(vec![0u16, 0, 1, 2, 4, 0x14, 0xffff]),
            any::<u16>(),
        ),
        any::<bool>(),
        prop::collection::vec(0.0f64..=1.0, 0..4),
        prop::sample::select(vec![
            (60.0, 1.0),
            (24.0, 0.5),
            (21.0, 0.7),
            (36.0, 12.0),
            (10.0, 1.0 / 3.0),
        ]),
        0u64..1_000_000,
    )
        .prop_map(
            |(
                (transient, absorbing),
                edges,
                relapse_flags,
                (hsct2, zero, sparse),
                entry_mix,
                landmarks,
                grid,
                seed,
            )| {
                Shape {
                    transient,
                    absorbing,
                    edges,
                    relapse_flags,
                    // Often none or one HSCT2 state, sometimes several.
                    hsct2_bits: hsct2 & sparse & (sparse >> 3),
                    zero_bits: zero & !1 | (zero & sparse & 1),
                    entry_mix,
                    landmarks,
                    grid,
                    seed,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_equals_general_engine(shape in shapes()) {
        let text = model_text(&shape);
        let model = common::parse(&text);
        prop_assert!(model.states.len() <= 14);
        // The fast path takes states with up to five exits (four thresholds); the
        // generator sometimes gives one more.
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

/// A small shape for the fixed tests below.
fn chain(transient: usize, edges: &[(usize, usize, f64)], seed: u64) -> Shape {
    Shape {
        transient,
        absorbing: 0,
        edges: edges.to_vec(),
        relapse_flags: vec![false],
        hsct2_bits: 0,
        zero_bits: 0,
        entry_mix: false,
        landmarks: vec![],
        grid: (60.0, 1.0),
        seed,
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
    let mut text = model_text(&chain(3, &[(1, 0, 5.0), (0, 1, 5.0)], 7));
    text = text.replace("patients = 5000", "patients = 5000\nmax_events = 30");
    let model = common::parse(&text);
    assert!(uses_fast_path(&model));
    // One thread: the first looping patient is then the same one for both.
    let [fast, general] = both(&model, 1);
    let (fast, general) = (fast.unwrap_err(), general.unwrap_err());
    assert!(matches!(fast, EngineError::TooManyEvents { .. }), "{fast}");
    assert_eq!(fast, general);
}

/// The cross-check mode runs every chunk on both kernels and finds them equal: on the
/// shipped reference model (fast path) and on a random-looking model with every feature
/// of the property test, over several chunks and threads; the result is the plain run's.
#[test]
fn cross_check_mode_finds_the_kernels_equal() {
    let mut reference = common::scenario("reference_markov");
    reference.settings.patients = 3 * hsctsim::engine::CHUNK + 17;
    let shape = Shape {
        transient: 9,
        absorbing: 2,
        edges: vec![
            (0, 9, 0.3),
            (2, 10, 0.05),
            (3, 1, 1.5),
            (5, 2, 0.3),
            (7, 4, 0.05),
        ],
        relapse_flags: vec![true, false, false],
        hsct2_bits: 0b1000_0001,
        zero_bits: 0b100_0000,
        entry_mix: true,
        landmarks: vec![0.25, 0.5],
        grid: (21.0, 0.7),
        seed: 11,
    };
    let text = model_text(&shape);
    let mut random = common::parse(&text);
    random.settings.patients = 2 * hsctsim::engine::CHUNK + 5;
    for model in [reference, random] {
        assert!(uses_fast_path(&model), "{}", model.name);
        let plain = simulate(
            &model,
            &Control {
                threads: 2,
                ..Control::default()
            },
        );
        let checked = simulate(
            &model,
            &Control {
                threads: 2,
                cross_check: true,
                ..Control::default()
            },
        );
        assert_eq!(checked.expect("the kernels agree"), plain.expect("a run"));
    }
}
