//! Same scenario and seed ⇒ byte-identical outputs, whatever the threads or the split of
//! patients into parts.

use crate::common;

use hsctsim::aggregate::Tally;
use hsctsim::aggregate::results::Results;
use hsctsim::engine::{Control, simulate};
use hsctsim::output::{curves, summary};

fn bytes(model: &hsctsim::model::Model, tally: &Tally) -> (Vec<u8>, Vec<u8>) {
    let results = Results::from_tally(model, tally);
    (
        curves::to_csv(&results.curves),
        summary::to_csv(&results.summary),
    )
}

/// A model with attributes, rule and chance decisions, covariate effects, non-exponential
/// hazards and several strategies: every source of randomness and every accumulator.
const RICH: &str = r#"
[simulation]
patients = 60000
seed = 99
horizon = "36m"
grid = "1m"
[[states]]
name = "relapse"
[[states]]
name = "salvage"
[[states]]
name = "hsct2"
hsct2 = true
[[states]]
name = "relapse2"
relapse = true
[[states]]
name = "palliative"
[[states]]
name = "death_relapse"
death = "relapse"
[[states]]
name = "death_nrm"
death = "nrm"
[[variables]]
name = "donor"
levels = ["same", "different"]
default = "same"
[cohort]
entry = "relapse"
[[cohort.attributes]]
name = "age"
distribution = "normal"
mean = 45
sd = 12
min = 18
max = 75
[[cohort.attributes]]
name = "cgvhd"
probability = 0.3
[[cohort.attributes]]
name = "remission"
distribution = "lognormal"
median = "8m"
sdlog = 0.8
[[decisions]]
name = "eligible"
branches = [ { to = "hsct2", if = "remission >= 6m and age < 70" }, { to = "coin" } ]
[[decisions]]
name = "coin"
branches = [ { to = "hsct2", p = 0.3 }, { to = "palliative", p = 0.7 } ]
[[transitions]]
from = "relapse"
to = "salvage"
hazard = { family = "weibull", shape = 1.4, scale = "1m" }
[[transitions]]
from = "salvage"
to = "eligible"
hazard = { family = "lognormal", median = "2m", sdlog = 0.5 }
[[transitions]]
from = "salvage"
to = "death_relapse"
rate = 0.05
[[transitions]]
from = "hsct2"
to = "relapse2"
hazard = { family = "weibull", shape = 0.8, scale = "30m" }
cure = 0.3
effects = [ { if = "donor == 'different'", hr = 0.8 } ]
[[transitions]]
from = "hsct2"
to = "death_nrm"
rate = 0.01
effects = [ { if = "cgvhd", hr = 2.9 }, { per = "age", hr = 1.02, reference = 45 } ]
[[transitions]]
from = "relapse2"
to = "death_relapse"
rate = 0.2
[[transitions]]
from = "palliative"
to = "death_relapse"
rate = 0.3
[[strategies]]
name = "same_donor"
[[strategies]]
name = "different_donor"
set = { donor = "different" }
[[strategies]]
name = "hsct2_for_all"
decisions = { eligible = [ { to = "hsct2" } ] }
"#;

#[test]
fn one_and_two_threads_give_identical_bytes() {
    for model in [common::scenario("reference_markov"), common::parse(RICH)] {
        let mut model = model;
        model.settings.patients = 60_000;
        let one = simulate(
            &model,
            &Control {
                threads: 1,
                ..Control::default()
            },
        )
        .unwrap();
        let two = simulate(
            &model,
            &Control {
                threads: 2,
                ..Control::default()
            },
        )
        .unwrap();
        assert_eq!(one, two, "{}: tallies differ", model.name);
        assert_eq!(bytes(&model, &one), bytes(&model, &two));
        let again = simulate(
            &model,
            &Control {
                threads: 2,
                ..Control::default()
            },
        )
        .unwrap();
        assert_eq!(
            bytes(&model, &two),
            bytes(&model, &again),
            "repeated runs differ"
        );
    }
}

#[test]
fn parts_merge_into_the_whole_for_any_split() {
    let model = common::parse(RICH);
    let n = model.settings.patients;
    let whole = simulate(
        &model,
        &Control {
            threads: 2,
            ..Control::default()
        },
    )
    .unwrap();
    // Splits that cut through work chunks, not only at their boundaries.
    for cuts in [vec![1], vec![4095, 4097], vec![12_345, 30_000, 59_999]] {
        let mut bounds = vec![0];
        bounds.extend(&cuts);
        bounds.push(n);
        let mut merged: Option<Tally> = None;
        for pair in bounds.windows(2).rev() {
            let part = simulate(
                &model,
                &Control {
                    threads: 1,
                    patients: Some((pair[0], pair[1])),
                    ..Control::default()
                },
            )
            .unwrap();
            match &mut merged {
                Some(m) => m.merge(&part),
                None => merged = Some(part),
            }
        }
        let merged = merged.unwrap();
        assert_eq!(merged, whole, "split at {cuts:?}");
        assert_eq!(bytes(&model, &merged), bytes(&model, &whole));
    }
}

#[test]
fn different_seeds_give_different_results() {
    let mut model = common::parse(RICH);
    let a = simulate(&model, &Control::default()).unwrap();
    model.settings.seed += 1;
    let b = simulate(&model, &Control::default()).unwrap();
    assert_ne!(bytes(&model, &a).0, bytes(&model, &b).0);
}
