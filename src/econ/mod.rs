//! Health economics: costs, life-years and QALYs of each life, discounted in continuous
//! time, and the incremental analysis that compares strategies.
//!
//! Each sojourn's value is integrated exactly: a cost rate `c` per month over `[a, b]`
//! discounted at the continuous monthly rate `δ` contributes `c (e^{−δa} − e^{−δb}) / δ`,
//! so there is no monthly-cycle approximation or half-cycle correction. An annual discount
//! rate `r` is the continuous rate `δ = ln(1 + r) / 12` per month, so a cost one year ahead
//! counts `1 / (1 + r)`, the usual convention of guidelines.

pub mod incremental;

use crate::model::economics::{Economics, EventValue};
use crate::model::rule::{Rule, RuleContext};

/// Continuous monthly discount rate for an annual rate.
pub fn monthly_rate(annual: f64) -> f64 {
    annual.ln_1p() / 12.0
}

/// `∫_a^b e^{−δt} dt`, accurate for small `δ (b − a)` and exact for `δ = 0`.
#[inline]
pub fn discounted_duration(delta: f64, a: f64, b: f64) -> f64 {
    if delta == 0.0 {
        b - a
    } else {
        (-delta * a).exp() * -(-delta * (b - a)).exp_m1() / delta
    }
}

/// Costs, life-years and QALYs of one life, undiscounted and discounted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LifeValues {
    /// Total cost.
    pub cost: f64,
    /// Discounted cost.
    pub cost_discounted: f64,
    /// Life-years.
    pub life_years: f64,
    /// Discounted life-years.
    pub life_years_discounted: f64,
    /// QALYs.
    pub qalys: f64,
    /// Discounted QALYs.
    pub qalys_discounted: f64,
}

/// A discount clock: `D(t) = ∫_0^t e^{−δu} du = −expm1(−δt)/δ` at the current time, so a
/// sojourn's discounted length is `D(b) − D(a)` and the factor at `t` is `e^{−δt} = 1 − δD(t)`:
/// one `expm1` per state entry instead of an `exp` and an `expm1` per sojourn and per event.
#[derive(Debug, Clone, Copy)]
struct DiscountClock {
    delta: f64,
    /// `expm1(−δ·t)` at the clock's time (`−t·δ` exactly when δ = 0 is not needed: then the
    /// clock is plain time).
    at: f64,
}

impl DiscountClock {
    fn new(delta: f64) -> DiscountClock {
        DiscountClock { delta, at: 0.0 }
    }

    /// `expm1(−δt)` for a new time.
    #[inline]
    fn point(&self, t: f64) -> f64 {
        (-self.delta * t).exp_m1()
    }

    /// Discounted length of `[a, b]` given the clock at `a` (`self.at`) and `x_b` at `b`.
    #[inline]
    fn length(&self, a: f64, b: f64, x_b: f64) -> f64 {
        if self.delta == 0.0 {
            b - a
        } else {
            (self.at - x_b) / self.delta
        }
    }

    /// `e^{−δt}` from `expm1(−δt)`.
    #[inline]
    fn factor(x: f64) -> f64 {
        1.0 + x
    }
}

/// Accumulates a life's values as it unfolds (used by the aggregator's recorder).
#[derive(Debug, Clone)]
pub struct Ledger<'a> {
    economics: &'a Economics,
    horizon: f64,
    costs: DiscountClock,
    effects: DiscountClock,
    /// The effects' clock is the costs' (equal rates, the usual case).
    shared: bool,
    /// The current sojourn: start, cost rate per month, utility per year, alive.
    since: f64,
    cost_rate: f64,
    utility: f64,
    alive: bool,
    state: Option<usize>,
    values: LifeValues,
}

