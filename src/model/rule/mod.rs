//! Decision rules and covariate conditions (being split into one file per concept).

mod compile;

pub use compile::*;
