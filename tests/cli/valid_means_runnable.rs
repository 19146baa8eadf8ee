//! Whatever passes validation runs: random, valid-ish scenario texts (every feature of the
//! format, values mostly sensible and sometimes not) either fail to load with a located
//! message, or simulate without panicking — with and without the patient export, which
//! must not change the accumulators — and give curves that are proportions with
//! CIR + NRM + LFS = 1.

use std::fmt::Write;

use hsctsim::aggregate::results::Results;
use hsctsim::engine::ordered::simulate_in_order;
use hsctsim::engine::{Control, EngineError, simulate};
use hsctsim::export::Censoring;
use hsctsim::export::rows::{Columns, PatientRows};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// A number that is usually in `good` and sometimes one of the values that break models.
fn number(good: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![
        80 => good,
        1 => Just(0.0),
        1 => Just(-1.0),
        1 => Just(1e308),
        1 => Just(f64::NAN),
    ]
}

/// A number as TOML text (TOML spells NaN `nan`).
fn toml_number(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{x:?}")
    }
}

#[derive(Debug, Clone)]
struct Exit {
    from: usize,
    /// Index into states, then decisions, then one unknown name.
    to: usize,
    timing: u8,
    a: f64,
    b: f64,
    cure: Option<f64>,
    forward: bool,
    condition: Option<u8>,
    effect: Option<(u8, f64)>,
}

#[derive(Debug, Clone)]
struct Spec {
    transient: usize,
    flags: Vec<(bool, bool)>,
    deaths: u8,
    attributes: Vec<(u8, f64, f64)>,
    decisions: Vec<(bool, Vec<(usize, f64)>)>,
    exits: Vec<Exit>,
    background: Option<f64>,
    strategies: Vec<(u8, usize, f64)>,
    horizon: u32,
    step: u32,
    entry: Vec<(usize, f64)>,
    seed: u64,
}

fn exit() -> impl Strategy<Value = Exit> {
    (
        (
            0usize..6,
            0usize..12,
            0u8..9,
            number(0.05..30.0),
            number(0.2..4.0),
        ),
        (
            proptest::option::weighted(0.2, number(0.0..0.9)),
            any::<bool>(),
            proptest::option::weighted(0.2, 0u8..30),
            proptest::option::weighted(0.3, (0u8..30, number(0.3..3.0))),
        ),
    )
        .prop_map(
            |((from, to, timing, a, b), (cure, forward, condition, effect))| Exit {
                from,
                to,
                timing,
                a,
                b,
                cure,
                forward,
                condition,
                effect,
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            1usize..6,
            proptest::collection::vec((any::<bool>(), any::<bool>()), 6),
            0u8..8,
            proptest::collection::vec((0u8..7, number(0.0..1.0), number(0.1..60.0)), 0..4),
            proptest::collection::vec(
                (
                    any::<bool>(),
                    proptest::collection::vec((0usize..12, number(0.0..1.0)), 1..4),
                ),
                0..3,
            ),
        ),
        (
            proptest::collection::vec(exit(), 0..14),
            proptest::option::weighted(0.2, number(0.0..0.2)),
            proptest::collection::vec((0u8..4, 0usize..40, number(0.2..3.0)), 0..4),
            1u32..120,
            1u32..7,
            proptest::collection::vec((0usize..40, number(0.0..1.0)), 1..3),
            0u64..1_000,
        ),
    )
        .prop_map(
            |(
                (transient, flags, deaths, attributes, decisions),
                (exits, background, strategies, horizon, step, entry, seed),
            )| Spec {
                transient,
                flags,
                deaths,
                attributes,
                decisions,
                exits,
                background,
                strategies,
                horizon,
                step,
                entry,
                seed,
            },
        )
}

