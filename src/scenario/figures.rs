//! The optional `[figures]` table: titles, axis titles, strategy and state labels, and a
//! landmark for legends. Checked here against the model so a typo in a name is an error
//! with a suggestion, then carried in the manifest for `hsctsim plot`.
//!
//! ```toml
//! [figures]
//! titles = { os = "Overall survival by donor policy", cir = "" }   # "" = no title
//! y_labels = { os = "Alive (%)" }
//! x_labels = { hsct2 = "Months after second transplant" }
//! strategies = { same_donor = "Same donor" }
//! states = { relapse2 = "Relapse after HSCT2" }
//! landmark = "2y"
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::BuildError;
use super::format::Quantity;
use crate::model::Model;
use crate::model::figures::FigureOverrides;
use crate::suggest::did_you_mean;
use crate::toml_path;

/// `[figures]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiguresDef {
    /// Titles by figure; `""` removes the title.
    pub titles: Option<PerFigure>,
    /// Y-axis titles by figure (for `calibration`: the value axis).
    pub y_labels: Option<PerFigure>,
    /// X-axis titles by time origin.
    pub x_labels: Option<PerOrigin>,
    /// Strategy labels in figures, by strategy name.
    pub strategies: Option<BTreeMap<String, String>>,
    /// State labels in figures, by state name.
    pub states: Option<BTreeMap<String, String>>,
    /// Time at which legends give each curve's value and interval.
    pub landmark: Option<Quantity>,
}

/// A text per figure kind.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerFigure {
    /// Overall survival.
    pub os: Option<String>,
    /// Leukaemia-free survival.
    pub lfs: Option<String>,
    /// Cumulative incidence of relapse.
    pub cir: Option<String>,
    /// Non-relapse mortality.
    pub nrm: Option<String>,
    /// State occupancy.
    pub occupancy: Option<String>,
    /// Calibration.
    pub calibration: Option<String>,
}

/// A text per time origin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerOrigin {
    /// Time since entry (relapse or graft failure after HSCT1).
    pub entry: Option<String>,
    /// Time since HSCT2.
    pub hsct2: Option<String>,
}

fn per_figure(def: &Option<PerFigure>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(d) = def {
        for (key, value) in [
            ("os", &d.os),
            ("lfs", &d.lfs),
            ("cir", &d.cir),
            ("nrm", &d.nrm),
            ("occupancy", &d.occupancy),
            ("calibration", &d.calibration),
        ] {
            if let Some(v) = value {
                out.insert(key.to_string(), v.clone());
            }
        }
    }
    out
}

fn labels<'a>(
    map: &Option<BTreeMap<String, String>>,
    key: &str,
    known: impl Iterator<Item = &'a str> + Clone,
    what: &str,
) -> Result<BTreeMap<String, String>, BuildError> {
    let mut out = BTreeMap::new();
    for (name, label) in map.iter().flatten() {
        if !known.clone().any(|k| k == name) {
            return Err(BuildError::new(
                toml_path!["figures", key, name],
                format!(
                    "`{name}` is not a {what} of this scenario.{}",
                    did_you_mean(name, known.clone())
                ),
            )
            .help(format!(
                "{what} names: {}",
                known.clone().collect::<Vec<_>>().join(", ")
            )));
        }
        if label.trim().is_empty() {
            return Err(BuildError::new(
                toml_path!["figures", key, name],
                format!("the label of {what} `{name}` is empty"),
            )
            .help("give a label, or remove the entry to use the scenario's"));
        }
        out.insert(name.clone(), label.clone());
    }
    Ok(out)
}

/// Checks the table against the model and resolves it.
pub(crate) fn build(
    def: Option<&FiguresDef>,
    model: &Model,
) -> Result<FigureOverrides, BuildError> {
    let Some(def) = def else {
        return Ok(FigureOverrides::default());
    };
    let mut x_labels = BTreeMap::new();
    if let Some(x) = &def.x_labels {
        for (key, value) in [("entry", &x.entry), ("hsct2", &x.hsct2)] {
            if let Some(v) = value {
                x_labels.insert(key.to_string(), v.clone());
            }
        }
    }
    let landmark = match def.landmark {
        Some(Quantity(t)) => {
            let horizon = model.settings.horizon;
            if !(t.is_finite() && t > 0.0 && t <= horizon + 1e-9) {
                return Err(BuildError::new(
                    toml_path!["figures", "landmark"],
                    format!(
                        "the landmark {t} months is not within the follow-up (0, {horizon}] months"
                    ),
                )
                .help("e.g. landmark = \"2y\""));
            }
            Some(t)
        }
        None => None,
    };
    Ok(FigureOverrides {
        titles: per_figure(&def.titles),
        y_labels: per_figure(&def.y_labels),
        x_labels,
        strategies: labels(
            &def.strategies,
            "strategies",
            model.strategies.iter().map(|s| s.name.as_str()),
            "strategy",
        )?,
        states: labels(
            &def.states,
            "states",
            model.states.iter().map(|s| s.name.as_str()),
            "state",
        )?,
        landmark,
    })
}
