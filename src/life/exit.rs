//! Which exit a patient takes from a state, and when: the competing exits' draws.
//!
//! The choice among constant-hazard exits has one owner, [`constant_exit`], which both the
//! general life and the constant-hazard kernel call, so the two draw the same numbers in
//! the same order by construction.

use crate::model::rule::RuleContext;
use crate::model::{Clock, ConstantExits, Effect, Exits, Node, Timing, Transition};
use crate::rng::Stream;

/// Exit from a state whose exits are all constant hazards with a positive total rate: one
/// exponential with the total rate, the exit chosen in proportion to its rate (the same law
/// as the minimum of the separate times, for two draws instead of one per exit). Returns the
/// exit time and the exit's index.
///
/// The draws: a uniform for the exit, then a standard exponential for the wait. `table` is
/// the model's [`ConstantExits`] or the constant-hazard kernel's row of a state.
#[inline(always)]
pub fn constant_exit<T: ExitTable>(table: &T, time: f64, rng: &mut Stream) -> (f64, usize) {
    let which = table.reached(rng.uniform());
    // Read after the draws: held across them, it would be spilled around the ziggurat's
    // rare call into `exp`.
    let wait = rng.exponential() * table.mean_wait();
    (time + wait, which)
}

/// A state's constant-hazard exits as [`constant_exit`] reads them.
pub trait ExitTable {
    /// How many of the running sums of the exits' probabilities (without the last, which
    /// is 1) the uniform `u` reaches: the index of the exit taken. Count with
    /// [`reached_of_four`].
    fn reached(&self, u: f64) -> usize;
    /// Mean time to leave (1 / total rate).
    fn mean_wait(&self) -> f64;
}

/// How many of four thresholds `u` reaches: four comparisons summed, no data-dependent
/// branch (which exit is taken is random, so branches mispredict).
#[inline(always)]
pub fn reached_of_four(u: f64, four: &[f64; 4]) -> usize {
    usize::from(u >= four[0])
        + usize::from(u >= four[1])
        + usize::from(u >= four[2])
        + usize::from(u >= four[3])
}

/// The model's table: thresholds padded with +∞ to a multiple of 4, four at a time.
impl ExitTable for ConstantExits {
    #[inline(always)]
    fn reached(&self, u: f64) -> usize {
        let (fours, _) = self.thresholds.as_chunks::<4>();
        fours.iter().map(|four| reached_of_four(u, four)).sum()
    }

    #[inline(always)]
    fn mean_wait(&self) -> f64 {
        self.mean_wait
    }
}

/// [`constant_exit`] for the general life: time and target; `+∞` (and no draw) when every
/// rate is 0.
#[inline(always)]
pub(super) fn constant_target(
    constant: &ConstantExits,
    time: f64,
    rng: &mut Stream,
) -> (f64, Node) {
    if constant.total <= 0.0 {
        return (f64::INFINITY, constant.targets[0]);
    }
    let (at, which) = constant_exit(constant, time, rng);
    (at, constant.targets[which])
}

/// Time and target of the first exit from a state entered at `time` whose exits are not
/// all constant hazards; `+∞` if none fires.
pub(super) fn next_exit(
    exits: &Exits,
    time: f64,
    rng: &mut Stream,
    values: &[f64],
    visits: &[u32],
    last_entry: &[f64],
) -> (f64, Node) {
    let context = &RuleContext {
        values,
        time,
        visits,
        last_entry,
    };
    let mut best = f64::INFINITY;
    let mut target = exits.transitions.first().map_or(Node::State(0), |t| t.to);
    for transition in &exits.transitions {
        // Draw for every exit, enabled or not, so streams stay aligned across strategies.
        let e = rng.exponential();
        if let Some(condition) = &transition.condition
            && !condition.eval_bool(context)
        {
            continue;
        }
        let at = exit_time(transition, time, e, context);
        if at < best {
            best = at;
            target = transition.to;
        }
    }
    (best, target)
}

/// When one transition would fire, given the standard exponential `e`.
#[inline]
fn exit_time(transition: &Transition, time: f64, e: f64, context: &RuleContext) -> f64 {
    match &transition.timing {
        Timing::Hazard(hazard) => {
            let m = multiplier(transition, context);
            if m <= 0.0 {
                return f64::INFINITY;
            }
            match transition.clock {
                Clock::Reset => time + hazard.sample_after(0.0, m, e),
                Clock::Forward => hazard.sample_after(time, m, e),
                Clock::Age { variable } => {
                    let age_at_entry = context.values[variable] * 12.0;
                    (hazard.sample_after(age_at_entry + time, m, e) - age_at_entry).max(time)
                }
            }
        }
        Timing::After(delay) => time + delay,
        Timing::At(at) => {
            if *at >= time {
                *at
            } else {
                f64::INFINITY
            }
        }
    }
}

/// The hazard multiplier of a transition for this patient now: strategy HR times effects.
#[inline]
fn multiplier(transition: &Transition, context: &RuleContext) -> f64 {
    let mut m = transition.hr;
    for effect in &transition.effects {
        match effect {
            Effect::When { condition, hr } => {
                if condition.eval_bool(context) {
                    m *= hr;
                }
            }
            Effect::PerUnit {
                value,
                reference,
                log_hr,
            } => {
                let factor = (log_hr * (value.eval_number(context) - reference)).exp();
                if !factor.is_nan() {
                    m *= factor;
                }
            }
        }
    }
    m
}
