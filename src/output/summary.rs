//! `summary.csv`: one row per strategy, origin and statistic (tidy, long format):
//! `strategy,origin,statistic,time,estimate,se,lower,upper`.

use super::number;
use crate::aggregate::results::SummaryRow;

/// The header.
pub const HEADER: [&str; 8] = [
    "strategy",
    "origin",
    "statistic",
    "time",
    "estimate",
    "se",
    "lower",
    "upper",
];

/// The file's bytes.
pub fn to_csv(rows: &[SummaryRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 64));
    let _ = w.write_record(HEADER);
    for r in rows {
        let _ = w.write_record([
            r.strategy.as_str(),
            r.origin.as_str(),
            r.statistic.as_str(),
            &r.time.map_or(String::new(), number),
            &number(r.estimate),
            &r.se.map_or(String::new(), number),
            &number(r.lower),
            &number(r.upper),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
