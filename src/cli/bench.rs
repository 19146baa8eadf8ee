//! `hsctsim bench`: patients per second, against a bare loop of the same random draws.

use std::path::Path;
use std::time::Instant;

use hsctsim::aggregate::Tally;
use hsctsim::aggregate::results::Results;
use hsctsim::engine::bare_loop::{BareVariate, bare_loop};
use hsctsim::engine::{self, Control, EngineError};

use hsctsim::model::worker_threads as effective_threads;
use std::fmt::Write as _;

use super::{Failure, Overrides, load, print_out};

/// Runs the scenario `repeat` times with all outputs computed, then the bare loops.
pub fn bench(scenario: &Path, overrides: &Overrides, repeat: usize) -> Result<(), Failure> {
    let mut model = load(scenario, overrides)?;
    if overrides.patients.is_none() {
        model.settings.patients = model.settings.patients.max(10_000_000);
    }
    let threads = effective_threads(model.settings.threads);
    let n = model.settings.patients;
    let repeat = repeat.max(1);
    // The engine as `run` uses it, then (for a model on the constant-hazard fast path) the
    // general engine on the same model: the same results, so the same work to compare, and
    // the two kernels' tallies must be equal.
    let time_engine = |general_engine| -> Result<(f64, Tally), Failure> {
        let mut best = f64::INFINITY;
        let mut last = None;
        for _ in 0..repeat {
            let started = Instant::now();
            let tally = engine::simulate(
                &model,
                &Control {
                    threads,
                    general_engine,
                    ..Control::default()
                },
            )
            .map_err(Failure::run)?;
            let results = Results::from_tally(&model, &tally);
            std::hint::black_box(&results);
            best = best.min(started.elapsed().as_secs_f64());
            last = Some(tally);
        }
        last.map(|tally| (best, tally))
            .ok_or_else(|| Failure::run("no benchmark run (0 repeats)"))
    };
    let fast_path = engine::uses_fast_path(&model);
    let (best, tally) = time_engine(false)?;
    let draws = tally.draws;
    let general = if fast_path {
        let (time, general) = time_engine(true)?;
        if general != tally {
            return Err(Failure::run(EngineError::KernelsDisagree {
                first: 0,
                last: n.saturating_sub(1),
            }));
        }
        Some(time)
    } else {
        None
    };
    let time_bare = |variate| {
        (0..repeat)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(bare_loop(model.settings.seed, n, draws, variate, threads));
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let bare_uniform = time_bare(BareVariate::Uniform);
    let bare_exponential = time_bare(BareVariate::Exponential);
    let mut text = String::new();
    let _ = writeln!(text, "scenario          {}", model.name);
    let _ = writeln!(
        text,
        "patients          {n} × {} strategies, {threads} threads, best of {repeat}",
        model.strategies.len()
    );
    let _ = writeln!(
        text,
        "random draws      {draws} ({:.2} per patient)",
        draws as f64 / n as f64
    );
    let path = if fast_path {
        "constant-hazard fast path"
    } else {
        "general engine"
    };
    let _ = writeln!(
        text,
        "engine            {:>12.0} patients/s  ({:.3} s, all outputs; {path})",
        n as f64 / best,
        best
    );
    if let Some(general) = general {
        let _ = writeln!(
            text,
            "general engine    {:>12.0} patients/s  ({:.3} s, all outputs; same tally, checked)",
            n as f64 / general,
            general
        );
    }
    let _ = writeln!(
        text,
        "bare uniforms     {:>12.0} patients/s  ({:.3} s)  engine/bare = {:.2}",
        n as f64 / bare_uniform,
        bare_uniform,
        best / bare_uniform
    );
    let _ = writeln!(
        text,
        "bare exponentials {:>12.0} patients/s  ({:.3} s)  engine/bare = {:.2}",
        n as f64 / bare_exponential,
        bare_exponential,
        best / bare_exponential
    );
    print_out(&text)
}
