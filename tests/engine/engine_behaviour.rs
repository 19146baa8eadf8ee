//! Engine features against answers known in closed form: scheduled events, the forward
//! clock, background mortality by attained age, covariate effects, cure fractions, the
//! HSCT2 time origin, rule and chance decisions, common random numbers, the loop bound,
//! rules and effects on variables in years, months, weeks and days.
//! Monte Carlo checks allow 4 standard errors at a fixed seed.

use crate::common;

use hsctsim::aggregate::results::Results;

fn within(estimate: f64, p: f64, n: u64, what: &str) {
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (estimate - p).abs() <= 4.0 * se + 1e-12,
        "{what}: simulated {estimate}, expected {p} (SE {se:.2e})"
    );
}

fn check_curve(
    results: &Results,
    strategy: &str,
    origin: &str,
    measure: &str,
    n: u64,
    expected: impl Fn(f64) -> f64,
) {
    let curve = common::curve(results, strategy, origin, measure);
    assert!(!curve.is_empty(), "no {origin} {measure} curve");
    for (t, estimate) in curve {
        within(
            estimate,
            expected(t),
            n,
            &format!("{strategy} {origin} {measure} at {t}"),
        );
    }
}

fn summary(
    results: &Results,
    strategy: &str,
    origin: &str,
    statistic: &str,
    time: Option<f64>,
) -> (f64, Option<f64>) {
    let row = results
        .summary
        .iter()
        .find(|r| {
            r.strategy == strategy
                && r.origin.as_str() == origin
                && r.statistic == statistic
                && r.time == time
        })
        .unwrap_or_else(|| panic!("no summary row {strategy} {origin} {statistic} {time:?}"));
    (row.estimate, row.se)
}

const HEAD: &str = r#"
[simulation]
patients = 200000
seed = 11
horizon = "60m"
"#;

#[test]
fn fixed_delay_and_fixed_time_events_happen_exactly_then() {
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "search"
        [[states]]
        name = "maintenance"
        [[states]]
        name = "off"
        [[states]]
        name = "dead"
        death = "nrm"
        [cohort]
        entry = "search"
        [[transitions]]
        from = "search"
        to = "maintenance"
        after = "3m"
        [[transitions]]
        from = "maintenance"
        to = "off"
        at = "24m"
        [[transitions]]
        from = "off"
        to = "dead"
        rate = 0.0
        [[transitions]]
        from = "search"
        to = "dead"
        rate = 0.0
    "#
    ));
    let (_, results) = common::run(&model, 1000, 1);
    // Right-continuous: at t = 3 the patient is already in maintenance.
    for (t, p) in common::curve(&results, "default", "entry", "state:search") {
        assert_eq!(p, if t < 3.0 { 1.0 } else { 0.0 }, "search at {t}");
    }
    for (t, p) in common::curve(&results, "default", "entry", "state:maintenance") {
        assert_eq!(
            p,
            if (3.0..24.0).contains(&t) { 1.0 } else { 0.0 },
            "maintenance at {t}"
        );
    }
}

#[test]
fn a_scheduled_event_competes_with_hazards() {
    // Donor found after exactly 3 months unless death (rate 0.1/month) comes first.
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "donor_search"
        [[states]]
        name = "hsct2"
        hsct2 = true
        [[states]]
        name = "dead"
        death = "relapse"
        [cohort]
        entry = "donor_search"
        [[transitions]]
        from = "donor_search"
        to = "hsct2"
        after = "3m"
        [[transitions]]
        from = "donor_search"
        to = "dead"
        rate = 0.1
        [[transitions]]
        from = "hsct2"
        to = "dead"
        rate = 0.02
    "#
    ));
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    let (reached, _) = summary(&results, "default", "entry", "reached:hsct2", Some(60.0));
    within(reached, (-0.3f64).exp(), n, "proportion transplanted");
    // Overall survival from entry: e^{-0.1 t} before 3 months, then e^{-0.3} e^{-0.02 (t-3)}.
    check_curve(&results, "default", "entry", "os", n, |t| {
        if t < 3.0 {
            (-0.1 * t).exp()
        } else {
            (-0.3 - 0.02 * (t - 3.0)).exp()
        }
    });
    // Since HSCT2, among the transplanted: e^{-0.02 t}.
    let transplanted = (reached * n as f64).round() as u64;
    check_curve(&results, "default", "hsct2", "os", transplanted, |t| {
        (-0.02 * t).exp()
    });
}

