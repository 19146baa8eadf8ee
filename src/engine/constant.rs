//! The constant-hazard kernel: the engine's fast path for models whose every exit is a
//! constant hazard.
//!
//! Such a model is a continuous-time Markov chain with nothing patient-specific in its
//! hazards, so a life is a chain of "which exit, how long" steps on a small table per state.
//! The patient loop is the engine's one loop ([`super::patients`]); this kernel lives each
//! life with the general life's own exit draw ([`constant_exit`]) and its own definition of
//! what entering a state counts as ([`crate::life::entering`]), so it draws exactly the
//! general life's random numbers, in the same order, and leaves exactly the same
//! accumulators (tests and the engine's cross-check compare the two tallies bit for bit).
//! It leaves out what such models never need (rules, decisions, history, costs, observers)
//! and records a transition more cheaply:
//!
//! - a transition adds 1 to its *edge* (from-state, exit) at its grid cell, one counter
//!   where the occupancy differences take two; the edges are folded into the occupancy and
//!   death counts once per batch of patients ([`EdgeCounts::fold`]);
//! - deaths end a life, so the death time is the last transition's, known when the loop
//!   ends; only the first relapse event is tracked during the life, by a `min`;
//! - the states reached are a bit mask, counted once per life.

use crate::aggregate::{Layout, OriginTally, StrategyTally, Tally, record_outcome};
use crate::econ::LifeValues;
use crate::life::entering::{follow_up_after_hsct2, opens_hsct2};
use crate::life::exit::{ExitTable, constant_exit, reached_of_four};
use crate::life::{self, TooManyEvents};
use crate::model::{Model, Node, StateId};
use crate::rng::Stream;

use super::patients::{Kernel, Lived};

/// Exits compared four at a time (the general engine's padding), so up to five exits.
const THRESHOLDS: usize = 4;

/// Masks of states reached are counted in a histogram when there are at most this many
/// states (2^10 counters per origin), else state by state.
const MAX_STATES_FOR_MASKS: usize = 10;

/// One state under one strategy: its exits, and what entering it means.
#[derive(Debug, Clone, Copy)]
struct ExitRow {
    /// Running sums of the exits' probabilities (padded with +∞).
    thresholds: [f64; THRESHOLDS],
    /// Each exit's target state.
    to: [u32; THRESHOLDS + 1],
    /// Each exit's edge: the offset of its counts (edge index × cells per edge).
    edge: [u32; THRESHOLDS + 1],
    /// Mean time to leave.
    mean_wait: f64,
    /// 0 if entering this state is a relapse event (a relapse state or death from relapse),
    /// +∞ if not: `min(first, t + mask)` then keeps the first relapse time.
    relapse_mask: f64,
    /// 0 if this state is a non-relapse death (and no relapse event), +∞ if not.
    nrm_mask: f64,
    /// This state's bit in the mask of states reached.
    bit: u64,
    /// Absorbing, or every rate 0: the life ends here (no draws, as in the general engine).
    terminal: bool,
    /// A death state.
    death: bool,
    /// The first entry opens the "since HSCT2" window.
    hsct2: bool,
}

/// The general life's exit draw reads the row.
impl ExitTable for ExitRow {
    #[inline(always)]
    fn reached(&self, u: f64) -> usize {
        reached_of_four(u, &self.thresholds)
    }

    #[inline(always)]
    fn mean_wait(&self) -> f64 {
        self.mean_wait
    }
}

/// One strategy's table.
#[derive(Debug, Clone)]
struct StrategyTable {
    /// Rows by state.
    rows: Vec<ExitRow>,
    /// Each edge's (from, to) states.
    edges: Vec<(u32, u32)>,
}

/// The tables of a model the fast path can run.
#[derive(Debug, Clone)]
pub(crate) struct ConstantModel {
    strategies: Vec<StrategyTable>,
    /// Cells per edge (the occupancy's cells per state).
    cells: usize,
    /// Count masks of states reached in a histogram (few states).
    mask_histogram: bool,
}

