//! The patient export streams: peak memory is bounded by the in-order window (a few chunks
//! of rows), not by the number of patients. Alone in its own test binary so no other test
//! moves the process's peak.

mod common;

use hsctsim::engine::Control;
use hsctsim::engine::ordered::{simulate_in_order, window};
use hsctsim::export::rows::{Columns, PatientRows};

use common::peak_kb;

const THREADS: usize = 2;

/// Exports `patients` lives of the reference model into a counter; returns the bytes and
/// the largest chunk.
fn export(patients: u64) -> (u64, u64) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/reference_markov.toml"
    );
    let mut model = hsctsim::scenario::load(path).unwrap();
    model.settings.patients = patients;
    let columns = Columns::new(&model, None, 0);
    let (mut bytes, mut largest) = (0u64, 0u64);
    simulate_in_order(
        &model,
        &Control {
            threads: THREADS,
            ..Control::default()
        },
        || PatientRows::new(&columns),
        |chunk: PatientRows| -> Result<(), ()> {
            bytes += chunk.bytes().len() as u64;
            largest = largest.max(chunk.bytes().len() as u64);
            Ok(())
        },
    )
    .unwrap();
    (bytes, largest)
}

#[test]
fn peak_memory_is_bounded_by_the_window_not_the_patients() {
    export(1_000);
    let Some(before) = peak_kb() else {
        eprintln!("skipped: /proc/self/status has no VmHWM on this system");
        return;
    };
    // 1.5 million patients: about 420 MB of CSV through the driver.
    let (bytes, largest) = export(1_500_000);
    let after = peak_kb().unwrap_or(before);
    // At most `window` finished chunks wait, plus one being built per worker; a buffer may
    // hold up to twice its length (vector growth). Plus 4 MB for the allocator.
    let bound_kb = 2 * (window(THREADS) + THREADS as u64) * largest / 1024 + 4096;
    eprintln!(
        "{bytes} bytes exported, largest chunk {largest} bytes; peak {before} kB → {after} kB (bound +{bound_kb} kB)"
    );
    assert!(bytes > 400_000_000, "{bytes} bytes");
    assert!(
        after <= before + bound_kb,
        "peak grew from {before} kB to {after} kB, beyond the window's {bound_kb} kB"
    );
    // And twice the patients again stay within the same bound.
    export(3_000_000);
    let again = peak_kb().unwrap_or(after);
    assert!(
        again <= before + bound_kb,
        "peak grew from {before} kB to {again} kB, beyond the window's {bound_kb} kB"
    );
}
