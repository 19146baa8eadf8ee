//! Memory does not grow with the number of patients: the accumulators are sized by the grid,
//! states and strategies only. Alone in its own test binary so no other test moves the
//! process's peak.

mod common;

use common::peak_kb;

#[test]
fn peak_memory_is_flat_in_the_number_of_patients() {
    let model = common::scenario("reference_markov");
    common::run(&model, 100_000, 2);
    let Some(after_small) = peak_kb() else {
        eprintln!("skipped: /proc/self/status has no VmHWM on this system");
        return;
    };
    common::run(&model, 5_000_000, 2);
    let after_large = peak_kb().unwrap_or(after_small);
    // Fifty times the patients may not add more than 2 MB (thread stacks and allocator noise).
    assert!(
        after_large <= after_small + 2048,
        "peak grew from {after_small} kB to {after_large} kB"
    );
}
