//! The validated, immutable model the engine runs.

pub mod rule;
pub mod variable;
