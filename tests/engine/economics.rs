//! Health economics against closed forms and textbook cases.

use crate::common;

use hsctsim::aggregate::economic_estimates::EconomicResults;

fn value(
    results: &EconomicResults,
    strategy: &str,
    statistic: &str,
    wtp: Option<f64>,
) -> (f64, f64) {
    let row = results
        .values
        .iter()
        .find(|r| r.strategy == strategy && r.statistic == statistic && r.wtp == wtp)
        .unwrap_or_else(|| panic!("no {strategy} {statistic} {wtp:?}"));
    (row.estimate, row.se)
}

/// A (cost a, utility uA) → B at rate μ or death at rate λ; B (cost b, utility uB) → death
/// at rate ν; entering B costs K and loses d QALYs. Costs discounted at 3.5 %, effects at
/// 1.5 % (continuous equivalents), horizon T = 10 years. Expected values per patient:
///   ∫₀ᵀ e^{−kt} dt = (1 − e^{−kT}) / k = I(k)
///   cost  = a·I(α+δc) + b·μ/(ν−α)·[I(α+δc) − I(ν+δc)] + K·μ·I(α+δc),   α = μ + λ
///   QALYs = uA/12·I(α+δe) + uB/12·μ/(ν−α)·[I(α+δe) − I(ν+δe)] − d·μ·I(α+δe)
///   LYs   = 1/12·I(α+δe) + 1/12·μ/(ν−α)·[I(α+δe) − I(ν+δe)]
/// and undiscounted with δ = 0. The simulation must match within 4 standard errors.
#[test]
fn expected_costs_and_qalys_match_the_closed_form() {
    let (a, b, k, d) = (3000.0, 1500.0, 120_000.0, 0.1);
    let (ua, ub) = (0.6, 0.8);
    let (mu, lambda, nu) = (0.2, 0.05, 0.02);
    let horizon = 120.0;
    let model = common::parse(&format!(
        r#"
        [simulation]
        patients = 400000
        seed = 3
        horizon = "{horizon}m"
        grid = "12m"
        [[states]]
        name = "a"
        [[states]]
        name = "b"
        [[states]]
        name = "dead"
        death = "relapse"
        [cohort]
        entry = "a"
        [[transitions]]
        from = "a"
        to = "b"
        rate = {mu}
        [[transitions]]
        from = "a"
        to = "dead"
        rate = {lambda}
        [[transitions]]
        from = "b"
        to = "dead"
        rate = {nu}
        [economics]
        currency = "EUR"
        discount_costs = 0.035
        discount_effects = 0.015
        wtp = [50000]
        states = [
          {{ state = "a", cost = {a}, utility = {ua} }},
          {{ state = "b", cost = {b}, utility = {ub} }},
        ]
        events = [ {{ on = "b", cost = {k}, disutility = {d} }} ]
        "#
    ));
    let n = model.settings.patients;
    let (_, results) = common::run(&model, n, 0);
    let economics = results.economics.expect("economic results");
    let integral = |rate: f64| (1.0 - (-rate * horizon).exp()) / rate;
    let alpha = mu + lambda;
    let expected = |delta_c: f64, delta_e: f64| {
        let occupancy_b =
            |delta: f64| mu / (nu - alpha) * (integral(alpha + delta) - integral(nu + delta));
        let cost = a * integral(alpha + delta_c)
            + b * occupancy_b(delta_c)
            + k * mu * integral(alpha + delta_c);
        let qalys = ua / 12.0 * integral(alpha + delta_e) + ub / 12.0 * occupancy_b(delta_e)
            - d * mu * integral(alpha + delta_e);
        let life_years = (integral(alpha + delta_e) + occupancy_b(delta_e)) / 12.0;
        (cost, qalys, life_years)
    };
    let monthly = |r: f64| (1.0f64 + r).ln() / 12.0;
    let (cost, qalys, life_years) = expected(monthly(0.035), monthly(0.015));
    let (cost_u, qalys_u, life_years_u) = expected(0.0, 0.0);
    for (statistic, exact) in [
        ("cost", cost),
        ("qalys", qalys),
        ("life_years", life_years),
        ("cost_undiscounted", cost_u),
        ("qalys_undiscounted", qalys_u),
        ("life_years_undiscounted", life_years_u),
    ] {
        let (estimate, se) = value(&economics, "default", statistic, None);
        assert!(se > 0.0);
        assert!(
            (estimate - exact).abs() < 4.0 * se,
            "{statistic}: simulated {estimate} ± {se}, exact {exact}"
        );
    }
    // Net monetary benefit at 50 000 per QALY.
    let (nmb, se) = value(&economics, "default", "nmb", Some(50_000.0));
    assert!(
        (nmb - (50_000.0 * qalys - cost)).abs() < 4.0 * se,
        "nmb {nmb} ± {se}"
    );
}

