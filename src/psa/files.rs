//! Files of `hsctsim psa` and `hsctsim owsa`.
//!
//! PSA folder: `psa_draws.csv` (`draw,strategy,cost,qalys,life_years,cost_undiscounted,
//! qalys_undiscounted,life_years_undiscounted`, per-patient means of each draw),
//! `psa_parameters.csv` (`draw,parameter,path,value`), `psa_summary.csv`
//! (`strategy,statistic,wtp,mean,sd,lower,upper` over the draws), `psa_incremental.csv`
//! (frontier of the mean costs and QALYs, columns as `incremental.csv` without SEs),
//! `ceac.csv` (`wtp,strategy,probability,expected_nmb,optimal`), `evpi.csv` (`wtp,evpi`)
//! and `manifest.json` (`"kind": "psa"`).
//!
//! OWSA folder: `owsa.csv` (`parameter,label,path,side,value,strategy,cost,qalys,life_years,nmb`
//! for the base case and every low/high run), `tornado.csv`
//! (`parameter,label,strategy,comparator,wtp,low,high,inmb_low,inmb_high,inmb_base`, one
//! comparison) and `manifest.json` (`"kind": "owsa"`).

use serde::Serialize;

use crate::model::Model;
use crate::output::manifest::{EconomicsInfo, NamedItem};
use crate::output::number;
use crate::psa::analysis::Analysis;
use crate::psa::owsa::{Comparison, OneWay};
use crate::psa::{DrawOutcome, Means, Psa};

/// Header of `psa_draws.csv`.
pub const DRAWS_HEADER: [&str; 8] = [
    "draw",
    "strategy",
    "cost",
    "qalys",
    "life_years",
    "cost_undiscounted",
    "qalys_undiscounted",
    "life_years_undiscounted",
];
/// Header of `ceac.csv`.
pub const CEAC_HEADER: [&str; 5] = ["wtp", "strategy", "probability", "expected_nmb", "optimal"];
/// Header of `tornado.csv`.
pub const TORNADO_HEADER: [&str; 10] = [
    "parameter",
    "label",
    "strategy",
    "comparator",
    "wtp",
    "low",
    "high",
    "inmb_low",
    "inmb_high",
    "inmb_base",
];

/// One parameter as recorded in the manifest.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ParameterRecord {
    /// Label.
    pub name: String,
    /// Paths set.
    pub paths: Vec<String>,
    /// Distribution and its parameters, e.g. `lognormal(meanlog=-0.1, sdlog=0.2)`.
    pub distribution: String,
    /// Values in the scenario.
    pub base: Vec<f64>,
    /// One-way range.
    pub low: Option<f64>,
    /// One-way range.
    pub high: Option<f64>,
    /// Source.
    pub source: String,
}

/// `manifest.json` of a PSA or OWSA folder.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct SensitivityManifest {
    /// Always "hsctsim".
    pub program: String,
    /// Program version.
    pub version: String,
    /// `psa` or `owsa`.
    pub kind: String,
    /// Scenario path as given.
    pub scenario_path: String,
    /// Scenario name.
    pub scenario_name: String,
    /// SHA-256 of the whole composition: of every file's SHA-256 (see
    /// [`crate::scenario::compose::files::composition_sha256`]), as in a run's manifest.
    pub scenario_sha256: String,
    /// Every file the scenario was composed of, the one that was run first, each with its
    /// SHA-256.
    #[serde(default)]
    pub scenario_layers: Vec<crate::output::manifest::ScenarioLayer>,
    /// Master seed.
    pub seed: u64,
    /// Parameter draws (PSA) or runs (OWSA: base + 2 per parameter).
    pub draws: u64,
    /// Patients per draw or run.
    pub patients_per_draw: u64,
    /// Worker threads.
    pub threads: usize,
    /// Strategies in scenario order.
    pub strategies: Vec<NamedItem>,
    /// Reference strategy for increments.
    pub reference: String,
    /// Currency, price year, discount rates, thresholds (the first is the main one),
    /// whether values are illustrative, and lives left out of the sums; flattened, so
    /// the figures read `currency`, `wtp` and `illustrative` at the top level.
    #[serde(flatten)]
    pub economics: EconomicsInfo,
    /// The uncertain parameters.
    pub parameters: Vec<ParameterRecord>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Patients per second (each under every strategy, all draws).
    pub patients_per_second: f64,
    /// For an analysis merged from shards: how many (wall time is then the merge's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from_shards: Option<u64>,
}