impl ConstantModel {
    /// The fast path's tables, or `None` when the model needs the general engine: a
    /// hazard that is not constant or depends on the patient, a decision, economics, rules
    /// over history, an entry through a decision or into a death state, more than 64
    /// states, or more than five exits from a state.
    pub(crate) fn new(model: &Model) -> Option<ConstantModel> {
        if model.economics.is_some() || model.uses_history || model.states.len() > 64 {
            return None;
        }
        for (_, target) in &model.entry.cumulative {
            match target {
                Node::State(s) if model.states[*s].death.is_none() => {}
                _ => return None,
            }
        }
        // What entering each state means, as the general engine's windows see it.
        let layout = Layout::new(model);
        let cells = layout.grid_len + 1;
        let strategies = model
            .strategies
            .iter()
            .map(|strategy| {
                let mut edges = Vec::new();
                let rows = model
                    .states
                    .iter()
                    .enumerate()
                    .zip(&strategy.exits)
                    .map(|((s, state), exits)| {
                        let entering = &layout.entering[s];
                        let mut row = ExitRow {
                            thresholds: [f64::INFINITY; THRESHOLDS],
                            to: [0; THRESHOLDS + 1],
                            edge: [0; THRESHOLDS + 1],
                            mean_wait: f64::INFINITY,
                            relapse_mask: entering.relapse,
                            nrm_mask: entering.nrm,
                            bit: 1 << s,
                            terminal: true,
                            death: entering.is_death(),
                            hsct2: entering.hsct2,
                        };
                        if state.absorbing {
                            return Some(row);
                        }
                        let constant = exits.constant.as_ref()?;
                        if constant.thresholds.len() != THRESHOLDS
                            || constant.targets.len() > THRESHOLDS + 1
                        {
                            return None;
                        }
                        row.thresholds.copy_from_slice(&constant.thresholds);
                        for (k, target) in constant.targets.iter().enumerate() {
                            let Node::State(to) = *target else {
                                return None;
                            };
                            row.to[k] = u32::try_from(to).ok()?;
                            row.edge[k] = u32::try_from(edges.len() * cells).ok()?;
                            edges.push((s as u32, to as u32));
                        }
                        row.mean_wait = constant.mean_wait;
                        row.terminal = constant.total <= 0.0;
                        Some(row)
                    })
                    .collect::<Option<Vec<ExitRow>>>()?;
                Some(StrategyTable { rows, edges })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ConstantModel {
            strategies,
            cells,
            mask_histogram: model.states.len() <= MAX_STATES_FOR_MASKS,
        })
    }
}

/// A batch's transition counts for one strategy and origin, by edge and grid cell, and
/// its patients' masks of states reached.
struct EdgeCounts {
    /// Edge-major, `cells` per edge.
    transitions: Vec<u64>,
    /// Patients by mask of states reached (histogram mode), or empty.
    masks: Vec<u64>,
}

impl EdgeCounts {
    fn new(table: &StrategyTable, model: &ConstantModel) -> EdgeCounts {
        EdgeCounts {
            transitions: vec![0; table.edges.len() * model.cells],
            masks: if model.mask_histogram {
                vec![0; 1 << table.rows.len()]
            } else {
                Vec::new()
            },
        }
    }

    /// Counts a finished life's mask of states reached.
    #[inline(always)]
    fn reached(&mut self, tally: &mut OriginTally, mask: u64) {
        if self.masks.is_empty() {
            for (s, count) in tally.reached.iter_mut().enumerate() {
                *count += (mask >> s) & 1;
            }
        } else {
            self.masks[mask as usize] += 1;
        }
    }

    /// Adds the batch into the tally: each transition ends a sojourn in its from-state and
    /// starts one in its to-state (the occupancy differences), and a transition into a
    /// death state is a death in its cell. `patients` opened this window in the batch;
    /// those who did not die in it go to the deaths' sink cell, as the general engine
    /// counts them.
    fn fold(&self, table: &StrategyTable, cells: usize, patients: u64, tally: &mut OriginTally) {
        let mut deaths = 0;
        for (e, &(from, to)) in table.edges.iter().enumerate() {
            let counts = &self.transitions[e * cells..(e + 1) * cells];
            let (from, to) = (from as usize * cells, to as usize * cells);
            let death = table.rows[to / cells].death;
            for (c, &n) in counts.iter().enumerate() {
                tally.occupancy[from + c] -= n as i64;
                tally.occupancy[to + c] += n as i64;
                if death {
                    tally.deaths[c] += n;
                    deaths += n;
                }
            }
        }
        tally.deaths[cells - 1] += patients - deaths;
        for (mask, &n) in self.masks.iter().enumerate() {
            if n > 0 {
                for (s, count) in tally.reached.iter_mut().enumerate() {
                    *count += n * ((mask as u64 >> s) & 1);
                }
            }
        }
    }
}

/// The constant-hazard kernel over one batch of patients: the model's tables, and the
/// batch's transition counts by strategy and origin (entry, HSCT2), folded into the tally
/// when the batch is finished.
pub(crate) struct Constant<'a> {
    table: &'a ConstantModel,
    layout: &'a Layout,
    max_events: u32,
    counts: Vec<[EdgeCounts; 2]>,
    /// Patients counted from each origin before the batch (to find the batch's own).
    opened: Vec<[u64; 2]>,
}