#[test]
fn forward_clock_hazards_run_on_time_since_entry() {
    // Enter "after" at 6 months; its Weibull hazard runs on time since cohort entry, so
    // survival from 6 months is S(t) / S(6) with S the Weibull survival.
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "before"
        [[states]]
        name = "after"
        [[states]]
        name = "dead"
        death = "nrm"
        [cohort]
        entry = "before"
        [[transitions]]
        from = "before"
        to = "after"
        after = "6m"
        [[transitions]]
        from = "after"
        to = "dead"
        hazard = {{ family = "weibull", shape = 2.0, scale = "24m" }}
        clock = "forward"
    "#
    ));
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    let s = |t: f64| (-(t / 24.0f64).powi(2)).exp();
    check_curve(&results, "default", "entry", "os", n, |t| {
        if t <= 6.0 { 1.0 } else { s(t) / s(6.0) }
    });
}

#[test]
fn background_mortality_follows_attained_age() {
    // Everybody is 60 at entry; the life table doubles the rate at 65 (month 60).
    let model = common::parse(
        r#"
        [simulation]
        patients = 200000
        seed = 5
        horizon = "120m"
        [[states]]
        name = "alive"
        [[states]]
        name = "dead_other"
        death = "nrm"
        [[states]]
        name = "dead_disease"
        death = "relapse"
        [cohort]
        entry = "alive"
        [[cohort.attributes]]
        name = "age"
        distribution = "fixed"
        value = 60
        [[transitions]]
        from = "alive"
        to = "dead_disease"
        rate = 0.0
        [background_mortality]
        to = "dead_other"
        ages = [0, 65]
        annual_rate = [0.12, 0.24]
    "#,
    );
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    check_curve(&results, "default", "entry", "os", n, |t| {
        if t <= 60.0 {
            (-0.01 * t).exp()
        } else {
            (-0.6 - 0.02 * (t - 60.0)).exp()
        }
    });
    check_curve(&results, "default", "entry", "nrm", n, |t| {
        1.0 - if t <= 60.0 {
            (-0.01 * t).exp()
        } else {
            (-0.6 - 0.02 * (t - 60.0)).exp()
        }
    });
}

#[test]
fn covariate_effects_and_cure_give_the_mixture_survival() {
    // Half the patients have cGVHD (HR 3 on death); 20 % are cured of the event.
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "hsct2"
        hsct2 = true
        [[states]]
        name = "dead"
        death = "nrm"
        [cohort]
        entry = "hsct2"
        [[cohort.attributes]]
        name = "cgvhd"
        probability = 0.5
        [[cohort.attributes]]
        name = "hct_ci"
        distribution = "discrete"
        values = [0, 2]
        probabilities = [0.5, 0.5]
        [[transitions]]
        from = "hsct2"
        to = "dead"
        rate = 0.05
        cure = 0.2
        effects = [ {{ if = "cgvhd", hr = 3.0 }}, {{ per = "hct_ci", hr = 1.5 }} ]
    "#
    ));
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    // S_x(t) = (π + (1 − π) e^{−λt})^{m}, m = 3^cgvhd · 1.5^hct_ci, four equal groups.
    let s = |t: f64, m: f64| (0.2 + 0.8 * (-0.05 * t).exp()).powf(m);
    check_curve(&results, "default", "entry", "os", n, |t| {
        0.25 * (s(t, 1.0) + s(t, 3.0) + s(t, 2.25) + s(t, 6.75))
    });
}

#[test]
fn rule_decisions_route_by_attribute_and_set_policy_variables() {
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "relapse"
        [[states]]
        name = "hsct2"
        hsct2 = true
        [[states]]
        name = "palliative"
        [[states]]
        name = "dead"
        death = "relapse"
        [[variables]]
        name = "donor"
        levels = ["none", "haplo", "cord"]
        default = "none"
        [cohort]
        entry = "relapse"
        [[cohort.attributes]]
        name = "in_cr"
        probability = 0.4
        [[decisions]]
        name = "eligible"
        branches = [ {{ to = "donor", if = "in_cr" }}, {{ to = "palliative" }} ]
        [[decisions]]
        name = "donor"
        branches = [ {{ to = "hsct2", p = 0.25, set = {{ donor = "cord" }} }}, {{ to = "hsct2", p = 0.75, set = {{ donor = "haplo" }} }} ]
        [[transitions]]
        from = "relapse"
        to = "eligible"
        after = "1m"
        [[transitions]]
        from = "hsct2"
        to = "dead"
        rate = 0.01
        effects = [ {{ if = "donor == 'cord'", hr = 4.0 }} ]
        [[transitions]]
        from = "palliative"
        to = "dead"
        rate = 0.5
    "#
    ));
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    let (to_hsct2, _) = summary(&results, "default", "entry", "reached:hsct2", Some(60.0));
    within(to_hsct2, 0.4, n, "eligible fraction");
    // After HSCT2: a quarter with cord (rate 0.04), three quarters haplo (0.01).
    let transplanted = (to_hsct2 * n as f64).round() as u64;
    check_curve(&results, "default", "hsct2", "os", transplanted, |t| {
        0.25 * (-0.04 * t).exp() + 0.75 * (-0.01 * t).exp()
    });
}

