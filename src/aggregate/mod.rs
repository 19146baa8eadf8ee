//! Streaming, mergeable accumulators: counts on the time grid and exact sums.
//!
//! Why only integers: results must be byte-identical for any thread count and any split of
//! the patients into shards, and floating-point addition is not associative. Counts are
//! integers already; sums of times are kept in fixed point ([`ExactSum`]), so merging in
//! any order gives the same bits. Memory depends on the grid and the number of states and
//! strategies, never on the number of patients.
//!
//! Curves are built from difference arrays: a sojourn in state `s` over `[a, b)` adds 1 at
//! the first grid point ≥ a and removes 1 at the first grid point ≥ b, so recording a life
//! costs O(states visited), not O(grid points).

pub mod results;

use serde::{Deserialize, Serialize};

use crate::engine::life::{Step, Trajectory};
use crate::model::{DeathCause, Model};

/// Fine bins per grid step for the death-time histogram (median survival to ~1/16 step).
pub const FINE_BINS_PER_STEP: usize = 16;

/// An exact, order-independent sum of reals in fixed point with `FRAC` fractional bits.
///
/// Each value is truncated to a multiple of 2^-FRAC (|x| must stay below 2^(63-FRAC));
/// the sum is an `i128`, so it cannot overflow for any realistic number of patients.
///
/// In part files (see `crate::shard`) `units` is a decimal string: JSON readers outside Rust
/// (jq, JavaScript) hold numbers as doubles and would round an `i128` silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExactSum<const FRAC: u32> {
    /// The sum in units of 2^-FRAC.
    #[serde(with = "decimal_string")]
    pub units: i128,
}

impl<const FRAC: u32> ExactSum<FRAC> {
    const SCALE: f64 = (1u64 << FRAC) as f64;

    /// Adds a value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.units += (x * Self::SCALE) as i64 as i128;
    }

    /// Adds another sum.
    #[inline]
    pub fn merge(&mut self, other: &Self) {
        self.units += other.units;
    }

    /// The sum as a float.
    pub fn value(&self) -> f64 {
        self.units as f64 / Self::SCALE
    }
}

/// An `i128` as a decimal string in serialized form.
mod decimal_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &i128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| D::Error::custom(format!("expected an integer in a string, got {text:?}")))
    }
}

/// Sums of times (months, up to 2^31).
pub type TimeSum = ExactSum<32>;
/// Sums of squared times (months², up to 2^39).
pub type SquareSum = ExactSum<24>;

const RELAPSE_EVENT: u8 = 1;
const DEATH_RELAPSE: u8 = 2;
const DEATH_NRM: u8 = 4;

/// What the accumulators need to know about the model, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Grid points (0 and the horizon included).
    pub grid_len: usize,
    /// Grid step in months.
    pub step: f64,
    /// Horizon in months.
    pub horizon: f64,
    /// 1 / step.
    inverse_step: f64,
    /// 1 / fine bin width.
    inverse_fine_width: f64,
    /// Number of states.
    pub states: usize,
    /// Event flags per state.
    flags: Vec<u8>,
    /// Landmark times.
    pub landmarks: Vec<f64>,
    /// Number of strategies.
    pub strategies: usize,
    /// Reference strategy for paired comparisons.
    pub reference: usize,
}

impl Layout {
    /// The layout of a model's accumulators.
    pub fn new(model: &Model) -> Layout {
        let flags = model
            .states
            .iter()
            .map(|s| {
                let mut f = 0;
                if s.relapse {
                    f |= RELAPSE_EVENT;
                }
                match s.death {
                    Some(DeathCause::Relapse) => f |= DEATH_RELAPSE,
                    Some(DeathCause::NonRelapse) => f |= DEATH_NRM,
                    None => {}
                }
                f
            })
            .collect();
        Layout {
            grid_len: model.settings.grid_len(),
            step: model.settings.grid_step,
            horizon: model.settings.horizon,
            inverse_step: 1.0 / model.settings.grid_step,
            inverse_fine_width: FINE_BINS_PER_STEP as f64 / model.settings.grid_step,
            states: model.states.len(),
            flags,
            landmarks: model.settings.landmarks.clone(),
            strategies: model.strategies.len(),
            reference: model.settings.reference,
        }
    }

    /// Index of the first grid point at or after `t` (`grid_len` if beyond the horizon).
    ///
    /// Exact with respect to the grid times `i · step` (a time on a grid point maps to that
    /// point), without `ceil` or division, which cost more than the rest of recording.
    #[inline]
    pub fn cell(&self, t: f64) -> usize {
        // t·(1/step) is within an ulp of t/step, so its truncation is the cell or one below
        // it; one comparison with the grid time settles it. Written without branches or
        // `ceil` (a libm call on baseline x86-64): recording lives is the hot loop, and
        // sojourn ends are random, so branches here mispredict.
        let x = (t * self.inverse_step).clamp(0.0, self.grid_len as f64);
        let c = x as i64;
        let c = c + i64::from((c as f64) * self.step < t);
        (c as usize).min(self.grid_len)
    }