/// The scenario text of a spec. Names: states s0…, death_relapse, death_nrm; decisions
/// d0…; attributes a0…; one name, `nowhere`, that does not exist.
fn render(spec: &Spec) -> String {
    let mut s = String::new();
    let mut states: Vec<String> = (0..spec.transient).map(|i| format!("s{i}")).collect();
    // deaths: 1 drops the relapse death, 2 the NRM death, 3 both; 0 and 4..8 keep both.
    if spec.deaths != 1 && spec.deaths != 3 {
        states.push("death_relapse".into());
    }
    if spec.deaths != 2 && spec.deaths != 3 {
        states.push("death_nrm".into());
    }
    let decisions: Vec<String> = (0..spec.decisions.len()).map(|i| format!("d{i}")).collect();
    // Mostly a real state or decision; `nowhere` for k = 39.
    let target = |k: usize| -> String {
        let all: Vec<&String> = states.iter().chain(&decisions).collect();
        if k == 39 {
            "nowhere".to_string()
        } else {
            all[k % all.len()].to_string()
        }
    };
    let attributes: Vec<String> = (0..spec.attributes.len())
        .map(|i| format!("a{i}"))
        .collect();
    // Rules over the attributes, typed to each attribute's kind (so most compile).
    let rule = |k: u8| -> String {
        let about = |i: usize| -> String {
            match spec.attributes.get(i).map(|a| a.0) {
                Some(0) => format!("a{i} in ['L0', 'L1']"),
                Some(1) => format!("not a{i}"),
                Some(_) => format!("a{i} >= 1"),
                None => "time >= 0".into(),
            }
        };
        match k {
            0 => "time > 3".into(),
            1 => about(0),
            2 => format!("visited('s0') and {}", about(1)),
            3 => format!("time_since('s0') < 6m or {}", about(2)),
            4 => format!("{} and policy == 'other'", about(0)),
            5 => "visits('s0') >= 2".into(),
            29 => "nowhere".into(),
            _ => about(k as usize % 3),
        }
    };
    writeln!(
        s,
        "[simulation]\npatients = 100\nseed = {}\nhorizon = {}\ngrid = {}\nmax_events = 400\nlandmarks = []",
        spec.seed,
        if spec.horizon.is_multiple_of(9) { spec.horizon } else { spec.horizon * spec.step },
        spec.step
    )
    .unwrap();
    for (i, name) in states.iter().enumerate() {
        writeln!(s, "[[states]]\nname = \"{name}\"").unwrap();
        if name == "death_relapse" {
            writeln!(s, "death = \"relapse\"").unwrap();
        } else if name == "death_nrm" {
            writeln!(s, "death = \"nrm\"").unwrap();
        } else {
            let (relapse, hsct2) = spec.flags[i];
            writeln!(s, "relapse = {}\nhsct2 = {}", relapse && i > 0, hsct2).unwrap();
        }
    }
    writeln!(
        s,
        "[[variables]]\nname = \"policy\"\nlevels = [\"usual\", \"other\"]\ndefault = \"usual\""
    )
    .unwrap();
    write!(s, "[cohort]\nentry = ").unwrap();
    // Entry into a living state, except for k = 37 and 39.
    let entry = |k: usize| {
        if k >= 37 {
            target(k)
        } else {
            format!("s{}", k % spec.transient)
        }
    };
    let (first, p) = spec.entry[0];
    match spec.entry.get(1).map(|e| entry(e.0)) {
        Some(second) if second != entry(first) => writeln!(
            s,
            "{{ {} = {}, {second} = {} }}",
            entry(first),
            toml_number(p),
            toml_number(1.0 - p)
        ),
        _ => writeln!(s, "\"{}\"", entry(first)),
    }
    .unwrap();
    for (i, (kind, x, y)) in spec.attributes.iter().enumerate() {
        writeln!(s, "[[cohort.attributes]]\nname = \"a{i}\"").unwrap();
        let (x, y) = (toml_number(*x), toml_number(*y));
        match kind {
            0 => writeln!(
                s,
                "levels = {{ L0 = {x}, L1 = {} }}",
                toml_number(1.0 - spec.attributes[i].1)
            ),
            1 => writeln!(s, "probability = {x}"),
            2 => writeln!(s, "distribution = \"normal\"\nmean = {y}\nsd = {x}"),
            3 => writeln!(s, "distribution = \"lognormal\"\nmedian = {y}\nsdlog = {x}"),
            4 => writeln!(s, "distribution = \"uniform\"\nmin = {x}\nmax = {y}"),
            5 => {
                let rest = toml_number((1.0 - spec.attributes[i].1) / 2.0);
                writeln!(
                    s,
                    "distribution = \"discrete\"\nvalues = [0, 1, 2]\nprobabilities = [{x}, {rest}, {rest}]"
                )
            }
            _ => writeln!(s, "distribution = \"gamma\"\nmean = {y}\nsd = {x}\nmin = 1"),
        }
        .unwrap();
    }
    for (i, (chance, branches)) in spec.decisions.iter().enumerate() {
        let n = branches.len();
        let parts: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(k, (to, p))| {
                // Branches lead to states (a decision only for k = 38: loops are rare).
                let to = if *to == 38 || *to == 39 {
                    *to
                } else {
                    to % states.len()
                };
                let to = &to;
                if *chance {
                    // Equal shares, unless the drawn value is one of the bad ones.
                    let share = if p.is_finite() && (0.0..=1.0).contains(p) {
                        1.0 / n as f64
                    } else {
                        *p
                    };
                    format!("{{ to = \"{}\", p = {} }}", target(*to), toml_number(share))
                } else if k + 1 < n {
                    format!(
                        "{{ to = \"{}\", if = \"{}\", set = {{ policy = \"other\" }} }}",
                        target(*to),
                        rule(k as u8 + 1)
                    )
                } else {
                    format!("{{ to = \"{}\" }}", target(*to))
                }
            })
            .collect();
        writeln!(
            s,
            "[[decisions]]\nname = \"d{i}\"\nbranches = [ {} ]",
            parts.join(", ")
        )
        .unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for e in &spec.exits {
        let from = format!("s{}", e.from % spec.transient);
        if !seen.insert((from.clone(), target(e.to))) {
            continue;
        }
        let (a, b) = (toml_number(e.a), toml_number(e.b));
        writeln!(
            s,
            "[[transitions]]\nfrom = \"{from}\"\nto = \"{}\"",
            target(e.to)
        )
        .unwrap();
        let hazard = e.timing < 7;
        match e.timing {
            0 => writeln!(s, "rate = {}", toml_number(1.0 / e.a)),
            1 => writeln!(
                s,
                "hazard = {{ family = \"weibull\", shape = {b}, scale = {a} }}"
            ),
            2 => writeln!(
                s,
                "hazard = {{ family = \"lognormal\", median = {a}, sdlog = {b} }}"
            ),
            3 => writeln!(
                s,
                "hazard = {{ family = \"loglogistic\", shape = {b}, scale = {a} }}"
            ),
            4 => writeln!(
                s,
                "hazard = {{ family = \"gompertz\", shape = {}, rate = {} }}",
                toml_number(-e.b / 10.0),
                toml_number(1.0 / e.a)
            ),
            5 => writeln!(
                s,
                "hazard = {{ family = \"piecewise\", starts = [0, {a}], rates = [0.1, {b}] }}"
            ),
            6 => writeln!(s, "hazard = {{ family = \"uniform\", min = 0, max = {a} }}"),
            7 => writeln!(s, "after = {a}"),
            _ => writeln!(s, "at = {a}"),
        }
        .unwrap();
        if let (true, Some(cure)) = (hazard, e.cure) {
            writeln!(s, "cure = {}", toml_number(cure)).unwrap();
        }
        if e.forward {
            writeln!(s, "clock = \"forward\"").unwrap();
        }
        if let Some(k) = e.condition {
            writeln!(s, "if = \"{}\"", rule(k)).unwrap();
        }
        if let (true, Some((k, hr))) = (hazard, e.effect) {
            writeln!(
                s,
                "effects = [ {{ if = \"{}\", hr = {} }}, {{ per = \"time\", unit = \"months\", hr = 1.01 }} ]",
                rule(k),
                toml_number(hr)
            )
            .unwrap();
        }
    }
    // A chain through the transient states keeps most of them reachable, and every
    // transient state can die (unless the spec dropped both death states).
    for i in 0..spec.transient {
        if i + 1 < spec.transient && seen.insert((format!("s{i}"), format!("s{}", i + 1))) {
            writeln!(
                s,
                "[[transitions]]\nfrom = \"s{i}\"\nto = \"s{}\"\nrate = 0.2",
                i + 1
            )
            .unwrap();
        }
        for death in states.iter().filter(|n| n.starts_with("death")) {
            if seen.insert((format!("s{i}"), death.clone())) {
                writeln!(
                    s,
                    "[[transitions]]\nfrom = \"s{i}\"\nto = \"{death}\"\nrate = 0.05"
                )
                .unwrap();
            }
        }
    }
    if let Some(q) = spec.background
        && !attributes.is_empty()
    {
        writeln!(s, "[background_mortality]\nto = \"death_nrm\"\nage = \"a0\"\nages = [0, 50]\nannual_probability = [{}, 0.05]", toml_number(q)).unwrap();
    }
    for (i, (kind, k, hr)) in spec.strategies.iter().enumerate() {
        writeln!(s, "[[strategies]]\nname = \"arm{i}\"").unwrap();
        match kind {
            0 => writeln!(s, "set = {{ policy = \"other\" }}").unwrap(),
            1 => {
                if let Some(e) = spec.exits.get(*k % spec.exits.len().max(1)) {
                    writeln!(
                        s,
                        "transitions = [ {{ from = \"s{}\", to = \"{}\", hr = {} }} ]",
                        e.from % spec.transient,
                        target(e.to),
                        toml_number(*hr)
                    )
                    .unwrap();
                }
            }
            2 => {
                if let Some(e) = spec.exits.get(*k % spec.exits.len().max(1)) {
                    writeln!(
                        s,
                        "transitions = [ {{ from = \"s{}\", to = \"{}\", enabled = false }} ]",
                        e.from % spec.transient,
                        target(e.to)
                    )
                    .unwrap();
                }
            }
            _ => {
                if !decisions.is_empty() {
                    writeln!(
                        s,
                        "decisions = {{ d0 = [ {{ to = \"{}\" }} ] }}",
                        target(*k)
                    )
                    .unwrap();
                }
            }
        }
    }
    s
}

