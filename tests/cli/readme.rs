//! Claims of the README, checked.

use crate::common;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The complete commented example of the scenario format loads and runs.
#[test]
fn scenario_format_example_is_valid() {
    let text = readme();
    let start = text
        .find("```toml\n")
        .expect("a TOML example in the README")
        + "```toml\n".len();
    let end = start + text[start..].find("```").unwrap();
    let model = hsctsim::scenario::parse(&text[start..end], "README.md", "example")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.strategies.len(), 3);
    let (tally, results) = common::run(&model, 20_000, 2);
    assert_eq!(tally.patients, 20_000);
    assert!(!results.curves.is_empty());
}

/// The README's two commands are the ones CI runs.
#[test]
fn ci_runs_the_readme_commands() {
    let text = readme();
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    // The two commands, in this order, then the engine's reference scenario.
    assert!(
        text.contains(
            "    cargo run --release -- run scenarios/donor_policy.toml\n    cargo test\n"
        )
    );
    assert!(text.contains("    cargo run --release -- run scenarios/reference_markov.toml\n"));
    assert!(
        ci.contains("\ncargo test\n"),
        ".ci/run must call `cargo test`"
    );
    for scenario in ["donor_policy", "reference_markov"] {
        assert!(
            ci.contains(&format!(
                "cargo run --release -- run scenarios/{scenario}.toml"
            )),
            ".ci/run must run {scenario}"
        );
    }
}

/// The export's columns are documented as the code writes them.
#[test]
fn export_columns_are_documented() {
    let columns = hsctsim::export::rows::FIXED_COLUMNS.join(",");
    assert!(
        readme().contains(&format!("`{columns},<one column per cohort attribute>`")),
        "README must list the export columns {columns}"
    );
}

/// CI runs the fuzz smoke test the README describes.
#[test]
fn ci_runs_the_fuzz_smoke_test() {
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(ci.contains("\nbash fuzz/run.sh\n"));
    assert!(readme().contains("fuzz/run.sh scenario 3600"));
}

/// The example of "Composing scenarios" extends the built-in model and runs.
#[test]
fn composing_example_is_valid() {
    let text = readme();
    let section = &text[text.find("## Composing scenarios").expect("the section")..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + section[start..].find("```").unwrap();
    let model = hsctsim::scenario::parse(&section[start..end], "README.md", "example")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.strategies.len(), 1);
    let (tally, _) = common::run(&model, 5_000, 2);
    assert_eq!(tally.patients, 5_000);
}
