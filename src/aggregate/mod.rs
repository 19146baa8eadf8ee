//! Streaming, mergeable accumulators: counts on the time grid and exact sums.
//!
//! Why only integers: results must be byte-identical for any thread count and any split of
//! the patients into shards, and floating-point addition is not associative. Counts are
//! integers already; sums of times are kept in fixed point ([`ExactSum`], bounded by the
//! horizon), economic sums in 256-bit fixed point ([`wide::WideSum`], no realistic bound), so
//! merging in any order gives the same bits. Memory depends on the grid and the number of
//! states and strategies, never on the number of patients. [`invariants`] checks what every
//! simulated tally satisfies before one read from a file is trusted, and merges with checked
//! arithmetic.
//!
//! Curves are built from difference arrays: a sojourn in state `s` over `[a, b)` adds 1 at
//! the first grid point ≥ a and removes 1 at the first grid point ≥ b, so recording a life
//! costs O(states visited), not O(grid points). A [`Recorder`] does this as the life
//! unfolds (it is the engine's [`Observer`]), once from cohort entry and once from HSCT2.

pub mod economic_estimates;
pub mod economics;
pub mod invariants;
pub mod results;
pub mod wide;

use std::hint::select_unpredictable;

use serde::{Deserialize, Serialize};

use crate::econ::{Ledger, LifeValues};
use crate::life::Observer;
use crate::life::entering::{Entering, opens_hsct2};
use crate::model::Model;
use crate::model::economics::Economics;
use economics::EconomicTally;

/// Fine bins per grid step for the death-time histogram (median survival to ~1/16 step).
pub const FINE_BINS_PER_STEP: usize = 16;

/// An exact, order-independent sum of times in fixed point with `FRAC` fractional bits.
///
/// For quantities bounded by the horizon (at most 1000 years, the loader's bound): survival
/// times, their squares and paired differences, whose values times 2^FRAC stay far below
/// 2^63, so an `i128` sum of up to 10^12 of them cannot overflow. Economic values have no
/// such bound and use [`wide::WideSum`].
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

    /// Adds a value with |x| · 2^FRAC < 2^63, truncated toward zero to a unit (the paired
    /// differences of restricted times: |x| ≤ the horizon ≤ 12 000 months, so below 2^46
    /// units at FRAC = 32, and their squares below 2^52 units at FRAC = 24).
    #[inline]
    pub fn add(&mut self, x: f64) {
        debug_assert!((x * Self::SCALE).abs() < 2f64.powi(63), "{x}");
        self.units += (x * Self::SCALE) as i64 as i128;
    }

    /// Adds a value `x` with `0 ≤ x · 2^FRAC < 2^52` (survival times), rounded to the
    /// nearest unit: the hot loop's `add`, without the saturating float conversion.
    #[inline(always)]
    pub fn add_nonnegative(&mut self, x: f64) {
        const ROUND: f64 = (1u64 << 52) as f64;
        let units = (x * Self::SCALE + ROUND).to_bits() - ROUND.to_bits();
        self.units += i128::from(units);
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
    /// `grid_len` as a float (a conversion per call otherwise).
    last_cell: f64,
    /// 1 / fine bin width.
    inverse_fine_width: f64,
    /// Number of states.
    pub states: usize,
    /// What entering each state counts as, for the event window, the invariants and the
    /// constant-hazard kernel's rows.
    pub entering: Vec<Entering>,
    /// Landmark times.
    pub landmarks: Vec<f64>,
    /// Number of strategies.
    pub strategies: usize,
    /// Reference strategy for paired comparisons.
    pub reference: usize,
    /// The model has an `[economics]` table.
    pub economics: bool,
}

