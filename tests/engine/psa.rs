//! Probabilistic and one-way sensitivity analysis: draws against closed forms, determinism
//! across threads, the command line's files and errors, and the tie between every
//! distribution and the value it describes (issue 13, item 1).

use std::path::Path;

use hsctsim::psa::{Psa, PsaControl};
use hsctsim::scenario::compose;

/// alive → dead at rate λ per month; λ is uncertain (gamma). Utility 1 and cost 1000 per
/// month while alive, no discounting, horizon T = 60 months. Given λ, a life lasts
/// X = min(Exp(λ), T) months, so per patient
///   E[QALYs] = E[X]/12,  E[X] = (1 − e^{−λT})/λ,
///   E[X²] = 2/λ² − 2e^{−λT}(T/λ + 1/λ²)          (second moment of the truncated exponential)
/// and strategy `drug` halves λ.
const TWO_STATE: &str = r#"
[simulation]
patients = 4000
seed = 11
horizon = "60m"

[[states]]
name = "alive"
[[states]]
name = "dead"
death = "nrm"

[[variables]]
name = "drug"
type = "bool"
default = false

[cohort]
entry = "alive"

[[transitions]]
from = "alive"
to = "dead"
rate = 0.05
effects = [{ if = "drug", hr = 0.5 }]

[economics]
discount_costs = 0.0
discount_effects = 0.0
wtp = [30000]
states = [{ state = "alive", cost = 1000, utility = 1.0 }]

[[strategies]]
name = "usual"
[[strategies]]
name = "drug"
set = { drug = true }

[psa]
draws = 12
patients = 4000

[[psa.parameters]]
name = "death rate"
path = "transitions[alive->dead].rate"
distribution = "gamma"
mean = 0.05
se = 0.015

[[psa.parameters]]
name = "drug HR"
path = "transitions[alive->dead].effects[drug].hr"
distribution = "lognormal"
median = "base"
sdlog = 0.25
"#;

fn compile(text: &str) -> Psa {
    let composed = compose::from_text(text, "psa.toml", None).unwrap();
    Psa::compile(composed, "psa").unwrap()
}

fn truncated_exponential(rate: f64, horizon: f64) -> (f64, f64) {
    let tail = (-rate * horizon).exp();
    let mean = (1.0 - tail) / rate;
    let second = 2.0 / (rate * rate) - 2.0 * tail * (horizon / rate + 1.0 / (rate * rate));
    (mean, second - mean * mean)
}

/// Every draw's means match the closed form for the drawn rate and HR within 4 standard
/// errors of a mean over its patients.
#[test]
fn each_draw_matches_the_closed_form_of_its_parameters() {
    let psa = compile(TWO_STATE);
    let outcomes = psa.run(1..13, &PsaControl::default()).unwrap();
    assert_eq!(outcomes.len(), 12);
    let n = psa.patients as f64;
    let mut rates = Vec::new();
    for o in &outcomes {
        let (rate, hr) = (o.values[0], o.values[1]);
        rates.push(rate);
        for (s, r) in [(0, rate), (1, rate * hr)] {
            let (mean, variance) = truncated_exponential(r, 60.0);
            let se = (variance / n).sqrt();
            let life_years = o.means[s].life_years_undiscounted * 12.0;
            assert!(
                (life_years - mean).abs() < 4.0 * se,
                "draw {} strategy {s}: {life_years} months vs {mean} ± {se}",
                o.draw
            );
            assert!((o.means[s].qalys - o.means[s].life_years).abs() < 1e-9);
            assert!((o.means[s].cost - 1000.0 * life_years).abs() < 1e-6 * o.means[s].cost);
        }
    }
    // The draws really vary the rate, around the gamma's mean.
    let spread = rates.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - rates.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(spread > 0.01, "{rates:?}");
}

/// The same draws for 1 and 2 threads and for any split of the draw range.
#[test]
fn draws_do_not_depend_on_threads_or_splits() {
    let psa = compile(TWO_STATE);
    let one = psa
        .run(
            1..13,
            &PsaControl {
                threads: 1,
                ..PsaControl::default()
            },
        )
        .unwrap();
    let two = psa
        .run(
            1..13,
            &PsaControl {
                threads: 2,
                ..PsaControl::default()
            },
        )
        .unwrap();
    assert_eq!(one, two);
    let mut split = psa.run(1..5, &PsaControl::default()).unwrap();
    split.extend(psa.run(5..13, &PsaControl::default()).unwrap());
    assert_eq!(one, split);
}

