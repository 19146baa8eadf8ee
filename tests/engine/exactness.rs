//! The all-exponential reference model against its exact solution P(t) = exp(Qt).
//!
//! Every state's occupancy and OS, LFS, CIR and NRM at every month must lie within 4 Monte
//! Carlo standard errors of the exact value, SE = sqrt(p(1 − p) / n) with p exact. A correct
//! engine exceeds 4 SE at a given point with probability 6e-5, so over the ~660 points a
//! chance failure has probability ≤ 4 %; the seed is fixed, so the test is deterministic and
//! a failure after a change means the change moved the numbers. At n = 1e6 a systematic
//! error of 0.2 percentage points anywhere fails it.

use crate::common;

use hsctsim::markov::exact_curves;

#[test]
fn reference_markov_matches_matrix_exponential() {
    let model = common::scenario("reference_markov");
    let n = 1_000_000u64;
    let (_, results) = common::run(&model, n, 0);
    let grid = model.settings.grid();
    let exact = exact_curves(&model, 0, &grid).expect("all-exponential model");
    let name = &model.strategies[0].name;
    let mut worst = (0.0f64, String::new());
    let mut check = |measure: &str, expected: &[f64]| {
        let simulated = common::curve(&results, name, "entry", measure);
        assert_eq!(
            simulated.len(),
            grid.len(),
            "{measure}: one row per grid point"
        );
        for ((t, estimate), p) in simulated.iter().zip(expected) {
            let se = (p * (1.0 - p) / n as f64).sqrt().max(1e-12);
            let z = (estimate - p) / se;
            if z.abs() > worst.0.abs() {
                worst = (
                    z,
                    format!("{measure} at {t}: simulated {estimate}, exact {p}"),
                );
            }
            assert!(
                (estimate - p).abs() <= 4.0 * se + 1e-12,
                "{measure} at month {t}: simulated {estimate}, exact {p}, z = {z:.2}"
            );
        }
    };
    check("os", &exact.os);
    check("lfs", &exact.lfs);
    check("cir", &exact.cir);
    check("nrm", &exact.nrm);
    for (s, state) in model.states.iter().enumerate() {
        let column: Vec<f64> = exact.occupancy.iter().map(|p| p[s]).collect();
        check(&format!("state:{}", state.name), &column);
    }
    eprintln!("largest deviation: z = {:.2} ({})", worst.0, worst.1);
}

/// The same check on a model with a decision node (chance branches), background-free.
#[test]
fn chance_decisions_match_the_expanded_chain() {
    let model = common::parse(
        r#"
        [simulation]
        patients = 400000
        seed = 7
        horizon = "36m"
        [[states]]
        name = "relapse"
        [[states]]
        name = "hsct2"
        hsct2 = true
        [[states]]
        name = "palliative"
        [[states]]
        name = "dead"
        death = "nrm"
        [[states]]
        name = "dead_disease"
        death = "relapse"
        [cohort]
        entry = "relapse"
        [[decisions]]
        name = "after_salvage"
        branches = [ { to = "hsct2", p = 0.45 }, { to = "palliative", p = 0.55 } ]
        [[transitions]]
        from = "relapse"
        to = "after_salvage"
        rate = 0.5
        [[transitions]]
        from = "hsct2"
        to = "dead"
        rate = 0.03
        [[transitions]]
        from = "hsct2"
        to = "dead_disease"
        rate = 0.02
        [[transitions]]
        from = "palliative"
        to = "dead_disease"
        rate = 0.3
    "#,
    );
    let n = model.settings.patients;
    let (_, results) = common::run(&model, n, 0);
    let grid = model.settings.grid();
    let exact = exact_curves(&model, 0, &grid).expect("chain");
    for (s, state) in model.states.iter().enumerate() {
        let simulated = common::curve(
            &results,
            "default",
            "entry",
            &format!("state:{}", state.name),
        );
        for ((t, estimate), p) in simulated.iter().zip(exact.occupancy.iter().map(|p| p[s])) {
            let se = (p * (1.0 - p) / n as f64).sqrt().max(1e-12);
            assert!(
                (estimate - p).abs() <= 4.0 * se + 1e-12,
                "{} at {t}: {estimate} vs {p}",
                state.name
            );
        }
    }
}