impl<'a> Constant<'a> {
    /// The kernel for a batch to be recorded into `tally`.
    pub(crate) fn new(
        model: &Model,
        table: &'a ConstantModel,
        layout: &'a Layout,
        tally: &Tally,
    ) -> Constant<'a> {
        Constant {
            table,
            layout,
            max_events: model.settings.max_events,
            counts: table
                .strategies
                .iter()
                .map(|t| [EdgeCounts::new(t, table), EdgeCounts::new(t, table)])
                .collect(),
            opened: tally
                .strategies
                .iter()
                .map(|s| [s.entry.patients, s.hsct2.patients])
                .collect(),
        }
    }
}

impl Kernel for Constant<'_> {
    const ECONOMICS: bool = false;

    #[inline(always)]
    fn live(
        &mut self,
        _patient: u64,
        strategy: usize,
        entry: Node,
        rng: &mut Stream,
        tally: &mut Tally,
        _scratch: &mut life::Scratch,
    ) -> Result<Lived, TooManyEvents> {
        let Node::State(entry) = entry else {
            unreachable!("entry through a decision is refused by ConstantModel::new")
        };
        let life = Life {
            rows: &self.table.strategies[strategy].rows,
            layout: self.layout,
            max_events: self.max_events,
        };
        let [from_entry, from_hsct2] = &mut self.counts[strategy];
        let (death, transitions) = life.run(
            entry,
            rng,
            &mut tally.strategies[strategy],
            from_entry,
            from_hsct2,
        )?;
        Ok(Lived {
            death,
            values: LifeValues::default(),
            transitions,
        })
    }

    // Inlined (once per batch) so the kernel stays in registers in the loop: passed out by
    // value it would live in memory, reloaded after every store into the tally.
    #[inline(always)]
    fn finish(self, tally: &mut Tally) {
        let table = self.table;
        for (((strategy, counts), opened), strategy_tally) in table
            .strategies
            .iter()
            .zip(&self.counts)
            .zip(&self.opened)
            .zip(&mut tally.strategies)
        {
            let entry = &mut strategy_tally.entry;
            counts[0].fold(strategy, table.cells, entry.patients - opened[0], entry);
            let hsct2 = &mut strategy_tally.hsct2;
            counts[1].fold(strategy, table.cells, hsct2.patients - opened[1], hsct2);
        }
    }
}

/// What a life under one strategy needs.
struct Life<'a> {
    rows: &'a [ExitRow],
    layout: &'a Layout,
    max_events: u32,
}

/// One time origin's view of a life in progress.
struct Window {
    origin: f64,
    relapse_at: f64,
    reached: u64,
}

impl Window {
    #[inline(always)]
    fn open(
        tally: &mut OriginTally,
        cells: usize,
        state: StateId,
        row: &ExitRow,
        time: f64,
    ) -> Self {
        tally.patients += 1;
        tally.occupancy[state * cells] += 1;
        Window {
            origin: time,
            relapse_at: f64::INFINITY,
            reached: row.bit,
        }
    }

    /// Records a transition along `edge` into `row`'s state at `time`.
    #[inline(always)]
    fn enter(
        &mut self,
        counts: &mut EdgeCounts,
        layout: &Layout,
        edge: usize,
        row: &ExitRow,
        time: f64,
    ) {
        let at = time - self.origin;
        if at <= layout.horizon {
            counts.transitions[edge + layout.cell_within(at)] += 1;
            self.relapse_at = min(self.relapse_at, at + row.relapse_mask);
            self.reached |= row.bit;
        }
    }

