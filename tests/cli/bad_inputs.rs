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
    /// Where the error must point: the first occurrence of this text in the file, or of
    /// the text with `|` removed, at the `|`.
    at: Option<&'static str>,
    /// Fragments the message must contain.
    says: &'static [&'static str],
}

fn replace(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "fixture lacks {from:?}");
    GOOD.replacen(from, to, 1)
}

/// The good fixture with more tables after it.
fn append(extra: &str) -> String {
    format!("{GOOD}\n{extra}")
}

/// The good fixture with a categorical attribute, a decision node and two strategies, for
/// the cases that need them.
fn rich() -> String {
    replace("to = \"salvage\"", "to = \"choose\"")
        + r#"
[[cohort.attributes]]
name = "disease"
levels = { AML = 0.6, ALL = 0.4 }

[[decisions]]
name = "choose"
branches = [ { to = "salvage", if = "disease == 'AML'" }, { to = "salvage" } ]

[[strategies]]
name = "standard"

[[strategies]]
name = "intensive"
transitions = [ { from = "salvage", to = "death_relapse", hr = 0.8 } ]
"#
}

fn rich_replace(from: &str, to: &str) -> String {
    let text = rich();
    assert!(text.contains(from), "rich fixture lacks {from:?}");
    text.replacen(from, to, 1)
}

/// Line and column (1-based) of a case's marker.
fn position(text: &str, marker: &str) -> Option<(usize, usize)> {
    let (prefix, suffix) = marker.split_once('|').unwrap_or(("", marker));
    let offset = text.find(&format!("{prefix}{suffix}"))? + prefix.len();
    let line = text[..offset].matches('\n').count() + 1;
    let col = text[..offset]
        .chars()
        .rev()
        .take_while(|c| *c != '\n')
        .count()
        + 1;
    Some((line, col))
}