/// Two strategies that differ only in the cost of B: the same lives under both, so the QALY
/// increment is exactly 0 with SE 0, and the cost increment's paired SE is below the SE two
/// independent arms would have (the arms' costs are positively correlated).
#[test]
fn paired_increments_use_common_random_numbers() {
    let model = common::parse(
        r#"
        [simulation]
        patients = 20000
        horizon = "60m"
        [[states]]
        name = "a"
        [[states]]
        name = "b"
        [[states]]
        name = "dead"
        death = "nrm"
        [[variables]]
        name = "drug"
        type = "bool"
        default = false
        [cohort]
        entry = "a"
        [[transitions]]
        from = "a"
        to = "b"
        rate = 0.1
        [[transitions]]
        from = "b"
        to = "dead"
        rate = 0.05
        [economics]
        discount_costs = 0.03
        discount_effects = 0.03
        wtp = [30000]
        states = [
          { state = "a", cost = 100, utility = 0.7 },
          { state = "b", cost = 200, utility = 0.5 },
          { state = "b", cost = 1000, if = "drug" },
        ]
        [[strategies]]
        name = "usual"
        [[strategies]]
        name = "drug"
        set = { drug = true }
        "#,
    );
    let (_, results) = common::run(&model, 20_000, 2);
    let economics = results.economics.expect("economics");
    let (inmb, se) = value(&economics, "drug", "inmb", Some(30_000.0));
    let (cost_usual, se_usual) = value(&economics, "usual", "cost", None);
    let (cost_drug, se_drug) = value(&economics, "drug", "cost", None);
    assert!(
        (inmb + (cost_drug - cost_usual)).abs() < 1e-6 * cost_drug,
        "INMB is minus the cost difference"
    );
    let independent = (se_usual * se_usual + se_drug * se_drug).sqrt();
    assert!(
        se < independent,
        "paired SE {se} vs independent arms {independent}"
    );
    let drug_row = economics
        .increments
        .iter()
        .find(|r| r.strategy == "drug")
        .unwrap();
    assert_eq!(drug_row.status, "dominated");
    assert_eq!(drug_row.comparator.as_deref(), Some("usual"));
    assert_eq!(drug_row.delta_qalys, 0.0);
    assert_eq!(drug_row.delta_qalys_se, 0.0);
}

/// The files appear in a run folder with their headers, and the manifest carries the labels.
#[test]
fn run_writes_economic_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cea.toml");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/reference_markov.toml"
    ))
    .unwrap();
    let text = format!(
        "{text}\n[economics]\ncurrency = \"EUR\"\nprice_year = 2025\ndiscount_costs = 0.035\ndiscount_effects = 0.035\nwtp = [30000]\nillustrative = true\nnote = \"test values\"\nstates = [ {{ state = \"hsct2\", cost = 5000, utility = 0.7 }} ]\nevents = [ {{ on = \"salvage->hsct2\", cost = 150000 }} ]\n"
    );
    std::fs::write(&path, text).unwrap();
    let out = tmp.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--patients",
            "5000",
            "--quiet",
            "--no-figures",
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let values = std::fs::read_to_string(out.join("economics.csv")).unwrap();
    assert!(values.starts_with("strategy,statistic,wtp,estimate,se,lower,upper\n"));
    assert!(values.contains("standard,nmb,30000,"));
    let increments = std::fs::read_to_string(out.join("incremental.csv")).unwrap();
    assert!(increments.starts_with("strategy,cost,qalys,status,comparator,"));
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"currency\": \"EUR\"") && manifest.contains("\"illustrative\": true")
    );
}

#[test]
fn a_scenario_on_a_built_in_model_keeps_its_economics_and_figures() {
    let text = r#"
[scenario]
model = "hsct-review"

[economics]
currency = "EUR"
price_year = 2025
discount_costs = 0.03
discount_effects = 0.03
states = [{ state = "palliative", cost = 2000, utility = 0.4 }]

[figures]
titles = { os = "Built on the review model" }
"#;
    let model = hsctsim::scenario::parse(text, "on_model.toml", "on_model").unwrap();
    let economics = model.economics.expect("the scenario's [economics] is kept");
    assert_eq!(economics.currency, "EUR");
    let palliative = model
        .states
        .iter()
        .position(|s| s.name == "palliative")
        .unwrap();
    let costed: Vec<usize> = (0..economics.states.len())
        .filter(|&i| !economics.states[i].is_empty())
        .collect();
    assert_eq!(costed, vec![palliative]);
    assert_eq!(economics.states[palliative][0].cost, 2000.0);
    assert!(format!("{:?}", model.figures).contains("Built on the review model"));
}