    /// Records the end of the life in `row`'s state, entered at `time`; returns the death
    /// time from the origin (`+∞` if alive at the horizon).
    #[inline(always)]
    fn close(
        &self,
        tally: &mut OriginTally,
        counts: &mut EdgeCounts,
        layout: &Layout,
        row: &ExitRow,
        time: f64,
    ) -> f64 {
        let at = time - self.origin;
        let death_at = if row.death && at <= layout.horizon {
            at
        } else {
            f64::INFINITY
        };
        record_outcome(
            tally,
            layout,
            self.relapse_at,
            death_at + row.nrm_mask,
            death_at,
        );
        counts.reached(tally, self.reached);
        death_at
    }
}

/// Where a life is after one step.
enum Step {
    /// Moved along an edge (its counts' offset) into a state.
    Moved { edge: usize, state: StateId },
    /// Stays where it is until the end of follow-up (or for ever).
    Stays,
    /// Over the bound on events.
    TooMany,
}

impl Life<'_> {
    /// Leaves `row`'s state at `time` (unless the life ends there), with the general life's
    /// exit draw.
    #[inline(always)]
    fn step(
        &self,
        row: &ExitRow,
        time: &mut f64,
        follow_up_end: f64,
        events: &mut u32,
        rng: &mut Stream,
    ) -> Step {
        if row.terminal {
            return Step::Stays;
        }
        let (next_time, which) = constant_exit(row, *time, rng);
        if next_time > follow_up_end {
            return Step::Stays;
        }
        *events += 1;
        if *events > self.max_events {
            return Step::TooMany;
        }
        *time = next_time;
        Step::Moved {
            edge: row.edge[which] as usize,
            state: row.to[which] as usize,
        }
    }

    /// One life: returns the death time from entry (`+∞` if alive at the horizon) and the
    /// transitions made, or where it went over the bound on events. Two loops, before and after
    /// the HSCT2 window opens, so that neither asks at every transition whether it is open
    /// (a branch that mispredicts from patient to patient).
    #[inline(always)]
    fn run(
        &self,
        entry: StateId,
        rng: &mut Stream,
        tally: &mut StrategyTally,
        from_entry: &mut EdgeCounts,
        from_hsct2: &mut EdgeCounts,
    ) -> Result<(f64, u32), TooManyEvents> {
        let layout = self.layout;
        let cells = layout.grid_len + 1;
        let horizon = layout.horizon;
        let mut row = &self.rows[entry];
        let mut time = 0.0;
        let mut follow_up_end = horizon;
        let mut events = 0u32;
        let mut entry_window = Window::open(&mut tally.entry, cells, entry, row, 0.0);
        // The HSCT2 rule at time 0, always within the horizon: the state's flag alone.
        let mut hsct2_window = row
            .hsct2
            .then(|| Window::open(&mut tally.hsct2, cells, entry, row, 0.0));
        if hsct2_window.is_none() {
            loop {
                match self.step(row, &mut time, follow_up_end, &mut events, rng) {
                    Step::Moved { edge, state } => {
                        row = &self.rows[state];
                        entry_window.enter(from_entry, layout, edge, row, time);
                        if opens_hsct2(row.hsct2, time, horizon) {
                            hsct2_window =
                                Some(Window::open(&mut tally.hsct2, cells, state, row, time));
                            follow_up_end = follow_up_after_hsct2(time, horizon);
                            break;
                        }
                    }
                    Step::Stays => break,
                    Step::TooMany => return Err(too_many(events, time)),
                }
            }
        }
        if let Some(window) = &mut hsct2_window {
            loop {
                match self.step(row, &mut time, follow_up_end, &mut events, rng) {
                    Step::Moved { edge, state } => {
                        row = &self.rows[state];
                        entry_window.enter(from_entry, layout, edge, row, time);
                        window.enter(from_hsct2, layout, edge, row, time);
                    }
                    Step::Stays => break,
                    Step::TooMany => return Err(too_many(events, time)),
                }
            }
            window.close(&mut tally.hsct2, from_hsct2, layout, row, time);
        }
        let death = entry_window.close(&mut tally.entry, from_entry, layout, row, time);
        Ok((death, events))
    }
}

/// Over the bound on events, as the general life reports it: the transitions made before
/// the one too many, at the time it was drawn from.
#[cold]
fn too_many(events: u32, time: f64) -> TooManyEvents {
    TooManyEvents {
        events: events - 1,
        time,
    }
}

/// The smaller of two floats, one `minsd` (operands are never NaN here).
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}
