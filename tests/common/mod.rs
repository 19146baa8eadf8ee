//! Helpers shared by the integration test binaries (`tests/engine`, `tests/cli`,
//! `tests/figures` and the two memory tests), so no test file keeps its own copy.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use hsctsim::aggregate::Tally;
use hsctsim::aggregate::results::Results;
use hsctsim::engine::{Control, simulate};
use hsctsim::model::Model;

/// Loads a shipped scenario.
pub fn scenario(name: &str) -> Model {
    hsctsim::scenario::load(shipped(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses scenario text.
pub fn parse(text: &str) -> Model {
    hsctsim::scenario::parse(text, "test.toml", "test").unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a model with a given number of patients and threads.
pub fn run(model: &Model, patients: u64, threads: usize) -> (Tally, Results) {
    let mut model = model.clone();
    model.settings.patients = patients;
    let tally = simulate(
        &model,
        &Control {
            threads,
            ..Control::default()
        },
    )
    .expect("simulation");
    let results = Results::from_tally(&model, &tally);
    (tally, results)
}

/// One curve as (time, estimate) pairs.
pub fn curve(results: &Results, strategy: &str, origin: &str, measure: &str) -> Vec<(f64, f64)> {
    results
        .curves
        .iter()
        .filter(|r| r.strategy == strategy && r.origin.as_str() == origin && r.measure == measure)
        .map(|r| (r.time, r.estimate))
        .collect()
}

/// The path of a shipped scenario file, `scenarios/<name>.toml`.
pub fn shipped(name: &str) -> String {
    format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"))
}

/// The engine's reference scenario file.
pub fn reference() -> String {
    shipped("reference_markov")
}

/// The package root (where `cargo test` runs the tests).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a file the test expects to exist.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the `hsctsim` binary with `args`, in `dir` if given (else the test's working
/// directory), and fails the test if it panicked: every failure must be a message. The one
/// way the tests run the binary to its end; the helpers below shape its result.
pub fn run_in(dir: Option<&Path>, args: &[impl AsRef<OsStr>]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hsctsim"));
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "hsctsim {:?} panicked:\n{stderr}",
        shown(args)
    );
    out
}

/// [`run_in`] the test's working directory.
pub fn output(args: &[impl AsRef<OsStr>]) -> Output {
    run_in(None, args)
}

/// [`run_in`] `dir` (arguments first, as the PSA tests call it).
pub fn output_in(args: &[impl AsRef<OsStr>], dir: &Path) -> Output {
    run_in(Some(dir), args)
}

/// Runs the `hsctsim` binary; returns its exit code, stdout and stderr.
pub fn hsctsim(args: &[impl AsRef<OsStr>]) -> (i32, String, String) {
    let out = output(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the `hsctsim` binary, which must succeed.
pub fn succeed(args: &[impl AsRef<OsStr>]) {
    succeeded(args, output(args));
}

/// Runs the `hsctsim` binary in `dir`, which must succeed.
pub fn succeed_in(args: &[impl AsRef<OsStr>], dir: &Path) {
    succeeded(args, output_in(args, dir));
}

fn succeeded(args: &[impl AsRef<OsStr>], out: Output) {
    assert!(
        out.status.success(),
        "hsctsim {:?} failed:\n{}",
        shown(args),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn shown(args: &[impl AsRef<OsStr>]) -> Vec<String> {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect()
}

/// Peak resident memory of this process so far (Linux), in kB.
pub fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The value of attribute `name` in an SVG element's opening tag.
pub fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    let end = start + element[start..].find('"')?;
    Some(&element[start..end])
}