fn cases() -> Vec<Case> {
    let too_many_states = {
        let mut text = GOOD.to_string();
        for i in 0..62 {
            text.push_str(&format!("\n[[states]]\nname = \"extra{i}\"\n"));
        }
        text
    };
    let deep_rule = format!("{}time > 1{}", "(".repeat(100), ")".repeat(100));
    vec![
        // Syntax.
        Case { name: "malformed_toml", text: replace("patients = 1000", "patients = = 1000"), at: Some("= 1000"), says: &["TOML syntax error"] },
        Case { name: "unclosed_string", text: replace("name = \"salvage\"", "name = \"salvage"), at: Some("name = \"salvage|\n"), says: &["TOML syntax error", "string"] },
        Case { name: "unclosed_table_header", text: replace("[simulation]", "[simulation"), at: Some("[simulation|\n"), says: &["TOML syntax error", "unclosed table"] },
        Case { name: "duplicate_key", text: replace("seed = 1", "seed = 1\nseed = 2"), at: Some("seed = 2"), says: &["TOML syntax error", "duplicate key"] },
        Case { name: "nul_byte", text: replace("seed = 1", "seed = 1\0"), at: Some("seed = |1\0"), says: &["TOML syntax error"] },
        Case { name: "number_overflows", text: replace("rate = 0.8", "rate = 1e999"), at: Some("1e999"), says: &["overflowed"] },
        // Wrong types.
        Case { name: "wrong_type", text: replace("patients = 1000", "patients = \"many\""), at: Some("\"many\""), says: &["invalid type", "expected a whole number"] },
        Case { name: "rate_as_text", text: replace("rate = 0.8", "rate = \"fast\""), at: Some("\"fast\""), says: &["invalid type", "expected a number", "without quotes"] },
        Case { name: "seed_fractional", text: replace("seed = 1", "seed = 1.5"), at: Some("1.5"), says: &["expected a whole number"] },
        Case { name: "horizon_boolean", text: replace("horizon = \"24m\"", "horizon = true"), at: Some("true"), says: &["invalid type", "duration"] },
        Case { name: "entry_number", text: replace("entry = \"relapse\"", "entry = 5"), at: Some("entry = |5"), says: &["`entry` must be a state name"] },
        Case { name: "landmarks_not_list", text: replace("horizon = \"24m\"", "horizon = \"24m\"\nlandmarks = \"12m\""), at: Some("landmarks = |\"12m\""), says: &["expected a list"] },
        // Unknown keys, with a suggestion.
        Case { name: "unknown_key", text: replace("patients = 1000", "patiens = 1000"), at: Some("patiens"), says: &["unknown field `patiens`", "did you mean `patients`"] },
        Case { name: "unknown_table", text: replace("[simulation]", "[simulaton]"), at: Some("simulaton"), says: &["unknown field `simulaton`", "did you mean `simulation`"] },
        Case { name: "unknown_transition_key", text: replace("rate = 0.8", "rtae = 0.8"), at: Some("rtae"), says: &["did you mean `rate`"] },
        Case { name: "unknown_hazard_key", text: replace("rate = 0.8", "hazard = { family = \"weibull\", shpe = 1, scale = 2 }"), at: Some("shpe"), says: &["did you mean `shape`"] },
        Case { name: "unknown_state_key", text: replace("name = \"salvage\"", "nmae = \"salvage\""), at: Some("nmae"), says: &["did you mean `name`"] },
        // Rates.
        Case { name: "negative_rate", text: replace("rate = 0.8", "rate = -0.8"), at: Some("-0.8"), says: &["rate", "≥ 0"] },
        Case { name: "nan_rate", text: replace("rate = 0.8", "rate = nan"), at: Some("nan"), says: &["rate", "NaN"] },
        Case { name: "infinite_rate", text: replace("rate = 0.8", "rate = inf"), at: Some("inf"), says: &["rate", "inf"] },
        Case { name: "negative_piecewise_rate", text: replace("rate = 0.8", "hazard = { family = \"piecewise\", starts = [0, 6], rates = [0.1, -0.2] }"), at: Some("[0.1, -0.2]"), says: &["rate", "≥ 0", "-0.2"] },
        Case { name: "zero_hazard_ratio", text: replace("rate = 0.8", "rate = 0.8\nhr = 0"), at: Some("hr = |0"), says: &["`hr` must be positive"] },
        Case { name: "negative_effect", text: replace("rate = 0.8", "rate = 0.8\neffects = [ { if = \"time > 1\", hr = -2 } ]"), at: Some("-2"), says: &["hazard ratio must be positive"] },
        Case { name: "gompertz_zero_rate", text: replace("rate = 0.8", "hazard = { family = \"gompertz\", shape = 0.1, rate = 0 }"), at: Some("rate = |0 }"), says: &["rate", "positive"] },
        // Shapes and scales.
        Case { name: "shape_not_positive", text: replace("rate = 0.8", "hazard = { family = \"weibull\", shape = 0, scale = 2 }"), at: Some("0, scale"), says: &["shape", "positive"] },
        Case { name: "negative_loglogistic_shape", text: replace("rate = 0.8", "hazard = { family = \"loglogistic\", shape = -1, scale = 2 }"), at: Some("-1"), says: &["shape", "positive"] },
        Case { name: "zero_sdlog", text: replace("rate = 0.8", "hazard = { family = \"lognormal\", median = \"2m\", sdlog = 0 }"), at: Some("sdlog = |0"), says: &["sdlog", "positive"] },
        Case { name: "zero_scale", text: replace("rate = 0.8", "hazard = { family = \"weibull\", shape = 1, scale = 0 }"), at: Some("scale = |0"), says: &["scale", "positive"] },
        Case { name: "uniform_backwards", text: replace("rate = 0.8", "hazard = { family = \"uniform\", min = \"6m\", max = \"2m\" }"), at: Some("\"2m\""), says: &["min < max"] },
        Case { name: "piecewise_not_from_zero", text: replace("rate = 0.8", "hazard = { family = \"piecewise\", starts = [1, 6], rates = [0.1, 0.2] }"), at: Some("[1, 6]"), says: &["start at 0"] },
        // Probabilities.
        Case { name: "entry_probabilities", text: replace("entry = \"relapse\"", "entry = { relapse = 0.6, salvage = 0.3 }"), at: Some("{ relapse = 0.6"), says: &["sum to 0.9", "not 1"] },
        Case { name: "probability_above_one", text: append("[[cohort.attributes]]\nname = \"cgvhd\"\nprobability = 1.5\n"), at: Some("1.5"), says: &["probability", "[0, 1]", "1.5"] },
        Case { name: "levels_sum_above_one", text: append("[[cohort.attributes]]\nname = \"disease\"\nlevels = { AML = 0.7, ALL = 0.4 }\n"), at: Some("{ AML"), says: &["sum to 1.1"] },
        Case { name: "negative_branch_probability", text: replace("to = \"salvage\"", "to = \"coin\"") + "\n[[decisions]]\nname = \"coin\"\nbranches = [ { to = \"salvage\", p = 1.2 }, { to = \"death_nrm\", p = -0.2 } ]\n", at: Some("1.2"), says: &["probability", "[0, 1]"] },
        Case { name: "cure_above_one", text: replace("rate = 0.8", "rate = 0.8\ncure = 1.5"), at: Some("1.5"), says: &["cure", "[0, 1)"] },
        Case { name: "discrete_probabilities", text: append("[[cohort.attributes]]\nname = \"hct_ci\"\ndistribution = \"discrete\"\nvalues = [0, 1, 2]\nprobabilities = [0.5, 0.3, 0.1]\n"), at: Some("[0.5, 0.3, 0.1]"), says: &["sum to 0.9"] },
        // Names.
        Case { name: "duplicate_state", text: replace("name = \"salvage\"", "name = \"relapse\" # again"), at: Some("\"relapse\" # again"), says: &["declared twice"] },
        Case { name: "duplicate_strategy", text: rich_replace("name = \"intensive\"", "name = \"standard\" # again"), at: Some("\"standard\" # again"), says: &["strategy `standard` is declared twice"] },
        Case { name: "duplicate_attribute", text: rich() + "\n[[cohort.attributes]]\nname = \"disease\" # again\nprobability = 0.5\n", at: Some("\"disease\" # again"), says: &["variable `disease` is declared twice"] },
        Case { name: "decision_named_like_state", text: rich_replace("name = \"choose\"", "name = \"salvage\" # a decision").replace("to = \"choose\"", "to = \"salvage\""), at: Some("\"salvage\" # a decision"), says: &["already the name of a state"] },
        Case { name: "invalid_state_name", text: replace("name = \"salvage\"", "name = \"sal vage\""), at: Some("\"sal vage\""), says: &["not a valid name"] },
        Case { name: "death_cause_typo", text: replace("death = \"nrm\"", "death = \"nmr\""), at: Some("\"nmr\""), says: &["unknown cause of death `nmr`"] },
        Case { name: "clock_typo", text: replace("rate = 0.8", "rate = 0.8\nclock = \"forwards\""), at: Some("\"forwards\""), says: &["unknown clock", "Did you mean `forward`?"] },
        Case { name: "reserved_variable_name", text: append("[[cohort.attributes]]\nname = \"time\"\nprobability = 0.5\n"), at: Some("\"time\""), says: &["reserved"] },
        // References to things that do not exist.
        Case { name: "unknown_state", text: replace("to = \"salvage\"", "to = \"salvge\""), at: Some("\"salvge\""), says: &["unknown state", "`salvge`", "Did you mean `salvage`?"] },
        Case { name: "transition_from_unknown", text: replace("from = \"relapse\"", "from = \"relaps\""), at: Some("\"relaps\""), says: &["`relaps`", "Did you mean `relapse`?"] },
        Case { name: "branch_to_unknown", text: rich_replace("{ to = \"salvage\" } ]", "{ to = \"salvag\" } ]"), at: Some("\"salvag\""), says: &["`salvag`", "Did you mean `salvage`?"] },
        Case { name: "background_to_living_state", text: append("[[cohort.attributes]]\nname = \"age\"\ndistribution = \"fixed\"\nvalue = 50\n\n[background_mortality]\nto = \"salvage\" # alive\nages = [0]\nannual_probability = [0.01]\n"), at: Some("\"salvage\" # alive"), says: &["must lead to a death state"] },
        Case { name: "unknown_reference_strategy", text: rich_replace("horizon = \"24m\"", "horizon = \"24m\"\nreference = \"standrd\""), at: Some("\"standrd\""), says: &["unknown strategy `standrd`", "Did you mean `standard`?"] },
        Case { name: "strategy_replaces_unknown_decision", text: rich_replace("name = \"standard\"", "name = \"standard\"\ndecisions = { chose = [ { to = \"salvage\" } ] }"), at: Some("chose = |["), says: &["unknown decision `chose`", "Did you mean `choose`?"] },
        Case { name: "strategy_sets_attribute", text: rich_replace("name = \"standard\"", "name = \"standard\"\nset = { disease = \"ALL\" }"), at: Some("\"ALL\" }"), says: &["patient attribute"] },
        // Structure: reachability, exits, loops.
        Case { name: "unreachable_absorbing", text: GOOD.replace("to = \"death_nrm\"", "to = \"death_relapse\"").replacen("[[transitions]]\nfrom = \"salvage\"\nto = \"death_relapse\"\nrate = 0.02\n", "", 1).replace("rate = 0.1\n\n", "rate = 0.12\n"), at: Some("\"death_nrm\""), says: &["`death_nrm`", "cannot be reached"] },
        Case { name: "unreachable_state", text: append("[[states]]\nname = \"limbo\"\n\n[[transitions]]\nfrom = \"limbo\"\nto = \"death_nrm\"\nrate = 0.1\n"), at: Some("\"limbo\""), says: &["`limbo`", "cannot be reached"] },
        Case { name: "no_exit", text: GOOD.replace("[[transitions]]\nfrom = \"relapse\"\nto = \"salvage\"\nrate = 0.8\n", "[[transitions]]\nfrom = \"relapse\"\nto = \"salvage\"\nrate = 0.8\n\n[[states]]\nname = \"limbo\"\n\n[[transitions]]\nfrom = \"relapse\"\nto = \"limbo\"\nrate = 0.1\n"), at: None, says: &["`limbo`", "no exits", "absorbing"] },
        Case { name: "loop_without_end", text: replace("to = \"death_relapse\"\nrate = 0.1", "to = \"relapse\"\nrate = 0.1").replacen("[[transitions]]\nfrom = \"salvage\"\nto = \"death_nrm\"\nrate = 0.02\n", "", 1), at: Some("[[states]]"), says: &["can never reach an absorbing state"] },
        Case { name: "instant_loop", text: replace("rate = 0.8", "after = 0") + "\n[[transitions]]\nfrom = \"salvage\"\nto = \"relapse\"\nafter = \"0d\"\n", at: Some("after = |0"), says: &["relapse → salvage → relapse", "loop that takes no time"] },
        Case { name: "instant_loop_at_a_landmark", text: replace("rate = 0.8", "at = \"12m\"") + "\n[[transitions]]\nfrom = \"salvage\"\nto = \"relapse\"\nat = 12\n", at: Some("at = |\"12m\""), says: &["loop that takes no time"] },
        Case { name: "decision_loop", text: replace("to = \"salvage\"", "to = \"a\"") + "\n[[decisions]]\nname = \"a\"\nbranches = [ { to = \"b\" } ]\n\n[[decisions]]\nname = \"b\"\nbranches = [ { to = \"a\" } ]\n", at: Some("[[decisions]]"), says: &["a → b → a", "loop that takes no time"] },
        Case { name: "transition_from_absorbing", text: append("[[transitions]]\nfrom = \"death_nrm\" # dead\nto = \"salvage\"\nrate = 0.1\n"), at: Some("\"death_nrm\" # dead"), says: &["absorbing", "cannot have exits"] },
        Case { name: "transition_twice", text: append("[[transitions]]\nfrom = \"salvage\" # again\nto = \"death_nrm\"\nrate = 0.05\n"), at: Some("[[transitions]]\nfrom = \"salvage\" # again"), says: &["declared twice"] },
        Case { name: "enabled_in_base", text: replace("rate = 0.8", "rate = 0.8\nenabled = false"), at: Some("false"), says: &["`enabled` belongs in a strategy"] },
        Case { name: "too_many_states", text: too_many_states, at: None, says: &["66 states", "at most 64"] },
        Case { name: "else_branch_not_last", text: rich_replace("[ { to = \"salvage\", if = \"disease == 'AML'\" }, { to = \"salvage\" } ]", "[ { to = \"salvage\" }, { to = \"death_nrm\", if = \"disease == 'AML'\" } ]"), at: Some("{ to = \"salvage\" }, { to = \"death_nrm\""), says: &["no `if`", "can never be taken"] },
        Case { name: "mixed_branches", text: rich_replace("{ to = \"salvage\" } ]", "{ to = \"salvage\", p = 0.5 } ]"), at: Some("{ to = \"salvage\", if"), says: &["mixes probabilities and rules"] },
        // Rules.
        Case { name: "rule_unknown_attribute", text: replace("rate = 0.8", "rate = 0.8\nif = \"ages > 3\""), at: Some("ages"), says: &["unknown", "ages"] },
        Case { name: "rule_syntax", text: replace("rate = 0.8", "rate = 0.8\nif = \"time >\""), at: None, says: &["in rule `time >`"] },
        Case { name: "rule_unknown_level", text: rich_replace("disease == 'AML'", "disease == 'AMX'"), at: Some("'AMX'"), says: &["AMX", "AML"] },
        Case { name: "rule_unknown_state", text: replace("rate = 0.8", "rate = 0.8\nif = \"visited('salvge')\""), at: Some("'salvge'"), says: &["salvge", "salvage"] },
        Case { name: "rule_type_mismatch", text: replace("rate = 0.8", "rate = 0.8\nif = \"time == 'AML'\""), at: Some("'AML'"), says: &["quoted", "number"] },
        Case { name: "rule_nested_too_deeply", text: replace("rate = 0.8", &format!("rate = 0.8\nif = \"{deep_rule}\"")), at: None, says: &["nested too deeply"] },
        // Settings.
        Case { name: "negative_horizon", text: replace("horizon = \"24m\"", "horizon = \"-24m\""), at: Some("\"-24m\""), says: &["not a duration", "negative"] },
        Case { name: "horizon_beyond_any_life", text: replace("horizon = \"24m\"", "horizon = 1_000_000"), at: Some("horizon = |1_000_000"), says: &["`horizon` is 1000000 months", "the limit is 12000 months", "give a unit"] },
        Case { name: "zero_horizon", text: replace("horizon = \"24m\"", "horizon = 0"), at: Some("horizon = |0"), says: &["`horizon` must be a positive duration"] },
        Case { name: "grid_finer_than_allowed", text: replace("horizon = \"24m\"", "horizon = \"100y\"\ngrid = \"0.01d\""), at: Some("\"0.01d\""), says: &["grid would have", "points"] },
        Case { name: "grid_not_dividing_horizon", text: replace("horizon = \"24m\"", "horizon = \"24m\"\ngrid = \"7m\""), at: Some("\"7m\""), says: &["not a whole number of grid steps"] },
        Case { name: "grid_longer_than_horizon", text: replace("horizon = \"24m\"", "horizon = \"24m\"\ngrid = \"5y\""), at: Some("\"5y\""), says: &["not a whole number of grid steps"] },
        Case { name: "zero_grid", text: replace("horizon = \"24m\"", "horizon = \"24m\"\ngrid = 0"), at: Some("grid = |0"), says: &["`grid` must be a positive duration"] },
        Case { name: "landmark_beyond_horizon", text: replace("horizon = \"24m\"", "horizon = \"24m\"\nlandmarks = [\"36m\"]"), at: Some("\"36m\""), says: &["landmark 36 months"] },
        Case { name: "zero_patients", text: replace("patients = 1000", "patients = 0"), at: Some("0\n"), says: &["patients", "between 1 and"] },
        Case { name: "negative_patients", text: replace("patients = 1000", "patients = -5"), at: Some("-5"), says: &["patients", "between 1 and"] },
        Case { name: "absurd_patients", text: replace("patients = 1000", "patients = 10_000_000_000_000"), at: Some("10_000"), says: &["patients", "between 1 and"] },
        Case { name: "negative_threads", text: replace("seed = 1", "seed = 1\nthreads = -1"), at: Some("-1"), says: &["threads"] },
        Case { name: "zero_max_events", text: replace("seed = 1", "seed = 1\nmax_events = 0"), at: Some("max_events = |0"), says: &["max_events"] },
        Case { name: "negative_seed", text: replace("seed = 1", "seed = -1"), at: Some("-1"), says: &["seed", "≥ 0"] },
        // Empty and nearly empty files.
        Case { name: "empty_file", text: String::new(), at: Some(""), says: &["no states", "add [[states]]"] },
        Case { name: "only_comments", text: "# a scenario, some day\n".into(), at: Some(""), says: &["no states", "model = "] },
        Case { name: "no_states", text: "states = []\n[cohort]\nentry = \"x\"\n".into(), at: Some("[]"), says: &["no states"] },
    ]
}

