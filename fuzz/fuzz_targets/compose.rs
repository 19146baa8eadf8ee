//! Any bytes as a chain of scenario files held in memory (`f0.toml`, `f1.toml`, … split at
//! a `%%%` line; `f0.toml` is the one composed): composing never panics and never reads the
//! disk; every error renders with the name of the file at fault (one of the inputs or a
//! built-in model) and each link of its chain with the file that named the next; a file
//! that is not recognisably a scenario is never quoted; what composes builds or fails with
//! a located error; and the composition, recorded and composed again from the record alone
//! (as a merge does), gives the same layers and the same model or error.
#![no_main]

use hsctsim::scenario::ScenarioError;
use hsctsim::scenario::compose::{self, Memory, files};
use libfuzzer_sys::fuzz_target;

/// Separates the files of one input.
const SEPARATOR: &str = "\n%%%\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut memory = Memory::default();
    for (k, file) in text.split(SEPARATOR).take(24).enumerate() {
        memory.files.insert(format!("f{k}.toml"), file.to_string());
    }
    let named_file = |file: &str| memory.files.contains_key(file) || file.starts_with("models/");
    // Whether an input other than the top file may be quoted: it must be a scenario's TOML.
    let quotable = |file: &str| {
        file == "f0.toml"
            || file.starts_with("models/")
            || memory.files.get(file).is_some_and(|text| {
                let fetched = files::Fetched {
                    path: file.to_string(),
                    text: text.clone(),
                    builtin: None,
                    trusted: false,
                    identity: files::Identity::Memory(file.to_string()),
                };
                files::recognise(&fetched, files::SCENARIO).is_ok()
            })
    };
    let check = |e: &ScenarioError| {
        let shown = e.to_string();
        assert!(named_file(&e.file), "an error in no file given: {shown}");
        assert!(shown.starts_with(&e.file), "{shown}");
        for link in &e.chain {
            assert!(
                memory.files.keys().any(|k| link.starts_with(k.as_str())),
                "a link from no file given: {link}"
            );
        }
        assert!(
            e.snippet.is_none() || quotable(&e.file),
            "quoted a file that is not a scenario: {shown}"
        );
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
    };
    let top = memory.top("f0.toml").expect("the first file is always there");
    let composed = match compose::compose(top, None, &mut memory.clone()) {
        Ok(composed) => composed,
        Err(e) => {
            check(&e);
            return;
        }
    };
    let record = composed.composition();
    assert!(!record.layers.is_empty() && record.layers.len() <= compose::MAX_DEPTH);
    let built = composed.build("fuzz");
    if let Err(e) = &built {
        check(e);
        assert!(e.location.is_some(), "a build error without a place: {e}");
    }
    // Composed again from the record alone, as a merge does.
    let again = record
        .compose()
        .unwrap_or_else(|e| panic!("the record does not compose again: {e}"));
    assert_eq!(again.composition(), record);
    match (&built, &again.build("fuzz")) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "the record builds differently: {:?} then {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
});
