//! `[simulation]`: patients, seed, horizon and grid, landmarks, threads, the events bound and
//! the reference strategy, each checked against its limit.
//!
//! Separate because these settings say how much to simulate, not what: they are checked
//! against the limits of the machine's memory and time rather than against the model.

use super::{Builder, MAX_GRID_POINTS, MAX_HORIZON_MONTHS, MAX_PATIENTS, Result};
use crate::model::limits::MAX_CURVE_VALUES;
use crate::model::variable::quote_list;
use crate::model::{Settings, Strategy};
use crate::scenario::error::BuildError;
use crate::scenario::format::SimulationDef;
use crate::suggest::did_you_mean;
use crate::toml_path;

impl Builder {
    pub(super) fn settings(
        &self,
        sim: &SimulationDef,
        strategies: &[Strategy],
    ) -> Result<Settings> {
        let p = |k: &str| toml_path!["simulation", k];
        let patients = sim.patients.unwrap_or(100_000);
        if patients < 1 || patients as u64 > MAX_PATIENTS {
            return Err(BuildError::new(
                p("patients"),
                format!("`patients` must be between 1 and {MAX_PATIENTS}, got {patients}"),
            ));
        }
        let seed = sim.seed.unwrap_or(1);
        if seed < 0 {
            return Err(BuildError::new(
                p("seed"),
                format!("`seed` must be ≥ 0, got {seed}"),
            ));
        }
        let horizon = sim.horizon.map_or(60.0, |q| q.0);
        if !(horizon.is_finite() && horizon > 0.0) {
            return Err(BuildError::new(
                p("horizon"),
                format!("`horizon` must be a positive duration, got {horizon}"),
            )
            .help("e.g. horizon = \"5y\""));
        }
        if horizon > MAX_HORIZON_MONTHS {
            return Err(BuildError::new(
                p("horizon"),
                format!(
                    "`horizon` is {horizon} months ({:.0} years); the limit is {MAX_HORIZON_MONTHS} months (1000 years)",
                    horizon / 12.0
                ),
            )
            .help("bare numbers are months: give a unit, e.g. horizon = \"50y\""));
        }
        let grid_step = sim.grid.map_or(1.0, |q| q.0);
        if !(grid_step.is_finite() && grid_step > 0.0) {
            return Err(BuildError::new(
                p("grid"),
                format!("`grid` must be a positive duration, got {grid_step}"),
            ));
        }
        let steps = horizon / grid_step;
        if (steps - steps.round()).abs() > 1e-9 * steps.max(1.0) {
            return Err(BuildError::new(p("grid"), format!("the horizon ({horizon} months) is not a whole number of grid steps ({grid_step} months)"))
                .help("choose a step that divides the horizon, e.g. \"1m\" or \"3m\""));
        }
        if steps.round() as usize + 1 > MAX_GRID_POINTS {
            return Err(BuildError::new(
                p("grid"),
                format!(
                    "the grid would have {} points; the limit is {MAX_GRID_POINTS}",
                    steps.round() as usize + 1
                ),
            )
            .help("use a coarser grid step"));
        }
        // Curves and occupancy are kept (and written) per grid time, strategy and state.
        let values = (steps.round() as u64 + 1)
            .saturating_mul(strategies.len() as u64)
            .saturating_mul(self.states.len() as u64);
        if values > MAX_CURVE_VALUES {
            return Err(BuildError::new(
                p("grid"),
                format!(
                    "{} grid times × {} strategies × {} states make {values} curve values; the limit is {MAX_CURVE_VALUES}",
                    steps.round() as u64 + 1,
                    strategies.len(),
                    self.states.len()
                ),
            )
            .help("use a coarser grid step, or compare fewer strategies in one scenario"));
        }
        let landmarks = match &sim.landmarks {
            Some(l) => {
                let mut out = Vec::new();
                for (k, q) in l.iter().enumerate() {
                    let lp = toml_path!["simulation", "landmarks", k];
                    let x = q.0;
                    let on_grid = ((x / grid_step) - (x / grid_step).round()).abs() < 1e-9;
                    if !(x.is_finite() && x > 0.0 && x <= horizon + 1e-9 && on_grid) {
                        return Err(BuildError::new(lp, format!("landmark {x} months must be a grid time in (0, {horizon}]"))
                            .help("landmarks are read off the grid; pick multiples of the grid step within the horizon"));
                    }
                    out.push((x / grid_step).round() * grid_step);
                }
                out
            }
            None => (1..)
                .map(|k| k as f64 * 12.0)
                .take_while(|x| *x <= horizon + 1e-9)
                .filter(|x| ((x / grid_step) - (x / grid_step).round()).abs() < 1e-9)
                .collect(),
        };
        let threads = sim.threads.unwrap_or(0);
        if !(0..=4096).contains(&threads) {
            return Err(BuildError::new(
                p("threads"),
                format!("`threads` must be between 0 (all cores) and 4096, got {threads}"),
            ));
        }
        let max_events = sim.max_events.unwrap_or(10_000);
        if !(1..=100_000_000).contains(&max_events) {
            return Err(BuildError::new(
                p("max_events"),
                format!("`max_events` must be between 1 and 1e8, got {max_events}"),
            ));
        }
        let reference = match &sim.reference {
            Some(name) => strategies
                .iter()
                .position(|s| &s.name == name)
                .ok_or_else(|| {
                    BuildError::new(
                        p("reference"),
                        format!(
                            "unknown strategy `{name}`.{}",
                            did_you_mean(name, strategies.iter().map(|s| s.name.as_str()))
                        ),
                    )
                    .help(format!(
                        "strategies are {}",
                        quote_list(
                            &strategies
                                .iter()
                                .map(|s| s.name.clone())
                                .collect::<Vec<_>>()
                        )
                    ))
                })?,
            None => 0,
        };
        Ok(Settings {
            patients: patients as u64,
            seed: seed as u64,
            horizon,
            grid_step,
            landmarks,
            threads: threads as usize,
            max_events: max_events as u32,
            reference,
        })
    }
}
