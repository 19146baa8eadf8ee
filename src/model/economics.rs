//! The compiled `[economics]` table: what each state and event is worth. Data only, so the
//! model can carry it; [`crate::econ`] values lives with it (discounting, the ledger) and
//! compares strategies (incremental analysis).

use crate::model::rule::Rule;

/// One contribution to the value of time in a state.
#[derive(Debug, Clone)]
pub struct StateValue {
    /// Only for patients meeting this rule (on entering the state).
    pub condition: Option<Rule>,
    /// Cost per month.
    pub cost: f64,
    /// Utility (QALYs per year lived).
    pub utility: f64,
}

/// A one-off cost or QALY loss.
#[derive(Debug, Clone)]
pub struct EventValue {
    /// Only for patients meeting this rule.
    pub condition: Option<Rule>,
    /// Cost.
    pub cost: f64,
    /// QALYs lost.
    pub disutility: f64,
}

/// The compiled `[economics]` table.
#[derive(Debug, Clone)]
pub struct Economics {
    /// Currency label.
    pub currency: String,
    /// Price year label.
    pub price_year: Option<i64>,
    /// Values are illustrative (printed on tables).
    pub illustrative: bool,
    /// Where values come from.
    pub note: String,
    /// Annual discount rate for costs.
    pub annual_discount_costs: f64,
    /// Annual discount rate for effects.
    pub annual_discount_effects: f64,
    /// Willingness-to-pay thresholds per QALY.
    pub wtp: Vec<f64>,
    /// Values of time in each state (by state index).
    pub states: Vec<Vec<StateValue>>,
    /// One-off values on entering each state.
    pub on_enter: Vec<Vec<EventValue>>,
    /// One-off values on a transition: (from, to, value).
    pub on_transition: Vec<(usize, usize, EventValue)>,
    /// States that count as alive (life-years accrue).
    pub alive: Vec<bool>,
}