impl SensitivityManifest {
    /// The manifest of `psa` run as `kind` (`psa` or `owsa`).
    pub fn new(
        psa: &Psa,
        kind: &str,
        scenario: &crate::scenario::compose::Composition,
        draws: u64,
        patients_per_draw: u64,
        threads: usize,
        wall_seconds: f64,
    ) -> SensitivityManifest {
        let model: &Model = &psa.base;
        let economics = model
            .economics
            .as_ref()
            .expect("a PSA's model has economics");
        let simulated = (draws * patients_per_draw) as f64;
        SensitivityManifest {
            program: "hsctsim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: kind.into(),
            scenario_path: scenario.top_path().into(),
            scenario_name: psa.name.clone(),
            scenario_sha256: scenario.sha256(),
            scenario_layers: crate::output::manifest::ScenarioLayer::of(scenario),
            seed: model.settings.seed,
            draws,
            patients_per_draw,
            threads,
            strategies: model
                .strategies
                .iter()
                .map(|s| NamedItem {
                    name: s.name.clone(),
                    label: s.label.clone(),
                    death: None,
                })
                .collect(),
            reference: model.strategies[model.settings.reference].name.clone(),
            economics: EconomicsInfo::new(economics),
            parameters: psa
                .parameters
                .iter()
                .map(|p| ParameterRecord {
                    name: p.name.clone(),
                    paths: p.paths.iter().map(|x| x.text.clone()).collect(),
                    distribution: format!("{:?}", p.distribution),
                    base: p.base.clone(),
                    low: p.range.map(|r| r.0),
                    high: p.range.map(|r| r.1),
                    source: p.source.clone(),
                })
                .collect(),
            wall_seconds,
            patients_per_second: if wall_seconds > 0.0 {
                simulated / wall_seconds
            } else {
                0.0
            },
            merged_from_shards: None,
        }
    }

