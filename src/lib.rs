//! hsctsim: Monte Carlo discrete-event microsimulation of treatment strategies after a
//! failed first haematopoietic stem cell transplant.

pub mod duration;
pub mod model;
pub mod suggest;
