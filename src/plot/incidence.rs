//! Cumulative incidence of relapse and of non-relapse mortality by strategy.
//!
//! Relapse and non-relapse death compete: each curve is the proportion who had that event
//! first (Aalen–Johansen without censoring), so CIR + NRM + LFS = 1. The number at risk is
//! the patients still alive without relapse: patients × LFS.

use super::curves::{CurvePlot, Series};
use super::{Measure, Selection};

/// The cumulative incidence figure of `measure` (`Cir` or `Nrm`).
pub fn plot<'a>(selection: &Selection<'a>, measure: Measure) -> CurvePlot<'a> {
    let series = selection
        .strategies
        .iter()
        .filter_map(|s| {
            let curve = selection
                .data
                .curve(&s.name, selection.origin, measure.name())?;
            let lfs = selection.data.curve(&s.name, selection.origin, "lfs");
            let patients = selection.data.patients(&s.name, selection.origin);
            Some(Series {
                label: s.label.clone(),
                index: s.index,
                curve,
                at_risk: lfs.map(|c| (c, patients)),
            })
        })
        .collect();
    CurvePlot {
        title: selection.title(measure),
        y_label: selection.y_label(measure),
        x_label: selection.x_label(),
        series,
        from: selection.from,
        to: selection.to,
        log: selection.log,
        landmark: selection.landmark,
        rising: true,
    }
}
