//! The fixes shown with errors: how rules are written, what a cure fraction is, what each
//! hazard family takes, and a default fix from the key an error is about.
//!
//! Separate so that every part of the builder gives the same advice for the same key, and
//! an error raised without a fix still gets one (see [`super::build_with`]).

use super::MAX_PATIENTS;
use crate::scenario::error::{Path, Segment};

/// How rules are written, for every rule error.
pub(super) const RULE_HELP: &str = "rules compare variables and times: `age >= 60 and cgvhd`, `disease in ['AML', 'ALL']`, `remission >= 6m`, `visited('hsct2')`, `time_since('hsct2') > 3m`; a number with a unit (6m, 2y) is converted into the unit of the time it meets, a number without one is in that unit; see \"Rules\" and \"Units\" in the README";

/// What a cure fraction is.
pub(super) const CURE_HELP: &str = "`cure` is the fraction of patients who never have this event, from 0 up to (not including) 1: cure = 0.3 means 30 %";

/// The parameters a hazard family takes and their ranges.
pub fn family_help(family: &str) -> String {
    match family {
        "exponential" => "a constant hazard takes rate ≥ 0 per month (0 switches it off), or a median or mean time > 0, e.g. hazard = { family = \"exponential\", median = \"8m\" }",
        "weibull" => "weibull takes shape > 0 (below 1 the hazard falls, above 1 it rises) and scale > 0, a time, e.g. { family = \"weibull\", shape = 1.3, scale = \"14m\" }",
        "gompertz" => "gompertz takes rate > 0 (the hazard per month at time 0) and a finite shape (below 0 the hazard falls and some patients never have the event)",
        "loglogistic" => "loglogistic takes shape > 0 and scale > 0, a time (the median), e.g. { family = \"loglogistic\", shape = 2, scale = \"10m\" }",
        "lognormal" => "lognormal takes meanlog (or median, a time > 0) and sdlog > 0, e.g. { family = \"lognormal\", median = \"2m\", sdlog = 0.5 }",
        "uniform" => "uniform takes times 0 ≤ min < max, e.g. { family = \"uniform\", min = \"1m\", max = \"3m\" }",
        _ => "piecewise takes starts = [0, \"6m\", …] (first 0, strictly increasing) and one rate ≥ 0 per month for each start",
    }
    .to_string()
}

/// A fix for errors raised without one, from the key they are about.
pub(super) fn default_help(path: &Path) -> String {
    let key = path.iter().rev().find_map(|s| match s {
        Segment::Key(k) => Some(k.as_str()),
        Segment::Index(_) => None,
    });
    match key.unwrap_or("") {
        "patients" => format!("the number of virtual patients, from 1 to {MAX_PATIENTS}, e.g. patients = 100_000 (each runs under every strategy)"),
        "seed" => "any whole number ≥ 0, e.g. seed = 1; the same seed gives the same results".into(),
        "horizon" => "a positive duration, e.g. horizon = \"5y\"".into(),
        "grid" => "a positive duration that divides the horizon, e.g. grid = \"1m\" (monthly points) or \"3m\"".into(),
        "threads" => "threads = 0 uses all cores; otherwise 1 to 4096".into(),
        "max_events" => "the default 10 000 transitions per patient is far above any real life; raise it only for models with many short cycles".into(),
        "probability" | "probabilities" | "p" | "levels" => "a probability is a number from 0 to 1, e.g. 0.3 for 30 %".into(),
        "hr" => "a hazard ratio is a positive number: 1 means no effect, 2 doubles the hazard, 0.5 halves it".into(),
        "cure" => CURE_HELP.into(),
        "enabled" => "to switch a transition off for one strategy: [[strategies]] … transitions = [ { from = \"a\", to = \"b\", enabled = false } ]".into(),
        "name" => "names are identifiers (letters, digits, _), unique among states, decisions, strategies and variables".into(),
        "decisions" | "branches" => "a decision has branches = [ { to = \"…\", if = \"rule\" }, …, { to = \"…\" } ], or chance branches each with p".into(),
        "from" | "to" => "name a state (or, for `to`, a decision) declared in the file".into(),
        "after" | "at" => "a duration ≥ 0, e.g. after = \"3m\"".into(),
        "reference" | "min" | "max" | "mean" | "sd" | "median" | "meanlog" | "sdlog" | "value" | "values" | "distribution" => "a numeric attribute is one of: fixed (value), normal (mean, sd > 0), lognormal (median or meanlog, sdlog > 0), uniform (min < max), gamma (mean, sd > 0), discrete (values, probabilities); min/max truncate".into(),
        _ => "see \"Scenario format\" in the README for what this key accepts".into(),
    }
}
