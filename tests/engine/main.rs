//! The simulation engine through the library: exact answers, invariants, the constant-hazard
//! fast path, samplers, determinism, behaviour, economics, PSA and calibration. One test
//! binary (not one per file) so `cargo test` compiles and links the optimised library into
//! few executables.

#[path = "../common/mod.rs"]
mod common;

mod architecture;
mod calibration;
mod determinism;
mod economics;
mod engine_behaviour;
mod exactness;
mod fast_path;
mod invariants;
mod psa;
mod samplers;