/// The property: a located error, or a run that keeps its promises.
fn check(text: &str) -> Result<bool, TestCaseError> {
    let model = match hsctsim::scenario::parse(text, "random.toml", "random") {
        Ok(model) => model,
        Err(e) => {
            let shown = e.to_string();
            prop_assert!(shown.starts_with("random.toml"), "{shown}");
            prop_assert!(shown.contains("help:"), "no hint: {shown}\n{text}");
            if std::env::var("SHOW_REASONS").is_ok() {
                eprintln!("REASON {}", e.message);
            }
            return Ok(false);
        }
    };
    let control = Control {
        threads: 1,
        ..Control::default()
    };
    let tally = match simulate(&model, &control) {
        Ok(tally) => tally,
        Err(EngineError::TooManyEvents { .. }) => return Ok(true),
        Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
    };
    // The same run with the patient export (censored, two workers): same accumulators.
    let columns = Columns::new(&model, Some(Censoring::new(12.0, 6.0).unwrap()), 0);
    let mut rows = 0;
    let exported = simulate_in_order(
        &model,
        &Control {
            threads: 2,
            ..Control::default()
        },
        || PatientRows::new(&columns),
        |chunk: PatientRows| -> Result<(), ()> {
            rows += chunk.rows();
            Ok(())
        },
    )
    .map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
    prop_assert_eq!(
        &exported,
        &tally,
        "the export changed the accumulators\n{}",
        text
    );
    prop_assert!(rows >= tally.patients * model.strategies.len() as u64);
    let results = Results::from_tally(&model, &tally);
    for row in &results.curves {
        prop_assert!(
            (0.0..=1.0).contains(&row.estimate)
                && row.lower <= row.estimate
                && row.estimate <= row.upper,
            "{:?}\n{}",
            row,
            text
        );
    }
    let value = |strategy: &str, origin: &str, measure: &str, i: usize| {
        results
            .curves
            .iter()
            .filter(|r| {
                r.strategy == strategy && r.origin.as_str() == origin && r.measure == measure
            })
            .nth(i)
            .map(|r| r.estimate)
    };
    for strategy in &model.strategies {
        for origin in ["entry", "hsct2"] {
            for i in 0..model.settings.grid_len() {
                if let (Some(lfs), Some(cir), Some(nrm)) = (
                    value(&strategy.name, origin, "lfs", i),
                    value(&strategy.name, origin, "cir", i),
                    value(&strategy.name, origin, "nrm", i),
                ) {
                    prop_assert!((lfs + cir + nrm - 1.0).abs() < 1e-12, "{}", text);
                }
            }
        }
    }
    Ok(true)
}

#[test]
fn whatever_passes_validation_simulates() {
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let valid = std::cell::Cell::new(0u32);
    let total = std::cell::Cell::new(0u32);
    let outcome = runner.run(&spec(), |spec| {
        let text = render(&spec);
        total.set(total.get() + 1);
        if check(&text)? {
            valid.set(valid.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    eprintln!(
        "{} of {} random scenarios were valid",
        valid.get(),
        total.get()
    );
    // Both sides of the property are exercised.
    assert!(
        valid.get() >= total.get() / 10,
        "only {} valid",
        valid.get()
    );
    assert!(
        valid.get() <= total.get() * 9 / 10,
        "{} valid: too few bad ones",
        valid.get()
    );
}
