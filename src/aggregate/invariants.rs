//! What every tally a simulation produces satisfies, checked before a tally from a file is
//! trusted, and merging that refuses to wrap.
//!
//! Why: a part file's checksum only proves that its bytes were not changed *after* it was
//! written. A part forged or damaged and then re-sealed (its `blocks_sha256` recomputed), or
//! written by a faulty build, would otherwise merge into impossible numbers (occupancy 0.333
//! at t = 0, survival above 1, an RMST of −10^25 after an `i64` wrapped) that look like
//! results. The invariants below hold for every tally the engine produces, whatever the
//! model, seed, split or thread count, so a tally that breaks one did not come from a
//! simulation and is refused, naming the accumulator and the broken rule.
//!
//! [`Tally::check`] takes the number of patients the tally claims to cover and, when the
//! model is known, its [`Layout`] (which adds the rules that depend on the model: shapes,
//! death states, the horizon, the HSCT2 origin, the reference strategy, landmarks). Part
//! readers check without the layout; merges check again with it. [`Tally::checked_merge`]
//! adds with checked arithmetic, so even consistent tallies cannot wrap a counter or a sum.
//!
//! The rules, per strategy and time origin of `n` patients (`g` grid points; cell `g` is
//! "beyond the horizon"):
//! - deaths, first relapses and first non-relapse deaths each sum to `n` over the cells
//!   (everyone's event lands in one cell, the beyond cell if it did not happen);
//! - by every grid point, relapses + non-relapse deaths ≤ `n` (events ≤ at risk) and
//!   non-relapse deaths ≤ deaths; deaths before the horizon (the fine histogram) ≤ `n`;
//! - occupancy: at t = 0 the states hold `n` patients, at every later cell the moves sum to
//!   0, and every state's running count stays in `[0, min(n, reached)]`; with the model,
//!   the death states hold exactly the cumulative deaths;
//! - `reached` ≤ `n` per state and at least `n` over the states;
//! - restricted times: 0 ≤ LFS ≤ OS ≤ `n` × horizon, squares likewise, and Cauchy–Schwarz
//!   (Σx)² ≤ n Σx² within the fixed point's rounding;
//! - paired comparisons: |Σ Δ| consistent with the two strategies' OS sums, better + worse
//!   ≤ patients, and better − worse = the difference of survivors at a landmark on the grid;
//! - economics: Cauchy–Schwarz for every sum and its squares and for the cross products,
//!   0 ≤ discounted life-years ≤ life-years ≤ patients × horizon, and each pair's summed
//!   differences equal the difference of the two strategies' sums (within the rounding of
//!   one float subtraction per life).

use super::economics::{EconomicTally, Moments, StrategyValues, pair_index};
use super::wide::WideSum;
use super::{ExactSum, FINE_BINS_PER_STEP, Layout, OriginTally, Tally};

/// A tally that no simulation could have produced, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {broken}")]
pub struct Violation {
    /// Which accumulator, e.g. `strategy 2, origin hsct2, occupancy`.
    pub place: String,
    /// The rule that does not hold, with the numbers.
    pub broken: String,
}

fn fail<T>(place: impl Into<String>, broken: impl Into<String>) -> Result<T, Violation> {
    Err(Violation {
        place: place.into(),
        broken: broken.into(),
    })
}

/// Relative slack for comparisons evaluated in floating point (products and squares of
/// exact sums): far above their rounding, far below any meaningful forgery.
const FLOAT_SLACK: f64 = 1e-9;

/// Relative slack between sums of per-life durations computed differently (discounted and
/// undiscounted life-years, life-years and the horizon): each of a life's k sojourns can
/// be off by about u·(its end time), so a life by up to 2·k·u of its length — below 10^-6
/// for up to 10^8 transitions a life, the most `max_events` allows.
const DURATION_SLACK: f64 = 1e-6;