#[test]
fn each_bad_input_is_named_located_and_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&format!("{} malformed scenarios", cases.len())),
        "the README must say how many malformed scenarios are tested ({})",
        cases.len()
    );
    let mut names = std::collections::HashSet::new();
    let mut problems = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name), "two cases named {}", case.name);
        let path = write(
            dir.path(),
            &format!("{}.toml", case.name),
            case.text.as_bytes(),
        );
        let (code, stderr) = fails(&path);
        let mut problem = |what: String| problems.push(format!("{}: {what}\n{stderr}", case.name));
        if code != 2 {
            problem(format!("exit code {code}, not 2"));
        }
        let shown = path.display().to_string();
        match case.at {
            Some(marker) => match position(&case.text, marker) {
                Some((line, col)) if !stderr.contains(&format!("{shown}:{line}:{col}:")) => {
                    problem(format!("expected {shown}:{line}:{col} ({marker:?})"));
                }
                Some(_) => {}
                None => problem(format!("marker {marker:?} not in the text")),
            },
            None if !stderr.contains(&shown) => problem("the file is not named".into()),
            None => {}
        }
        if !stderr.contains("help:") {
            problem("no hint on how to fix it".into());
        }
        for fragment in case.says {
            if !stderr.contains(fragment) {
                problem(format!("expected {fragment:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases failed:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

#[test]
fn missing_file_and_non_utf8_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.toml");
    let (code, stderr) = fails(&missing);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("nowhere.toml")
            && stderr.contains("no such file")
            && stderr.contains("help:"),
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
        stderr.contains("latin1.toml:2:") && stderr.contains("UTF-8") && stderr.contains("help:"),
        "{stderr}"
    );
}

/// A bad command line or environment: the arguments (`{scenario}`, `{good}`, `{dir}`
/// replaced), the exit code, and what the message must say.
struct CommandCase {
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
    says: &'static [&'static str],
}

/// Runs `hsctsim` with arguments; returns (exit code, stderr); never a panic.
fn hsctsim(args: &[String]) -> (i32, String) {
    let (code, _, stderr) = crate::common::hsctsim(args);
    (code, stderr)
}

#[test]
fn each_bad_command_line_is_rejected_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = write(dir, "good.toml", GOOD.as_bytes());
    write(dir, "a_file", b"not a folder");
    write(dir, "existing.csv", b"precious");
    std::fs::create_dir(dir.join("a_folder")).unwrap();
    // A model that passes validation but loops at run time: the loop's moves are
    // conditional, so only the bound on events per patient can tell.
    let loops = replace("rate = 0.8", "after = 0\nif = \"time >= 0\"")
        + "\n[[transitions]]\nfrom = \"salvage\"\nto = \"relapse\"\nafter = 0\nif = \"time >= 0\"\n";
    write(dir, "loops.toml", loops.as_bytes());
    let cases = [
        CommandCase {
            name: "scenario_is_a_folder",
            args: &["validate", "{dir}/a_folder"],
            code: 2,
            says: &["is a folder", "help:"],
        },
        CommandCase {
            name: "zero_patients",
            args: &["run", "{good}", "--patients", "0", "--out", "{dir}/out"],
            code: 2,
            says: &["number of patients must be between 1"],
        },
        CommandCase {
            name: "negative_patients",
            args: &["run", "{good}", "--patients", "-5", "--out", "{dir}/out"],
            code: 2,
            says: &["-5"],
        },
        CommandCase {
            name: "absurd_threads",
            args: &["run", "{good}", "--threads", "99999", "--out", "{dir}/out"],
            code: 2,
            says: &[
                "--threads",
                "threads must be between 0 (all cores) and 4096",
            ],
        },
        CommandCase {
            name: "shard_out_of_range",
            args: &["run", "{good}", "--shard", "4/4", "--out", "{dir}/out"],
            code: 2,
            says: &["numbered from 0 to 3"],
        },
        CommandCase {
            name: "shard_not_a_fraction",
            args: &["run", "{good}", "--shard", "half", "--out", "{dir}/out"],
            code: 2,
            says: &["--shard half"],
        },
        CommandCase {
            name: "unknown_flag",
            args: &["run", "{good}", "--patinets", "5"],
            code: 2,
            says: &["--patients"],
        },
        CommandCase {
            name: "output_under_a_file",
            args: &["run", "{good}", "--out", "{dir}/a_file/out", "--quiet"],
            code: 2,
            says: &["a_file is a file, not a folder"],
        },
        CommandCase {
            name: "output_exists",
            args: &["run", "{good}", "--out", "{dir}/a_folder", "--quiet"],
            code: 2,
            says: &["already exists", "--force"],
        },
        CommandCase {
            name: "export_under_a_file",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{dir}/a_file/p.csv",
                "--quiet",
            ],
            code: 2,
            says: &["a_file is a file, not a folder"],
        },
        CommandCase {
            name: "export_is_a_folder",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{dir}/a_folder",
                "--quiet",
            ],
            code: 2,
            says: &["is a folder"],
        },
        CommandCase {
            name: "export_exists",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{dir}/existing.csv",
                "--quiet",
            ],
            code: 2,
            says: &["already exists", "--force"],
        },
        CommandCase {
            name: "export_over_the_scenario",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{good}",
                "--force",
                "--quiet",
            ],
            code: 2,
            says: &["the scenario file itself"],
        },
        CommandCase {
            name: "negative_accrual",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{dir}/p.csv",
                "--accrual=-3m",
            ],
            code: 2,
            says: &["--accrual", "negative"],
        },
        CommandCase {
            name: "accrual_not_a_duration",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{dir}/p.csv",
                "--accrual",
                "soon",
            ],
            code: 2,
            says: &["--accrual", "not a duration"],
        },
        CommandCase {
            name: "accrual_without_export",
            args: &["run", "{good}", "--out", "{dir}/out", "--accrual", "3y"],
            code: 2,
            says: &["--export-patients"],
        },
        CommandCase {
            name: "censoring_everybody_at_entry",
            args: &[
                "run",
                "{good}",
                "--out",
                "{dir}/out",
                "--export-patients",
                "{dir}/p.csv",
                "--min-follow-up",
                "0",
            ],
            code: 2,
            says: &["both 0"],
        },
        CommandCase {
            name: "loop_found_at_run_time",
            args: &["run", "{dir}/loops.toml", "--out", "{dir}/out", "--quiet"],
            code: 1,
            says: &["loop without end", "max_events", "relapse → salvage"],
        },
    ];
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&format!("{} bad\ncommand lines", cases.len()))
            || readme.contains(&format!("{} bad command lines", cases.len())),
        "the README must say how many bad command lines are tested ({})",
        cases.len()
    );
    let mut problems = Vec::new();
    for case in &cases {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                a.replace("{good}", good.to_str().unwrap())
                    .replace("{dir}", dir.to_str().unwrap())
            })
            .collect();
        let (code, stderr) = hsctsim(&args);
        if code != case.code {
            problems.push(format!(
                "{}: exit code {code}, not {}\n{stderr}",
                case.name, case.code
            ));
        }
        for fragment in case.says {
            if !stderr.contains(fragment) {
                problems.push(format!("{}: expected {fragment:?} in\n{stderr}", case.name));
            }
        }
        for leftover in ["out", "p.csv"] {
            if dir.join(leftover).exists() {
                problems.push(format!("{}: left {leftover} behind", case.name));
            }
        }
        let hidden: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        if !hidden.is_empty() {
            problems.push(format!("{}: left temporary files {hidden:?}", case.name));
        }
    }
    assert_eq!(
        std::fs::read(dir.join("existing.csv")).unwrap(),
        b"precious"
    );
    assert_eq!(std::fs::read(&good).unwrap(), GOOD.as_bytes());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn huge_and_hostile_files_get_short_safe_messages() {
    let dir = tempfile::tempdir().unwrap();
    // Over the size limit: refused before reading (a sparse file, so it costs no disk).
    let big = dir.path().join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    let (code, stderr) = fails(&big);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("limited to") && stderr.contains("help:"),
        "{stderr}"
    );
    // A megabyte-long line with an error: the message shows a window around it.
    let long = format!(
        "[scenario]\ndescription = \"{}\" oops\n",
        "x".repeat(1 << 20)
    );
    let (code, stderr) = fails(&write(dir.path(), "long.toml", long.as_bytes()));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("long.toml:2:") && stderr.contains('…'),
        "{stderr}"
    );
    assert!(stderr.len() < 2000, "{} bytes of message", stderr.len());
    // Nesting deeper than the parser goes: an error, not a stack overflow.
    let deep = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let (code, stderr) = fails(&write(dir.path(), "deep.toml", deep.as_bytes()));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("deep.toml:1:") && stderr.contains("recurs"),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(stderr.len() < 2000, "{} bytes of message", stderr.len());
    // Terminal escape sequences, raw in the file (a syntax error) or written as TOML
    // escapes (a name that reaches our own messages): shown, but defused.
    for (file, name, says) in [
        (
            "raw_escape.toml",
            "sal\u{1b}[2J\u{1b}]0;pwned\u{7}vage",
            "TOML syntax error",
        ),
        (
            "toml_escape.toml",
            "sal\\u001b[2J\\u001b]0;pwned\\u0007vage",
            "not a valid name",
        ),
    ] {
        let hostile = replace("name = \"salvage\"", &format!("name = \"{name}\""));
        let (code, stderr) = fails(&write(dir.path(), file, hostile.as_bytes()));
        assert_eq!(code, 2);
        assert!(
            !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
            "{stderr:?}"
        );
        assert!(stderr.contains(says), "{stderr}");
    }
    // A 200-kilobyte state name that is almost right: no quadratic "did you mean" search.
    let name = "s".repeat(200_000);
    let slow = replace("name = \"salvage\"", &format!("name = \"{name}\""))
        .replace("to = \"salvage\"", &format!("to = \"{name}x\""));
    let started = std::time::Instant::now();
    let (code, stderr) = fails(&write(dir.path(), "long_names.toml", slow.as_bytes()));
    assert_eq!(code, 2);
    assert!(stderr.len() < 3000, "{} bytes of message", stderr.len());
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
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

