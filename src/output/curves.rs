//! `curves.csv`: `strategy,origin,measure,time,estimate,lower,upper`, one row per grid point.

use super::number;
use crate::aggregate::results::CurveRow;

/// The header; other tools read these names, keep them.
pub const HEADER: [&str; 7] = [
    "strategy", "origin", "measure", "time", "estimate", "lower", "upper",
];

/// The file's bytes.
pub fn to_csv(rows: &[CurveRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 64));
    // Writing to memory cannot fail.
    let _ = w.write_record(HEADER);
    for r in rows {
        let _ = w.write_record([
            r.strategy.as_str(),
            r.origin.as_str(),
            r.measure.as_str(),
            &number(r.time),
            &number(r.estimate),
            &number(r.lower),
            &number(r.upper),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