/// `(Σx)² ≤ n Σx²` for sums with a per-value rounding of at most `sum_unit` and
/// `square_unit` (plus float rounding of each square, covered by the slack).
fn cauchy_schwarz(
    n: u64,
    sum: f64,
    squares: f64,
    (sum_unit, square_unit): (f64, f64),
) -> Option<String> {
    let n = n as f64;
    let low = (sum.abs() - n * sum_unit).max(0.0);
    let high = (squares + n * square_unit).max(0.0);
    (low * low > n * high * (1.0 + FLOAT_SLACK)).then(|| {
        format!(
            "a sum of {sum:e} over {n} patients needs a sum of squares of at least {:e}, but it is {squares:e}",
            low * low / n.max(1.0)
        )
    })
}

/// The shape of an origin's accumulators: (cells, states).
fn shape(o: &OriginTally) -> Result<(usize, usize), String> {
    let cells = o.deaths.len();
    let states = o.reached.len();
    if cells < 2 || states == 0 {
        return Err(format!(
            "{cells} grid cells and {states} states (a grid has at least two points)"
        ));
    }
    let expected = [
        states * cells,
        cells,
        cells,
        (cells - 2) * FINE_BINS_PER_STEP,
    ];
    let found = [
        o.occupancy.len(),
        o.relapses.len(),
        o.nrm.len(),
        o.death_fine.len(),
    ];
    if expected != found {
        return Err(format!(
            "occupancy, relapses, nrm and fine deaths have lengths {found:?}, but {cells} cells and {states} states make {expected:?}"
        ));
    }
    Ok((cells, states))
}

impl Tally {
    /// Checks every invariant of a tally of `patients` patients (a part's block), with the
    /// model's rules when `layout` is given. See the module documentation for the rules.
    pub fn check(&self, patients: u64, layout: Option<&Layout>) -> Result<(), Violation> {
        if self.patients != patients {
            return fail(
                "patients",
                format!(
                    "the accumulators count {} patients, but the block's range has {patients}",
                    self.patients
                ),
            );
        }
        let Some(first) = self.strategies.first() else {
            return fail("strategies", "there are none");
        };
        let reference_shape =
            shape(&first.entry).or_else(|e| fail("strategy 0, origin entry", e))?;
        if let Some(layout) = layout {
            let expected = (layout.grid_len + 1, layout.states);
            if reference_shape != expected || self.strategies.len() != layout.strategies {
                return fail(
                    "shape",
                    format!(
                        "{} strategies of {} grid cells and {} states, but the scenario has {} strategies of {} and {}",
                        self.strategies.len(),
                        reference_shape.0,
                        reference_shape.1,
                        layout.strategies,
                        expected.0,
                        expected.1
                    ),
                );
            }
            if self.economics.is_some() != layout.economics {
                return fail(
                    "economics",
                    if layout.economics {
                        "the scenario has [economics], but the accumulators have no economic sums"
                    } else {
                        "the accumulators have economic sums, but the scenario has no [economics]"
                    },
                );
            }
        }
        let landmarks = layout.map_or(first.paired_alive.len(), |l| l.landmarks.len());
        // Every origin first: the paired rules below read other strategies' counts.
        for (s, st) in self.strategies.iter().enumerate() {
            for (name, origin) in [("entry", &st.entry), ("hsct2", &st.hsct2)] {
                let place = format!("strategy {s}, origin {name}");
                match shape(origin) {
                    Ok(found) if found == reference_shape => {}
                    Ok((cells, states)) => {
                        return fail(
                            place,
                            format!(
                                "{cells} grid cells and {states} states, unlike strategy 0 ({} and {})",
                                reference_shape.0, reference_shape.1
                            ),
                        );
                    }
                    Err(e) => return fail(place, e),
                }
                check_origin(origin, layout, &place)?;
            }
            if st.entry.patients != patients {
                return fail(
                    format!("strategy {s}, origin entry"),
                    format!(
                        "counts {} patients, but the block has {patients}",
                        st.entry.patients
                    ),
                );
            }
            if st.hsct2.patients > patients {
                return fail(
                    format!("strategy {s}, origin hsct2"),
                    format!(
                        "counts {} transplanted patients, more than the block's {patients}",
                        st.hsct2.patients
                    ),
                );
            }
            if st.paired_alive.len() != landmarks {
                return fail(
                    format!("strategy {s}, paired survivors"),
                    format!("{} landmarks instead of {landmarks}", st.paired_alive.len()),
                );
            }
            if let Some(layout) = layout {
                check_hsct2_origin(st, layout, s)?;
            }
        }
        for s in 0..self.strategies.len() {
            self.check_paired(s, layout)?;
        }
        if let Some(economics) = &self.economics {
            check_economics(economics, self.strategies.len(), patients, layout)?;
        }
        Ok(())
    }

