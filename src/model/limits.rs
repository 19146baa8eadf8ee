//! The largest model a scenario file may describe.
//!
//! Each bound is far above any model of the field (the shipped `hsct-review` model has 21
//! states, 4–6 strategies, labels under 40 characters) and exists so that everything
//! `validate` accepts runs in time and memory roughly linear in the file, and every figure
//! can be laid out: a scenario beyond a bound is refused when it is loaded, with the bound
//! and where it was exceeded, never after a simulation. The README's "Sizes a scenario may
//! have" lists them; change both together.

/// Largest number of patients a run may ask for.
pub const MAX_PATIENTS: u64 = 1_000_000_000_000;
/// Largest number of grid points (memory per strategy grows with it).
pub const MAX_GRID_POINTS: usize = 100_000;
/// Longest follow-up accepted, in months (1 000 years). Far beyond any life, so a longer
/// horizon is a unit mistake; and survival times are summed in fixed point
/// (`aggregate::SquareSum` holds squared times below about 61 000 years), which a horizon
/// within this bound can never overflow.
pub const MAX_HORIZON_MONTHS: f64 = 12_000.0;
/// Largest number of grid times × strategies × states: the curves and state occupancy a
/// run keeps in memory and writes to `curves.csv` (about 0.4 kB of memory each, so the
/// bound is about 2 GB; 61 grid times × 1 000 strategies × 64 states fit).
pub const MAX_CURVE_VALUES: u64 = 5_000_000;
/// Largest number of states (the aggregator tracks visited states in a 64-bit mask).
pub const MAX_STATES: usize = 64;
/// Largest number of strategies. Every strategy is simulated on every patient and has its
/// own curves and summary rows; comparisons of more than a few dozen are read from the
/// CSV files, not figures.
pub const MAX_STRATEGIES: usize = 1_000;
/// Largest number of transitions in one list (the base model's, or one strategy's
/// overrides): every ordered pair of 64 states.
pub const MAX_TRANSITIONS: usize = MAX_STATES * MAX_STATES;
/// Largest number of decisions, and of branches of one decision.
pub const MAX_DECISIONS: usize = 256;
/// Largest number of patient attributes plus policy variables, and of levels of one
/// categorical variable.
pub const MAX_VARIABLES: usize = 256;
/// Largest number of covariate effects on one transition.
pub const MAX_EFFECTS: usize = 256;
/// Largest number of pieces of a piecewise hazard, of values of a discrete cohort
/// distribution, and of ages of a background life table.
pub const MAX_PIECES: usize = 10_000;
/// Largest number of landmarks (each is a row of the summary per strategy and endpoint).
pub const MAX_LANDMARKS: usize = 100;
/// Largest number of entries of `[economics]` `states` or `events`, and of `[psa]`
/// parameters.
pub const MAX_ENTRIES: usize = 10_000;
/// Longest name of a state, strategy, variable, level or decision, in bytes (names are
/// CSV column values and rule words; labels carry the long form).
pub const MAX_IDENTIFIER_BYTES: usize = 64;
/// Largest number of willingness-to-pay thresholds of an acceptability curve.
pub const MAX_WTP_POINTS: usize = 1_000;
/// Largest number of PSA draws × strategies: the per-draw means a PSA keeps in memory (48
/// bytes each, so about 2 GB) and writes to `psa_draws.csv`.
pub const MAX_DRAW_RESULTS: u64 = 40_000_000;
/// Longest rule text (`if = "…"`), in bytes.
pub const MAX_RULE_BYTES: usize = 10_000;
/// Longest label, title or axis title drawn in a figure, in characters: a legend entry or
/// title longer than this cannot be laid out on a page.
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest description, note or source text, in characters (these go into the manifest,
/// not into figures).
pub const MAX_TEXT_CHARS: usize = 10_000;
