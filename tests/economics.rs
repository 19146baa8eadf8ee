//! Health economics against closed forms and textbook cases.

mod common;

use hsctsim::econ::estimates::EconomicResults;

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
