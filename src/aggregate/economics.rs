//! Mergeable accumulators of costs, life-years and QALYs.
//!
//! Like the curves' counts, every sum is fixed point, so merging threads and shards is exact.
//! Scales are chosen per quantity (costs to 2^-20, squared costs to 2^-4, effects to 2^-32):
//! a life's cost may reach 7·10^8 currency units before its square would leave the range,
//! and a life that does is counted in `overflows` so the run reports it instead of a
//! silently wrong variance.
//!
//! Besides each strategy's sums, the differences between every pair of strategies are summed
//! patient by patient: the same patients live under every strategy, so the standard error of
//! an increment comes from the paired differences, far smaller than from two arms.

use serde::{Deserialize, Serialize};

use super::{ExactSum, TimeSum};
use crate::econ::LifeValues;

/// Sums of costs.
pub type CostSum = ExactSum<20>;
/// Sums of squared costs.
pub type CostSquareSum = ExactSum<4>;
/// Sums of effects (life-years, QALYs).
pub type EffectSum = TimeSum;
/// Sums of squared effects.
pub type EffectSquareSum = ExactSum<24>;
/// Sums of cost × effect.
pub type CrossSum = ExactSum<16>;

/// Largest cost per life whose square fits [`CostSquareSum`].
const MAX_COST: f64 = 7.0e8;
/// Largest effect per life (years) that fits [`EffectSquareSum`].
const MAX_EFFECT: f64 = 7.0e5;

/// A quantity's sum and sum of squares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moments<const F: u32, const G: u32> {
    /// Sum.
    pub sum: ExactSum<F>,
    /// Sum of squares.
    pub squares: ExactSum<G>,
}

impl<const F: u32, const G: u32> Moments<F, G> {
    #[inline]
    fn add(&mut self, x: f64) {
        self.sum.add(x);
        self.squares.add(x * x);
    }

    fn merge(&mut self, other: &Self) {
        self.sum.merge(&other.sum);
        self.squares.merge(&other.squares);
    }
}

/// Cost moments.
pub type CostMoments = Moments<20, 4>;
/// Effect moments.
pub type EffectMoments = Moments<32, 24>;

/// One strategy's economic sums.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyValues {
    /// Costs.
    pub cost: CostMoments,
    /// Discounted costs.
    pub cost_discounted: CostMoments,
    /// Life-years.
    pub life_years: EffectMoments,
    /// Discounted life-years.
    pub life_years_discounted: EffectMoments,
    /// QALYs.
    pub qalys: EffectMoments,
    /// Discounted QALYs.
    pub qalys_discounted: EffectMoments,
    /// Sum of discounted cost × discounted QALYs (for the variance of net benefit).
    pub cross: CrossSum,
}

/// Paired differences (discounted) between two strategies, `a − b`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSums {
    /// Cost differences.
    pub cost: CostMoments,
    /// QALY differences.
    pub qalys: EffectMoments,
    /// Products of the two differences (for the covariance).
    pub cross: CrossSum,
}

/// Everything economic a run accumulates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicTally {
    /// Per strategy.
    pub strategies: Vec<StrategyValues>,
    /// Per pair `(a, b)` with `a < b`, in order (0,1), (0,2), …, (1,2), ….
    pub pairs: Vec<PairSums>,
    /// Lives whose values were too large for the fixed-point sums.
    pub overflows: u64,
}

/// Position of pair `(a, b)`, `a < b`, among `n` strategies.
pub fn pair_index(a: usize, b: usize, n: usize) -> usize {
    debug_assert!(a < b && b < n);
    a * (2 * n - a - 1) / 2 + (b - a - 1)
}

impl EconomicTally {
    /// Empty sums for `strategies` strategies.
    pub fn new(strategies: usize) -> EconomicTally {
        EconomicTally {
            strategies: vec![StrategyValues::default(); strategies],
            pairs: vec![PairSums::default(); strategies * strategies.saturating_sub(1) / 2],
            overflows: 0,
        }
    }

    /// Records one patient's values under every strategy.
    pub fn record(&mut self, lives: &[LifeValues]) {
        if lives.iter().any(|v| {
            v.cost.abs().max(v.cost_discounted.abs()) > MAX_COST
                || v.life_years.abs().max(v.qalys.abs()) > MAX_EFFECT
                || !(v.cost.is_finite() && v.qalys.is_finite() && v.qalys_discounted.is_finite())
        }) {
            self.overflows += 1;
            return;
        }
        for (sums, v) in self.strategies.iter_mut().zip(lives) {
            sums.cost.add(v.cost);
            sums.cost_discounted.add(v.cost_discounted);
            sums.life_years.add(v.life_years);
            sums.life_years_discounted.add(v.life_years_discounted);
            sums.qalys.add(v.qalys);
            sums.qalys_discounted.add(v.qalys_discounted);
            sums.cross.add(v.cost_discounted * v.qalys_discounted);
        }
        let n = lives.len();
        let mut k = 0;
        for a in 0..n {
            for b in a + 1..n {
                let pair = &mut self.pairs[k];
                let dc = lives[a].cost_discounted - lives[b].cost_discounted;
                let de = lives[a].qalys_discounted - lives[b].qalys_discounted;
                pair.cost.add(dc);
                pair.qalys.add(de);
                pair.cross.add(dc * de);
                k += 1;
            }
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &EconomicTally) {
        for (a, b) in self.strategies.iter_mut().zip(&other.strategies) {
            a.cost.merge(&b.cost);
            a.cost_discounted.merge(&b.cost_discounted);
            a.life_years.merge(&b.life_years);
            a.life_years_discounted.merge(&b.life_years_discounted);
            a.qalys.merge(&b.qalys);
            a.qalys_discounted.merge(&b.qalys_discounted);
            a.cross.merge(&b.cross);
        }
        for (a, b) in self.pairs.iter_mut().zip(&other.pairs) {
            a.cost.merge(&b.cost);
            a.qalys.merge(&b.qalys);
            a.cross.merge(&b.cross);
        }
        self.overflows += other.overflows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_numbered_in_order() {
        let n = 4;
        let mut k = 0;
        for a in 0..n {
            for b in a + 1..n {
                assert_eq!(pair_index(a, b, n), k);
                k += 1;
            }
        }
        assert_eq!(k, EconomicTally::new(n).pairs.len());
    }
}