/// The one-way analysis's base case is the deterministic run: same patients, same means.
#[test]
fn one_way_base_case_is_the_deterministic_run() {
    let psa = compile(TWO_STATE);
    let one_way = hsctsim::psa::owsa::run(&psa, 4000, 2, None, None).unwrap();
    let (tally, _) = {
        let mut model = psa.base.clone();
        model.settings.patients = 4000;
        let tally =
            hsctsim::engine::simulate(&model, &hsctsim::engine::Control::default()).unwrap();
        (tally, ())
    };
    let run = hsctsim::psa::Means::of(tally.economics.as_ref().unwrap(), 4000);
    assert_eq!(one_way.base, run);
    // Two scalar parameters, each at its 2.5 % and 97.5 % quantiles.
    assert_eq!(one_way.bars.len(), 2);
    let rate = &one_way.bars[0];
    assert!(rate.low < 0.05 && rate.high > 0.05);
    // A higher death rate shortens lives under both strategies, with the same patients.
    assert!(rate.at_high[0].life_years < one_way.base[0].life_years);
    assert!(rate.at_low[0].life_years > one_way.base[0].life_years);
}

use crate::common::output_in as hsctsim;

#[test]
fn the_command_line_writes_the_psa_and_owsa_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("two.toml"), TWO_STATE).unwrap();
    let out = hsctsim(
        &[
            "psa",
            "two.toml",
            "--draws",
            "6",
            "--out",
            "psa",
            "--no-figures",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let draws = read("psa/psa_draws.csv");
    assert!(draws.starts_with(
        "draw,strategy,cost,qalys,life_years,cost_undiscounted,qalys_undiscounted,life_years_undiscounted\n"
    ));
    assert_eq!(draws.lines().count(), 1 + 6 * 2);
    assert_eq!(read("psa/psa_parameters.csv").lines().count(), 1 + 6 * 2);
    let ceac = read("psa/ceac.csv");
    assert!(ceac.starts_with("wtp,strategy,probability,expected_nmb,optimal\n"));
    assert!(read("psa/evpi.csv").starts_with("wtp,evpi\n"));
    assert!(read("psa/psa_summary.csv").contains("drug,incremental_nmb,30000,"));
    let manifest: serde_json::Value = serde_json::from_str(&read("psa/manifest.json")).unwrap();
    assert_eq!(manifest["kind"], "psa");
    assert_eq!(manifest["draws"], 6);
    // The same bytes again (deterministic), and no overwrite without --force.
    let again = hsctsim(
        &[
            "psa",
            "two.toml",
            "--draws",
            "6",
            "--out",
            "psa",
            "--no-figures",
        ],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = hsctsim(
        &[
            "psa",
            "two.toml",
            "--draws",
            "6",
            "--out",
            "psa2",
            "--no-figures",
            "--threads",
            "1",
        ],
        dir.path(),
    );
    assert!(forced.status.success());
    assert_eq!(draws, read("psa2/psa_draws.csv"));

    let out = hsctsim(
        &[
            "owsa",
            "two.toml",
            "--patients",
            "2000",
            "--out",
            "owsa",
            "--no-figures",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tornado = read("owsa/tornado.csv");
    assert!(tornado.starts_with(
        "parameter,label,strategy,comparator,wtp,low,high,inmb_low,inmb_high,inmb_base\n"
    ));
    assert_eq!(tornado.lines().count(), 3);
    assert!(tornado.contains(",death rate,drug,usual,30000,"));
}

#[test]
fn bad_psa_tables_are_located_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, String, &str); 6] = [
        (
            "no_psa",
            TWO_STATE.split("[psa]").next().unwrap().to_string(),
            "has no [psa] table",
        ),
        (
            "unknown_distribution",
            TWO_STATE.replace("distribution = \"gamma\"", "distribution = \"gama\""),
            "Did you mean `gamma`",
        ),
        (
            "unknown_decision",
            TWO_STATE.replace(
                "path = \"transitions[alive->dead].rate\"",
                "path = \"decisions[x].branches[0].p\"",
            ),
            "no decision `x`",
        ),
        (
            "impossible_beta",
            TWO_STATE.replace(
                "distribution = \"gamma\"\nmean = 0.05\nse = 0.015",
                "distribution = \"beta\"\nmean = 0.5\nse = 0.9",
            ),
            "no beta distribution",
        ),
        (
            "unknown_path",
            TWO_STATE.replace(
                "transitions[alive->dead].rate",
                "transitions[alive->gone].rate",
            ),
            "no transition alive->gone",
        ),
        (
            "zero_draws",
            TWO_STATE.replace("draws = 12", "draws = 0"),
            "draws must be between 1",
        ),
    ];
    for (name, text, says) in cases {
        let file = format!("{name}.toml");
        std::fs::write(dir.path().join(&file), text).unwrap();
        let out = hsctsim(&["psa", &file, "--no-figures", "-q"], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&file), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let out = hsctsim(&["psa", "two.toml", "--draws", "0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

/// Shards of the draws merge into the unsharded tables, byte for byte, for 1, 2 and 7
/// shards; a missing or duplicated shard is refused.
#[test]
fn psa_shards_merge_into_the_unsharded_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("two.toml"), TWO_STATE).unwrap();
    let whole = hsctsim(
        &["psa", "two.toml", "--out", "whole", "--no-figures", "-q"],
        dir.path(),
    );
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let tables = [
        "psa_draws.csv",
        "psa_parameters.csv",
        "psa_summary.csv",
        "psa_incremental.csv",
        "ceac.csv",
        "evpi.csv",
    ];
    for n in [1, 2, 7] {
        let parts = format!("parts{n}");
        for k in 0..n {
            let shard = format!("{k}/{n}");
            let out = hsctsim(
                &["psa", "two.toml", "--shard", &shard, "--out", &parts, "-q"],
                dir.path(),
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let merged = format!("merged{n}");
        let out = hsctsim(
            &["merge", &parts, "--out", &merged, "--no-figures", "-q"],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for t in tables {
            let a = std::fs::read(dir.path().join("whole").join(t)).unwrap();
            let b = std::fs::read(dir.path().join(&merged).join(t)).unwrap();
            assert!(a == b, "{t} differs after merging {n} shards");
        }
        let manifest =
            std::fs::read_to_string(dir.path().join(&merged).join("manifest.json")).unwrap();
        assert!(
            manifest.contains(&format!("\"merged_from_shards\": {n}")),
            "{manifest}"
        );
    }
    // The same shard again: the same bytes, allowed. Another analysis's part in the way:
    // refused (checked before the draws run, like run parts).
    let again = hsctsim(
        &["psa", "two.toml", "--shard", "0/2", "--out", "parts2", "-q"],
        dir.path(),
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let other = hsctsim(
        &[
            "psa", "two.toml", "--shard", "0/2", "--seed", "99", "--out", "parts2",
        ],
        dir.path(),
    );
    assert_eq!(other.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("already exists and holds a different result"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("draws 1–"),
        "the shard ran before refusing: {stderr}"
    );
    // Shard 1 of 2 missing.
    std::fs::remove_file(dir.path().join("parts2/psa-part-1-of-2.json")).unwrap();
    let out = hsctsim(&["merge", "parts2", "--out", "broken", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing shard(s) 1 of 2"));
    // The same part given twice.
    let out = hsctsim(
        &[
            "merge",
            "parts2/psa-part-0-of-2.json",
            "parts2/psa-part-0-of-2.json",
            "--out",
            "twice",
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
    // A run's part beside the PSA parts: refused, not silently left out.
    let run = hsctsim(
        &["run", "two.toml", "--shard", "0/1", "--out", "parts1", "-q"],
        dir.path(),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = hsctsim(&["merge", "parts1", "--out", "mixed", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("parts of two kinds"), "{stderr}");
    assert!(!dir.path().join("mixed").exists());
}

use crate::common::root;

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

use crate::common::succeed_in as succeed;

/// `owsa.csv`'s base-case cost, QALYs and life-years per strategy, and the same three from
/// `economics.csv`, as written: they must be the same text, i.e. the same `f64`s.
fn base_cases(owsa: &Path, run: &Path) -> (Vec<[String; 3]>, Vec<[String; 3]>) {
    let one_way: Vec<[String; 3]> = csv_rows(&owsa.join("owsa.csv"))
        .into_iter()
        .filter(|r| r["side"] == "base")
        .map(|r| {
            [
                r["cost"].clone(),
                r["qalys"].clone(),
                r["life_years"].clone(),
            ]
        })
        .collect();
    let economics = csv_rows(&run.join("economics.csv"));
    let mut strategies: Vec<String> = Vec::new();
    for r in &economics {
        if !strategies.contains(&r["strategy"]) {
            strategies.push(r["strategy"].clone());
        }
    }
    let estimate = |s: &str, statistic: &str| {
        economics
            .iter()
            .find(|r| r["strategy"] == s && r["statistic"] == statistic)
            .unwrap_or_else(|| panic!("{s} {statistic}"))["estimate"]
            .clone()
    };
    let deterministic = strategies
        .iter()
        .map(|s| {
            [
                estimate(s, "cost"),
                estimate(s, "qalys"),
                estimate(s, "life_years"),
            ]
        })
        .collect();
    (one_way, deterministic)
}

/// The shipped CEA scenario (and the scenario it extends) copied into `dir` as
/// `cea.toml`, with `edit` applied to its text.
fn cea_copy(dir: &Path, edit: impl Fn(String) -> String) {
    std::fs::copy(
        root().join("scenarios/donor_policy.toml"),
        dir.join("donor_policy.toml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/donor_policy_cea.toml")).unwrap();
    std::fs::write(dir.join("cea.toml"), edit(text)).unwrap();
}

/// Issue 13, item 1: raise the transplant cost 90 000 → 120 000 and the remission utility
/// 0.75 → 0.82 in a copy of the CEA scenario. The PSA's draws are centred on the new
/// values (within 4 standard errors of the mean of the draws), every one-way range
/// contains its base, and the one-way base case is the deterministic run's, number for
/// number, so its ICER is the run's.
#[test]
fn an_edited_base_case_carries_through_psa_and_owsa() {
    let dir = tempfile::tempdir().unwrap();
    let edit = |t: String| {
        let t = t.replacen(
            "{ on = \"hsct2\", cost = 90_000,",
            "{ on = \"hsct2\", cost = 120_000,",
            1,
        );
        t.replacen(
            "{ state = \"remission2\", cost = 2_000, utility = 0.75,",
            "{ state = \"remission2\", cost = 2_000, utility = 0.82,",
            1,
        )
    };
    cea_copy(dir.path(), edit);
    assert!(
        std::fs::read_to_string(dir.path().join("cea.toml"))
            .unwrap()
            .contains("cost = 120_000")
    );
    let quiet = ["--no-figures", "-q"];
    let with = |args: &[&'static str]| -> Vec<&'static str> { [args, &quiet[..]].concat() };
    succeed(
        &with(&[
            "psa",
            "cea.toml",
            "--draws",
            "200",
            "--patients",
            "200",
            "--out",
            "psa",
        ]),
        dir.path(),
    );
    succeed(
        &with(&["owsa", "cea.toml", "--patients", "2000", "--out", "owsa"]),
        dir.path(),
    );
    succeed(
        &with(&["run", "cea.toml", "--patients", "2000", "--out", "run"]),
        dir.path(),
    );

    let draws = csv_rows(&dir.path().join("psa/psa_parameters.csv"));
    for (name, base) in [
        ("Transplant procedure cost", 120_000.0),
        ("Utility in remission after HSCT2", 0.82),
    ] {
        let values: Vec<f64> = draws
            .iter()
            .filter(|r| r["parameter"] == name)
            .map(|r| r["value"].parse().unwrap())
            .collect();
        assert_eq!(values.len(), 200);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        assert!(
            (mean - base).abs() < 4.0 * se,
            "{name}: draws average {mean} ± {se}, the scenario says {base}"
        );
    }

    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("owsa/manifest.json")).unwrap(),
    )
    .unwrap();
    for p in manifest["parameters"].as_array().unwrap() {
        if p["low"].is_null() {
            continue; // the Dirichlet group: PSA only
        }
        let (low, high) = (p["low"].as_f64().unwrap(), p["high"].as_f64().unwrap());
        let base = p["base"][0].as_f64().unwrap();
        assert!(
            low <= base && base <= high,
            "{}: [{low}, {high}] vs {base}",
            p["name"]
        );
        if p["name"] == "Transplant procedure cost" {
            assert_eq!(base, 120_000.0);
        }
    }

    let (one_way, deterministic) = base_cases(&dir.path().join("owsa"), &dir.path().join("run"));
    assert_eq!(one_way, deterministic);
    // The haploidentical ICER from the one-way base case is the run's.
    let incremental = csv_rows(&dir.path().join("run/incremental.csv"));
    let row = |s: &str| incremental.iter().find(|r| r["strategy"] == s).unwrap();
    let icer: f64 = row("haploidentical")["icer"].parse().unwrap();
    let number = |i: usize, k: usize| -> f64 { one_way[i][k].parse().unwrap() };
    // Strategy order: same_donor, different_matched, haploidentical, cord_blood.
    let from_one_way = (number(2, 0) - number(0, 0)) / (number(2, 1) - number(0, 1));
    assert!(
        (icer - from_one_way).abs() <= 1e-9 * icer.abs(),
        "run {icer}, one-way base case {from_one_way}"
    );
}

/// Without `--patients`, `owsa` runs as many patients as `run` (`[simulation] patients`),
/// not the PSA's per-draw count: its base case is `economics.csv`'s bit for bit.
#[test]
fn the_default_one_way_base_case_is_the_deterministic_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = TWO_STATE.replace("draws = 12\npatients = 4000", "draws = 12\npatients = 1500");
    assert_ne!(text, TWO_STATE);
    std::fs::write(dir.path().join("two.toml"), text).unwrap();
    succeed(
        &["run", "two.toml", "--out", "run", "--no-figures", "-q"],
        dir.path(),
    );
    succeed(
        &["owsa", "two.toml", "--out", "owsa", "--no-figures", "-q"],
        dir.path(),
    );
    let (one_way, deterministic) = base_cases(&dir.path().join("owsa"), &dir.path().join("run"));
    assert_eq!(one_way.len(), 2);
    assert_eq!(one_way, deterministic);
    let manifest = std::fs::read_to_string(dir.path().join("owsa/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"patients_per_draw\": 4000"),
        "{manifest}"
    );
}

/// A chance decision with three branches, for the Dirichlet's checks.
const THREE_BRANCHES: &str = r#"
[simulation]
patients = 500
seed = 5
horizon = "24m"

[[states]]
name = "alive"
[[states]]
name = "treated"
[[states]]
name = "watched"
[[states]]
name = "dead"
death = "nrm"

[cohort]
entry = "alive"

[[decisions]]
name = "plan"
branches = [ { to = "treated", p = 0.5 }, { to = "watched", p = 0.3 }, { to = "dead", p = 0.2 } ]

[[transitions]]
from = "alive"
to = "plan"
rate = 0.5
[[transitions]]
from = "treated"
to = "dead"
rate = 0.02
[[transitions]]
from = "watched"
to = "dead"
rate = 0.04

[economics]
discount_costs = 0.03
discount_effects = 0.03
wtp = [30000]
states = [{ state = "treated", cost = 1000, utility = 0.8 }, { state = "watched", cost = 200, utility = 0.6 }]

[[strategies]]
name = "usual"
[[strategies]]
name = "other"
transitions = [{ from = "watched", to = "dead", rate = 0.03 }]

[psa]
draws = 4

[[psa.parameters]]
name = "plan"
paths = ["decisions[plan].branches[0].p", "decisions[plan].branches[1].p", "decisions[plan].branches[2].p"]
distribution = "dirichlet"
counts = [5, 3, 2]
"#;

/// Every way a distribution can describe another value than the scenario's is refused at
/// load time: exit 2, the parameter's line, both numbers, the path and the fix, and no
/// output folder.
#[test]
fn distributions_that_disagree_with_the_base_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    cea_copy(dir.path(), |t| t);
    let shipped = std::fs::read_to_string(dir.path().join("cea.toml")).unwrap();
    let cea = |from: &str, to: &str| {
        assert!(shipped.contains(from), "{from}");
        (shipped.replacen(from, to, 1), "cea.toml")
    };
    let two = |from: &str, to: &str| {
        assert!(TWO_STATE.contains(from), "{from}");
        (TWO_STATE.replacen(from, to, 1), "two.toml")
    };
    let three = |from: &str, to: &str| {
        assert!(THREE_BRANCHES.contains(from), "{from}");
        (THREE_BRANCHES.replacen(from, to, 1), "three.toml")
    };
    // Where the copy writes the transplant cost: the message quotes it beside the value.
    let line = 1 + shipped[..shipped.find("{ on = \"hsct2\", cost = 90_000,").unwrap()]
        .matches('\n')
        .count();
    let procedure_cost_at = format!("`economics.events[hsct2].cost` (cea.toml:{line}:");
    // (case, text, file, command, what the message must say)
    type Case<'a> = (&'a str, (String, &'a str), &'a str, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "explicit mean, edited value",
            (
                cea("mean = \"base\"\nse = 15_000", "mean = 90_000\nse = 15_000")
                    .0
                    .replacen(
                        "{ on = \"hsct2\", cost = 90_000,",
                        "{ on = \"hsct2\", cost = 120_000,",
                        1,
                    ),
                "cea.toml",
            ),
            "psa",
            vec![
                &procedure_cost_at,
                "is 120000 in the scenario",
                "its mean 90000",
                "write mean = \"base\"",
            ],
        ),
        (
            "the old shipped interval, calibrated value",
            cea(
                "median = \"base\"\nsdlog = 0.261",
                "interval = [0.45, 1.25]",
            ),
            "psa",
            vec![
                "`transitions[hsct2->death_nrm].effects[donor_type == 'HID'].hr`",
                "is 0.6486 in the scenario",
                "geometric centre 0.75",
                "median = \"base\" with sdlog = 0.2606",
            ],
        ),
        (
            "the old shipped counts, calibrated split",
            cea("sample_size = 64", "counts = [54, 10]"),
            "owsa",
            vec![
                "`decisions[relapse_plan].branches[0].p`",
                "is 0.835596 in the scenario",
                "54/64",
                "sample_size = 64",
            ],
        ),
        (
            "gamma mean against an edited rate",
            two("rate = 0.05\n", "rate = 0.08\n"),
            "psa",
            vec![
                "`transitions[alive->dead].rate` (two.toml:",
                "is 0.08 in the scenario",
                "its mean 0.05",
                "mean = \"base\"",
            ],
        ),
        (
            "uniform range without the base",
            two(
                "distribution = \"gamma\"\nmean = 0.05\nse = 0.015",
                "distribution = \"uniform\"\nmin = 0.06\nmax = 0.09",
            ),
            "owsa",
            vec![
                "is 0.05 in the scenario",
                "draws only from [0.06, 0.09]",
                "min = \"80%\"",
            ],
        ),
        (
            "one-way range without the base",
            two("se = 0.015", "se = 0.015\nlow = 0.06\nhigh = 0.09"),
            "owsa",
            vec![
                "one-way range [0.06, 0.09] as written does not contain",
                "= 0.05",
                "low = \"80%\"",
            ],
        ),
        (
            "counts against the branches",
            three("counts = [5, 3, 2]", "counts = [6, 3, 1]"),
            "psa",
            vec![
                "`decisions[plan].branches[0].p` (three.toml:",
                "is 0.5 in the scenario",
                "6/10",
                "sample_size = 10",
            ],
        ),
        (
            "part of a group",
            three(
                "\"decisions[plan].branches[1].p\", \"decisions[plan].branches[2].p\"]",
                "\"decisions[plan].branches[1].p\"]",
            ),
            "psa",
            vec!["sum to 0.8 in the scenario, not 1", "every branch"],
        ),
        (
            "tied paths that hold different numbers",
            three(
                "counts = [5, 3, 2]",
                "counts = [5, 3, 2]\n\n[[psa.parameters]]\nname = \"death rates\"\npaths = [\"transitions[treated->dead].rate\", \"transitions[watched->dead].rate\"]\ndistribution = \"gamma\"\nmean = \"base\"\nse = \"20%\"",
            ),
            "psa",
            vec![
                "drawn as one value",
                "`transitions[treated->dead].rate` (three.toml:",
                "is 0.02 and",
                "is 0.04 in the scenario",
            ],
        ),
        (
            "not a number, base or percentage",
            two("mean = 0.05", "mean = \"bse\""),
            "psa",
            vec!["`bse` is neither a number, \"base\""],
        ),
    ];
    for (case, (text, file), command, says) in cases {
        std::fs::write(dir.path().join(file), &text).unwrap();
        let out = hsctsim(
            &[
                command,
                file,
                "--patients",
                "50",
                "--out",
                "refused",
                "--no-figures",
                "-q",
            ],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
        assert!(stderr.contains(&format!("{file}:")), "{case}: {stderr}");
        assert!(
            stderr.contains("help:") || case.starts_with("not a number"),
            "{case}: {stderr}"
        );
        for needle in says {
            assert!(stderr.contains(needle), "{case}: no `{needle}` in {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        assert!(
            !dir.path().join("refused").exists(),
            "{case}: wrote a folder"
        );
    }
    // The same checks pass the shipped forms.
    std::fs::write(dir.path().join("three.toml"), THREE_BRANCHES).unwrap();
    succeed(&["validate", "three.toml"], dir.path());
    std::fs::write(dir.path().join("cea.toml"), &shipped).unwrap();
    succeed(&["validate", "cea.toml"], dir.path());
}

/// A scalar distribution on several `paths` draws one value for all of them: one column
/// per draw in `psa_parameters.csv`, named by every path, and one bar in the tornado.
#[test]
fn tied_paths_are_one_drawn_value() {
    let dir = tempfile::tempdir().unwrap();
    let text = THREE_BRANCHES.replacen("rate = 0.04", "rate = 0.02", 1).replacen(
        "counts = [5, 3, 2]",
        "counts = [5, 3, 2]\n\n[[psa.parameters]]\nname = \"death rates\"\npaths = [\"transitions[treated->dead].rate\", \"transitions[watched->dead].rate\"]\ndistribution = \"gamma\"\nmean = \"base\"\nse = \"20%\"",
        1,
    );
    let psa = compile(&text);
    assert_eq!(psa.width(), 3 + 1);
    let names = psa.value_names();
    assert_eq!(
        names[3],
        (
            "death rates".to_string(),
            "transitions[treated->dead].rate + transitions[watched->dead].rate".to_string()
        )
    );
    std::fs::write(dir.path().join("tied.toml"), &text).unwrap();
    succeed(
        &["psa", "tied.toml", "--out", "psa", "--no-figures", "-q"],
        dir.path(),
    );
    let rows = csv_rows(&dir.path().join("psa/psa_parameters.csv"));
    assert_eq!(
        rows.iter()
            .filter(|r| r["parameter"] == "death rates")
            .count(),
        4
    );
    succeed(
        &["owsa", "tied.toml", "--out", "owsa", "--no-figures", "-q"],
        dir.path(),
    );
    let tornado = csv_rows(&dir.path().join("owsa/tornado.csv"));
    assert_eq!(tornado.len(), 1);
    // With both rates moved together, both strategies' lives shorten at the high value.
    let owsa = csv_rows(&dir.path().join("owsa/owsa.csv"));
    let life = |side: &str, strategy: &str| -> f64 {
        owsa.iter()
            .find(|r| r["side"] == side && r["strategy"] == strategy)
            .unwrap()["life_years"]
            .parse()
            .unwrap()
    };
    for strategy in ["usual", "other"] {
        assert!(
            life("high", strategy) < life("base", strategy),
            "{strategy}"
        );
    }
}

/// `[psa]` inherited from a base file: a relative form follows the value the extending
/// file gives; an explicit one that no longer agrees is refused at the base file's line,
/// naming where the extending file writes the value; a positional selector into the
/// extending file's list is refused (the position may name another entry there).
#[test]
fn an_inherited_psa_table_follows_or_refuses_the_overridden_value() {
    let dir = tempfile::tempdir().unwrap();
    let base = |parameter: &str| {
        format!("{TWO_STATE}\n[[psa.parameters]]\nname = \"cost alive\"\n{parameter}\n")
    };
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    let extending = "[scenario]\nextends = \"base.toml\"\nname = \"extending\"\n\n[economics]\ndiscount_costs = 0.0\ndiscount_effects = 0.0\nwtp = [30000]\nstates = [{ state = \"alive\", cost = 2000, utility = 1.0 }]\n";
    write("extending.toml", extending);

    write(
        "base.toml",
        &base(
            "path = \"economics.states[alive].cost\"\ndistribution = \"gamma\"\nmean = \"base\"\nse = \"10%\"",
        ),
    );
    let composed = compose::load(dir.path().join("extending.toml")).unwrap();
    let psa = Psa::compile(composed, "extending").unwrap();
    let cost = psa
        .parameters
        .iter()
        .find(|p| p.name == "cost alive")
        .unwrap();
    assert_eq!(cost.base, vec![2000.0]);
    assert!((cost.distribution.mean()[0] - 2000.0).abs() < 1e-9);
    assert!((cost.distribution.quantile(0.5).unwrap() - 2000.0).abs() < 0.1 * 2000.0);

    write(
        "base.toml",
        &base(
            "path = \"economics.states[alive].cost\"\ndistribution = \"gamma\"\nmean = 1000\nse = 100",
        ),
    );
    let out = hsctsim(&["validate", "extending.toml"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "base.toml:",
        "`economics.states[alive].cost` (extending.toml:9:",
        "is 2000 in the scenario",
        "its mean 1000",
        "mean = \"base\"",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in {stderr}");
    }

    write(
        "base.toml",
        &base(
            "path = \"economics.states[0].cost\"\ndistribution = \"gamma\"\nmean = \"base\"\nse = 100",
        ),
    );
    let out = hsctsim(&["validate", "extending.toml"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "base.toml:",
        "selects by position an element written in extending.toml",
        "economics.states[remission2].cost",
    ] {
        assert!(stderr.contains(needle), "no `{needle}` in {stderr}");
    }
    // In the file that writes the list, a position is the author's own: accepted.
    succeed(&["validate", "base.toml"], dir.path());
}

/// Economic entries that share an `on` are named by their rule; the bare `on` is the one
/// without a rule; a rule that matches none lists the entries there are.
#[test]
fn economic_entries_are_named_by_their_rule() {
    let text = TWO_STATE.replace(
        "states = [{ state = \"alive\", cost = 1000, utility = 1.0 }]",
        "states = [{ state = \"alive\", cost = 1000, utility = 1.0 }]\nevents = [{ on = \"dead\", cost = 100 }, { on = \"dead\", cost = 50, if = \"drug\" }]",
    );
    let with = |extra: &str| format!("{text}\n{extra}");
    let psa = compile(&with(
        "[[psa.parameters]]\npath = \"economics.events[dead].cost\"\ndistribution = \"gamma\"\nmean = \"base\"\nse = 10\n\n[[psa.parameters]]\npath = \"economics.events[dead if drug].cost\"\ndistribution = \"gamma\"\nmean = \"base\"\nse = 10\n",
    ));
    assert_eq!(psa.parameters[2].base, vec![100.0]);
    assert_eq!(psa.parameters[3].base, vec![50.0]);
    let composed = compose::from_text(
        &with("[[psa.parameters]]\npath = \"economics.events[dead if not drug].cost\"\ndistribution = \"gamma\"\nmean = \"base\"\nse = 10\n"),
        "psa.toml",
        None,
    )
    .unwrap();
    let e = Psa::compile(composed, "psa").unwrap_err().to_string();
    assert!(
        e.contains("economics.events[dead], economics.events[dead if drug]"),
        "{e}"
    );
}