    /// Paired comparisons of strategy `s` against the reference.
    fn check_paired(&self, s: usize, layout: Option<&Layout>) -> Result<(), Violation> {
        let st = &self.strategies[s];
        let n = self.patients;
        let place = format!("strategy {s}, paired comparison");
        for (k, &[better, worse]) in st.paired_alive.iter().enumerate() {
            if u128::from(better) + u128::from(worse) > u128::from(n) {
                return fail(
                    &place,
                    format!(
                        "at landmark {k}, {better} patients better and {worse} worse off than under the reference, more than the {n} patients"
                    ),
                );
            }
        }
        if st.paired_os_time_sq.units < 0 {
            return fail(&place, "the sum of squared differences is negative");
        }
        // `ExactSum::add` truncates: at most one unit per value.
        let units = (2f64.powi(-32), 2f64.powi(-24));
        if let Some(broken) = cauchy_schwarz(
            n,
            st.paired_os_time.value(),
            st.paired_os_time_sq.value(),
            units,
        ) {
            return fail(&place, broken);
        }
        let Some(layout) = layout else {
            return Ok(());
        };
        let reference = &self.strategies[layout.reference];
        if s == layout.reference {
            if st.paired_os_time.units != 0
                || st.paired_os_time_sq.units != 0
                || st.paired_alive.iter().any(|p| *p != [0, 0])
            {
                return fail(
                    &place,
                    "the reference strategy has paired differences with itself",
                );
            }
            return Ok(());
        }
        // Σ (OS_s − OS_ref): each term is one float subtraction of values in [0, horizon],
        // truncated; the OS sums round each value to the nearest unit.
        let difference = st.entry.os_time.value() - reference.entry.os_time.value();
        let slack = n as f64 * (2f64.powi(-31) + 2f64.powi(-52) * layout.horizon)
            + FLOAT_SLACK * (st.entry.os_time.value() + reference.entry.os_time.value());
        if (st.paired_os_time.value() - difference).abs() > slack {
            return fail(
                &place,
                format!(
                    "the paired restricted survival differences sum to {:e}, but the two strategies' restricted survival sums differ by {difference:e}",
                    st.paired_os_time.value()
                ),
            );
        }
        let deaths_by = |o: &OriginTally, cell: usize| -> u64 { o.deaths[..=cell].iter().sum() };
        for (k, &landmark) in layout.landmarks.iter().enumerate() {
            let cell = layout.cell(landmark);
            // Only where the landmark is a grid time: alive at it is then exactly "death
            // after the grid point", which the death counts give.
            if cell >= layout.grid_len || cell as f64 * layout.step != landmark {
                continue;
            }
            let alive = n - deaths_by(&st.entry, cell);
            let alive_reference = n - deaths_by(&reference.entry, cell);
            let [better, worse] = st.paired_alive[k];
            if i128::from(better) - i128::from(worse)
                != i128::from(alive) - i128::from(alive_reference)
            {
                return fail(
                    &place,
                    format!(
                        "at landmark {k}, {better} better off and {worse} worse off, but {alive} survive against {alive_reference} under the reference"
                    ),
                );
            }
        }
        Ok(())
    }

