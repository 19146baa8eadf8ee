//! Figures: the run figures (SVG and PNG) and the PSA figures, read back from what the
//! renderer wrote. One test binary for both.

#[path = "../common/mod.rs"]
mod common;

/// The four strategies of `tests/fixtures/figure_strategies.toml` (name, label), in run
/// order.
const STRATEGIES: [(&str, &str); 4] = [
    ("palliation", "Palliative care"),
    ("same_donor", "HSCT2, same donor"),
    ("different_donor", "HSCT2, different donor"),
    ("hsct2_for_all", "HSCT2 for all, different donor"),
];
/// Okabe–Ito colours of the four strategies, in run order.
const COLOURS: [&str; 4] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];

mod figures;
mod psa_figures;