    /// Number of fine histogram bins.
    pub fn fine_len(&self) -> usize {
        (self.grid_len - 1) * FINE_BINS_PER_STEP
    }

    /// Width of a fine histogram bin.
    pub fn fine_width(&self) -> f64 {
        self.step / FINE_BINS_PER_STEP as f64
    }
}

/// Accumulators for one strategy and one time origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginTally {
    /// Patients counted from this origin.
    pub patients: u64,
    /// Occupancy difference counts, state-major, `grid_len + 1` cells per state (last: beyond).
    pub occupancy: Vec<i64>,
    /// Deaths by grid cell.
    pub deaths: Vec<u64>,
    /// First relapse events (relapse states or relapse deaths) by grid cell.
    pub relapses: Vec<u64>,
    /// Non-relapse deaths before any relapse, by grid cell.
    pub nrm: Vec<u64>,
    /// Deaths by fine bin, for the median.
    pub death_fine: Vec<u64>,
    /// Patients entering each state within the horizon.
    pub reached: Vec<u64>,
    /// Sum of survival times restricted to the horizon.
    pub os_time: TimeSum,
    /// Sum of their squares.
    pub os_time_sq: SquareSum,
    /// Sum of leukaemia-free times restricted to the horizon.
    pub lfs_time: TimeSum,
    /// Sum of their squares.
    pub lfs_time_sq: SquareSum,
}

/// What recording one life from one origin found (for paired comparisons).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeSummary {
    /// Time of death from the origin (`+∞` if alive at the end of the window).
    pub death: f64,
}

impl OriginTally {
    fn new(layout: &Layout) -> OriginTally {
        let cells = layout.grid_len + 1;
        OriginTally {
            patients: 0,
            occupancy: vec![0; layout.states * cells],
            deaths: vec![0; cells],
            relapses: vec![0; cells],
            nrm: vec![0; cells],
            death_fine: vec![0; layout.fine_len()],
            reached: vec![0; layout.states],
            os_time: TimeSum::default(),
            os_time_sq: SquareSum::default(),
            lfs_time: TimeSum::default(),
            lfs_time_sq: SquareSum::default(),
        }
    }

    /// Records a life from `steps[first]`, whose entry time is the origin.
    ///
    /// Each sojourn boundary's grid cell is computed once (the end of one sojourn is the
    /// start of the next, and the first event and death are sojourn starts), and event
    /// detection is written as selects rather than branches: this is the hot loop.
    #[inline]
    pub fn record(&mut self, layout: &Layout, steps: &[Step], first: usize) -> LifeSummary {
        let lived = &steps[first..];
        let origin = lived[0].time;
        let cells = layout.grid_len + 1;
        // The first relapse event or death after the origin: time, grid cell, state flags.
        let (mut event_at, mut event_cell, mut event_flags) = (f64::INFINITY, layout.grid_len, 0u8);
        let mut reached: u64 = 0;
        let mut start_cell = 0;
        let mut visited = 0;
        for (k, step) in lived.iter().enumerate() {
            let start = step.time - origin;
            if start > layout.horizon {
                break;
            }
            visited = k + 1;
            let end_cell = lived
                .get(k + 1)
                .map_or(layout.grid_len, |s| layout.cell(s.time - origin));
            // A sojourn within one grid cell adds and removes in the same cell: no branch.
            let row = step.state * cells;
            self.occupancy[row + start_cell] += 1;
            self.occupancy[row + end_cell] -= 1;
            // Keep the first event with masks rather than a branch (events are random).
            let flags = layout.flags[step.state];
            let take = (k > 0) & (flags != 0) & (event_flags == 0);
            let mask = u64::from(take).wrapping_neg();
            event_at = f64::from_bits((start.to_bits() & mask) | (event_at.to_bits() & !mask));
            event_cell = (start_cell & mask as usize) | (event_cell & !mask as usize);
            event_flags |= flags & mask as u8;
            let bit = 1u64 << (step.state & 63);
            self.reached[step.state] += u64::from(reached & bit == 0);
            reached |= bit;
            start_cell = end_cell;
        }
        self.patients += 1;
        let relapse = event_flags & (RELAPSE_EVENT | DEATH_RELAPSE) != 0;
        let sink = layout.grid_len;
        self.relapses[if relapse { event_cell } else { sink }] += 1;
        self.nrm[if relapse { sink } else { event_cell }] += 1;
        // Death is the last state entered within the window, if it is a death state.
        let last = lived[visited - 1];
        let dead = visited > 1 && layout.flags[last.state] & (DEATH_RELAPSE | DEATH_NRM) != 0;
        let death_at = if dead {
            last.time - origin
        } else {
            f64::INFINITY
        };
        self.deaths[if dead { layout.cell(death_at) } else { sink }] += 1;
        if dead {
            let bin = ((death_at * layout.inverse_fine_width) as i64 as usize)
                .min(self.death_fine.len() - 1);
            self.death_fine[bin] += 1;
        }
        let os = death_at.min(layout.horizon);
        self.os_time.add(os);
        self.os_time_sq.add(os * os);
        let lfs = event_at.min(layout.horizon);
        self.lfs_time.add(lfs);
        self.lfs_time_sq.add(lfs * lfs);
        LifeSummary { death: death_at }
    }

