//! Bad scenario files through the real command line: each gets a clear message naming the
//! file and the place (line:column) where there is one, a hint, and a non-zero exit; none
//! panics.

use std::path::{Path, PathBuf};
use std::process::Command;

const GOOD: &str = r#"[simulation]
patients = 1000
seed = 1
horizon = "24m"

[[states]]
name = "relapse"

[[states]]
name = "salvage"

[[states]]
name = "death_relapse"
death = "relapse"

[[states]]
name = "death_nrm"
death = "nrm"

[cohort]
entry = "relapse"

[[transitions]]
from = "relapse"
to = "salvage"
rate = 0.8

[[transitions]]
from = "salvage"
to = "death_relapse"
rate = 0.1

[[transitions]]
from = "salvage"
to = "death_nrm"
rate = 0.02
"#;

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `hsctsim validate` and `hsctsim run` on a file; returns (exit code, stderr).
fn fails(path: &Path) -> (i32, String) {
    let mut last = (0, String::new());
    for command in ["validate", "run"] {
        let out = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
            .args(
                [command, path.to_str().unwrap(), "--quiet"]
                    .iter()
                    .filter(|a| command == "run" || **a != "--quiet"),
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("panicked"),
            "{command} panicked:\n{stderr}"
        );
        if std::env::var("SHOW_ERRORS").is_ok() {
            eprintln!("--- {command} {}\n{stderr}", path.display());
        }
        let code = out.status.code().unwrap_or(-1);
        assert_ne!(code, 0, "{command} accepted {}:\n{stderr}", path.display());
        last = (code, stderr);
    }
    last
}

struct Case {
    name: &'static str,
    text: String,
    /// The text the error must point at (its first occurrence in the file), if any.
    at: Option<&'static str>,
    /// Fragments the message must contain.
    says: &'static [&'static str],
}

fn replace(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "fixture lacks {from:?}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn each_bad_input_is_named_located_and_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let cases = vec![
        Case { name: "malformed_toml", text: replace("patients = 1000", "patients = = 1000"), at: Some("= 1000"), says: &["TOML syntax error", "help:"] },
        Case { name: "unknown_key", text: replace("patients = 1000", "patiens = 1000"), at: Some("patiens"), says: &["unknown field `patiens`", "did you mean `patients`"] },
        Case { name: "negative_rate", text: replace("rate = 0.8", "rate = -0.8"), at: Some("-0.8"), says: &["rate", "≥ 0"] },
        Case { name: "nan_rate", text: replace("rate = 0.8", "rate = nan"), at: Some("nan"), says: &["rate", "NaN"] },
        Case { name: "unknown_state", text: replace("to = \"salvage\"", "to = \"salvge\""), at: Some("\"salvge\""), says: &["unknown state", "`salvge`", "Did you mean `salvage`?"] },
        Case { name: "unreachable_absorbing", text: GOOD.replace("to = \"death_nrm\"", "to = \"death_relapse\"").replacen("[[transitions]]\nfrom = \"salvage\"\nto = \"death_relapse\"\nrate = 0.02\n", "", 1).replace("rate = 0.1\n\n", "rate = 0.12\n"), at: Some("\"death_nrm\""), says: &["`death_nrm`", "cannot be reached"] },
        Case { name: "zero_patients", text: replace("patients = 1000", "patients = 0"), at: Some("0\n"), says: &["patients", "between 1 and"] },
        Case { name: "negative_horizon", text: replace("horizon = \"24m\"", "horizon = \"-24m\""), at: Some("\"-24m\""), says: &["not a duration", "negative"] },
        Case { name: "no_exit", text: GOOD.replace("[[transitions]]\nfrom = \"relapse\"\nto = \"salvage\"\nrate = 0.8\n", "[[transitions]]\nfrom = \"relapse\"\nto = \"salvage\"\nrate = 0.8\n\n[[states]]\nname = \"limbo\"\n\n[[transitions]]\nfrom = \"relapse\"\nto = \"limbo\"\nrate = 0.1\n"), at: None, says: &["`limbo`", "no exits", "absorbing"] },
        Case { name: "entry_probabilities", text: replace("entry = \"relapse\"", "entry = { relapse = 0.6, salvage = 0.3 }"), at: Some("{ relapse = 0.6"), says: &["sum to 0.9", "not 1"] },
        Case { name: "wrong_type", text: replace("patients = 1000", "patients = \"many\""), at: Some("\"many\""), says: &["invalid type"] },
        Case { name: "unknown_family", text: replace("rate = 0.8", "hazard = { family = \"weibul\", shape = 1, scale = 2 }"), at: Some("\"weibul\""), says: &["unknown hazard family `weibul`", "Did you mean `weibull`?"] },
        Case { name: "shape_not_positive", text: replace("rate = 0.8", "hazard = { family = \"weibull\", shape = 0, scale = 2 }"), at: Some("0, scale"), says: &["shape", "positive"] },
        Case { name: "duplicate_state", text: replace("name = \"salvage\"", "name = \"relapse\" # again"), at: Some("\"relapse\" # again"), says: &["declared twice"] },
        Case { name: "entry_absorbing", text: replace("entry = \"relapse\"", "entry = { relapse = 0.9, death_nrm = 0.1 }"), at: Some("0.1 }"), says: &["`death_nrm`", "absorbing", "time 0"] },
        Case { name: "hsct2_absorbing", text: replace("death = \"nrm\"", "death = \"nrm\"\nhsct2 = true"), at: Some("true"), says: &["HSCT2", "absorbing"] },
        Case { name: "rule_unknown_attribute", text: replace("rate = 0.8", "rate = 0.8\nif = \"ages > 3\""), at: Some("ages"), says: &["unknown", "ages"] },
    ];
    for case in &cases {
        let path = write(
            dir.path(),
            &format!("{}.toml", case.name),
            case.text.as_bytes(),
        );
        let (code, stderr) = fails(&path);
        assert_eq!(code, 2, "{}: exit code {code}\n{stderr}", case.name);
        let shown = path.display().to_string();
        match case.at {
            Some(marker) => {
                let offset = case
                    .text
                    .find(marker)
                    .unwrap_or_else(|| panic!("{}: marker {marker:?} not in text", case.name));
                let line = case.text[..offset].matches('\n').count() + 1;
                let col = offset - case.text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
                assert!(
                    stderr.contains(&format!("{shown}:{line}:{col}:")),
                    "{}: expected {shown}:{line}:{col} ({marker:?}) in\n{stderr}",
                    case.name
                );
            }
            None => assert!(
                stderr.contains(&shown),
                "{}: file not named in\n{stderr}",
                case.name
            ),
        }
        for fragment in case.says {
            assert!(
                stderr.contains(fragment),
                "{}: expected {fragment:?} in\n{stderr}",
                case.name
            );
        }
    }
}

#[test]
fn missing_file_and_non_utf8_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.toml");
    let (code, stderr) = fails(&missing);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("nowhere.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );
    let latin1 = write(
        dir.path(),
        "latin1.toml",
        b"[scenario]\nname = \"caf\xe9\"\n",
    );
    let (code, stderr) = fails(&latin1);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("latin1.toml:2:") && stderr.contains("UTF-8"),
        "{stderr}"
    );
}

#[test]
fn the_good_fixture_is_good() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "good.toml", GOOD.as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
