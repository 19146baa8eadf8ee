//! `economics.csv` (tidy: `strategy,statistic,wtp,estimate,se,lower,upper`) and
//! `incremental.csv` (the incremental analysis in cost order:
//! `strategy,cost,qalys,status,comparator,delta_cost,delta_cost_se,delta_qalys,delta_qalys_se,icer`).
//! Costs and QALYs are per patient and discounted unless the statistic says `undiscounted`;
//! currency, price year, discount rates and whether values are illustrative are in
//! `manifest.json`.

use super::number;
use crate::aggregate::economic_estimates::{IncrementRow, ValueRow};

/// Header of `economics.csv`.
pub const VALUES_HEADER: [&str; 7] = [
    "strategy",
    "statistic",
    "wtp",
    "estimate",
    "se",
    "lower",
    "upper",
];
/// Header of `incremental.csv`.
pub const INCREMENTS_HEADER: [&str; 10] = [
    "strategy",
    "cost",
    "qalys",
    "status",
    "comparator",
    "delta_cost",
    "delta_cost_se",
    "delta_qalys",
    "delta_qalys_se",
    "icer",
];

/// The bytes of `economics.csv`.
pub fn values_csv(rows: &[ValueRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(VALUES_HEADER);
    for r in rows {
        let _ = w.write_record([
            r.strategy.as_str(),
            r.statistic,
            &r.wtp.map_or(String::new(), number),
            &number(r.estimate),
            &number(r.se),
            &number(r.lower),
            &number(r.upper),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// The bytes of `incremental.csv`.
pub fn increments_csv(rows: &[IncrementRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(INCREMENTS_HEADER);
    for r in rows {
        let _ = w.write_record([
            r.strategy.as_str(),
            &number(r.cost),
            &number(r.qalys),
            r.status,
            r.comparator.as_deref().unwrap_or(""),
            &number(r.delta_cost),
            &number(r.delta_cost_se),
            &number(r.delta_qalys),
            &number(r.delta_qalys_se),
            &number(r.icer),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
