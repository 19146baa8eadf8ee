//! Mergeable accumulators of costs, life-years and QALYs.
//!
//! Like the curves' counts, every sum is exact, so merging threads and shards gives the
//! same bits in any order. Economic values have no natural bound (a currency unit may be a
//! won or a rupiah, a life may cost 10^15 of them), so they are summed in 256-bit fixed
//! point ([`WideSum`], see [`super::wide`] for the bounds): a life's values may reach
//! ±2^58 ≈ 2.9·10^17 currency units (or years), squares and products included, at the
//! 10^12 patients a scenario accepts. A value beyond that, or one that is not finite, is
//! an error for the run naming the patient and strategy ([`ValueOutOfRange`]): a patient
//! is never left out of the tables.
//!
//! Besides each strategy's sums, the differences between every pair of strategies are summed
//! patient by patient: the same patients live under every strategy, so the standard error of
//! an increment comes from the paired differences, far smaller than from two arms.

use serde::{Deserialize, Serialize};

use super::wide::{MAX_SUMMAND_ROOT, WideOverflow, WideSum};
use crate::econ::LifeValues;

/// A quantity's sum and sum of squares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moments {
    /// Sum.
    pub sum: WideSum,
    /// Sum of squares.
    pub squares: WideSum,
}

impl Moments {
    #[inline]
    fn add(&mut self, x: f64) {
        self.sum.add(x);
        self.squares.add(x * x);
    }

    fn checked_merge(&mut self, other: &Self) -> Result<(), WideOverflow> {
        self.sum.checked_merge(&other.sum)?;
        self.squares.checked_merge(&other.squares)
    }
}

/// One strategy's economic sums.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyValues {
    /// Costs.
    pub cost: Moments,
    /// Discounted costs.
    pub cost_discounted: Moments,
    /// Life-years.
    pub life_years: Moments,
    /// Discounted life-years.
    pub life_years_discounted: Moments,
    /// QALYs.
    pub qalys: Moments,
    /// Discounted QALYs.
    pub qalys_discounted: Moments,
    /// Sum of discounted cost × discounted QALYs (for the variance of net benefit).
    pub cross: WideSum,
}

/// Paired differences (discounted) between two strategies, `a − b`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSums {
    /// Cost differences.
    pub cost: Moments,
    /// QALY differences.
    pub qalys: Moments,
    /// Products of the two differences (for the covariance).
    pub cross: WideSum,
}

/// Everything economic a run accumulates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicTally {
    /// Per strategy.
    pub strategies: Vec<StrategyValues>,
    /// Per pair `(a, b)` with `a < b`, in order (0,1), (0,2), …, (1,2), ….
    pub pairs: Vec<PairSums>,
}

