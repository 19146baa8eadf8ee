//! Any bytes as a part file (`hsctsim merge`'s input): reading never panics; and whatever
//! the reader accepts — as given, or re-sealed with a recomputed checksum as a forger would
//! do — either is refused by the merge with a message, or merges without panic into curves
//! that are proportions and summaries that are possible.
//!
//! Seeds are real parts of a small scenario with every accumulator (an HSCT2 origin, a
//! landmark, two strategies, economics): `HSCTSIM_PART_SEEDS=DIR part` writes them into DIR
//! and exits (fuzz/run.sh does this before fuzzing).
#![no_main]

use std::path::{Path, PathBuf};

use hsctsim::aggregate::results::{Origin, Results};
use hsctsim::engine::Control;
use hsctsim::output::manifest::sha256_hex;
use hsctsim::shard::Shard;
use hsctsim::shard::merge::merge;
use hsctsim::shard::part::{self, Part};
use libfuzzer_sys::fuzz_target;

const SCENARIO: &str = r#"[scenario]
name = "fuzz_part"
[simulation]
patients = 40
seed = 3
horizon = "6m"
grid = "1m"
landmarks = ["3m"]
[[states]]
name = "relapse"
[[states]]
name = "hsct2"
hsct2 = true
[[states]]
name = "relapse2"
relapse = true
[[states]]
name = "death_relapse"
death = "relapse"
[[states]]
name = "death_nrm"
death = "nrm"
[[variables]]
name = "drug"
type = "bool"
default = false
[cohort]
entry = "relapse"
[[transitions]]
from = "relapse"
to = "hsct2"
rate = 0.5
[[transitions]]
from = "relapse"
to = "death_relapse"
rate = 0.1
[[transitions]]
from = "hsct2"
to = "relapse2"
rate = 0.2
effects = [{ if = "drug", hr = 0.5 }]
[[transitions]]
from = "hsct2"
to = "death_nrm"
rate = 0.05
[[transitions]]
from = "relapse2"
to = "death_relapse"
rate = 0.3
[economics]
discount_costs = 0.03
discount_effects = 0.03
states = [{ state = "hsct2", cost = 9000, utility = 0.6 }, { state = "relapse", cost = 3000, utility = 0.5 }]
events = [{ on = "hsct2", cost = 100000, disutility = 0.01 }]
[[strategies]]
name = "usual"
[[strategies]]
name = "drug"
set = { drug = true }
"#;

fn write_seeds(dir: &Path) {
    let composed = hsctsim::scenario::compose::from_text(SCENARIO, "fuzz_part.toml", None)
        .expect("the seed scenario loads");
    let source = composed.composition().clone();
    let model = composed
        .build("fuzz_part")
        .expect("the seed scenario builds");
    std::fs::create_dir_all(dir).expect("the seed folder");
    for (index, count) in [(0, 1), (1, 2), (0, 50)] {
        let shard = Shard::new(index, count).expect("a shard");
        let part = part::run_shard(&model, &source, shard, &Control::default())
            .expect("the seed scenario simulates");
        part::write(dir, &part, true).expect("the seed is written");
    }
}

fuzz_target!(
    init: {
        if let Some(dir) = std::env::var_os("HSCTSIM_PART_SEEDS") {
            write_seeds(Path::new(&dir));
            std::process::exit(0);
        }
    },
    |data: &[u8]| {
        let path = Path::new("part-0-of-1.json");
        if let Ok(part) = Part::from_bytes(data, path) {
            merges_into_proportions(part);
        }
        // Re-sealed: only the invariants stand between a forger and the merge.
        if let Ok(mut forged) = serde_json::from_slice::<Part>(data) {
            let blocks = serde_json::to_vec(&forged.blocks).expect("blocks serialize");
            forged.blocks_sha256 = sha256_hex(&blocks);
            if let Ok(part) = Part::from_bytes(&forged.to_bytes(), path) {
                merges_into_proportions(part);
            }
        }
    }
);

fn merges_into_proportions(part: Part) {
    let Ok(merged) = merge(vec![(PathBuf::from("part-0-of-1.json"), part)]) else {
        return;
    };
    let horizon = merged.model.settings.horizon;
    let results = Results::from_tally(&merged.model, &merged.tally);
    for row in &results.curves {
        assert!(
            (0.0..=1.0).contains(&row.estimate) && row.lower <= row.upper,
            "a curve left [0, 1]: {row:?}"
        );
    }
    for row in &results.summary {
        let proportion = ["os", "lfs", "cir", "nrm"].contains(&row.statistic.as_str())
            || row.statistic.starts_with("reached:");
        if proportion {
            assert!((0.0..=1.0).contains(&row.estimate), "{row:?}");
        }
        if row.statistic == "delta_os" {
            assert!((-1.0..=1.0).contains(&row.estimate), "{row:?}");
        }
        if row.statistic.starts_with("rmst_") {
            assert!(
                (0.0..=horizon * (1.0 + 1e-9)).contains(&row.estimate),
                "{row:?}"
            );
        }
        if row.statistic == "patients" && row.origin == Origin::Entry {
            assert_eq!(row.estimate, merged.tally.patients as f64, "{row:?}");
        }
    }
    if let Some(economics) = &results.economics {
        for row in &economics.values {
            assert!(row.estimate.is_finite(), "{row:?}");
            if row.statistic.starts_with("life_years") {
                assert!(
                    (0.0..=horizon / 12.0 * (1.0 + 1e-9)).contains(&row.estimate),
                    "{row:?}"
                );
            }
        }
    }
}