#[test]
fn identical_strategies_have_exactly_zero_paired_difference() {
    // Common random numbers: the same patient and stream under two identically defined
    // strategies gives identical lives, so the paired difference is 0 with SE 0.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/reference_markov.toml"
    ))
    .unwrap();
    let text = text.replace(
        "[[strategies]]\nname = \"standard\"",
        "[[strategies]]\nname = \"standard\"\n[[strategies]]\nname = \"twin\"",
    );
    let model = common::parse(&text);
    let (_, results) = common::run(&model, 50_000, 0);
    let (delta, se) = summary(&results, "twin", "entry", "delta_rmst_os", Some(60.0));
    assert_eq!((delta, se), (0.0, Some(0.0)));
    let a = common::curve(&results, "standard", "entry", "os");
    let b = common::curve(&results, "twin", "entry", "os");
    assert_eq!(a, b);
}

#[test]
fn a_loop_without_escape_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loop.toml");
    std::fs::write(
        &path,
        r#"
        [simulation]
        patients = 100
        max_events = 1000
        [[states]]
        name = "a"
        [[states]]
        name = "b"
        [[states]]
        name = "dead"
        death = "nrm"
        [cohort]
        entry = "a"
        [[transitions]]
        from = "a"
        to = "b"
        rate = 1000
        [[transitions]]
        from = "b"
        to = "a"
        rate = 1000
        [[transitions]]
        from = "a"
        to = "dead"
        rate = 1e-9
    "#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("more than 1000 transitions")
            && stderr.contains("a → b")
            && stderr.contains("max_events"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "no output folder after a failed run"
    );
}

/// Share of patients in `state` at cohort entry (time 0).
fn at_entry(results: &Results, strategy: &str, state: &str) -> f64 {
    let curve = common::curve(results, strategy, "entry", &format!("state:{state}"));
    assert_eq!(
        curve.first().map(|p| p.0),
        Some(0.0),
        "{strategy}: no curve at 0"
    );
    curve[0].1
}

#[test]
fn rules_on_times_in_other_units_select_the_patients_they_name() {
    // Ages uniform on 20–80 years, engraftment 14, 21, 28 or 35 days, remission uniform on
    // 0–24 months. Each strategy routes the same patients by one rule at entry.
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "young"
        [[states]]
        name = "old"
        [[states]]
        name = "dead"
        death = "nrm"
        [cohort]
        entry = "choose"
        [[cohort.attributes]]
        name = "age"
        distribution = "uniform"
        unit = "years"
        min = 20
        max = 80
        [[cohort.attributes]]
        name = "engraftment"
        distribution = "discrete"
        unit = "days"
        values = [14, 21, 28, 35]
        probabilities = [0.25, 0.25, 0.25, 0.25]
        [[cohort.attributes]]
        name = "remission"
        distribution = "uniform"
        min = "0m"
        max = "2y"
        [[decisions]]
        name = "choose"
        branches = [ {{ to = "young", if = "age < 65y" }}, {{ to = "old" }} ]
        [[transitions]]
        from = "young"
        to = "dead"
        rate = 0.1
        [[transitions]]
        from = "old"
        to = "dead"
        rate = 0.1
        [[strategies]]
        name = "years"
        [[strategies]]
        name = "months"
        decisions = {{ choose = [ {{ to = "young", if = "age < 780m" }}, {{ to = "old" }} ] }}
        [[strategies]]
        name = "bare"
        decisions = {{ choose = [ {{ to = "young", if = "age < 65" }}, {{ to = "old" }} ] }}
        [[strategies]]
        name = "weeks_of_days"
        decisions = {{ choose = [ {{ to = "young", if = "engraftment <= 4w" }}, {{ to = "old" }} ] }}
        [[strategies]]
        name = "years_of_months"
        decisions = {{ choose = [ {{ to = "young", if = "remission < 1.5y" }}, {{ to = "old" }} ] }}
        [[strategies]]
        name = "age_plus_remission"
        decisions = {{ choose = [ {{ to = "young", if = "age + remission < 65y" }}, {{ to = "old" }} ] }}
    "#
    ));
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    // 65 years whichever way it is written: the same patients, so the same curves.
    within(at_entry(&results, "years", "young"), 0.75, n, "age < 65y");
    let years = common::curve(&results, "years", "entry", "state:young");
    assert_eq!(
        common::curve(&results, "months", "entry", "state:young"),
        years
    );
    assert_eq!(
        common::curve(&results, "bare", "entry", "state:young"),
        years
    );
    // 4 weeks is 28 days exactly: 14, 21 and 28 days are in, 35 out.
    within(
        at_entry(&results, "weeks_of_days", "young"),
        0.75,
        n,
        "engraftment <= 4w",
    );
    // 1.5 years of a remission in months: 18 of 24 months.
    within(
        at_entry(&results, "years_of_months", "young"),
        0.75,
        n,
        "remission < 1.5y",
    );
    // Age in years plus remission in months: P(age + r < 65) with r uniform on 0–2 years
    // is E[(45 − r) / 60] = 44 / 60.
    within(
        at_entry(&results, "age_plus_remission", "young"),
        44.0 / 60.0,
        n,
        "age + remission < 65y",
    );
}

