//! `manifest.json`: everything needed to reproduce a run and judge its cost.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The run's provenance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Manifest {
    /// Always "hsctsim".
    pub program: String,
    /// Program version.
    pub version: String,
    /// Scenario path as given.
    pub scenario_path: String,
    /// Scenario name.
    pub scenario_name: String,
    /// SHA-256 of the scenario file's bytes.
    pub scenario_sha256: String,
    /// Master seed.
    pub seed: u64,
    /// Patients simulated.
    pub patients: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Strategy names, in output order.
    pub strategies: Vec<String>,
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
}

impl Manifest {
    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
