//! Merging the parts of a sharded run: 100 parts of a 4-strategy run must merge in well
//! under a second (the bar), so that a merge job is never the slow step.
//!
//! The parts come from `tests/fixtures/four_strategies.toml` with a 10-year monthly grid
//! (larger parts than the fixture's 3 years), 100 000 patients in 100 shards, written to a
//! scratch folder. Measured: reading and checking the files, merging, and computing the
//! curves and summary — everything `hsctsim merge` does except writing three small files.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use hsctsim::aggregate::results::Results;
use hsctsim::engine::Control;
use hsctsim::shard::Shard;
use hsctsim::shard::merge::merge_inputs;
use hsctsim::shard::part;

const SHARDS: u64 = 100;

fn write_parts(dir: &std::path::Path) -> u64 {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/four_strategies.toml"
    );
    let text = std::fs::read_to_string(path)
        .expect("fixture")
        .replace("horizon = \"36m\"", "horizon = \"120m\"")
        .replace("patients = 200_000", "patients = 100_000");
    let composed = hsctsim::scenario::compose::from_text(&text, "four_strategies_10y.toml", None)
        .unwrap_or_else(|e| panic!("{e}"));
    let source = composed.composition().clone();
    let model = composed
        .build("four_strategies_10y")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = 0;
    for k in 0..SHARDS {
        let shard = Shard::new(k, SHARDS).expect("shard");
        let part = part::run_shard(&model, &source, shard, &Control::default()).expect("run");
        let path = part::write(dir, &part, true).expect("write");
        bytes += std::fs::metadata(path).expect("part").len();
    }
    bytes
}

fn merge_100_parts(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("scratch folder");
    let bytes = write_parts(dir.path());
    eprintln!(
        "{SHARDS} parts, {:.1} MB in all ({:.0} kB each)",
        bytes as f64 / 1e6,
        bytes as f64 / 1e3 / SHARDS as f64
    );
    let inputs = [PathBuf::from(dir.path())];
    let mut group = c.benchmark_group("merge");
    group.sample_size(20);
    group.bench_function(
        "100 parts of a 4-strategy run (read, check, merge, estimate)",
        |b| {
            b.iter(|| {
                let merged = merge_inputs(black_box(&inputs)).expect("merge");
                black_box(Results::from_tally(&merged.model, &merged.tally))
            })
        },
    );
    group.finish();
}

criterion_group!(benches, merge_100_parts);
criterion_main!(benches);
