//! Overall survival and leukaemia-free survival by strategy, with the number at risk.
//!
//! A simulated cohort is followed to the horizon without censoring, so the number at risk
//! at time t is the patients of the origin times the survival at t (overall survival for
//! OS, leukaemia-free survival for LFS).

use super::curves::{CurvePlot, Series};
use super::{Measure, Selection};

/// The survival figure of `measure` (`Os` or `Lfs`).
pub fn plot<'a>(selection: &Selection<'a>, measure: Measure) -> CurvePlot<'a> {
    let name = measure.name();
    let series = selection
        .strategies
        .iter()
        .filter_map(|s| {
            let curve = selection.data.curve(&s.name, selection.origin, name)?;
            let patients = selection.data.patients(&s.name, selection.origin);
            Some(Series {
                label: s.label.clone(),
                index: s.index,
                curve,
                at_risk: Some((curve, patients)),
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
        rising: false,
    }
}