// ---- costly lives (issue 13, item 2) ----

const CEA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/donor_policy_cea.toml"
);

/// The exchange rate of the issue: 1 EUR ≈ 1400 KRW.
const KRW_PER_EUR: f64 = 1400.0;

/// Writes `dir/donor_policy_cea_krw.toml`: the shipped CEA scenario extended, with its
/// `[economics]` and `[psa]` restated in won (every cost, cost distribution and threshold
/// × 1400; utilities as they are).
fn krw_scenario(dir: &std::path::Path) -> std::path::PathBuf {
    use toml::Value;
    let base: toml::Table = std::fs::read_to_string(CEA).unwrap().parse().unwrap();
    let scale = |v: &mut Value| {
        let x = v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .unwrap();
        *v = Value::Float(x * KRW_PER_EUR);
    };
    let mut economics = base["economics"].as_table().unwrap().clone();
    economics.insert("currency".into(), "KRW".into());
    for list in ["states", "events"] {
        for entry in economics[list].as_array_mut().unwrap() {
            if let Some(cost) = entry.get_mut("cost") {
                scale(cost);
            }
        }
    }
    economics["wtp"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .for_each(scale);
    // Cost distributions: an absolute standard error (or a numeric mean) is in euros and
    // scales; `mean = "base"` and relative forms ("17%") follow the scaled value already.
    let mut psa = base["psa"].as_table().unwrap().clone();
    let mut scaled = 0;
    for p in psa["parameters"].as_array_mut().unwrap() {
        let is_cost = p
            .get("path")
            .and_then(Value::as_str)
            .is_some_and(|path| path.starts_with("economics.") && path.ends_with(".cost"));
        if is_cost {
            for key in ["mean", "se", "median", "sd"] {
                if let Some(v) = p.get_mut(key).filter(|v| v.is_float() || v.is_integer()) {
                    scale(v);
                    scaled += 1;
                }
            }
        }
    }
    assert!(
        scaled >= 4,
        "the scenario's cost distributions changed: {scaled} values scaled"
    );
    let mut file = toml::Table::new();
    let mut scenario = toml::Table::new();
    scenario.insert("extends".into(), CEA.into());
    scenario.insert("name".into(), "donor_policy_cea_krw".into());
    file.insert("scenario".into(), scenario.into());
    file.insert("economics".into(), economics.into());
    file.insert("psa".into(), psa.into());
    let path = dir.join("donor_policy_cea_krw.toml");
    std::fs::write(&path, toml::to_string(&file).unwrap()).unwrap();
    path
}

/// γ(m) = m·u / (1 − m·u): the relative error bound of m floating-point operations.
fn gamma(m: f64) -> f64 {
    let u = f64::EPSILON / 2.0;
    m * u / (1.0 - m * u)
}

/// The issue's reproduction: the shipped CEA scenario in won lost 336 of 20 000 patients
/// (life-years 2.4 % low, the PSA's best strategy flipped). Now every patient counts: the
/// life-years and QALYs are the same bits as in euros, and every cost mean is 1400 × the
/// euro mean within a bound derived from the arithmetic:
///
/// - a life's cost is a sum of at most k = (max_events + 1)·(1 + one-off entries) terms
///   c·d (rate × discounted length, or one-off × discount factor); d is the same in both
///   runs, c is an integer, exact in both currencies; each term rounds once, the sum
///   (of non-negative terms) adds γ(k − 1): so each life differs by at most 2γ(k) relative;
/// - lives are summed exactly (256-bit fixed point), then rounded to f64 and divided by n
///   (two roundings each side, one more for the × 1400): at most 5u more;
/// - a standard error √((Q − n m²)/(n − 1)/n) adds the squares' relative error (twice the
///   values', plus one rounding) and the evaluation of the formula (a few u of Q + n m²).
#[test]
fn costs_in_won_leave_no_patient_out_and_are_1400_times_the_euro_costs() {
    let tmp = tempfile::tempdir().unwrap();
    let krw = hsctsim::scenario::load(krw_scenario(tmp.path()).to_str().unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let eur = hsctsim::scenario::load(CEA).unwrap();
    let n = 20_000;
    let (eur_tally, eur_results) = common::run(&eur, n, 2);
    let (_, krw_results) = common::run(&krw, n, 2);
    let (eur_values, krw_values) = (
        eur_results.economics.unwrap(),
        krw_results.economics.unwrap(),
    );
    let economics = eur.economics.as_ref().unwrap();
    let one_offs =
        economics.on_enter.iter().map(Vec::len).sum::<usize>() + economics.on_transition.len();
    let terms = (f64::from(eur.settings.max_events) + 1.0) * (1.0 + one_offs as f64);
    let life = 2.0 * gamma(terms) / (1.0 - gamma(terms));
    let u = f64::EPSILON / 2.0;
    let sums = &eur_tally.economics.as_ref().unwrap().strategies;
    let nf = n as f64;
    let mut compared = 0;
    for (e, k) in eur_values.values.iter().zip(&krw_values.values) {
        assert_eq!((&e.strategy, e.statistic), (&k.strategy, k.statistic));
        let s = eur
            .strategies
            .iter()
            .position(|s| s.name == e.strategy)
            .unwrap();
        match e.statistic {
            "life_years" | "life_years_undiscounted" | "qalys" | "qalys_undiscounted" => {
                assert_eq!(e, k, "effects must not depend on the currency");
            }
            "cost" | "cost_undiscounted" => {
                let mean_bound = KRW_PER_EUR * e.estimate * (life + 5.0 * u);
                assert!(
                    (k.estimate - KRW_PER_EUR * e.estimate).abs() <= mean_bound,
                    "{} {}: {} won against {} euros",
                    e.strategy,
                    e.statistic,
                    k.estimate,
                    e.estimate
                );
                let m = if e.statistic == "cost" {
                    &sums[s].cost_discounted
                } else {
                    &sums[s].cost
                };
                let (q, mean) = (m.squares.value(), e.estimate);
                let variance = e.se * e.se * nf;
                let squares_error = 2.0 * life + 3.0 * u;
                let mean_error = 2.0 * (life + 5.0 * u);
                let evaluation = 6.0 * u * (q + nf * mean * mean);
                let variance_bound =
                    (squares_error * q + mean_error * nf * mean * mean + evaluation) / (nf - 1.0);
                let se_bound = KRW_PER_EUR * e.se * (variance_bound / variance / 2.0 + 3.0 * u);
                assert!(
                    (k.se - KRW_PER_EUR * e.se).abs() <= se_bound,
                    "{} {}: SE {} won against {} euros (bound {se_bound})",
                    e.strategy,
                    e.statistic,
                    k.se,
                    e.se
                );
                compared += 1;
            }
            _ => {}
        }
    }
    assert_eq!(compared, 2 * eur.strategies.len());
    // The same decision: the same frontier and dominance in both currencies.
    let status =
        |r: &hsctsim::aggregate::economic_estimates::EconomicResults| -> Vec<(String, &str)> {
            r.increments
                .iter()
                .map(|i| (i.strategy.clone(), i.status))
                .collect()
        };
    assert_eq!(status(&eur_values), status(&krw_values));
}

/// The PSA in won: every draw's effects are the euro draw's bits (no life left out of any
/// draw) and the decision at each threshold is the same (the issue saw it flip).
#[test]
fn the_psa_in_won_decides_as_in_euros() {
    let tmp = tempfile::tempdir().unwrap();
    let krw = krw_scenario(tmp.path());
    let run = |scenario: &str, out: &str| {
        let out = tmp.path().join(out);
        let (code, _, stderr) = common::hsctsim(&[
            "psa",
            scenario,
            "--draws",
            "20",
            "--patients",
            "2000",
            "--no-figures",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        out
    };
    let (eur, won) = (run(CEA, "eur"), run(krw.to_str().unwrap(), "krw"));
    let rows = |dir: &std::path::Path, file: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        text.lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (e, k) = (rows(&eur, "psa_draws.csv"), rows(&won, "psa_draws.csv"));
    assert_eq!(e[0], k[0]);
    assert_eq!(e.len(), k.len());
    let header = &e[0];
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for effect in ["qalys", "life_years"] {
        let c = column(effect);
        for (a, b) in e.iter().zip(&k).skip(1) {
            assert_eq!(
                a[c], b[c],
                "{effect} differs between currencies: {a:?} vs {b:?}"
            );
        }
    }
    // The acceptability curves at the scenario's thresholds (× 1400 in won).
    let ceac = |dir: &std::path::Path| -> Vec<(String, String)> {
        let rows = rows(dir, "ceac.csv");
        let header = rows[0].clone();
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        rows[1..]
            .iter()
            .map(|r| (r[at("strategy")].clone(), r[at("optimal")].clone()))
            .collect()
    };
    assert_eq!(ceac(&eur), ceac(&won));
    let manifest = std::fs::read_to_string(won.join("manifest.json")).unwrap();
    assert!(!manifest.contains("overflows"), "{manifest}");
}

/// A life of 10^15 currency units (the brief's bound for "no realistic currency"): a
/// one-off cost of 10^15 on entering `b`, nothing else. The mean cost is exactly 10^15 × the
/// share who entered `b` (summed exactly, rounded once), every patient counted; merged to
/// 6.7·10^11 patients (20 000 × 2^25, near the 10^12 a scenario accepts) the sums still
/// hold, squares (10^30 a life, 10^41 in all) included, and give the same means.
#[test]
fn lives_of_a_quadrillion_are_counted_and_summed_exactly() {
    let model = common::parse(
        r#"
        [simulation]
        patients = 20000
        seed = 5
        horizon = "24m"
        [[states]]
        name = "a"
        [[states]]
        name = "b"
        absorbing = true
        [cohort]
        entry = "a"
        [[transitions]]
        from = "a"
        to = "b"
        rate = 0.05
        [economics]
        discount_costs = 0.0
        discount_effects = 0.0
        states = [ { state = "a", utility = 0.8 } ]
        events = [ { on = "b", cost = 1e15 } ]
        "#,
    );
    let n = 20_000u64;
    let (tally, results) = common::run(&model, n, 2);
    let b = model.states.iter().position(|s| s.name == "b").unwrap();
    let entered = tally.strategies[0].entry.reached[b];
    assert!(entered > 1000, "{entered}");
    let economics = results.economics.unwrap();
    let (mean, se) = value(&economics, "default", "cost_undiscounted", None);
    assert_eq!(mean, 1e15 * entered as f64 / n as f64);
    let p = entered as f64 / n as f64;
    let expected_se = 1e15 * (p * (1.0 - p) / (n as f64 - 1.0)).sqrt();
    assert!(
        (se - expected_se).abs() < 1e-9 * expected_se,
        "{se} vs {expected_se}"
    );
    // Doubling 25 times: 6.7·10^11 patients.
    let layout = hsctsim::aggregate::Layout::new(&model);
    let mut huge = tally.clone();
    for _ in 0..25 {
        let copy = huge.clone();
        huge.checked_merge(&copy).unwrap();
    }
    assert_eq!(huge.patients, n << 25);
    huge.check(n << 25, Some(&layout)).unwrap();
    let sums = &huge.economics.as_ref().unwrap().strategies[0].cost;
    assert_eq!(sums.sum.value(), 1e15 * (entered << 25) as f64);
    assert_eq!(sums.squares.value(), 1e30 * (entered << 25) as f64);
    let means = hsctsim::psa::Means::of(huge.economics.as_ref().unwrap(), n << 25);
    assert_eq!(means[0].cost_undiscounted, mean);
}

/// Beyond the bound, or not finite: the run fails (exit 1) naming the patient, the strategy,
/// the quantity and the value, and writes nothing — it never drops the patient.
#[test]
fn a_life_the_sums_cannot_hold_stops_the_run_and_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    for (events, says) in [
        (
            "{ on = \"b\", cost = 1e18 }",
            vec!["its cost is 1e18", "2.8823037615171174e17"],
        ),
        // Two finite costs whose sum is not.
        (
            "{ on = \"b\", cost = 1e308 }, { on = \"b\", cost = 1e308 }",
            vec!["its cost is inf", "not a finite number"],
        ),
    ] {
        let text = format!(
            r#"
            [simulation]
            patients = 500
            horizon = "24m"
            [[states]]
            name = "a"
            [[states]]
            name = "b"
            absorbing = true
            [cohort]
            entry = "a"
            [[transitions]]
            from = "a"
            to = "b"
            rate = 0.05
            [economics]
            discount_costs = 0.03
            discount_effects = 0.03
            events = [ {events} ]
            [[strategies]]
            name = "usual"
            "#
        );
        let path = tmp.path().join("costly.toml");
        std::fs::write(&path, text).unwrap();
        let out = tmp.path().join("out");
        let (code, _, stderr) = common::hsctsim(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-figures",
        ]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("patient ") && stderr.contains("under strategy `usual`"),
            "{stderr}"
        );
        for s in says {
            assert!(stderr.contains(s), "expected {s:?} in {stderr}");
        }
        assert!(stderr.contains("[economics]"), "{stderr}");
        assert!(!out.exists(), "a failed run left {}", out.display());
    }
}
