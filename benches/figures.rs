//! Rendering all figures of a 4-strategy run (both origins, SVG and PNG, at print size):
//! the budget is under 2 seconds.
//!
//!     cargo bench --bench figures

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hsctsim::aggregate::results::Results;
use hsctsim::engine::{Control, simulate};
use hsctsim::output::Manifest;
use hsctsim::plot::{self, Format, PlotOptions, RunData};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/figure_strategies.toml"
);

fn four_strategy_run() -> (Results, Manifest) {
    let mut model = hsctsim::scenario::load(FIXTURE).expect("fixture loads");
    model.settings.patients = 100_000;
    let tally = simulate(&model, &Control::default()).expect("simulation");
    let results = Results::from_tally(&model, &tally);
    let bytes = std::fs::read(FIXTURE).expect("fixture");
    let manifest = Manifest::new(&model, FIXTURE, &bytes, &tally, 2, 1.0);
    (results, manifest)
}

fn figures(c: &mut Criterion) {
    let (results, manifest) = four_strategy_run();
    let data = RunData::from_results(&results, &manifest);
    let mut group = c.benchmark_group("figures");
    group.sample_size(10);
    group.bench_function("all figures, 4 strategies, svg+png", |b| {
        b.iter(|| black_box(plot::render(&data, &PlotOptions::default()).expect("render")))
    });
    for format in [Format::Svg, Format::Png] {
        let options = PlotOptions {
            formats: vec![format],
            ..PlotOptions::default()
        };
        group.bench_function(
            format!("all figures, 4 strategies, {}", format.name()),
            |b| b.iter(|| black_box(plot::render(&data, &options).expect("render"))),
        );
    }
    // Re-plotting a run folder: reading the CSV files and writing the figures too.
    let dir = tempfile::tempdir().expect("temporary folder");
    let run = dir.path().join("run");
    hsctsim::service::run::write_run(&run, &results, &manifest, None, false).expect("write run");
    group.bench_function("hsctsim plot RUN_DIR (read, render, write)", |b| {
        b.iter(|| black_box(plot::render_run(&run, &PlotOptions::default()).expect("plot")))
    });
    group.finish();
}

criterion_group!(benches, figures);
criterion_main!(benches);