impl<'a> Ledger<'a> {
    /// A ledger for a life followed to `horizon` months.
    pub fn new(economics: &'a Economics, horizon: f64) -> Ledger<'a> {
        let delta_costs = monthly_rate(economics.annual_discount_costs);
        let delta_effects = monthly_rate(economics.annual_discount_effects);
        Ledger {
            economics,
            horizon,
            costs: DiscountClock::new(delta_costs),
            effects: DiscountClock::new(delta_effects),
            shared: delta_costs == delta_effects,
            since: 0.0,
            cost_rate: 0.0,
            utility: 0.0,
            alive: false,
            state: None,
            values: LifeValues::default(),
        }
    }

    /// Closes the current sojourn at `end` (capped at the horizon) and moves the discount
    /// clocks there.
    fn accrue(&mut self, end: f64) {
        let (a, b) = (self.since, end.min(self.horizon));
        if b <= a {
            return;
        }
        let x_costs = self.costs.point(b);
        let x_effects = if self.shared {
            x_costs
        } else {
            self.effects.point(b)
        };
        let v = &mut self.values;
        v.cost += self.cost_rate * (b - a);
        v.cost_discounted += self.cost_rate * self.costs.length(a, b, x_costs);
        if self.alive {
            let years = (b - a) / 12.0;
            let years_discounted = self.effects.length(a, b, x_effects) / 12.0;
            v.life_years += years;
            v.life_years_discounted += years_discounted;
            v.qalys += self.utility * years;
            v.qalys_discounted += self.utility * years_discounted;
        }
        self.costs.at = x_costs;
        self.effects.at = x_effects;
        self.since = b;
    }

    fn one_off(&mut self, value: &EventValue) {
        // Events happen at the clocks' time (accrue has just moved them there).
        let v = &mut self.values;
        v.cost += value.cost;
        v.cost_discounted += value.cost * DiscountClock::factor(self.costs.at);
        v.qalys -= value.disutility;
        v.qalys_discounted -= value.disutility * DiscountClock::factor(self.effects.at);
    }

    /// The patient enters `state` at `time` with these variable values.
    pub fn enter(&mut self, state: usize, time: f64, values: &[f64]) {
        self.accrue(time);
        let context = RuleContext {
            values,
            time,
            visits: &[],
            last_entry: &[],
        };
        let applies =
            |condition: &Option<Rule>| condition.as_ref().is_none_or(|c| c.eval_bool(&context));
        let economics = self.economics;
        if time <= self.horizon {
            if let Some(previous) = self.state {
                for (from, to, value) in &economics.on_transition {
                    if *from == previous && *to == state && applies(&value.condition) {
                        self.one_off(value);
                    }
                }
            }
            for value in &economics.on_enter[state] {
                if applies(&value.condition) {
                    self.one_off(value);
                }
            }
        }
        let (mut cost_rate, mut utility) = (0.0, 0.0);
        for value in &economics.states[state] {
            if applies(&value.condition) {
                cost_rate += value.cost;
                utility += value.utility;
            }
        }
        self.cost_rate = cost_rate;
        self.utility = utility;
        self.alive = economics.alive[state];
        self.since = time;
        self.state = Some(state);
    }

    /// Closes the last sojourn at the horizon and returns the life's values.
    pub fn finish(&mut self) -> LifeValues {
        self.accrue(self.horizon);
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounted_duration_matches_the_integral() {
        assert_eq!(discounted_duration(0.0, 2.0, 5.0), 3.0);
        let delta = monthly_rate(0.035);
        // One year at 3.5 %: ∫_0^12 e^{−δt} dt = (1 − 1/1.035) / δ.
        let expected = (1.0 - 1.0 / 1.035) / delta;
        assert!((discounted_duration(delta, 0.0, 12.0) - expected).abs() < 1e-12);
        // Tiny intervals keep their precision.
        let (a, b) = (100.0, 100.0 + 1e-9);
        let tiny = discounted_duration(delta, a, b);
        assert!((tiny / (b - a) - (-delta * 100.0).exp()).abs() < 1e-9);
    }

    #[test]
    fn a_year_ahead_counts_one_over_one_plus_r() {
        let delta = monthly_rate(0.03);
        assert!(((-delta * 12.0).exp() - 1.0 / 1.03).abs() < 1e-15);
    }
}
