//! The layers of the crate (see ARCHITECTURE.md), checked on the source: every `crate::`
//! path in a top-level module's code (comments and `#[cfg(test)] mod tests` aside) names a
//! module of a lower layer. An import circle, or an arrow back up a layer, fails here with
//! the file that has it.

use std::collections::BTreeMap;
use std::path::Path;

/// Every top-level module with its layer, lowest first. A module may use only modules of
/// lower layers; a new module must be added here (the test says so).
const LAYERS: &[(&str, u32)] = &[
    // Leaves: depend on nothing of ours.
    ("duration", 0),
    ("suggest", 0),
    ("stats", 0),
    ("precision", 0),
    ("input", 0),
    ("rng", 0),
    ("atomic", 1),
    // Data: the model, and the file that describes it.
    ("model", 2),
    ("scenario", 3),
    ("markov", 3),
    // One life and what it is worth; its recorders; the parallel engine.
    ("econ", 4),
    ("life", 5),
    ("aggregate", 6),
    ("engine", 7),
    // What is made of results.
    ("output", 8),
    ("export", 8),
    ("psa", 9),
    ("plot", 10),
    ("calibrate", 11),
    ("shard", 12),
    // The whole of each command, then the command line.
    ("service", 13),
    ("cli", 14),
];

/// The code of a source file without comments and without its unit-test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (from module, to module) → a file with that edge, over `dir` (recursively).
fn edges(root: &Path, dir: &Path, out: &mut BTreeMap<(String, String), String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            edges(root, &path, out);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !rel.ends_with(".rs") || rel.ends_with("tests.rs") {
            continue;
        }
        let top = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(&path).unwrap());
        let prefixes: &[&str] = if top == "cli" {
            &["crate::", "hsctsim::"]
        } else {
            &["crate::"]
        };
        for prefix in prefixes {
            for (i, _) in text.match_indices(prefix) {
                // `hsctsim::` inside a longer word (e.g. a string) is not a path.
                if i > 0 && text.as_bytes()[i - 1].is_ascii_alphanumeric() {
                    continue;
                }
                let name: String = text[i + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top && name != "toml_path" {
                    out.entry((top.clone(), name))
                        .or_insert_with(|| rel.clone());
                }
            }
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    edges(&root, &root, &mut found);
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let module = name.trim_end_matches(".rs");
        if module != "lib" && module != "main" && !layer.contains_key(module) {
            problems.push(format!(
                "src/{name}: a top-level module with no layer; add it to LAYERS in tests/engine/architecture.rs and to ARCHITECTURE.md"
            ));
        }
    }
    for ((from, to), file) in &found {
        match (layer.get(from.as_str()), layer.get(to.as_str())) {
            (Some(a), Some(b)) if b < a => {}
            (Some(a), Some(b)) => problems.push(format!(
                "src/{file}: `{from}` (layer {a}) uses `{to}` (layer {b}); a module may use only lower layers"
            )),
            _ => {}
        }
    }
    assert!(
        found.len() > 50,
        "only {} edges found: the scan is broken",
        found.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