impl Layout {
    /// The layout of a model's accumulators.
    pub fn new(model: &Model) -> Layout {
        Layout {
            entering: model.states.iter().map(Entering::of).collect(),
            grid_len: model.settings.grid_len(),
            step: model.settings.grid_step,
            horizon: model.settings.horizon,
            inverse_step: 1.0 / model.settings.grid_step,
            last_cell: model.settings.grid_len() as f64,
            inverse_fine_width: FINE_BINS_PER_STEP as f64 / model.settings.grid_step,
            states: model.states.len(),
            landmarks: model.settings.landmarks.clone(),
            strategies: model.strategies.len(),
            reference: model.settings.reference,
            economics: model.economics.is_some(),
        }
    }

    /// Index of the first grid point at or after `t` (`grid_len` if beyond the horizon).
    #[inline]
    pub fn cell(&self, t: f64) -> usize {
        // Clamped to [0, grid_len] steps, where `cell_within`'s reasoning holds.
        let x = min(max(t * self.inverse_step, 0.0), self.last_cell);
        (self.round_up(x, t)).min(self.grid_len)
    }

    /// [`Layout::cell`] for a time `t` in `[0, horizon]`, as events within a window are:
    /// the hot loop's version, without clamps.
    ///
    /// Exact with respect to the grid times `i · step` (a time on a grid point maps to that
    /// point), without `ceil` or division, which cost more than the rest of recording.
    #[inline(always)]
    pub fn cell_within(&self, t: f64) -> usize {
        self.round_up(t * self.inverse_step, t)
    }

    /// The cell of `t` from `x = t · (1/step)`, for 0 ≤ x ≤ 2^51.
    #[inline(always)]
    fn round_up(&self, x: f64, t: f64) -> usize {
        // x = t·(1/step) is within an ulp of t/step, so its nearest integer r is the cell or
        // one below it (t/step lies in (r − ½, r + ½ + ulp)); one comparison with the grid
        // time r·step settles it. Rounding by adding 2^52 (exact for 0 ≤ x ≤ 2^51) costs two
        // additions, where `as` conversions saturate with several compares. No branches
        // either: sojourn ends are random, so branches mispredict. For t ≤ horizon the
        // result is at most `grid_len` (one past the last point, if the horizon lies a
        // rounding error beyond it).
        const ROUND: f64 = (1u64 << 52) as f64;
        let rounded = x + ROUND;
        let r = rounded - ROUND;
        let c = rounded.to_bits().wrapping_sub(ROUND.to_bits()) as usize;
        c + usize::from(r * self.step < t)
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
    /// Costs, life-years and QALYs, when the model has economics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub economics: Option<EconomicTally>,
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
            economics: layout
                .economics
                .then(|| EconomicTally::new(layout.strategies)),
        }
    }

    /// A recorder for one patient's life under one strategy (with its ledger of costs and
    /// QALYs when the model has economics).
    #[inline]
    pub fn recorder<'a>(
        &'a mut self,
        layout: &'a Layout,
        strategy: usize,
        economics: Option<&'a Economics>,
    ) -> Recorder<'a> {
        Recorder {
            layout,
            tally: &mut self.strategies[strategy],
            entry: None,
            hsct2: None,
            ledger: economics.map(|e| Ledger::new(e, layout.horizon)),
        }
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

    /// Adds another tally of this run (from another thread or chunk).
    ///
    /// Counts and sums of one run are bounded by its patients (at most 10^12), so they
    /// cannot overflow; tallies read from files go through [`Tally::check`] and
    /// [`Tally::checked_merge`], which refuse what does not fit.
    pub fn merge(&mut self, other: &Tally) {
        if let Err(violation) = self.checked_merge(other) {
            unreachable!("tallies of one run of at most 10^12 patients: {violation}");
        }
    }
}

/// The smaller of two floats, one `minsd` (`f64::min` adds NaN handling around it). With
/// a NaN operand it returns `b`; the callers' operands are never NaN.
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The larger of two floats, one `maxsd`: `b` if either is NaN (so `max(NaN, 0) = 0`).
#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// One time origin's view of a life in progress.
///
/// Events are kept as earliest times, each updated by `min(t, at + mask)` with a mask of 0
/// for the states that count and +∞ for the others: two instructions per transition and no
/// branch or select (sojourn ends are random, so branches mispredict). Grid cells of the
/// events are found once, when the window closes.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Time of the origin (months since cohort entry).
    origin: f64,
    /// Offset of the current state's row in the occupancy counts.
    row: usize,
    /// First entry into a relapse state or relapse death after the origin.
    relapse_at: f64,
    /// First non-relapse death after the origin.
    nrm_at: f64,
    /// Death after (or at) the origin.
    death_at: f64,
    /// States entered so far (bit per state).
    reached: u64,
}