    fn merge(&mut self, other: &OriginTally) {
        fn add<T: Copy + std::ops::AddAssign>(a: &mut [T], b: &[T]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        }
        self.patients += other.patients;
        add(&mut self.occupancy, &other.occupancy);
        add(&mut self.deaths, &other.deaths);
        add(&mut self.relapses, &other.relapses);
        add(&mut self.nrm, &other.nrm);
        add(&mut self.death_fine, &other.death_fine);
        add(&mut self.reached, &other.reached);
        self.os_time.merge(&other.os_time);
        self.os_time_sq.merge(&other.os_time_sq);
        self.lfs_time.merge(&other.lfs_time);
        self.lfs_time_sq.merge(&other.lfs_time_sq);
    }
}

/// Accumulators for one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyTally {
    /// Time since cohort entry.
    pub entry: OriginTally,
    /// Time since HSCT2, among patients transplanted within the horizon.
    pub hsct2: OriginTally,
    /// Paired differences in restricted survival time against the reference strategy.
    pub paired_os_time: TimeSum,
    /// Their squares.
    pub paired_os_time_sq: SquareSum,
    /// Per landmark: [alive here and dead under the reference, dead here and alive there].
    pub paired_alive: Vec<[u64; 2]>,
}

/// Everything a run accumulates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    /// Per strategy.
    pub strategies: Vec<StrategyTally>,
    /// Patients simulated.
    pub patients: u64,
    /// Transitions simulated (all strategies).
    pub events: u64,
    /// Random numbers drawn (all strategies and attributes).
    pub draws: u64,
}

impl Tally {
    /// Empty accumulators for a layout.
    pub fn new(layout: &Layout) -> Tally {
        let strategy = StrategyTally {
            entry: OriginTally::new(layout),
            hsct2: OriginTally::new(layout),
            paired_os_time: TimeSum::default(),
            paired_os_time_sq: SquareSum::default(),
            paired_alive: vec![[0, 0]; layout.landmarks.len()],
        };
        Tally {
            strategies: vec![strategy; layout.strategies],
            patients: 0,
            events: 0,
            draws: 0,
        }
    }

    /// Records one patient's life under one strategy; returns the death time from entry.
    #[inline]
    pub fn record(&mut self, layout: &Layout, strategy: usize, trajectory: &Trajectory) -> f64 {
        let tally = &mut self.strategies[strategy];
        let life = tally.entry.record(layout, &trajectory.steps, 0);
        if let Some(first) = trajectory.hsct2_step {
            tally.hsct2.record(layout, &trajectory.steps, first);
        }
        self.events += trajectory.steps.len() as u64 - 1;
        life.death
    }

    /// Records paired comparisons of one patient across strategies (death times from entry).
    #[inline]
    pub fn record_paired(&mut self, layout: &Layout, deaths: &[f64]) {
        let reference = deaths[layout.reference];
        let reference_os = reference.min(layout.horizon);
        for (s, &death) in deaths.iter().enumerate() {
            if s == layout.reference {
                continue;
            }
            let tally = &mut self.strategies[s];
            let difference = death.min(layout.horizon) - reference_os;
            tally.paired_os_time.add(difference);
            tally.paired_os_time_sq.add(difference * difference);
            for (k, &landmark) in layout.landmarks.iter().enumerate() {
                let (alive, alive_reference) = (death > landmark, reference > landmark);
                if alive && !alive_reference {
                    tally.paired_alive[k][0] += 1;
                } else if !alive && alive_reference {
                    tally.paired_alive[k][1] += 1;
                }
            }
        }
    }

    /// Adds another tally (from another thread, chunk or shard).
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.strategies.iter_mut().zip(&other.strategies) {
            a.entry.merge(&b.entry);
            a.hsct2.merge(&b.hsct2);
            a.paired_os_time.merge(&b.paired_os_time);
            a.paired_os_time_sq.merge(&b.paired_os_time_sq);
            for (x, y) in a.paired_alive.iter_mut().zip(&b.paired_alive) {
                x[0] += y[0];
                x[1] += y[1];
            }
        }
        self.patients += other.patients;
        self.events += other.events;
        self.draws += other.draws;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sums_do_not_depend_on_order() {
        let xs: Vec<f64> = (0..10_000)
            .map(|i| ((i * 7919) % 1000) as f64 / 7.0)
            .collect();
        let mut forward = TimeSum::default();
        xs.iter().for_each(|x| forward.add(*x));
        let mut halves = [TimeSum::default(), TimeSum::default()];
        for (i, x) in xs.iter().rev().enumerate() {
            halves[i % 2].add(*x);
        }
        let [mut first, second] = halves;
        first.merge(&second);
        assert_eq!(forward, first);
        let float_sum: f64 = xs.iter().sum();
        assert!((forward.value() - float_sum).abs() < 1e-5);
    }
}