/// A life's value that the exact sums cannot hold: not finite, or beyond ±2^58.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "its {quantity} is {value:e}{}; the exact economic sums hold finite values up to ±{MAX_SUMMAND_ROOT:e} per life. Check the [economics] table: a cost or disutility far too large (a one-off given as a monthly cost?), or one that multiplies into infinity; in a currency of very small units, give costs in thousands. A patient is never left out of the results, so the run stops instead",
    if value.is_finite() { "" } else { " (not a finite number)" }
)]
pub struct ValueOutOfRange {
    /// Strategy index.
    pub strategy: usize,
    /// `cost`, `discounted cost`, `life-years`, `discounted life-years`, `QALYs` or
    /// `discounted QALYs`.
    pub quantity: &'static str,
    /// The value.
    pub value: f64,
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
        }
    }

    /// Records one patient's values under every strategy, or refuses (recording nothing)
    /// if one of them is not finite or beyond ±2^58, the bound under which no sum,
    /// square or product can leave its range.
    pub fn record(&mut self, lives: &[LifeValues]) -> Result<(), ValueOutOfRange> {
        for (strategy, v) in lives.iter().enumerate() {
            for (quantity, value) in [
                ("cost", v.cost),
                ("discounted cost", v.cost_discounted),
                ("life-years", v.life_years),
                ("discounted life-years", v.life_years_discounted),
                ("QALYs", v.qalys),
                ("discounted QALYs", v.qalys_discounted),
            ] {
                // NaN is not finite either.
                if !value.is_finite() || value.abs() > MAX_SUMMAND_ROOT {
                    return Err(ValueOutOfRange {
                        strategy,
                        quantity,
                        value,
                    });
                }
            }
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
        Ok(())
    }

    /// Adds another tally of the same shape (checked by the caller), or fails if a sum
    /// would leave its range (only sums from forged or corrupted files can).
    pub fn checked_merge(&mut self, other: &EconomicTally) -> Result<(), WideOverflow> {
        for (a, b) in self.strategies.iter_mut().zip(&other.strategies) {
            a.cost.checked_merge(&b.cost)?;
            a.cost_discounted.checked_merge(&b.cost_discounted)?;
            a.life_years.checked_merge(&b.life_years)?;
            a.life_years_discounted
                .checked_merge(&b.life_years_discounted)?;
            a.qalys.checked_merge(&b.qalys)?;
            a.qalys_discounted.checked_merge(&b.qalys_discounted)?;
            a.cross.checked_merge(&b.cross)?;
        }
        for (a, b) in self.pairs.iter_mut().zip(&other.pairs) {
            a.cost.checked_merge(&b.cost)?;
            a.qalys.checked_merge(&b.qalys)?;
            a.cross.checked_merge(&b.cross)?;
        }
        Ok(())
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

    fn life(cost: f64) -> LifeValues {
        LifeValues {
            cost,
            cost_discounted: cost * 0.9,
            life_years: 2.0,
            life_years_discounted: 1.9,
            qalys: 1.5,
            qalys_discounted: 1.4,
        }
    }

    /// Costs of 10^15 per life in two strategies: sums, squares and paired differences
    /// are exact, where the former i128 sums capped a life at 7·10^8.
    #[test]
    fn lives_of_a_quadrillion_are_summed_exactly() {
        let mut tally = EconomicTally::new(2);
        let lives = [life(1e15), life(2e15)];
        for _ in 0..1000 {
            tally.record(&lives).unwrap();
        }
        let s = &tally.strategies[1];
        assert_eq!(s.cost.sum.value(), 2e18);
        assert_eq!(s.cost.squares.value(), 1000.0 * 4e30);
        let dc = 1e15 * 0.9 - 2e15 * 0.9;
        assert_eq!(tally.pairs[0].cost.sum.value(), 1000.0 * dc);
        assert_eq!(tally.pairs[0].cost.squares.value(), 1000.0 * (dc * dc));
    }

    #[test]
    fn values_the_sums_cannot_hold_are_refused_and_nothing_is_recorded() {
        for (bad, quantity) in [
            (6e17, "cost"),
            (f64::INFINITY, "cost"),
            (f64::NAN, "cost"),
            (-1e300, "cost"),
        ] {
            let mut tally = EconomicTally::new(2);
            let e = tally.record(&[life(1.0), life(bad)]).unwrap_err();
            assert_eq!((e.strategy, e.quantity), (1, quantity));
            assert_eq!(tally, EconomicTally::new(2), "something was recorded");
            let shown = e.to_string();
            assert!(shown.contains("2.8823037615171174e17"), "{shown}");
        }
        let mut qalys = life(1.0);
        qalys.qalys_discounted = -1e18;
        let e = EconomicTally::new(1).record(&[qalys]).unwrap_err();
        assert_eq!(e.quantity, "discounted QALYs");
        // At the bound itself: accepted.
        EconomicTally::new(2)
            .record(&[life(MAX_SUMMAND_ROOT), life(-MAX_SUMMAND_ROOT)])
            .unwrap();
    }
}