    /// The bytes of `manifest.json`.
    pub fn json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

fn means_fields(m: &Means) -> [String; 6] {
    [
        number(m.cost),
        number(m.qalys),
        number(m.life_years),
        number(m.cost_undiscounted),
        number(m.qalys_undiscounted),
        number(m.life_years_undiscounted),
    ]
}

fn strategy_names(psa: &Psa) -> Vec<&str> {
    psa.base
        .strategies
        .iter()
        .map(|s| s.name.as_str())
        .collect()
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().unwrap_or_default()
}

/// The files of a PSA folder (without figures).
pub fn psa_files(
    psa: &Psa,
    draws: &[DrawOutcome],
    analysis: &Analysis,
    manifest: &SensitivityManifest,
) -> Vec<(String, Vec<u8>)> {
    let names = strategy_names(psa);

    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(DRAWS_HEADER);
    for d in draws {
        for (s, m) in d.means.iter().enumerate() {
            let mut row = vec![d.draw.to_string(), names[s].to_string()];
            row.extend(means_fields(m));
            let _ = w.write_record(&row);
        }
    }
    let draws_csv = finish(w);

    let value_names = psa.value_names();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["draw", "parameter", "path", "value"]);
    for d in draws {
        for ((label, path), v) in value_names.iter().zip(&d.values) {
            let _ = w.write_record([&d.draw.to_string(), label, path, &number(*v)]);
        }
    }
    let parameters_csv = finish(w);

    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "strategy",
        "statistic",
        "wtp",
        "mean",
        "sd",
        "lower",
        "upper",
    ]);
    let opt = |x: Option<f64>| x.map_or(String::new(), number);
    for r in &analysis.summary {
        let _ = w.write_record([
            names[r.strategy],
            r.statistic,
            &opt(r.wtp),
            &number(r.mean),
            &opt(r.sd),
            &opt(r.lower),
            &opt(r.upper),
        ]);
    }
    let summary_csv = finish(w);

    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "strategy",
        "cost",
        "qalys",
        "status",
        "comparator",
        "delta_cost",
        "delta_qalys",
        "icer",
    ]);
    for i in &analysis.increments {
        let _ = w.write_record([
            names[i.strategy],
            &number(i.cost),
            &number(i.effect),
            i.status.as_str(),
            i.comparator.map_or("", |c| names[c]),
            &number(i.delta_cost),
            &number(i.delta_effect),
            &number(i.icer),
        ]);
    }
    let increments_csv = finish(w);

    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CEAC_HEADER);
    for p in &analysis.ceac {
        let _ = w.write_record([
            number(p.wtp),
            names[p.strategy].to_string(),
            number(p.probability),
            number(p.expected_nmb),
            u8::from(p.optimal).to_string(),
        ]);
    }
    let ceac_csv = finish(w);

    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["wtp", "evpi"]);
    for &(wtp, evpi) in &analysis.evpi {
        let _ = w.write_record([number(wtp), number(evpi)]);
    }
    let evpi_csv = finish(w);

    vec![
        ("psa_draws.csv".into(), draws_csv),
        ("psa_parameters.csv".into(), parameters_csv),
        ("psa_summary.csv".into(), summary_csv),
        ("psa_incremental.csv".into(), increments_csv),
        ("ceac.csv".into(), ceac_csv),
        ("evpi.csv".into(), evpi_csv),
        ("manifest.json".into(), manifest.json()),
    ]
}

/// The files of an OWSA folder (without figures).
pub fn owsa_files(
    psa: &Psa,
    one_way: &OneWay,
    comparison: &Comparison,
    manifest: &SensitivityManifest,
) -> Vec<(String, Vec<u8>)> {
    let names = strategy_names(psa);
    let wtp = comparison.wtp;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "parameter",
        "label",
        "path",
        "side",
        "value",
        "strategy",
        "cost",
        "qalys",
        "life_years",
        "nmb",
    ]);
    let mut rows = |parameter: &str,
                    label: &str,
                    path: &str,
                    side: &str,
                    value: Option<f64>,
                    means: &[Means]| {
        for (s, m) in means.iter().enumerate() {
            let _ = w.write_record([
                parameter,
                label,
                path,
                side,
                &value.map_or(String::new(), number),
                names[s],
                &number(m.cost),
                &number(m.qalys),
                &number(m.life_years),
                &number(m.nmb(wtp)),
            ]);
        }
    };
    rows("", "base case", "", "base", None, &one_way.base);
    for bar in &one_way.bars {
        let p = &psa.parameters[bar.parameter];
        let path = &p
            .paths
            .iter()
            .map(|x| x.text.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        let id = (bar.parameter + 1).to_string();
        rows(&id, &p.name, path, "low", Some(bar.low), &bar.at_low);
        rows(&id, &p.name, path, "high", Some(bar.high), &bar.at_high);
    }
    let owsa_csv = finish(w);

    let base = OneWay::inmb(&one_way.base, comparison);
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(TORNADO_HEADER);
    for bar in &one_way.bars {
        let _ = w.write_record([
            &(bar.parameter + 1).to_string(),
            psa.parameters[bar.parameter].name.as_str(),
            names[comparison.strategy],
            names[comparison.comparator],
            &number(wtp),
            &number(bar.low),
            &number(bar.high),
            &number(OneWay::inmb(&bar.at_low, comparison)),
            &number(OneWay::inmb(&bar.at_high, comparison)),
            &number(base),
        ]);
    }
    let tornado_csv = finish(w);
    vec![
        ("owsa.csv".into(), owsa_csv),
        ("tornado.csv".into(), tornado_csv),
        ("manifest.json".into(), manifest.json()),
    ]
}