/// Issue 13, item 3 and its siblings: a number meeting a time it cannot be compared with,
/// in every place where rules or numbers meet variables; and (item 14) distributions whose
/// parameters are so extreme that a draw or a message would be false. Each is refused before
/// anything is simulated (exit 2, located, with the fix), and nothing is written.
#[test]
fn unit_mismatches_and_extreme_distributions_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let age =
        "[[cohort.attributes]]\nname = \"age\"\ndistribution = \"normal\"\nmean = 50\nsd = 10\n";
    let with_age =
        |rule: &str| append(age).replacen("rate = 0.8", &format!("rate = 0.8\nif = \"{rule}\""), 1);
    let attribute =
        |lines: &str| append(&format!("[[cohort.attributes]]\nname = \"x\"\n{lines}\n"));
    let hazard = |h: &str| replace("rate = 0.8", &format!("hazard = {{ {h} }}"));
    let wait = "[[variables]]\nname = \"wait\"\ntype = \"number\"\ndefault = 2\n\n[[strategies]]\nname = \"later\"\nset = { wait = \"3m\" }\n";
    let economics = "[economics]\ndiscount_costs = 0.03\ndiscount_effects = 0.03\nstates = [ { state = \"salvage\", cost = 100, if = \"age > 65y\" } ]\n";
    #[rustfmt::skip]
    let cases = vec![
        // The reproduction: an age without a declared unit against a duration.
        Case { name: "age_against_years", text: with_age("age < 65y"), at: Some("age < |65y"), says: &["`age` is a number without a unit but `65y` is a duration (780 months)", "unit = \"years\" on the attribute `age`", "write `age < 65`"] },
        Case { name: "score_against_months", text: append("[[cohort.attributes]]\nname = \"hct_ci\"\ndistribution = \"discrete\"\nvalues = [0, 1, 2]\nprobabilities = [0.5, 0.3, 0.2]\n").replacen("rate = 0.8", "rate = 0.8\nif = \"hct_ci >= 6m\"", 1), at: Some("hct_ci >= |6m"), says: &["`hct_ci` is a number without a unit", "write `hct_ci >= 6`"] },
        Case { name: "age_in_a_list_of_years", text: with_age("age in [65y, 70y]"), at: Some("[|65y"), says: &["`65y` is a duration", "write `age in [65, 70y]`"] },
        Case { name: "score_plus_time", text: with_age("age + time > 3"), at: Some("|age + time"), says: &["cannot be added", "unit = \"months\" on the attribute `age`"] },
        Case { name: "bare_number_beside_a_duration", text: with_age("time > 2y + 6"), at: Some("2y + |6"), says: &["`6` has no unit", "`6m` or `6y`"] },
        Case { name: "product_of_two_times", text: with_age("time * time > 1"), at: Some("|time * time"), says: &["multiplies two times"] },
        Case { name: "economics_condition_in_years", text: append(age) + "\n" + economics, at: Some("age > |65y"), says: &["`age` is a number without a unit", "write `age > 65`"] },
        // Per-unit effects must say what unit their hazard ratio is per.
        Case { name: "per_time_without_unit", text: replace("rate = 0.8", "rate = 0.8\neffects = [ { per = \"time_since('relapse')\", hr = 1.1 } ]"), at: Some("\"time_since('relapse')\""), says: &["is a time in months", "per day, per month or per year", "unit = \"months\""] },
        Case { name: "per_unit_on_a_score", text: append(age).replacen("rate = 0.8", "rate = 0.8\neffects = [ { per = \"age\", unit = \"years\", hr = 1.1 } ]", 1), at: Some("unit = |\"years\""), says: &["per year", "`age` is a number without a unit", "declare it: unit = \"years\" on the attribute `age`"] },
        Case { name: "unit_on_a_condition_effect", text: replace("rate = 0.8", "rate = 0.8\neffects = [ { if = \"time > 1\", unit = \"years\", hr = 1.1 } ]"), at: Some("unit = |\"years\""), says: &["goes with `per`"] },
        Case { name: "per_reference_nan", text: replace("rate = 0.8", "rate = 0.8\neffects = [ { per = \"time_since('relapse')\", unit = \"months\", reference = nan, hr = 1.1 } ]"), at: Some("reference = |nan"), says: &["`reference` must be a finite number, got NaN"] },
        // Declarations.
        Case { name: "unknown_unit", text: attribute("distribution = \"normal\"\nunit = \"yeras\"\nmean = 50\nsd = 10"), at: Some("\"yeras\""), says: &["unknown unit `yeras`", "Did you mean `years`?"] },
        Case { name: "unit_on_a_category", text: append("[[cohort.attributes]]\nname = \"disease\"\nlevels = { AML = 1.0 }\nunit = \"years\"\n"), at: Some("unit = |\"years\""), says: &["categorical, not a number", "remove `unit`"] },
        Case { name: "duration_in_a_unitless_attribute", text: attribute("distribution = \"normal\"\nunit = \"none\"\nmean = \"5m\"\nsd = 1"), at: Some("mean = |\"5m\""), says: &["is a duration", "declared without a unit"] },
        Case { name: "duration_set_on_a_unitless_variable", text: append(wait), at: Some("wait = |\"3m\""), says: &["\"3m\" is a duration", "`wait` is a number without a unit", "unit = \"months\""] },
        Case { name: "background_age_in_months", text: append("[[cohort.attributes]]\nname = \"age\"\ndistribution = \"fixed\"\nunit = \"months\"\nvalue = 600\n\n[background_mortality]\nto = \"death_nrm\"\nage = \"age\"\nages = [0]\nannual_probability = [0.01]\n"), at: Some("age = |\"age\""), says: &["`age` is in months", "reads age in years"] },
        Case { name: "background_negative_annual_rate", text: append("[[cohort.attributes]]\nname = \"age\"\ndistribution = \"fixed\"\nvalue = 50\n\n[background_mortality]\nto = \"death_nrm\"\nages = [0]\nannual_rate = [-0.1]\n"), at: Some("[|-0.1]"), says: &["annual death rate must be finite and ≥ 0, got -0.1"] },
        Case { name: "number_variable_nan", text: append("[[variables]]\nname = \"wait\"\ntype = \"number\"\ndefault = nan\n"), at: Some("default = |nan"), says: &["`wait` must be a finite number, got NaN"] },
        // Cohort distributions whose draws or messages would be false.
        Case { name: "gamma_sd_tiny", text: attribute("distribution = \"gamma\"\nmean = 50\nsd = 1e-200"), at: Some("sd = |1e-200"), says: &["sd 1e-200 is below 1e-5 of the mean 50", "(mean/sd)² is above 1e308", "distribution = \"fixed\""] },
        Case { name: "gamma_sd_tiny_but_finite_shape", text: attribute("distribution = \"gamma\"\nmean = 50\nsd = 1e-150"), at: Some("sd = |1e-150"), says: &["(mean/sd)² = 2.5e303"] },
        // On main this one made `validate` run for minutes (statrs' incomplete gamma at shape 1e20).
        Case { name: "gamma_narrow_truncated_at_its_mean", text: attribute("distribution = \"gamma\"\nmean = 50\nsd = 5e-9\nmin = 50\nmax = 50.1"), at: Some("sd = |5e-9"), says: &["(mean/sd)² = 1e20", "is above 1e10"] },
        Case { name: "gamma_sd_huge", text: attribute("distribution = \"gamma\"\nmean = 50\nsd = 1e200"), at: Some("sd = |1e200"), says: &["round to 0", "lognormal"] },
        Case { name: "normal_sd_overflowing", text: attribute("distribution = \"normal\"\nmean = 50\nsd = 1e308"), at: Some("sd = |1e308"), says: &["largest there are"] },
        Case { name: "lognormal_overflowing", text: attribute("distribution = \"lognormal\"\nmedian = 8\nsdlog = 60"), at: Some("sdlog = |60"), says: &["above 1.8e308"] },
        Case { name: "lognormal_infinite_sdlog", text: attribute("distribution = \"lognormal\"\nmeanlog = 1\nsdlog = inf"), at: Some("sdlog = |inf"), says: &["`sdlog` must be a positive finite number, got inf"] },
        Case { name: "lognormal_infinite_meanlog", text: attribute("distribution = \"lognormal\"\nmeanlog = inf\nsdlog = 1"), at: Some("meanlog = |inf"), says: &["`meanlog` must be a finite number"] },
        Case { name: "uniform_wider_than_numbers", text: attribute("distribution = \"uniform\"\nmin = -1e308\nmax = 1e308"), at: Some("max = |1e308"), says: &["wider than"] },
        Case { name: "discrete_infinite_value", text: attribute("distribution = \"discrete\"\nvalues = [1, inf]\nprobabilities = [0.5, 0.5]"), at: Some("[1, |inf]"), says: &["finite number, got inf"] },
        Case { name: "truncation_bound_nan", text: attribute("distribution = \"normal\"\nmean = 0\nsd = 1\nmin = nan"), at: Some("min = |nan"), says: &["`min` must be a number, got NaN"] },
        Case { name: "truncation_in_the_far_tail", text: attribute("distribution = \"normal\"\nmean = 0\nsd = 1\nmin = 10"), at: Some("min = |10"), says: &["the range [10, inf] has probability 7.62e-24"] },
        // Hazards given by a median or mean that is not a positive duration.
        Case { name: "exponential_median_zero", text: hazard("family = \"exponential\", median = 0"), at: Some("median = |0"), says: &["`median` is 0 months", "not a positive duration"] },
        Case { name: "exponential_mean_denormal", text: hazard("family = \"exponential\", mean = 1e-320"), at: Some("mean = |1e-320"), says: &["rate per month is beyond the largest number"] },
        Case { name: "lognormal_hazard_median_negative", text: hazard("family = \"lognormal\", median = -2, sdlog = 1"), at: Some("median = |-2"), says: &["`median` is -2 months"] },
        Case { name: "uniform_hazard_negative_min", text: hazard("family = \"uniform\", min = -1, max = 3"), at: Some("min = |-1"), says: &["need 0 ≤ min < max"] },
    ];
    let mut problems = Vec::new();
    for case in &cases {
        let path = write(
            dir.path(),
            &format!("{}.toml", case.name),
            case.text.as_bytes(),
        );
        let started = std::time::Instant::now();
        let (code, stderr) = fails(&path);
        let mut problem = |what: String| problems.push(format!("{}: {what}\n{stderr}", case.name));
        if code != 2 {
            problem(format!("exit code {code}, not 2"));
        }
        if started.elapsed().as_secs() > 10 {
            problem(format!("took {:?}", started.elapsed()));
        }
        let shown = path.display().to_string();
        if let Some(marker) = case.at {
            match position(&case.text, marker) {
                Some((line, col)) if !stderr.contains(&format!("{shown}:{line}:{col}:")) => {
                    problem(format!("expected {shown}:{line}:{col} ({marker:?})"));
                }
                Some(_) => {}
                None => problem(format!("marker {marker:?} not in the text")),
            }
        }
        if !stderr.contains("help:") {
            problem("no hint on how to fix it".into());
        }
        for fragment in case.says {
            if !stderr.contains(fragment) {
                problem(format!("expected {fragment:?}"));
            }
        }
        if stderr.contains("[-inf, inf]") {
            problem("claims something of the whole range".into());
        }
        // Nothing is written: the output folder is never created.
        let out = dir.path().join(format!("{}_out", case.name));
        let run = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        if run.status.code() != Some(2) || out.exists() {
            problem(format!(
                "run with --out: exit {:?}, output exists: {}",
                run.status.code(),
                out.exists()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases failed:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

/// The shipped model declares its age in years: the issue's `age < 65y` is then converted
/// (it means 65 years), and a `per = "age"` effect says its hazard ratio is per year.
#[test]
fn a_declared_unit_makes_the_reproduction_mean_what_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = "[scenario]\nmodel = \"hsct-review\"\n\n[[strategies]]\nname = \"under_65\"\ndecisions.relapse_plan = [ { to = \"salvage\", if = \"age < 65y\" }, { to = \"palliative\" } ]\n";
    let path = write(dir.path(), "under_65.toml", scenario.as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same effect without its unit is refused, with the unit to add.
    let no_unit = "[scenario]\nmodel = \"hsct-review\"\n\n[[transitions]]\nfrom = \"hsct2\"\nto = \"death_nrm\"\neffects = [ { per = \"age\", reference = 50, hr = 1.02 } ]\n";
    let path = write(dir.path(), "no_unit.toml", no_unit.as_bytes());
    let (code, stderr) = fails(&path);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`age` is a time in years")
            && stderr.contains("unit = \"years\" for a hazard ratio per year")
            && stderr.contains("no_unit.toml:7:"),
        "{stderr}"
    );
}

// ---- files that files name: `extends` (issue 13, item 14) ----

/// Runs `validate` and `run --out` (a fresh folder) on `path`, each with a deadline (a named
/// pipe must not make either wait): both must refuse with exit 2 and write nothing. Returns
/// the message of `run`.
fn refused_by_both(path: &Path, out: &Path) -> String {
    let mut message = String::new();
    for args in [
        vec!["validate", path.to_str().unwrap()],
        vec![
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-figures",
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("{args:?} did not finish in 30 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        if std::env::var("SHOW_ERRORS").is_ok() {
            eprintln!("--- {args:?}\n{stderr}");
        }
        assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
        assert_eq!(status.code(), Some(2), "{args:?}:\n{stderr}");
        assert!(
            stderr.contains("help:"),
            "{args:?}: no fix given:\n{stderr}"
        );
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
        message = stderr;
    }
    message
}

/// A scenario that extends `named`, written as `top.toml` in `dir` (`extends` at 2:11).
fn extending(dir: &Path, named: &str) -> PathBuf {
    let text = format!("[scenario]\nextends = {named:?}\nname = \"top\"\n");
    write(dir, "top.toml", text.as_bytes())
}

#[test]
fn extends_reads_only_regular_toml_scenarios_and_never_quotes_a_foreign_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = dir.join("out");
    const SECRET: &str = "s3cr3t-v4lue";
    write(
        dir,
        "credentials.toml",
        format!("[registry]\ntoken = \"{SECRET}\"\n").as_bytes(),
    );
    write(
        dir,
        "broken.toml",
        format!("[scenario]\nname = \"x\"\ntoken = {SECRET}\n").as_bytes(),
    );
    std::fs::create_dir(dir.join("folder.toml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.toml")).unwrap();
    std::os::unix::fs::symlink("nowhere.toml", dir.join("dangling.toml")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(dir.join("pipe.toml"))
        .status()
        .is_ok_and(|s| s.success());
    let mut cases: Vec<(&str, Vec<String>)> = vec![
        (
            "/etc/passwd",
            vec!["`/etc/passwd` is not a .toml file".into()],
        ),
        (
            "passwd.toml",
            vec!["is a symbolic link to `/etc/passwd`, which is not a .toml file".into()],
        ),
        (
            "credentials.toml",
            vec![
                "credentials.toml: is not a scenario file".into(),
                "from ".to_string() + dir.join("top.toml").to_str().unwrap() + ":2:11",
            ],
        ),
        (
            "broken.toml",
            vec![
                "broken.toml:3:".into(),
                "is not valid TOML".into(),
                "from ".to_string() + dir.join("top.toml").to_str().unwrap() + ":2:11",
            ],
        ),
        (
            "folder.toml",
            vec!["folder.toml` is a folder, not a file".into()],
        ),
        (
            "/dev/null",
            vec!["`/dev/null` is a device, not a file".into()],
        ),
        ("missing.toml", vec!["missing.toml`: no such file".into()]),
        (
            "dangling.toml",
            vec!["is a symbolic link to `nowhere.toml`, which does not exist".into()],
        ),
        ("", vec!["names no file".into()]),
    ];
    if fifo {
        cases.push((
            "pipe.toml",
            vec!["is a named pipe (FIFO), not a file".into()],
        ));
    } else {
        eprintln!("mkfifo is not available: the named-pipe case is skipped");
    }
    for (named, says) in cases {
        let top = extending(dir, named);
        let message = refused_by_both(&top, &out);
        for s in &says {
            assert!(
                message.contains(s.as_str()),
                "extends = {named:?}: expected {s:?} in:\n{message}"
            );
        }
        // Refusals of the file itself are located at the `extends` line of the scenario.
        if !message.contains(" is not valid TOML") && !message.contains("is not a scenario file") {
            assert!(message.contains("top.toml:2:11:"), "{named:?}:\n{message}");
        }
        for foreign in ["root:", SECRET] {
            assert!(
                !message.contains(foreign),
                "extends = {named:?} quoted the file:\n{message}"
            );
        }
    }
}

#[test]
fn a_named_scenario_is_quoted_with_the_chain_that_led_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let models = dir.join("models");
    std::fs::create_dir(&models).unwrap();
    // A scenario file (recognisably one) with a mistake: its line is shown, with the chain.
    let bad = GOOD.replace("rate = 0.8", "rate = -0.8");
    write(&models, "base.toml", bad.as_bytes());
    write(
        &models,
        "mid.toml",
        b"[scenario]\nextends = \"base.toml\"\n[simulation]\nseed = 2\n",
    );
    let sub = dir.join("questions");
    std::fs::create_dir(&sub).unwrap();
    let top = write(
        &sub,
        "q.toml",
        b"[scenario]\nextends = \"../models/mid.toml\"\n",
    );
    let message = refused_by_both(&top, &dir.join("out"));
    let (line, col) = position(&bad, "-0.8").unwrap();
    for s in [
        format!("base.toml:{line}:{col}: "),
        "rate = -0.8".into(),
        format!(
            "from {}:2:11 (extends = \"base.toml\")",
            sub.join("../models/mid.toml").display()
        ),
        format!(
            "from {}:2:11 (extends = \"../models/mid.toml\")",
            top.display()
        ),
    ] {
        assert!(message.contains(&s), "expected {s:?} in:\n{message}");
    }
    // Fixed, the same chain (with `..`, and an absolute path) composes and runs.
    write(&models, "base.toml", GOOD.as_bytes());
    let absolute = write(
        dir,
        "absolute.toml",
        format!(
            "[scenario]\nextends = {:?}\n",
            models.join("mid.toml").display().to_string()
        )
        .as_bytes(),
    );
    for path in [&top, &absolute] {
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
    // `model` names a built-in model; a file there gets the fix.
    let model_path = write(
        dir,
        "model_path.toml",
        b"[scenario]\nmodel = \"models/base.toml\"\n",
    );
    let message = refused_by_both(&model_path, &dir.join("out"));
    assert!(
        message.contains("model_path.toml:2:9: unknown built-in model")
            && message.contains("write extends = \"models/base.toml\""),
        "{message}"
    );
}

#[test]
fn a_chain_of_sixteen_files_composes_and_seventeen_are_refused_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // c1 extends c2 … extends c16, which is a complete scenario: 16 files.
    for k in 1..16 {
        let text = format!("[scenario]\nextends = \"c{}.toml\"\n", k + 1);
        write(dir, &format!("c{k}.toml"), text.as_bytes());
    }
    write(dir, "c16.toml", GOOD.as_bytes());
    let c1 = dir.join("c1.toml");
    for args in [
        vec!["validate", c1.to_str().unwrap()],
        vec![
            "run",
            c1.to_str().unwrap(),
            "--out",
            dir.join("out16").to_str().unwrap(),
            "--patients",
            "100",
            "--quiet",
            "--no-figures",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: a chain of 16 files is within the limit:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // One more on top: 17 files, refused by `validate` and `run` alike, with a true count.
    let c0 = write(dir, "c0.toml", b"[scenario]\nextends = \"c1.toml\"\n");
    let message = refused_by_both(&c0, &dir.join("out17"));
    assert!(
        message.contains("c15.toml:2:11: `")
            && message.contains("c16.toml` would be file 17 of this chain")
            && message.contains("at most 16 files"),
        "{message}"
    );
    // A cycle is named as one, with its files in order.
    write(dir, "a.toml", b"[scenario]\nextends = \"b.toml\"\n");
    write(dir, "b.toml", b"[scenario]\nextends = \"a.toml\"\n");
    let message = refused_by_both(&dir.join("a.toml"), &dir.join("out_cycle"));
    let (a, b) = (dir.join("a.toml"), dir.join("b.toml"));
    assert!(
        message.contains(&format!(
            "a cycle ({} → {} → {})",
            a.display(),
            b.display(),
            a.display()
        )),
        "{message}"
    );
}

#[test]
fn the_patient_export_may_not_overwrite_any_file_of_the_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = write(dir, "base.toml", GOOD.as_bytes());
    let top = write(
        dir,
        "top.toml",
        b"[scenario]\nextends = \"base.toml\"\nname = \"top\"\n",
    );
    for (export, says) in [
        (&base, "is the scenario's base file itself"),
        (&top, "is the scenario file itself"),
    ] {
        let before = std::fs::read(export).unwrap();
        let out = dir.join("out");
        let (code, stderr) = hsctsim(&[
            "run".into(),
            top.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--export-patients".into(),
            export.display().to_string(),
            "--force".into(),
            "--quiet".into(),
            "--no-figures".into(),
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(
            std::fs::read(export).unwrap(),
            before,
            "{} was changed",
            export.display()
        );
        assert!(!out.exists());
    }
}