    /// Adds another tally of the same shape with checked arithmetic: a counter or sum that
    /// would wrap, or a shape that differs, is an error (`self` is then partly merged and
    /// must be dropped).
    pub fn checked_merge(&mut self, other: &Tally) -> Result<(), Violation> {
        fn add_u64(a: &mut u64, b: u64, place: &str) -> Result<(), Violation> {
            *a = a.checked_add(b).ok_or_else(|| overflow(place))?;
            Ok(())
        }
        fn add_counts<T: Copy>(
            a: &mut [T],
            b: &[T],
            add: fn(T, T) -> Option<T>,
            place: &str,
        ) -> Result<(), Violation> {
            if a.len() != b.len() {
                return fail(
                    place,
                    format!("{} cells where the others have {}", b.len(), a.len()),
                );
            }
            for (x, &y) in a.iter_mut().zip(b) {
                *x = add(*x, y).ok_or_else(|| overflow(place))?;
            }
            Ok(())
        }
        fn add_sum<const F: u32>(
            a: &mut ExactSum<F>,
            b: &ExactSum<F>,
            place: &str,
        ) -> Result<(), Violation> {
            a.units = a
                .units
                .checked_add(b.units)
                .ok_or_else(|| overflow(place))?;
            Ok(())
        }
        fn add_origin(a: &mut OriginTally, b: &OriginTally, place: &str) -> Result<(), Violation> {
            add_u64(&mut a.patients, b.patients, place)?;
            add_counts(&mut a.occupancy, &b.occupancy, i64::checked_add, place)?;
            add_counts(&mut a.deaths, &b.deaths, u64::checked_add, place)?;
            add_counts(&mut a.relapses, &b.relapses, u64::checked_add, place)?;
            add_counts(&mut a.nrm, &b.nrm, u64::checked_add, place)?;
            add_counts(&mut a.death_fine, &b.death_fine, u64::checked_add, place)?;
            add_counts(&mut a.reached, &b.reached, u64::checked_add, place)?;
            add_sum(&mut a.os_time, &b.os_time, place)?;
            add_sum(&mut a.os_time_sq, &b.os_time_sq, place)?;
            add_sum(&mut a.lfs_time, &b.lfs_time, place)?;
            add_sum(&mut a.lfs_time_sq, &b.lfs_time_sq, place)
        }
        if self.strategies.len() != other.strategies.len() {
            return fail(
                "strategies",
                format!(
                    "{} strategies where the others have {}",
                    other.strategies.len(),
                    self.strategies.len()
                ),
            );
        }
        for (s, (a, b)) in self
            .strategies
            .iter_mut()
            .zip(&other.strategies)
            .enumerate()
        {
            add_origin(
                &mut a.entry,
                &b.entry,
                &format!("strategy {s}, origin entry"),
            )?;
            add_origin(
                &mut a.hsct2,
                &b.hsct2,
                &format!("strategy {s}, origin hsct2"),
            )?;
            let place = format!("strategy {s}, paired comparison");
            add_sum(&mut a.paired_os_time, &b.paired_os_time, &place)?;
            add_sum(&mut a.paired_os_time_sq, &b.paired_os_time_sq, &place)?;
            if a.paired_alive.len() != b.paired_alive.len() {
                return fail(place, "a different number of landmarks");
            }
            for (x, y) in a.paired_alive.iter_mut().zip(&b.paired_alive) {
                add_u64(&mut x[0], y[0], &place)?;
                add_u64(&mut x[1], y[1], &place)?;
            }
        }
        add_u64(&mut self.patients, other.patients, "patients")?;
        add_u64(&mut self.events, other.events, "events")?;
        add_u64(&mut self.draws, other.draws, "random draws")?;
        match (&mut self.economics, &other.economics) {
            (None, None) => Ok(()),
            (Some(a), Some(b))
                if a.strategies.len() == b.strategies.len() && a.pairs.len() == b.pairs.len() =>
            {
                a.checked_merge(b).or_else(|_| overflow_err("economics"))
            }
            _ => fail(
                "economics",
                "economic sums in some accumulators and not in others, or of other sizes",
            ),
        }
    }
}