#[test]
fn a_hazard_ratio_per_year_is_applied_per_year() {
    // Everybody is 60: HR 1.05 per year above 50 is 1.05^10 on a rate of 0.02 per month;
    // the same effect per month (HR 1.05^(1/12) per month above 600 months) is the same.
    let per_month = 1.05f64.powf(1.0 / 12.0);
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "alive"
        [[states]]
        name = "dead"
        death = "nrm"
        [cohort]
        entry = "alive"
        [[cohort.attributes]]
        name = "age"
        distribution = "fixed"
        unit = "years"
        value = 60
        [[transitions]]
        from = "alive"
        to = "dead"
        rate = 0.02
        effects = [ {{ per = "age", unit = "years", reference = 50, hr = 1.05 }} ]
        [[strategies]]
        name = "per_year"
        [[strategies]]
        name = "per_month"
        transitions = [ {{ from = "alive", to = "dead", effects = [ {{ per = "age", unit = "months", reference = 600, hr = {per_month:.17} }} ] }} ]
    "#
    ));
    let n = 200_000;
    let (_, results) = common::run(&model, n, 0);
    let rate = 0.02 * 1.05f64.powi(10);
    for strategy in ["per_year", "per_month"] {
        check_curve(&results, strategy, "entry", "os", n, |t| (-rate * t).exp());
    }
    // Per month without converting the age would be 1.05^(1/12 · 10): far off.
    let wrong = 0.02 * per_month.powi(10);
    let (os, _) = summary(&results, "per_year", "entry", "os", Some(36.0));
    assert!((os - (-wrong * 36.0).exp()).abs() > 0.05, "{os}");
}

#[test]
fn policy_numbers_are_read_in_their_unit() {
    // A wait in weeks (default 8), set by strategies in weeks, days or months, and a rule
    // in months: fast if the wait is under 2 months (60.875 days).
    let model = common::parse(&format!(
        r#"{HEAD}
        [[states]]
        name = "fast"
        [[states]]
        name = "slow"
        [[states]]
        name = "dead"
        death = "nrm"
        [[variables]]
        name = "wait"
        type = "number"
        unit = "weeks"
        default = 8
        [cohort]
        entry = "route"
        [[decisions]]
        name = "route"
        branches = [ {{ to = "fast", if = "wait < 2m" }}, {{ to = "slow" }} ]
        [[transitions]]
        from = "fast"
        to = "dead"
        rate = 0.1
        [[transitions]]
        from = "slow"
        to = "dead"
        rate = 0.1
        [[strategies]]
        name = "eight_weeks"
        [[strategies]]
        name = "nine_weeks"
        set = {{ wait = 9 }}
        [[strategies]]
        name = "sixty_two_days"
        set = {{ wait = "62d" }}
        [[strategies]]
        name = "six_weeks_in_months"
        set = {{ wait = "1.5m" }}
    "#
    ));
    let (_, results) = common::run(&model, 1000, 0);
    for (strategy, fast) in [
        ("eight_weeks", 1.0),
        ("nine_weeks", 0.0),
        ("sixty_two_days", 0.0),
        ("six_weeks_in_months", 1.0),
    ] {
        assert_eq!(at_entry(&results, strategy, "fast"), fast, "{strategy}");
    }
}
