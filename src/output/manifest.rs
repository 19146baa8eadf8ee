//! `manifest.json`: everything needed to reproduce a run and judge its cost.

use serde::Serialize;

use crate::aggregate::Tally;
use crate::model::figures::FigureOverrides;
use crate::model::{DeathCause, Model};
use crate::scenario::compose::Composition;
use crate::scenario::compose::files::composition_sha256;

/// The run's provenance.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Manifest {
    /// Always "hsctsim".
    pub program: String,
    /// Program version.
    pub version: String,
    /// Scenario path as given.
    pub scenario_path: String,
    /// Scenario name.
    pub scenario_name: String,
    /// SHA-256 of the whole composed scenario: of its files' SHA-256 values, one hex line
    /// each, the file that was run first ([`composition_sha256`]); it changes when any file
    /// of the chain of `extends` (or the built-in model) does.
    pub scenario_sha256: String,
    /// Every file the scenario was composed of, the one that was run first, each with its
    /// SHA-256 (as `sha256sum` prints it). Absent in manifests older than this field.
    #[serde(default)]
    pub scenario_layers: Vec<ScenarioLayer>,
    /// Master seed.
    pub seed: u64,
    /// Patients simulated.
    pub patients: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Strategies, in output order.
    pub strategies: Vec<NamedItem>,
    /// States, in clinical order (the order of `state:` measures).
    pub states: Vec<NamedItem>,
    /// Strategy the `delta_*` statistics compare with.
    pub reference_strategy: String,
    /// Horizon in months.
    pub horizon_months: f64,
    /// Grid step in months.
    pub grid_step_months: f64,
    /// Transitions simulated (all strategies).
    pub events: u64,
    /// Random numbers drawn.
    pub random_draws: u64,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Patients per second (each under every strategy).
    pub patients_per_second: f64,
    /// Currency, price year, discount rates and thresholds of the economic tables, when the
    /// scenario has economics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub economics: Option<EconomicsInfo>,
    /// For a result merged from shards (`hsctsim merge`): how many. Absent for a single run.
    /// `threads`, `wall_seconds` and `patients_per_second` then describe the merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from_shards: Option<u64>,
    /// Figure text from the scenario's `[figures]` table, so `hsctsim plot` re-renders with
    /// it (absent in older manifests and when the table is).
    #[serde(default, skip_serializing_if = "FigureOverrides::is_empty")]
    pub figures: FigureOverrides,
    /// With `--export-patients`: the file and how it was censored, so it can be
    /// regenerated. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_export: Option<PatientExportRecord>,
}

/// One file of the composed scenario, as the manifest records it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ScenarioLayer {
    /// Path as given (joined to the folder of the file that named it), or a built-in
    /// model's file.
    pub path: String,
    /// The built-in model's name, when the layer is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

impl ScenarioLayer {
    /// The record of every file of a composition, the one that was run first.
    pub fn of(scenario: &Composition) -> Vec<ScenarioLayer> {
        scenario
            .layers
            .iter()
            .map(|l| ScenarioLayer {
                path: l.path.clone(),
                builtin: l.builtin.clone(),
                sha256: l.sha256.clone(),
            })
            .collect()
    }
}

/// The labels that go with `economics.csv` and `incremental.csv`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct EconomicsInfo {
    /// Currency label.
    pub currency: String,
    /// Price year label.
    pub price_year: Option<i64>,
    /// Annual discount rate for costs.
    pub discount_costs: f64,
    /// Annual discount rate for life-years and QALYs.
    pub discount_effects: f64,
    /// Willingness-to-pay thresholds per QALY.
    pub wtp: Vec<f64>,
    /// The values are illustrative, not for decisions.
    pub illustrative: bool,
    /// Where the values come from.
    pub note: String,
}

/// Where the patient-level export went and how it was censored.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct PatientExportRecord {
    /// The CSV file, as given on the command line.
    pub path: String,
    /// Rows written (header excluded).
    pub rows: u64,
    /// Uniform accrual period of the administrative censoring, months (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accrual_months: Option<f64>,
    /// Minimum follow-up of the administrative censoring, months (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_follow_up_months: Option<f64>,
}

/// A strategy or state: its short name (CSV) and its label (figures).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct NamedItem {
    /// Short stable name.
    pub name: String,
    /// Human-readable label.
    pub label: String,
    /// For death states, the cause (`relapse` or `nrm`): occupancy figures colour deaths grey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub death: Option<String>,
}

