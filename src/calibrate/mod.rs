//! Calibration: published numbers against the model (`check`) and fitting the model to
//! them (`calibrate`).
//!
//! [`targets`] reads a target file (study cohorts as scenario overrides, each with its
//! published numbers); [`check`] simulates every cohort and compares; [`fit`] moves named
//! model parameters ([`crate::scenario::parameter`]) with [`nelder_mead`] to bring the simulated numbers to the
//! published ones, on common random numbers so the objective is a deterministic, nearly
//! smooth function of the parameters.

pub mod check;
pub mod fit;
pub mod hazard_ratio;
pub mod nelder_mead;
pub mod targets;