impl Window {
    /// Opens a window on entering `state` at `origin`.
    #[inline]
    fn open(tally: &mut OriginTally, layout: &Layout, state: usize, origin: f64) -> Window {
        let row = state * (layout.grid_len + 1);
        tally.patients += 1;
        tally.occupancy[row] += 1;
        tally.reached[state] += 1;
        // The loader refuses entry into a death state; should one open a window anyway,
        // the curves stay consistent (dead at 0, no event after the origin).
        Window {
            origin,
            row,
            relapse_at: f64::INFINITY,
            nrm_at: f64::INFINITY,
            death_at: layout.entering[state].death,
            reached: 1 << (state & 63),
        }
    }

    /// The patient moves to `state` at `time`. Always inlined: it runs once per transition
    /// and origin, and LLVM's own choice flips with small edits elsewhere.
    #[inline(always)]
    fn enter(&mut self, tally: &mut OriginTally, layout: &Layout, state: usize, time: f64) {
        let at = time - self.origin;
        if at > layout.horizon {
            return; // beyond the window: the current sojourn runs past the grid
        }
        // The sojourn in the old state ends, the new one starts, in the same grid cell.
        let cell = layout.cell_within(at);
        let row = state * (layout.grid_len + 1);
        tally.occupancy[self.row + cell] -= 1;
        tally.occupancy[row + cell] += 1;
        self.row = row;
        let mask = &layout.entering[state];
        self.relapse_at = min(self.relapse_at, at + mask.relapse);
        self.nrm_at = min(self.nrm_at, at + mask.nrm);
        self.death_at = min(self.death_at, at + mask.death);
        let bit = 1u64 << (state & 63);
        tally.reached[state] += u64::from(self.reached & bit == 0);
        self.reached |= bit;
    }

    /// Adds the life's events and times to the counts; returns the death time.
    #[inline]
    fn close(&self, tally: &mut OriginTally, layout: &Layout) -> f64 {
        tally.deaths[layout.cell(self.death_at)] += 1;
        record_outcome(tally, layout, self.relapse_at, self.nrm_at, self.death_at);
        self.death_at
    }
}

/// Adds one life's first event, death time and restricted times to a window's counts (all
/// but the deaths by cell, which the fast path counts by batch). Times are from the origin,
/// `+∞` for what did not happen within the horizon.
#[inline(always)]
pub(crate) fn record_outcome(
    tally: &mut OriginTally,
    layout: &Layout,
    relapse_at: f64,
    nrm_at: f64,
    death_at: f64,
) {
    // No event: both counts go to the sink cell (beyond the horizon).
    let relapse = relapse_at <= nrm_at;
    let event_at = min(relapse_at, nrm_at);
    let event_cell = layout.cell(event_at);
    let sink = layout.grid_len;
    tally.relapses[select_unpredictable(relapse, event_cell, sink)] += 1;
    tally.nrm[select_unpredictable(relapse, sink, event_cell)] += 1;
    if death_at < layout.horizon {
        let bin = ((death_at * layout.inverse_fine_width) as i64 as usize)
            .min(tally.death_fine.len() - 1);
        tally.death_fine[bin] += 1;
    }
    // In [0, horizon], and the horizon is at most 1000 years (the loader's bound), so
    // within `add_nonnegative`'s range.
    let os = min(death_at, layout.horizon);
    tally.os_time.add_nonnegative(os);
    tally.os_time_sq.add_nonnegative(os * os);
    let lfs = min(event_at, layout.horizon);
    tally.lfs_time.add_nonnegative(lfs);
    tally.lfs_time_sq.add_nonnegative(lfs * lfs);
}

