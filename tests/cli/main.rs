//! The `hsctsim` command line and its files: outputs and their contract, bad inputs, nothing
//! half done, valid means runnable, shards and merge, the patient export, and the README's
//! commands. One test binary (not one per file) so `cargo test` links the optimised library
//! into few executables.

#[path = "../common/mod.rs"]
mod common;

mod bad_inputs;
mod cli;
mod export_determinism;
mod nothing_half_done;
mod patient_export;
mod readme;
mod shards;
mod valid_means_runnable;