fn overflow(place: &str) -> Violation {
    Violation {
        place: place.into(),
        broken:
            "merging overflows the counter's range (no run of at most 10^12 patients reaches it)"
                .into(),
    }
}

fn overflow_err(place: &str) -> Result<(), Violation> {
    Err(overflow(place))
}

/// The rules of one origin's counts and sums.
fn check_origin(o: &OriginTally, layout: Option<&Layout>, place: &str) -> Result<(), Violation> {
    let n = o.patients;
    let cells = o.deaths.len();
    let grid = cells - 1;
    let at = |what: &str| format!("{place}, {what}");
    for (name, counts) in [
        ("deaths", &o.deaths),
        ("first relapses", &o.relapses),
        ("non-relapse deaths", &o.nrm),
    ] {
        let total: u128 = counts.iter().map(|&c| u128::from(c)).sum();
        if total != u128::from(n) {
            return fail(
                at(name),
                format!(
                    "sum to {total} over the cells, but every one of the {n} patients lands in exactly one cell"
                ),
            );
        }
    }
    // The totals are n, so no running count below overflows.
    let (mut deaths, mut relapses, mut nrm) = (0u64, 0u64, 0u64);
    let mut cumulative_deaths = Vec::with_capacity(grid);
    for i in 0..grid {
        deaths += o.deaths[i];
        relapses += o.relapses[i];
        nrm += o.nrm[i];
        cumulative_deaths.push(deaths);
        if relapses + nrm > n {
            return fail(
                at("first events"),
                format!(
                    "by grid point {i}, {relapses} relapses and {nrm} non-relapse deaths, more than the {n} patients at risk"
                ),
            );
        }
        if nrm > deaths {
            return fail(
                at("non-relapse deaths"),
                format!("by grid point {i}, {nrm} non-relapse deaths but only {deaths} deaths"),
            );
        }
    }
    // Deaths before the horizon: all by the last-but-one grid point (before the horizon),
    // at most everyone.
    let fine: u128 = o.death_fine.iter().map(|&c| u128::from(c)).sum();
    let surely_before = grid.checked_sub(2).map_or(0, |i| cumulative_deaths[i]);
    if fine > u128::from(n) || fine < u128::from(surely_before) {
        return fail(
            at("deaths by fine bin"),
            format!(
                "sum to {fine}, outside [{surely_before}, {n}] (the deaths by the last-but-one grid point, and the patients)"
            ),
        );
    }
    let reached: u128 = o.reached.iter().map(|&c| u128::from(c)).sum();
    if let Some((s, &r)) = o.reached.iter().enumerate().find(|(_, r)| **r > n) {
        return fail(
            at("states reached"),
            format!("state {s} is reached by {r} of {n} patients"),
        );
    }
    if reached < u128::from(n) {
        return fail(
            at("states reached"),
            format!("{reached} entries in all, fewer than the {n} patients (each enters a state)"),
        );
    }
    // Occupancy: a patient is in exactly one state at every time.
    let states = o.reached.len();
    for c in 0..cells {
        let column: i128 = (0..states)
            .map(|s| i128::from(o.occupancy[s * cells + c]))
            .sum();
        let expected = if c == 0 { i128::from(n) } else { 0 };
        if column != expected {
            return fail(
                at("occupancy"),
                if c == 0 {
                    format!("at t = 0 the states hold {column} patients, not the {n} patients")
                } else {
                    format!("the moves at grid cell {c} sum to {column}: patients appear or vanish")
                },
            );
        }
    }
    let death_states: Vec<bool> = match layout {
        Some(l) => l.entering.iter().map(|e| e.is_death()).collect(),
        None => vec![false; states],
    };
    let mut dead = vec![0i128; grid];
    for (s, (row, &reached)) in o.occupancy.chunks(cells).zip(&o.reached).enumerate() {
        let mut count: i128 = 0;
        for (c, &moves) in row.iter().enumerate() {
            count += i128::from(moves);
            if count < 0 || count > i128::from(n.min(reached)) {
                return fail(
                    at("occupancy"),
                    format!(
                        "state {s} holds {count} patients at grid cell {c}, outside [0, {}] (the patients, and those who reached it)",
                        n.min(reached)
                    ),
                );
            }
            if death_states[s]
                && let Some(d) = dead.get_mut(c)
            {
                *d += count;
            }
        }
    }
    if layout.is_some()
        && let Some(c) = (0..grid).find(|&c| dead[c] != i128::from(cumulative_deaths[c]))
    {
        return fail(
            at("occupancy"),
            format!(
                "the death states hold {} patients at grid point {c}, but {} have died by then",
                dead[c], cumulative_deaths[c]
            ),
        );
    }
    // Restricted survival and leukaemia-free times.
    let sums = [
        ("restricted survival time", &o.os_time),
        ("restricted leukaemia-free time", &o.lfs_time),
    ];
    let squares = [&o.os_time_sq, &o.lfs_time_sq];
    for ((name, sum), square) in sums.iter().zip(squares) {
        if sum.units < 0 || square.units < 0 {
            return fail(at(name), "a sum of times or squared times is negative");
        }
        if n == 0 && (sum.units != 0 || square.units != 0) {
            return fail(at(name), "sums of times over no patients are not 0");
        }
        // Each value is rounded to the nearest unit.
        let units = (2f64.powi(-33), 2f64.powi(-25));
        if let Some(broken) = cauchy_schwarz(n, sum.value(), square.value(), units) {
            return fail(at(name), broken);
        }
        if let Some(layout) = layout {
            // Each value is at most the horizon (rounded up to the next unit).
            let most = i128::from(n) * (layout.horizon * 2f64.powi(32)).ceil() as i128;
            let most_sq =
                i128::from(n) * (layout.horizon * layout.horizon * 2f64.powi(24)).ceil() as i128;
            if sum.units > most || square.units > most_sq {
                return fail(
                    at(name),
                    format!(
                        "sums to {:e} months over {n} patients, beyond the horizon of {} months each (or its square beyond)",
                        sum.value(),
                        layout.horizon
                    ),
                );
            }
        }
    }
    if o.lfs_time.units > o.os_time.units || o.lfs_time_sq.units > o.os_time_sq.units {
        return fail(
            at("restricted leukaemia-free time"),
            format!(
                "sums to more than the restricted survival time ({:e} > {:e}): a patient is free of leukaemia only while alive",
                o.lfs_time.value(),
                o.os_time.value()
            ),
        );
    }
    Ok(())
}