impl EconomicsInfo {
    /// The labels of `economics` (every patient is in the economic tables: a life the exact
    /// sums cannot hold stops the run, so there is no count of lives left out).
    pub fn new(economics: &crate::model::economics::Economics) -> EconomicsInfo {
        EconomicsInfo {
            currency: economics.currency.clone(),
            price_year: economics.price_year,
            discount_costs: economics.annual_discount_costs,
            discount_effects: economics.annual_discount_effects,
            wtp: economics.wtp.clone(),
            illustrative: economics.illustrative,
            note: economics.note.clone(),
        }
    }
}

impl Manifest {
    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

impl Manifest {
    /// The manifest of a finished run of `model`, a scenario that is the one file at
    /// `scenario_path` with bytes `scenario_bytes` (it extends nothing).
    pub fn new(
        model: &Model,
        scenario_path: &str,
        scenario_bytes: &[u8],
        tally: &Tally,
        threads: usize,
        wall_seconds: f64,
    ) -> Manifest {
        let layer = ScenarioLayer {
            path: scenario_path.to_string(),
            builtin: None,
            sha256: sha256_hex(scenario_bytes),
        };
        Manifest::with_layers(model, vec![layer], tally, threads, wall_seconds)
    }

    /// The manifest of a finished run of `model`, composed of `scenario`'s files.
    pub fn composed(
        model: &Model,
        scenario: &Composition,
        tally: &Tally,
        threads: usize,
        wall_seconds: f64,
    ) -> Manifest {
        Manifest::with_layers(
            model,
            ScenarioLayer::of(scenario),
            tally,
            threads,
            wall_seconds,
        )
    }

    fn with_layers(
        model: &Model,
        scenario_layers: Vec<ScenarioLayer>,
        tally: &Tally,
        threads: usize,
        wall_seconds: f64,
    ) -> Manifest {
        let item = |name: &str, label: &str| NamedItem {
            name: name.to_string(),
            label: label.to_string(),
            death: None,
        };
        Manifest {
            program: "hsctsim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario_path: scenario_layers
                .first()
                .map_or(String::new(), |l| l.path.clone()),
            scenario_name: model.name.clone(),
            scenario_sha256: composition_sha256(scenario_layers.iter().map(|l| l.sha256.as_str())),
            scenario_layers,
            seed: model.settings.seed,
            patients: tally.patients,
            threads,
            strategies: model
                .strategies
                .iter()
                .map(|s| item(&s.name, &s.label))
                .collect(),
            states: model
                .states
                .iter()
                .map(|s| NamedItem {
                    death: s.death.map(|d| {
                        match d {
                            DeathCause::Relapse => "relapse",
                            DeathCause::NonRelapse => "nrm",
                        }
                        .to_string()
                    }),
                    ..item(&s.name, &s.label)
                })
                .collect(),
            reference_strategy: model.strategies[model.settings.reference].name.clone(),
            horizon_months: model.settings.horizon,
            grid_step_months: model.settings.grid_step,
            events: tally.events,
            random_draws: tally.draws,
            wall_seconds,
            patients_per_second: tally.patients as f64 / wall_seconds.max(1e-9),
            merged_from_shards: None,
            figures: model.figures.clone(),
            economics: model.economics.as_ref().map(EconomicsInfo::new),
            patient_export: None,
        }
    }

    /// Reads a manifest back (for re-plotting and merging).
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Hex SHA-256 of bytes.
pub use crate::scenario::compose::files::sha256_hex;

/// `manifest.json` of the folders `check` and `calibrate` write: what made them, from which
/// files, so a folder can be traced to its inputs, and recognised as ours before replacing
/// it (see [`crate::atomic::Signature::ManifestFolder`]).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct CommandManifest {
    /// Always "hsctsim".
    pub program: String,
    /// Program version.
    pub version: String,
    /// The command: `check` or `calibrate`.
    pub kind: String,
    /// The files read, as given, with the SHA-256 of each.
    pub inputs: Vec<InputRecord>,
    /// Master seed.
    pub seed: u64,
    /// Patients per cohort.
    pub patients: u64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
}

/// One input file of a command and the hash of what was read.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct InputRecord {
    /// Path as given (or a built-in model's name).
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

impl CommandManifest {
    /// A manifest of `kind` run on `inputs` (path, bytes).
    pub fn new(
        kind: &str,
        inputs: &[(&str, &[u8])],
        seed: u64,
        patients: u64,
        wall_seconds: f64,
    ) -> CommandManifest {
        CommandManifest {
            program: "hsctsim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: kind.into(),
            inputs: inputs
                .iter()
                .map(|(path, bytes)| InputRecord {
                    path: (*path).to_string(),
                    sha256: sha256_hex(bytes),
                })
                .collect(),
            seed,
            patients,
            wall_seconds,
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}
