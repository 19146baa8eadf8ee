//! Properties every run must have, over randomly generated valid models: CIR + NRM + LFS = 1,
//! monotone curves, occupancies summing to 1, OS equal to the mass outside death states,
//! and intervals that contain their estimate inside [0, 1].

use crate::common;

use std::fmt::Write;

use proptest::prelude::*;

/// A random model: `transient` states in a chain-like graph with random extra edges, two
/// death states, random families and flags. Every transient state gets a death exit, so
/// the model is always valid.
fn model_text(
    transient: usize,
    edges: &[(usize, usize, u8, f64)],
    relapse_flags: &[bool],
    hsct2_at: usize,
    horizon: u32,
    step: u32,
    seed: u64,
) -> String {
    let mut s = String::new();
    writeln!(s, "[simulation]\npatients = 3000\nseed = {seed}\nhorizon = {horizon}\ngrid = {step}\nlandmarks = []").unwrap();
    for i in 0..transient {
        let relapse = relapse_flags[i % relapse_flags.len()] && i > 0;
        writeln!(
            s,
            "[[states]]\nname = \"s{i}\"\nrelapse = {relapse}\nhsct2 = {}",
            i == hsct2_at
        )
        .unwrap();
    }
    writeln!(s, "[[states]]\nname = \"death_relapse\"\ndeath = \"relapse\"\n[[states]]\nname = \"death_nrm\"\ndeath = \"nrm\"").unwrap();
    writeln!(s, "[cohort]\nentry = \"s0\"").unwrap();
    let hazard = |kind: u8, scale: f64| match kind % 5 {
        0 => format!("rate = {}", 1.0 / scale),
        1 => format!("hazard = {{ family = \"weibull\", shape = 1.5, scale = {scale} }}"),
        2 => format!("hazard = {{ family = \"lognormal\", median = {scale}, sdlog = 0.8 }}"),
        3 => format!(
            "hazard = {{ family = \"loglogistic\", shape = 2.0, scale = {scale} }}\ncure = 0.3"
        ),
        _ => format!("after = {scale}"),
    };
    let mut seen = std::collections::HashSet::new();
    for &(from, to, kind, scale) in edges {
        let (from, to) = (from % transient, to % transient);
        if from == to || !seen.insert((from, to)) {
            continue;
        }
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{from}\"\nto = \"s{to}\"\n{}",
            hazard(kind, scale)
        )
        .unwrap();
    }
    for i in 0..transient {
        // Chain edge keeps every state reachable; death exits keep every state ending.
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
            "[[transitions]]\nfrom = \"s{i}\"\nto = \"death_relapse\"\n{}",
            hazard(i as u8, 8.0 + i as f64)
        )
        .unwrap();
        writeln!(
            s,
            "[[transitions]]\nfrom = \"s{i}\"\nto = \"death_nrm\"\nrate = 0.01"
        )
        .unwrap();
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn curves_obey_their_identities(
        transient in 1usize..6,
        edges in proptest::collection::vec((0usize..6, 0usize..6, 0u8..5, 0.5f64..30.0), 0..10),
        relapse_flags in proptest::collection::vec(any::<bool>(), 1..4),
        hsct2_at in 0usize..6,
        horizon in 6u32..72,
        step in 1u32..4,
        seed in 0u64..1000,
    ) {
        let horizon = horizon - horizon % step;
        let text = model_text(transient, &edges, &relapse_flags, hsct2_at, horizon, step, seed);
        let model = hsctsim::scenario::parse(&text, "random.toml", "random").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let (tally, results) = common::run(&model, 3000, 2);
        // The accumulators' own invariants, which part readers check (aggregate::invariants).
        let layout = hsctsim::aggregate::Layout::new(&model);
        prop_assert!(tally.check(3000, Some(&layout)).is_ok(), "{:?}", tally.check(3000, Some(&layout)));
        for origin in ["entry", "hsct2"] {
            let os = common::curve(&results, "default", origin, "os");
            if os.is_empty() {
                prop_assert_eq!(origin, "hsct2");
                continue;
            }
            let lfs = common::curve(&results, "default", origin, "lfs");
            let cir = common::curve(&results, "default", origin, "cir");
            let nrm = common::curve(&results, "default", origin, "nrm");
            let states: Vec<Vec<(f64, f64)>> = model.states.iter().map(|s| common::curve(&results, "default", origin, &format!("state:{}", s.name))).collect();
            for i in 0..os.len() {
                prop_assert!((cir[i].1 + nrm[i].1 + lfs[i].1 - 1.0).abs() < 1e-12, "CIR+NRM+LFS at {}", os[i].0);
                let total: f64 = states.iter().map(|c| c[i].1).sum();
                prop_assert!((total - 1.0).abs() < 1e-12, "occupancy sums to {total}");
                let dead: f64 = model.states.iter().zip(&states).filter(|(s, _)| s.death.is_some()).map(|(_, c)| c[i].1).sum();
                prop_assert!((os[i].1 - (1.0 - dead)).abs() < 1e-12, "OS vs death states");
                prop_assert!(lfs[i].1 <= os[i].1 + 1e-12, "LFS ≤ OS");
                if i > 0 {
                    prop_assert!(os[i].1 <= os[i - 1].1 && lfs[i].1 <= lfs[i - 1].1, "survival non-increasing");
                    prop_assert!(cir[i].1 >= cir[i - 1].1 && nrm[i].1 >= nrm[i - 1].1, "incidence non-decreasing");
                }
            }
            prop_assert_eq!(os[0].1, 1.0);
        }
        for row in &results.curves {
            prop_assert!(0.0 <= row.lower && row.lower <= row.estimate && row.estimate <= row.upper && row.upper <= 1.0, "interval {:?}", row);
        }
    }
}