/// Patients counted from HSCT2 are those who reached an HSCT2 state within the horizon.
fn check_hsct2_origin(
    st: &super::StrategyTally,
    layout: &Layout,
    s: usize,
) -> Result<(), Violation> {
    let origins: Vec<u64> = (0..layout.states)
        .filter(|&state| layout.entering[state].hsct2)
        .map(|state| st.entry.reached[state])
        .collect();
    let most: u128 = origins.iter().map(|&r| u128::from(r)).sum();
    let least = origins.iter().copied().max().unwrap_or(0);
    let n = st.hsct2.patients;
    if u128::from(n) > most || n < least {
        return fail(
            format!("strategy {s}, origin hsct2"),
            format!("counts {n} patients, but between {least} and {most} reached an HSCT2 state"),
        );
    }
    Ok(())
}

/// The rules of the economic sums over `patients` lives.
fn check_economics(
    e: &EconomicTally,
    strategies: usize,
    patients: u64,
    layout: Option<&Layout>,
) -> Result<(), Violation> {
    if e.strategies.len() != strategies || e.pairs.len() != strategies * (strategies - 1) / 2 {
        return fail(
            "economics",
            format!(
                "sums for {} strategies and {} pairs, but there are {strategies} strategies",
                e.strategies.len(),
                e.pairs.len()
            ),
        );
    }
    // Values convert exactly above 2^-44; smaller ones round to a unit (2^-96).
    let unit = 2f64.powi(-96);
    let moments = |m: &Moments, place: &str| -> Result<(), Violation> {
        if m.squares.is_negative() {
            return fail(place, "the sum of squares is negative");
        }
        if let Some(broken) =
            cauchy_schwarz(patients, m.sum.value(), m.squares.value(), (unit, unit))
        {
            return fail(place, broken);
        }
        Ok(())
    };
    let cross = |c: &WideSum, a: &Moments, b: &Moments, place: &str| -> Result<(), Violation> {
        let (c, qa, qb) = (c.value(), a.squares.value(), b.squares.value());
        let n = patients as f64;
        let low = (c.abs() - n * unit).max(0.0);
        if low * low > (qa + n * unit) * (qb + n * unit) * (1.0 + FLOAT_SLACK) {
            return fail(
                place,
                format!(
                    "the cross products sum to {c:e}, more than the squares allow ({qa:e} and {qb:e})"
                ),
            );
        }
        Ok(())
    };
    for (s, v) in e.strategies.iter().enumerate() {
        let at = |what: &str| format!("strategy {s}, economics, {what}");
        for (name, m) in [
            ("cost", &v.cost),
            ("discounted cost", &v.cost_discounted),
            ("life-years", &v.life_years),
            ("discounted life-years", &v.life_years_discounted),
            ("QALYs", &v.qalys),
            ("discounted QALYs", &v.qalys_discounted),
        ] {
            moments(m, &at(name))?;
        }
        cross(
            &v.cross,
            &v.cost_discounted,
            &v.qalys_discounted,
            &at("cost × QALYs"),
        )?;
        let (years, discounted) = (
            v.life_years.sum.value(),
            v.life_years_discounted.sum.value(),
        );
        let most = layout.map_or(f64::INFINITY, |l| patients as f64 * l.horizon / 12.0);
        if v.life_years_discounted.sum.is_negative()
            || discounted > years * (1.0 + DURATION_SLACK) + patients as f64 * unit
            || years > most * (1.0 + DURATION_SLACK)
        {
            return fail(
                at("life-years"),
                format!(
                    "{discounted:e} discounted and {years:e} undiscounted over {patients} patients: they must satisfy 0 ≤ discounted ≤ undiscounted ≤ patients × horizon"
                ),
            );
        }
    }
    for a in 0..strategies {
        for b in a + 1..strategies {
            let p = &e.pairs[pair_index(a, b, strategies)];
            let at = |what: &str| format!("strategies {a} − {b}, economics, {what}");
            moments(&p.cost, &at("cost differences"))?;
            moments(&p.qalys, &at("QALY differences"))?;
            cross(&p.cross, &p.cost, &p.qalys, &at("cost × QALY differences"))?;
            type Select = fn(&StrategyValues) -> &Moments;
            let discounted: [(&str, &Moments, Select); 2] = [
                ("cost differences", &p.cost, |v| &v.cost_discounted),
                ("QALY differences", &p.qalys, |v| &v.qalys_discounted),
            ];
            for (name, pair, of) in discounted {
                let (ma, mb) = (of(&e.strategies[a]), of(&e.strategies[b]));
                // Each life's difference is one float subtraction: off by at most 2^-53 of
                // itself, so in all by 2^-53 Σ|d| ≤ 2^-53 √(n Σd²).
                let gap = ma
                    .sum
                    .checked_sub(&mb.sum)
                    .and_then(|d| d.checked_sub(&pair.sum))
                    .map(|g| g.value());
                let n = patients as f64;
                let slack = 2f64.powi(-52) * (n * pair.squares.value()).sqrt() + n * 4.0 * unit;
                match gap {
                    Some(gap) if gap.abs() <= slack * (1.0 + FLOAT_SLACK) => {}
                    _ => {
                        return fail(
                            at(name),
                            format!(
                                "sum to {:e}, but the two strategies' sums differ by {:e}",
                                pair.sum.value(),
                                ma.sum.value() - mb.sum.value()
                            ),
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
