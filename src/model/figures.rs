//! Figure text set in a scenario's `[figures]` table: titles, axis labels, strategy and
//! state labels, and a landmark shown in legends.
//!
//! The scenario compiler checks the table ([`crate::scenario::figures`]) and the result
//! travels in `manifest.json`, so `hsctsim plot` re-renders a run with the same text from
//! the run folder alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Overrides of the default figure text; empty maps and `None` keep the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FigureOverrides {
    /// Title by figure (`os`, `lfs`, `cir`, `nrm`, `occupancy`, `calibration`); an empty
    /// title removes it (journals put titles in the caption).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub titles: BTreeMap<String, String>,
    /// Y-axis title by figure.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub y_labels: BTreeMap<String, String>,
    /// X-axis title by time origin (`entry`, `hsct2`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub x_labels: BTreeMap<String, String>,
    /// Strategy labels by strategy name (instead of the scenario's `label`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub strategies: BTreeMap<String, String>,
    /// State labels by state name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub states: BTreeMap<String, String>,
    /// Months at which legends give each curve's value with its interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landmark: Option<f64>,
}

impl FigureOverrides {
    /// True when nothing is overridden (the manifest then omits the field).
    pub fn is_empty(&self) -> bool {
        *self == FigureOverrides::default()
    }
}
