//! Compiles a parsed scenario file into a validated model (being split into one file per
//! concept).

mod graph;

pub use graph::*;
