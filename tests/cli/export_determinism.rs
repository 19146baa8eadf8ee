//! Determinism everywhere, through the real command line: the same scenario and seed give
//! byte-identical `curves.csv`, `summary.csv` and patient export for any number of threads,
//! on every repetition, and split into shards (whose exports, concatenated in shard order
//! under one header, are the whole run's export byte for byte) — with and without
//! administrative censoring. Exporting does not change the curves.

use std::path::{Path, PathBuf};

use hsctsim::engine::Control;
use std::sync::atomic::{AtomicU64, Ordering};

use hsctsim::engine::ordered::{simulate_in_order, window};
use hsctsim::export::rows::{Columns, PatientRows};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/four_strategies.toml"
);

use crate::common::{read, succeed as hsctsim};

/// `curves.csv`, `summary.csv` and the export of one run.
fn whole_run(dir: &Path, name: &str, threads: &str, extra: &[&str]) -> [Vec<u8>; 3] {
    let out = dir.join(name);
    let export = dir.join(format!("{name}.csv"));
    let mut args = vec![
        "run",
        FIXTURE,
        "--patients",
        "30000",
        "--threads",
        threads,
        "--out",
        out.to_str().unwrap(),
        "--export-patients",
        export.to_str().unwrap(),
        "--quiet",
    ];
    args.extend(extra);
    hsctsim(&args);
    [
        read(&out.join("curves.csv")),
        read(&out.join("summary.csv")),
        read(&export),
    ]
}

#[test]
fn threads_and_repetitions_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    for (label, censoring) in [
        ("plain", &[][..]),
        (
            "censored",
            &["--accrual", "2y", "--min-follow-up", "6m"][..],
        ),
    ] {
        let reference = whole_run(tmp.path(), &format!("{label}-1"), "1", censoring);
        assert!(reference[2].len() > 1_000_000, "a real export");
        // 7 threads on a 2-core machine: more workers than cores, chunks finishing out of order.
        for threads in ["2", "3", "7", "2"] {
            let run = whole_run(
                tmp.path(),
                &format!("{label}-{threads}-{}", rand_suffix()),
                threads,
                censoring,
            );
            for (k, file) in ["curves.csv", "summary.csv", "export"].iter().enumerate() {
                assert!(
                    run[k] == reference[k],
                    "{label}: {file} differs between 1 and {threads} threads"
                );
            }
        }
    }
    // Exporting does not change the results.
    let out = tmp.path().join("no-export");
    hsctsim(&[
        "run",
        FIXTURE,
        "--patients",
        "30000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let exported = whole_run(tmp.path(), "exported", "2", &[]);
    assert_eq!(read(&out.join("curves.csv")), exported[0]);
    assert_eq!(read(&out.join("summary.csv")), exported[1]);
}

/// A fresh name for each repetition.
fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

#[test]
fn shards_merge_into_the_whole_run_export_included() {
    let tmp = tempfile::tempdir().unwrap();
    let censoring = ["--accrual", "2y", "--min-follow-up", "6m"];
    let whole = whole_run(tmp.path(), "whole", "2", &censoring);
    for count in [1u64, 3, 7] {
        let parts = tmp.path().join(format!("parts-{count}"));
        let mut concatenated: Vec<u8> = Vec::new();
        // Shards in reverse order: they may run anywhere, in any order.
        let mut exports: Vec<(u64, PathBuf)> = Vec::new();
        for k in (0..count).rev() {
            let export = tmp.path().join(format!("shard-{k}-of-{count}.csv"));
            let shard = format!("{k}/{count}");
            let mut args = vec![
                "run",
                FIXTURE,
                "--patients",
                "30000",
                "--threads",
                if k % 2 == 0 { "1" } else { "2" },
                "--shard",
                &shard,
                "--out",
                parts.to_str().unwrap(),
                "--export-patients",
                export.to_str().unwrap(),
                "--quiet",
            ];
            args.extend(censoring);
            hsctsim(&args);
            exports.push((k, export));
        }
        exports.sort();
        for (k, export) in &exports {
            let bytes = read(export);
            let header_end = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
            if *k == 0 {
                concatenated.extend_from_slice(&bytes);
            } else {
                assert_eq!(bytes[..header_end], whole[2][..header_end], "same header");
                concatenated.extend_from_slice(&bytes[header_end..]);
            }
        }
        assert!(
            concatenated == whole[2],
            "{count} shards: the exports do not add up to the whole run's"
        );
        let merged = tmp.path().join(format!("merged-{count}"));
        hsctsim(&[
            "merge",
            parts.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(read(&merged.join("curves.csv")), whole[0], "{count} shards");
        assert_eq!(
            read(&merged.join("summary.csv")),
            whole[1],
            "{count} shards"
        );
    }
}

#[test]
fn chunks_are_delivered_in_patient_order_even_when_delivery_is_slow() {
    // A slow consumer (a busy disk) makes workers finish chunks far ahead of delivery: the
    // window must hold them back, and the bytes must still come out in patient order.
    let mut model = hsctsim::scenario::load(FIXTURE).unwrap();
    model.settings.patients = 100_000;
    let columns = Columns::new(&model, None, 0);
    let mut reference: Vec<u8> = Vec::new();
    let one = simulate_in_order(
        &model,
        &Control {
            threads: 1,
            ..Control::default()
        },
        || PatientRows::new(&columns),
        |chunk: PatientRows| -> Result<(), ()> {
            reference.extend_from_slice(chunk.bytes());
            Ok(())
        },
    )
    .unwrap();
    // Without the window, workers would run through all 25 chunks while the first few are
    // being delivered.
    for threads in [2, 3] {
        let mut bytes: Vec<u8> = Vec::new();
        let mut last_patient = None;
        // Chunks started but not yet delivered: never more than the window plus one per worker.
        let started = AtomicU64::new(0);
        let (mut delivered, mut most_held) = (0u64, 0u64);
        let many = simulate_in_order(
            &model,
            &Control {
                threads,
                ..Control::default()
            },
            || {
                started.fetch_add(1, Ordering::SeqCst);
                PatientRows::new(&columns)
            },
            |chunk: PatientRows| -> Result<(), ()> {
                most_held = most_held.max(started.load(Ordering::SeqCst) - delivered);
                delivered += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
                let first: u64 = std::str::from_utf8(chunk.bytes())
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(last_patient.is_none_or(|p| p < first), "out of order");
                last_patient = Some(first);
                bytes.extend_from_slice(chunk.bytes());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(one, many, "{threads} threads: accumulators differ");
        assert!(
            most_held <= window(threads) + threads as u64,
            "{threads} threads: {most_held} chunks held at once"
        );
        eprintln!("{threads} threads: at most {most_held} chunks held at once");
        assert!(bytes == reference, "{threads} threads: rows differ");
    }
    // A failing consumer stops the run with its error.
    let mut delivered = 0;
    let stopped = simulate_in_order(
        &model,
        &Control {
            threads: 3,
            ..Control::default()
        },
        || PatientRows::new(&columns),
        |_chunk: PatientRows| -> Result<(), &'static str> {
            delivered += 1;
            if delivered == 4 {
                Err("disk full")
            } else {
                Ok(())
            }
        },
    );
    assert!(matches!(
        stopped,
        Err(hsctsim::engine::ordered::InOrderError::Deliver("disk full"))
    ));
    assert_eq!(delivered, 4, "nothing is delivered after a failure");
}
