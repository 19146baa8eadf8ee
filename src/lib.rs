//! hsctsim: Monte Carlo discrete-event microsimulation of treatment strategies after a
//! failed first haematopoietic stem cell transplant.
//!
//! The pipeline, one module each:
//! [`scenario`] (read and check a TOML file) → [`model`] (the validated model) →
//! [`life`] (one patient's life, on its own [`rng`] stream) → [`aggregate`] (mergeable
//! accumulators that record lives, and estimates) → [`engine`] (the one patient loop over
//! two life kernels, and the parallel drivers) → [`output`] (files) and [`plot`]
//! (figures). [`econ`] values lives in costs and QALYs; [`export`] writes every simulated
//! life as CSV rows, for standard survival software; [`shard`] splits a run into parts that
//! merge into exactly the single run (for clusters).
//! [`markov`] computes the exact answer for all-exponential models, used to test the engine.
//! [`calibrate`] compares the model with published studies and fits it to them.
//! [`psa`] draws uncertain parameters (probabilistic and one-way sensitivity analysis).

pub mod aggregate;
pub mod atomic;
pub mod calibrate;
pub mod duration;
pub mod econ;
pub mod engine;
pub mod export;
pub mod input;
pub mod life;
pub mod markov;
pub mod model;
pub mod output;
pub mod plot;
pub mod precision;
pub mod psa;
pub mod rng;
pub mod scenario;
pub mod service;
pub mod shard;
pub mod stats;
pub mod suggest;