/// Records one life into a strategy's accumulators as the engine reports it: from cohort
/// entry, and from the first HSCT2 within the horizon.
pub struct Recorder<'a> {
    layout: &'a Layout,
    tally: &'a mut StrategyTally,
    entry: Option<Window>,
    hsct2: Option<Window>,
    ledger: Option<Ledger<'a>>,
}

/// What a finished life gives the caller: for paired comparisons and bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeOutcome {
    /// Death time from entry (`+∞` if alive at the horizon).
    pub death: f64,
    /// Costs, life-years and QALYs (zero without economics).
    pub values: LifeValues,
}

impl Observer for Recorder<'_> {
    // Always inlined into the engine's life loop: with a patient-level export the loop
    // exists twice (with and without it), and LLVM then stops inlining this on its own,
    // which costs plain runs 6 % more instructions.
    #[inline(always)]
    fn enter(&mut self, state: usize, time: f64, values: &[f64]) {
        if let Some(ledger) = &mut self.ledger {
            ledger.enter(state, time, values);
        }
        let layout = self.layout;
        match &mut self.entry {
            Some(window) => window.enter(&mut self.tally.entry, layout, state, time),
            None => self.entry = Some(Window::open(&mut self.tally.entry, layout, state, time)),
        }
        match &mut self.hsct2 {
            Some(window) => window.enter(&mut self.tally.hsct2, layout, state, time),
            None if opens_hsct2(layout.entering[state].hsct2, time, layout.horizon) => {
                self.hsct2 = Some(Window::open(&mut self.tally.hsct2, layout, state, time));
            }
            None => {}
        }
    }
}

impl Recorder<'_> {
    /// Closes the life. Borrows rather than consumes: the recorder is a few hundred bytes
    /// (it holds the ledger), and moving it costs a copy per life. Call once.
    #[inline]
    pub fn finish(&mut self) -> LifeOutcome {
        let death = match &self.entry {
            Some(window) => window.close(&mut self.tally.entry, self.layout),
            None => f64::INFINITY,
        };
        if let Some(window) = &self.hsct2 {
            window.close(&mut self.tally.hsct2, self.layout);
        }
        LifeOutcome {
            death,
            values: self.ledger.as_mut().map(Ledger::finish).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cell` against its definition, the first `i` with `i · step ≥ t`, found by search: on
    /// and beside grid points and at random times, for awkward steps.
    #[test]
    fn cell_is_the_first_grid_point_at_or_after_t() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for step in [1.0, 0.1, 1.0 / 3.0, 0.25, 30.0 / 365.25, 12.0, 7.3] {
            let grid_len = 61;
            let layout = Layout {
                grid_len,
                step,
                horizon: (grid_len - 1) as f64 * step,
                inverse_step: 1.0 / step,
                last_cell: grid_len as f64,
                inverse_fine_width: FINE_BINS_PER_STEP as f64 / step,
                states: 1,
                entering: vec![Entering {
                    relapse: f64::INFINITY,
                    nrm: f64::INFINITY,
                    death: f64::INFINITY,
                    hsct2: false,
                }],
                landmarks: vec![],
                strategies: 1,
                reference: 0,
                economics: false,
            };
            let expected = |t: f64| {
                (0..grid_len)
                    .find(|&i| i as f64 * step >= t)
                    .unwrap_or(grid_len)
            };
            let mut times: Vec<f64> = (0..=grid_len + 2)
                .flat_map(|i| {
                    let g = i as f64 * step;
                    [g, g.next_down(), g.next_up(), g + step / 2.0]
                })
                .collect();
            times.extend((0..10_000).map(|_| rng.random::<f64>() * step * 70.0));
            for t in times.into_iter().filter(|t| *t >= 0.0) {
                assert_eq!(layout.cell(t), expected(t), "t = {t}, step = {step}");
            }
        }
    }

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
