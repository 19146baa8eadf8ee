//! Probabilistic and one-way sensitivity analysis: draws against closed forms, determinism
//! across threads, the command line's files and errors.

use std::path::Path;
use std::process::Command;

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
interval = [0.3, 0.8]
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

fn hsctsim(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

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
