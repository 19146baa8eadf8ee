//! Engine throughput on the reference model, against a bare loop drawing the same random
//! numbers from the same per-patient streams, measured in one run so the ratio is honest.
//!
//!     cargo bench --bench engine
//!
//! Criterion reports time per iteration and patients per second (throughput).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsctsim::aggregate::results::Results;
use hsctsim::engine::bare_loop::{BareVariate, bare_loop};
use hsctsim::engine::{Control, simulate};
use hsctsim::rng::{Purpose, Stream};

const PATIENTS: u64 = 2_000_000;

fn reference_model() -> hsctsim::model::Model {
    let mut model = hsctsim::scenario::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/reference_markov.toml"
    ))
    .expect("reference scenario");
    model.settings.patients = PATIENTS;
    model
}

fn engine_versus_bare_loop(c: &mut Criterion) {
    let model = reference_model();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let draws = simulate(
        &model,
        &Control {
            threads,
            ..Control::default()
        },
    )
    .expect("run")
    .draws;
    let mut group = c.benchmark_group("reference_markov");
    group.sample_size(10);
    group.throughput(Throughput::Elements(PATIENTS));
    group.bench_function("engine, all outputs", |b| {
        b.iter(|| {
            let tally = simulate(
                &model,
                &Control {
                    threads,
                    ..Control::default()
                },
            )
            .expect("run");
            black_box(Results::from_tally(&model, &tally))
        })
    });
    group.bench_function("general engine, all outputs (same results)", |b| {
        b.iter(|| {
            let tally = simulate(
                &model,
                &Control {
                    threads,
                    general_engine: true,
                    ..Control::default()
                },
            )
            .expect("run");
            black_box(Results::from_tally(&model, &tally))
        })
    });
    group.bench_function("bare loop, same uniform draws", |b| {
        b.iter(|| {
            black_box(bare_loop(
                model.settings.seed,
                PATIENTS,
                draws,
                BareVariate::Uniform,
                threads,
            ))
        })
    });
    group.bench_function("bare loop, same number of exponential draws", |b| {
        b.iter(|| {
            black_box(bare_loop(
                model.settings.seed,
                PATIENTS,
                draws,
                BareVariate::Exponential,
                threads,
            ))
        })
    });
    group.finish();
}

fn stream_setup(c: &mut Criterion) {
    let mut patient = 0u64;
    c.bench_function("stream set-up and first draw", |b| {
        b.iter(|| {
            patient += 1;
            let mut s = Stream::new(black_box(7), 0, patient, Purpose::Events);
            black_box(s.uniform())
        })
    });
}

criterion_group!(benches, engine_versus_bare_loop, stream_setup);
criterion_main!(benches);
