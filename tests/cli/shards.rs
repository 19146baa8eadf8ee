//! Sharded runs merge into exactly the single run — through the library and through the
//! real command line — and a merge refuses, with a message naming the file and the fix,
//! every set of parts that is not one complete run.

use std::path::{Path, PathBuf};
use std::process::Command;

use hsctsim::aggregate::results::Results;
use hsctsim::engine::{Control, simulate};
use hsctsim::model::Model;
use hsctsim::output::{Manifest, curves, summary};
use hsctsim::shard::merge::{MergeError, merge};
use hsctsim::shard::part::{self, Part, ScenarioSource};
use hsctsim::shard::{Shard, merge::merge_inputs};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/four_strategies.toml"
);

fn fixture(patients: u64) -> (Model, ScenarioSource) {
    let composed = hsctsim::scenario::compose::load(FIXTURE).unwrap();
    let source = composed.composition().clone();
    let mut model = composed.build(&source.default_name()).unwrap();
    model.settings.patients = patients;
    (model, source)
}

fn csv_bytes(model: &Model, tally: &hsctsim::aggregate::Tally) -> (Vec<u8>, Vec<u8>) {
    let results = Results::from_tally(model, tally);
    (
        curves::to_csv(&results.curves),
        summary::to_csv(&results.summary),
    )
}

/// Runs every shard of `count` through the file format (bytes and back).
fn parts(model: &Model, source: &ScenarioSource, count: u64) -> Vec<(PathBuf, Part)> {
    (0..count)
        .map(|k| {
            let shard = Shard::new(k, count).unwrap();
            let part = part::run_shard(
                model,
                source,
                shard,
                &Control {
                    threads: 1,
                    ..Control::default()
                },
            )
            .unwrap();
            let path = PathBuf::from(part.file_name());
            let read = Part::from_bytes(&part.to_bytes(), &path).unwrap();
            assert_eq!(
                read, part,
                "part {shard} does not survive its own file format"
            );
            (path, read)
        })
        .collect()
}

#[test]
fn merged_parts_give_the_single_runs_bytes_for_1_2_and_7_shards() {
    let (model, source) = fixture(30_000);
    let whole = simulate(
        &model,
        &Control {
            threads: 2,
            ..Control::default()
        },
    )
    .unwrap();
    let expected = csv_bytes(&model, &whole);
    for count in [1, 2, 7] {
        let merged = merge(parts(&model, &source, count)).unwrap();
        assert_eq!(merged.shards, count);
        assert_eq!(merged.tally, whole, "{count} shards: tallies differ");
        assert_eq!(
            csv_bytes(&merged.model, &merged.tally),
            expected,
            "{count} shards: curves.csv or summary.csv differ"
        );
    }
}

#[test]
fn more_shards_than_patients_leave_some_empty_and_still_merge_exactly() {
    let (model, source) = fixture(5);
    let whole = simulate(&model, &Control::default()).unwrap();
    let parts = parts(&model, &source, 7);
    assert_eq!(parts.iter().filter(|(_, p)| p.blocks.is_empty()).count(), 2);
    let merged = merge(parts).unwrap();
    assert_eq!(
        csv_bytes(&merged.model, &merged.tally),
        csv_bytes(&model, &whole)
    );
}

#[test]
fn a_part_is_the_same_bytes_every_time() {
    let (model, source) = fixture(3000);
    let shard = Shard::new(1, 3).unwrap();
    let once = part::run_shard(&model, &source, shard, &Control::default()).unwrap();
    let again = part::run_shard(
        &model,
        &source,
        shard,
        &Control {
            threads: 1,
            ..Control::default()
        },
    )
    .unwrap();
    assert_eq!(once.to_bytes(), again.to_bytes());
    let text = String::from_utf8(once.to_bytes()).unwrap();
    // The header reads without tools.
    assert!(text.starts_with(&format!(
        "{{\n  \"format\": \"hsctsim part\",\n  \"format_version\": {},\n",
        part::FORMAT_VERSION
    )));
    assert!(text.contains("\n  \"shard\": 1,\n  \"shards\": 3,\n"));
    assert!(text.contains("{\"draw\":0,\"first_patient\":1000,\"last_patient\":2000,"));
}

#[test]
fn the_library_names_missing_and_duplicate_shards() {
    let (model, source) = fixture(700);
    let mut all = parts(&model, &source, 7);
    let missing: Vec<_> = all
        .iter()
        .filter(|(_, p)| ![2, 3, 5].contains(&p.shard))
        .cloned()
        .collect();
    let e = merge(missing).unwrap_err();
    assert!(matches!(&e, MergeError::Missing { missing, .. } if missing == &[2, 3, 5]));
    assert!(
        e.to_string().contains("3 of 7 shards missing: 2-3, 5"),
        "{e}"
    );
    let copy = (PathBuf::from("copy.json"), all[4].1.clone());
    all.push(copy);
    let e = merge(all).unwrap_err().to_string();
    assert!(e.contains("shard 4/7 appears twice"), "{e}");
    assert!(e.contains("copy.json"), "{e}");
    assert!(
        merge(Vec::new())
            .unwrap_err()
            .to_string()
            .contains("no part files")
    );
}

#[test]
fn parts_that_do_not_fit_their_scenario_or_split_are_refused() {
    let (model, source) = fixture(400);
    let good = parts(&model, &source, 2);
    // Re-sealed with a valid checksum, as a different build of hsctsim could have written
    // them: only the checks against the scenario and the split rule can catch these.
    let reseal = |change: &dyn Fn(&mut part::Block)| {
        let mut parts = good.clone();
        let (_, part) = &mut parts[1];
        let mut blocks = part.blocks.clone();
        change(&mut blocks[0]);
        *part = Part::new(&model, &source, part.shard(), blocks);
        merge(parts).unwrap_err().to_string()
    };
    let e = reseal(&|b| {
        b.tally.strategies[3].hsct2.death_fine.pop();
    });
    assert!(
        e.contains("do not fit its scenario")
            && e.contains("strategy 3, origin hsct2")
            && e.contains("fine deaths"),
        "{e}"
    );
    let e = reseal(&|b| {
        b.tally.strategies.pop();
    });
    assert!(
        e.contains("3 strategies") && e.contains("the scenario has 4 strategies"),
        "{e}"
    );
    let e = reseal(&|b| b.first_patient += 1);
    assert!(e.contains("shard 1/2 of 400 patients should hold"), "{e}");
    let e = reseal(&|b| b.tally.patients += 1);
    assert!(
        e.contains("patients 200..400")
            && e.contains("count 201 patients, but the block's range has 200"),
        "{e}"
    );
    assert!(merge(good).is_ok());
}

// ---- through the real command line ----

use crate::common::{output as hsctsim, succeed as ok};

/// Runs a command that must fail with exit code 2 and a message containing every `says`.
fn refuses(args: &[&str], says: &[&str]) -> String {
    let out = hsctsim(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if std::env::var("SHOW_ERRORS").is_ok() {
        eprintln!("--- {args:?}\n{stderr}");
    }
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should fail:\n{stderr}"
    );
    for s in says {
        assert!(stderr.contains(s), "{args:?}: expected {s:?} in:\n{stderr}");
    }
    stderr
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Writes the parts of an `n`-way split of the fixture (`patients` patients) into `dir`.
fn shards(dir: &Path, n: u64, patients: &str, extra: &[&str]) {
    for k in 0..n {
        let shard = format!("{k}/{n}");
        let mut args = vec![
            "run",
            FIXTURE,
            "--shard",
            &shard,
            "--out",
            s(dir),
            "--patients",
            patients,
            "--quiet",
        ];
        args.extend(extra);
        ok(&args);
    }
}

use crate::common::read;

#[test]
fn the_command_line_merges_1_2_and_7_shards_into_the_single_runs_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    ok(&[
        "run",
        FIXTURE,
        "--patients",
        "20000",
        "--out",
        s(&single),
        "--quiet",
    ]);
    let single_manifest = Manifest::from_json(&read(&single.join("manifest.json"))).unwrap();
    for n in [1, 2, 7] {
        let dir = tmp.path().join(format!("parts{n}"));
        shards(&dir, n, "20000", &[]);
        let merged = tmp.path().join(format!("merged{n}"));
        ok(&["merge", s(&dir), "--out", s(&merged), "--quiet"]);
        for file in ["curves.csv", "summary.csv"] {
            assert!(
                read(&single.join(file)) == read(&merged.join(file)),
                "{n} shards: {file} differs from the single run"
            );
        }
        let manifest = Manifest::from_json(&read(&merged.join("manifest.json"))).unwrap();
        assert_eq!(manifest.merged_from_shards, Some(n));
        assert_eq!(single_manifest.merged_from_shards, None);
        assert_eq!(manifest.scenario_sha256, single_manifest.scenario_sha256);
        assert_eq!(manifest.scenario_path, single_manifest.scenario_path);
        assert_eq!(
            (manifest.patients, manifest.events, manifest.random_draws),
            (
                single_manifest.patients,
                single_manifest.events,
                single_manifest.random_draws
            )
        );
    }
    // Part files can also be named one by one, and the default output folder is the
    // scenario's name (here under a scratch working directory).
    let files: Vec<String> = (0..2)
        .map(|k| s(&tmp.path().join(format!("parts2/part-{k}-of-2.json"))).to_string())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_hsctsim"))
        .current_dir(tmp.path())
        .args(["merge", &files[0], &files[1]])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("merged 2 shards"));
    assert_eq!(
        read(&tmp.path().join("output/four_strategies/curves.csv")),
        read(&single.join("curves.csv"))
    );
}

/// Copies the `part-*.json` files of `from` into a fresh folder `to`.
fn copy_parts(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Rewrites one field of a part's header (valid JSON, other layout: the reader does not mind).
fn edit(path: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_slice(&read(path)).unwrap();
    change(&mut value);
    std::fs::write(path, serde_json::to_vec(&value).unwrap()).unwrap();
}

#[test]
fn the_command_line_refuses_parts_that_are_not_one_complete_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let good = t.join("good");
    shards(&good, 4, "2000", &[]);
    let out = t.join("out");
    let merge_args = |dir: &Path| -> Vec<String> {
        vec![
            "merge".into(),
            s(dir).into(),
            "--out".into(),
            s(&out).into(),
        ]
    };
    let refuses_merge = |dir: &Path, says: &[&str]| {
        let args = merge_args(dir);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refuses(&args, says);
        assert!(!out.exists(), "a refused merge wrote output");
    };
    let case = |name: &str| {
        let dir = t.join(name);
        copy_parts(&good, &dir);
        dir
    };

    // Nothing to merge.
    let empty = t.join("empty");
    std::fs::create_dir(&empty).unwrap();
    refuses_merge(&empty, &["no part files", s(&empty), "--shard K/N"]);
    refuses_merge(
        &t.join("absent"),
        &[
            "absent: does not exist",
            "the folder the shards wrote their parts into",
        ],
    );

    // Missing and duplicate shards.
    let dir = case("missing");
    std::fs::remove_file(dir.join("part-2-of-4.json")).unwrap();
    refuses_merge(&dir, &["1 of 4 shards missing: 2", "--shard 2/4"]);
    let dir = case("duplicate");
    std::fs::copy(
        dir.join("part-1-of-4.json"),
        dir.join("part-1-of-4 (copy).json"),
    )
    .unwrap();
    refuses_merge(
        &dir,
        &["shard 1/4 appears twice", "part-1-of-4 (copy).json"],
    );

    // Parts of other runs mixed in.
    let other = t.join("other_seed");
    shards(&other, 4, "2000", &["--seed", "7"]);
    let dir = case("seeds");
    std::fs::copy(other.join("part-3-of-4.json"), dir.join("part-3-of-4.json")).unwrap();
    refuses_merge(&dir, &["different seeds (61 and 7", "part-3-of-4.json"]);

    let dir = case("patients");
    let other = t.join("other_patients");
    shards(&other, 4, "2400", &[]);
    std::fs::copy(other.join("part-0-of-4.json"), dir.join("part-0-of-4.json")).unwrap();
    refuses_merge(&dir, &["different numbers of patients (2400 and 2000"]);

    let dir = case("split");
    shards(&t.join("split7"), 7, "2000", &[]);
    std::fs::copy(
        t.join("split7/part-5-of-7.json"),
        dir.join("part-5-of-7.json"),
    )
    .unwrap();
    refuses_merge(&dir, &["split differently (shard 0/4 and shard 5/7)"]);

    let changed = t.join("changed.toml");
    let text = std::fs::read_to_string(FIXTURE)
        .unwrap()
        .replace("rate = 0.3\n", "rate = 0.35\n");
    std::fs::write(&changed, text).unwrap();
    let dir = case("scenario");
    ok(&[
        "run",
        s(&changed),
        "--shard",
        "2/4",
        "--out",
        s(&dir),
        "--patients",
        "2000",
        "--force",
        "--quiet",
    ]);
    refuses_merge(&dir, &["different scenarios", "changed.toml", "SHA-256"]);

    // Other versions of the program or of the format.
    let dir = case("version_one");
    edit(&dir.join("part-3-of-4.json"), |v| {
        v["program_version"] = "0.0.1".into()
    });
    refuses_merge(&dir, &["different versions of hsctsim", "0.0.1"]);
    let dir = case("version_all");
    for k in 0..4 {
        edit(&dir.join(format!("part-{k}-of-4.json")), |v| {
            v["program_version"] = "0.0.1".into()
        });
    }
    refuses_merge(
        &dir,
        &["simulated by hsctsim 0.0.1", "merge with hsctsim 0.0.1"],
    );
    // A newer format, and the older ones (only the top file; economic sums that could leave
    // lives out).
    let current = part::FORMAT_VERSION;
    for (version, name) in [
        (current + 1, "format_newer"),
        (2, "format_v2"),
        (1, "format_v1"),
    ] {
        let dir = case(name);
        edit(&dir.join("part-0-of-4.json"), |v| {
            v["format_version"] = version.into()
        });
        refuses_merge(
            &dir,
            &[
                "part-0-of-4.json",
                &format!("part format version {version}"),
                &format!("reads version {current}"),
                "run the shards again",
            ],
        );
    }

    // Damaged files.
    let dir = case("corrupt");
    edit(&dir.join("part-1-of-4.json"), |v| {
        let deaths = &mut v["blocks"][0]["tally"]["strategies"][2]["entry"]["deaths"][5];
        *deaths = (deaths.as_u64().unwrap() + 1).into();
    });
    refuses_merge(&dir, &["part-1-of-4.json", "damaged", "checksum", "again"]);
    let dir = case("truncated");
    let path = dir.join("part-2-of-4.json");
    let bytes = read(&path);
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    refuses_merge(&dir, &["part-2-of-4.json", "cut short"]);
    let dir = case("empty_file");
    std::fs::write(dir.join("part-2-of-4.json"), b"").unwrap();
    refuses_merge(&dir, &["part-2-of-4.json", "is empty"]);
    let dir = case("garbage");
    std::fs::write(dir.join("part-0-of-4.json"), b"\x00\x01binary").unwrap();
    refuses_merge(&dir, &["part-0-of-4.json", "not valid JSON"]);
    let dir = case("foreign");
    std::fs::write(dir.join("part-0-of-4.json"), b"{\"a\": 1}").unwrap();
    refuses_merge(&dir, &["part-0-of-4.json", "not an hsctsim part file"]);
    std::fs::write(dir.join("part-0-of-4.json"), b"[1, 2]").unwrap();
    refuses_merge(&dir, &["part-0-of-4.json", "not an hsctsim part file"]);
    let dir = case("unknown_field");
    edit(&dir.join("part-0-of-4.json"), |v| v["extra"] = 1.into());
    refuses_merge(
        &dir,
        &["part-0-of-4.json", "damaged", "unknown field `extra`"],
    );

    // The good parts still merge; an existing output folder is not replaced without --force.
    ok(&["merge", s(&good), "--out", s(&out), "--quiet"]);
    refuses(
        &["merge", s(&good), "--out", s(&out)],
        &["already exists", "--force"],
    );
    ok(&["merge", s(&good), "--out", s(&out), "--force", "--quiet"]);
}

#[test]
fn shard_runs_check_their_arguments_and_never_overwrite_another_runs_part() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parts");
    for (bad, says) in [
        ("4/4", "numbered from 0 to 3"),
        ("1", "write it as k/N"),
        ("x/2", "whole numbers"),
        ("0/0", "between 1 and"),
    ] {
        refuses(&["run", FIXTURE, "--shard", bad, "--out", s(&dir)], &[says]);
    }
    let run = |seed: &str, force: bool| {
        let mut args = vec![
            "run",
            FIXTURE,
            "--shard",
            "1/3",
            "--out",
            s(&dir),
            "--patients",
            "900",
            "--seed",
            seed,
            "--quiet",
        ];
        if force {
            args.push("--force");
        }
        hsctsim(&args)
    };
    assert!(run("1", false).status.success());
    let path = dir.join("part-1-of-3.json");
    let first = read(&path);
    // The same shard again (a requeued array task) is fine and writes the same bytes.
    assert!(run("1", false).status.success());
    assert_eq!(read(&path), first);
    // Another run's shard is refused before it simulates, and the part is left alone.
    let out = run("2", false);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already exists and holds a different result") && stderr.contains("seed 1"),
        "{stderr}"
    );
    assert_eq!(read(&path), first);
    assert!(run("2", true).status.success());
    assert_ne!(read(&path), first);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["part-1-of-3.json"]);
    // The library reads the folder the command line wrote.
    let e = merge_inputs(&[dir]).unwrap_err().to_string();
    assert!(e.contains("2 of 3 shards missing: 0, 2"), "{e}");
}

// ---- a scenario composed of several files (issue 13, item 4) ----

/// Writes `top.toml`, which extends `base.toml` (the fixture), into `dir`; returns the
/// top file's path.
fn composed_scenario(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(FIXTURE, dir.join("base.toml")).unwrap();
    let top = dir.join("top.toml");
    std::fs::write(
        &top,
        "[scenario]\nextends = \"base.toml\"\nname = \"composed\"\n\n[simulation]\nseed = 5\n",
    )
    .unwrap();
    top
}

/// Changes a rate of the fixture, as someone editing the base file between shards would.
fn edit_base(dir: &Path) {
    let path = dir.join("base.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("rate = 0.3\n"));
    std::fs::write(&path, text.replace("rate = 0.3\n", "rate = 0.9\n")).unwrap();
}

#[test]
fn a_base_file_edited_between_shards_is_refused_naming_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let top = composed_scenario(&tmp.path().join("scenario"));
    let parts = tmp.path().join("parts");
    let shard = |k: &str| {
        ok(&[
            "run",
            s(&top),
            "--shard",
            k,
            "--out",
            s(&parts),
            "--patients",
            "2000",
            "--quiet",
        ])
    };
    shard("0/2");
    edit_base(&tmp.path().join("scenario"));
    shard("1/2");
    let out = tmp.path().join("out");
    refuses(
        &["merge", s(&parts), "--out", s(&out)],
        &[
            "part-0-of-2.json",
            "part-1-of-2.json",
            "not from the same run",
            "layer 1, the file that layer 0 extends",
            "base.toml",
            "differs",
        ],
    );
    assert!(!out.exists(), "a refused merge wrote output");
}

/// Every file of a folder, by name.
fn files_of(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn parts_copied_away_from_every_scenario_file_merge_into_the_single_runs_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("scenario");
    let top = composed_scenario(&scenario);
    let single = tmp.path().join("single");
    ok(&[
        "run",
        s(&top),
        "--patients",
        "3000",
        "--out",
        s(&single),
        "--no-figures",
        "--quiet",
    ]);
    let parts = tmp.path().join("parts");
    shards_of(&top, &parts, 3, "3000");
    // Off the cluster: only the parts travel, and the scenario's files are gone.
    let copied = tmp.path().join("elsewhere");
    copy_parts(&parts, &copied);
    std::fs::remove_dir_all(&scenario).unwrap();
    std::fs::remove_dir_all(&parts).unwrap();
    let merged = tmp.path().join("merged");
    ok(&[
        "merge",
        s(&copied),
        "--out",
        s(&merged),
        "--no-figures",
        "--quiet",
    ]);
    for file in ["curves.csv", "summary.csv"] {
        assert!(
            read(&single.join(file)) == read(&merged.join(file)),
            "{file} of the merge differs from the single run"
        );
    }
    let a = Manifest::from_json(&read(&single.join("manifest.json"))).unwrap();
    let b = Manifest::from_json(&read(&merged.join("manifest.json"))).unwrap();
    assert_eq!(a.scenario_sha256, b.scenario_sha256);
    assert_eq!(a.scenario_layers, b.scenario_layers);
    assert_eq!(a.scenario_name, "composed");
    assert_eq!(files_of(&copied).len(), 3, "the merge left the parts alone");
}

/// Runs `n` shards of the scenario at `top` into `parts`.
fn shards_of(top: &Path, parts: &Path, n: u64, patients: &str) {
    for k in 0..n {
        let shard = format!("{k}/{n}");
        ok(&[
            "run",
            s(top),
            "--shard",
            &shard,
            "--out",
            s(parts),
            "--patients",
            patients,
            "--quiet",
        ]);
    }
}

#[test]
fn the_manifest_hash_covers_every_file_of_the_composition() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("scenario");
    let top = composed_scenario(&scenario);
    let run = |out: &str| {
        let out = tmp.path().join(out);
        ok(&[
            "run",
            s(&top),
            "--patients",
            "500",
            "--out",
            s(&out),
            "--no-figures",
            "--quiet",
        ]);
        Manifest::from_json(&read(&out.join("manifest.json"))).unwrap()
    };
    let before = run("before");
    // Every layer, the file that was run first, with the hash `sha256sum` prints.
    let paths: Vec<&str> = before
        .scenario_layers
        .iter()
        .map(|l| l.path.as_str())
        .collect();
    assert_eq!(paths, [s(&top), s(&scenario.join("base.toml"))]);
    for layer in &before.scenario_layers {
        assert_eq!(
            layer.sha256,
            hsctsim::output::manifest::sha256_hex(&read(Path::new(&layer.path)))
        );
    }
    let listing: String = before
        .scenario_layers
        .iter()
        .map(|l| format!("{}\n", l.sha256))
        .collect();
    assert_eq!(
        before.scenario_sha256,
        hsctsim::output::manifest::sha256_hex(listing.as_bytes())
    );
    // The same top file over another base: another scenario, another hash.
    edit_base(&scenario);
    let after = run("after");
    assert_eq!(
        after.scenario_layers[0].sha256,
        before.scenario_layers[0].sha256
    );
    assert_ne!(
        after.scenario_layers[1].sha256,
        before.scenario_layers[1].sha256
    );
    assert_ne!(after.scenario_sha256, before.scenario_sha256);
}

#[test]
fn a_recorded_composition_rebuilds_the_model_from_memory_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let top = composed_scenario(tmp.path());
    let composed = hsctsim::scenario::compose::load(&top).unwrap();
    let record = composed.composition().clone();
    assert_eq!(record.layers.len(), 2);
    assert_eq!(record.layers[0].base, Some(1));
    assert_eq!(record.layers[1].base, None);
    let mut model = composed.build(&record.default_name()).unwrap();
    std::fs::remove_file(tmp.path().join("base.toml")).unwrap();
    let replayed = record.compose().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replayed.composition(), &record);
    let mut again = replayed.build(&record.default_name()).unwrap();
    model.settings.patients = 2000;
    again.settings.patients = 2000;
    let control = Control::default();
    assert_eq!(
        simulate(&model, &control).unwrap(),
        simulate(&again, &control).unwrap()
    );
    // A record whose layers do not hold together is refused, by what is wrong.
    let mut cut = record.clone();
    cut.layers.pop();
    let e = cut.compose().unwrap_err().to_string();
    assert!(e.contains("damaged") && e.contains("layer 0"), "{e}");
    let mut forged = record.clone();
    forged.layers[1].text.push_str("\n# changed\n");
    let e = forged.compose().unwrap_err().to_string();
    assert!(e.contains("layer 1") && e.contains("SHA-256"), "{e}");
}

#[test]
fn parts_with_a_forged_or_old_scenario_record_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let top = composed_scenario(&tmp.path().join("scenario"));
    let good = tmp.path().join("good");
    shards_of(&top, &good, 2, "1000");
    let out = tmp.path().join("out");
    let case = |name: &str, change: &dyn Fn(&mut serde_json::Value), says: &[&str]| {
        let dir = tmp.path().join(name);
        copy_parts(&good, &dir);
        edit(&dir.join("part-1-of-2.json"), change);
        refuses(&["merge", s(&dir), "--out", s(&out)], says);
        assert!(!out.exists(), "a refused merge wrote output");
    };
    // A base file's text changed inside a part, its own hash recomputed: the scenario's
    // hash no longer covers it.
    case(
        "forged_text",
        &|v| {
            let layer = &mut v["scenario"]["layers"][1];
            let text = format!("{}\n# forged\n", layer["text"].as_str().unwrap());
            layer["sha256"] = hsctsim::output::manifest::sha256_hex(text.as_bytes()).into();
            layer["text"] = text.into();
        },
        &[
            "part-1-of-2.json",
            "damaged",
            "the scenario's SHA-256 is not that of its files",
        ],
    );
    case(
        "forged_link",
        &|v| v["scenario"]["layers"][0]["base"] = 7.into(),
        &[
            "part-1-of-2.json",
            "damaged",
            "layer 0",
            "should name layer 1",
        ],
    );
    // Format version 1 embedded only the top file: it cannot rebuild this scenario.
    case(
        "old_format",
        &|v| v["format_version"] = 1.into(),
        &[
            "part-1-of-2.json",
            "part format version 1",
            "run the shards again with this build",
        ],
    );
}

/// A scenario with `[economics]` and `[psa]`, as a base file.
const PSA_BASE: &str = r#"
[simulation]
patients = 400
seed = 3
horizon = "36m"

[[states]]
name = "alive"
[[states]]
name = "dead"
death = "nrm"

[[variables]]
name = "drug"
type = "bool"
default = false

[cohort]
entry = "alive"

[[transitions]]
from = "alive"
to = "dead"
rate = 0.05
effects = [{ if = "drug", hr = 0.5 }]

[economics]
discount_costs = 0.0
discount_effects = 0.0
wtp = [30000]
states = [{ state = "alive", cost = 1000, utility = 1.0 }]

[[strategies]]
name = "usual"
[[strategies]]
name = "drug"
set = { drug = true }

[psa]
draws = 6
patients = 400

[[psa.parameters]]
name = "death rate"
path = "transitions[alive->dead].rate"
distribution = "gamma"
mean = 0.05
se = 0.01
"#;

const PSA_TABLES: [&str; 6] = [
    "psa_draws.csv",
    "psa_parameters.csv",
    "psa_summary.csv",
    "psa_incremental.csv",
    "ceac.csv",
    "evpi.csv",
];

#[test]
fn psa_parts_carry_every_file_and_refuse_a_base_edited_between_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("scenario");
    std::fs::create_dir_all(&scenario).unwrap();
    std::fs::write(scenario.join("base.toml"), PSA_BASE).unwrap();
    let top = scenario.join("question.toml");
    std::fs::write(
        &top,
        "[scenario]\nextends = \"base.toml\"\n\n[simulation]\nseed = 8\n",
    )
    .unwrap();
    let whole = tmp.path().join("whole");
    ok(&[
        "psa",
        s(&top),
        "--out",
        s(&whole),
        "--no-figures",
        "--quiet",
    ]);
    let parts = tmp.path().join("psa_parts");
    for k in ["0/2", "1/2"] {
        ok(&["psa", s(&top), "--shard", k, "--out", s(&parts), "--quiet"]);
    }
    // Copied away, with no scenario file anywhere: the same tables, byte for byte.
    let copied = tmp.path().join("elsewhere");
    copy_parts(&parts, &copied);
    let kept = tmp.path().join("kept");
    std::fs::rename(&scenario, &kept).unwrap();
    let merged = tmp.path().join("merged");
    ok(&[
        "merge",
        s(&copied),
        "--out",
        s(&merged),
        "--no-figures",
        "--quiet",
    ]);
    for t in PSA_TABLES {
        assert!(
            read(&whole.join(t)) == read(&merged.join(t)),
            "{t} of the merge differs from the unsharded analysis"
        );
    }
    let hash = |dir: &Path| {
        let v: serde_json::Value =
            serde_json::from_slice(&read(&dir.join("manifest.json"))).unwrap();
        v["scenario_sha256"].as_str().unwrap().to_string()
    };
    assert_eq!(hash(&whole), hash(&merged));
    // The base edited between the shards: refused, naming the layer.
    std::fs::rename(&kept, &scenario).unwrap();
    let mixed = tmp.path().join("mixed");
    ok(&[
        "psa",
        s(&top),
        "--shard",
        "0/2",
        "--out",
        s(&mixed),
        "--quiet",
    ]);
    let base = scenario.join("base.toml");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replace("cost = 1000", "cost = 1500")).unwrap();
    ok(&[
        "psa",
        s(&top),
        "--shard",
        "1/2",
        "--out",
        s(&mixed),
        "--quiet",
    ]);
    let out = tmp.path().join("out");
    refuses(
        &["merge", s(&mixed), "--out", s(&out)],
        &[
            "not parts of the same analysis",
            "layer 1, the file that layer 0 extends",
            "base.toml",
            "differs",
        ],
    );
    assert!(!out.exists(), "a refused merge wrote output");
    // A PSA's manifest hash covers the base too.
    let other = tmp.path().join("other");
    ok(&[
        "psa",
        s(&top),
        "--out",
        s(&other),
        "--no-figures",
        "--quiet",
    ]);
    assert_ne!(hash(&whole), hash(&other));
}

// ---- accumulator invariants and economic sums (issue 13, items 2 and 5) ----

/// The sharding fixture with economics in a currency of small units: monthly costs of tens
/// of millions and one-off costs of billions, so most lives cost far more than the 7·10^8
/// the former i128 sums could hold.
fn economics_fixture(patients: u64) -> (Model, ScenarioSource) {
    let text = std::fs::read_to_string(FIXTURE).unwrap()
        + r#"
[economics]
currency = "IDR"
discount_costs = 0.03
discount_effects = 0.015
wtp = [500_000_000]
states = [
  { state = "relapse", cost = 40_000_000, utility = 0.6 },
  { state = "salvage", cost = 150_000_000, utility = 0.5 },
  { state = "hsct2", cost = 90_000_000, utility = 0.55 },
  { state = "relapse2", cost = 60_000_000, utility = 0.4 },
  { state = "palliative", cost = 30_000_000, utility = 0.35 },
]
events = [
  { on = "hsct2", cost = 2_500_000_000 },
  { on = "hsct2", cost = 700_000_000, if = "donor == 'different'" },
  { on = "relapse2", cost = 90_000_000, disutility = 0.05 },
]
"#;
    let composed =
        hsctsim::scenario::compose::from_text(&text, "four_strategies_idr.toml", None).unwrap();
    let source = composed.composition().clone();
    let mut model = composed.build(&source.default_name()).unwrap();
    model.settings.patients = patients;
    (model, source)
}

fn economics_bytes(model: &Model, tally: &hsctsim::aggregate::Tally) -> (Vec<u8>, Vec<u8>) {
    let economics = Results::from_tally(model, tally)
        .economics
        .expect("economic results");
    (
        hsctsim::output::economics::values_csv(&economics.values),
        hsctsim::output::economics::increments_csv(&economics.increments),
    )
}

/// Costly lives, summed exactly: every split gives the single run's tallies and the same
/// economics.csv and incremental.csv bytes, and the lives above the former 7·10^8 bound are
/// all there (the cost sum exceeds what any of them alone could make up).
#[test]
fn economic_sums_of_costly_lives_merge_exactly_for_1_2_and_7_shards() {
    let (model, source) = economics_fixture(9000);
    let whole = simulate(
        &model,
        &Control {
            threads: 2,
            ..Control::default()
        },
    )
    .unwrap();
    let economics = whole.economics.as_ref().unwrap();
    // Mean discounted cost per patient of a transplanted strategy: billions.
    let mean = economics.strategies[2].cost_discounted.sum.value() / 9000.0;
    assert!(
        mean > 7e8,
        "mean cost {mean}: the fixture is not costly enough"
    );
    let expected = economics_bytes(&model, &whole);
    for count in [1, 2, 7] {
        let merged = merge(parts(&model, &source, count)).unwrap();
        assert_eq!(merged.tally, whole, "{count} shards: tallies differ");
        assert_eq!(
            economics_bytes(&merged.model, &merged.tally),
            expected,
            "{count} shards: economics.csv or incremental.csv differ"
        );
    }
}

/// No tally a simulation produces breaks an invariant: every shipped scenario, the fixtures,
/// both engines, and grids whose times are not exact in binary (0.1 month) or that put a
/// landmark between grid points — so the checks can only ever refuse forgeries.
#[test]
fn every_simulated_tally_satisfies_the_invariants() {
    use hsctsim::aggregate::Layout;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut models: Vec<(String, Model)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let model = hsctsim::scenario::load(p.to_str().unwrap()).unwrap();
            (p.display().to_string(), model)
        })
        .collect();
    models.push(("fixture".into(), fixture(0).0));
    models.push(("fixture with economics".into(), economics_fixture(0).0));
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    for (horizon, grid, landmarks) in [
        ("10m", "2.5m", "\"5m\", \"10m\""),
        ("12m", "0.1m", "\"0.3m\", \"12m\""),
        ("7.3m", "0.73m", "\"2.19m\", \"7.3m\""),
    ] {
        let odd = text
            .replace("horizon = \"36m\"", &format!("horizon = \"{horizon}\""))
            .replace("grid = \"1m\"", &format!("grid = \"{grid}\""))
            .replace(
                "landmarks = [\"12m\", \"24m\", \"36m\"]",
                &format!("landmarks = [{landmarks}]"),
            );
        let model = hsctsim::scenario::parse(&odd, "odd.toml", "odd").unwrap();
        models.push((format!("fixture, horizon {horizon}, grid {grid}"), model));
    }
    assert!(models.len() >= 12);
    for (name, mut model) in models {
        model.settings.patients = 3000;
        let layout = Layout::new(&model);
        for general_engine in [false, true] {
            let tally = simulate(
                &model,
                &Control {
                    general_engine,
                    ..Control::default()
                },
            )
            .unwrap();
            if let Err(v) = tally.check(3000, Some(&layout)) {
                panic!("{name} (general engine: {general_engine}): {v}");
            }
            tally.check(3000, None).unwrap();
        }
    }
}

/// Reads a part, changes its JSON, and re-seals it: recomputes `blocks_sha256` exactly as
/// the writer does, so only the invariants can tell.
fn forge(path: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_slice(&read(path)).unwrap();
    change(&mut value);
    let mut part: Part = serde_json::from_value(value).unwrap();
    part.blocks_sha256 =
        hsctsim::output::manifest::sha256_hex(&serde_json::to_vec(&part.blocks).unwrap());
    std::fs::write(path, part.to_bytes()).unwrap();
}

/// The issue's forgeries and their siblings: a number edited in a part whose checksum was
/// then recomputed. Each is refused (exit 2) naming the file, the block, the accumulator and
/// the broken rule, with the fix; nothing is written.
#[test]
fn forged_parts_with_a_recomputed_checksum_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let good = t.join("good");
    shards(&good, 4, "2000", &[]);
    let out = t.join("out");
    fn number(v: &serde_json::Value) -> i64 {
        v.as_i64().unwrap()
    }
    fn tally(part: &mut serde_json::Value) -> &mut serde_json::Value {
        &mut part["blocks"][0]["tally"]
    }
    type Forgery = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Forgery, Vec<&str>)> = vec![
        // Occupancy at t = 0 edited so the first state holds a third of the patients.
        (
            "occupancy_at_0",
            Box::new(|v| {
                let t = tally(v);
                t["strategies"][0]["entry"]["occupancy"][0] = (500 / 3).into();
            }),
            vec![
                "strategy 0, origin entry, occupancy",
                "at t = 0 the states hold",
            ],
        ),
        // The same, kept consistent at t = 0 by moving patients between the entry states:
        // the running counts then leave [0, reached].
        (
            "occupancy_moved",
            Box::new(|v| {
                let t = tally(v);
                let cells = t["strategies"][1]["entry"]["deaths"]
                    .as_array()
                    .unwrap()
                    .len();
                let occupancy = &mut t["strategies"][1]["entry"]["occupancy"];
                let first = number(&occupancy[0]);
                let second = number(&occupancy[cells]);
                occupancy[0] = (500 / 3).into();
                occupancy[cells] = (first + second - 500 / 3).into();
            }),
            vec!["strategy 1, origin entry, occupancy", "outside [0,"],
        ),
        // A restricted survival sum wrapped below zero (RMST −1.3e25).
        (
            "rmst_negative",
            Box::new(|v| {
                let t = tally(v);
                t["strategies"][2]["entry"]["os_time"]["units"] =
                    "-55834574848000000000000000000000000".into();
            }),
            vec![
                "strategy 2, origin entry, restricted survival time",
                "negative",
            ],
        ),
        // Deaths near u64::MAX, as a counter that wrapped would be.
        (
            "deaths_wrapped",
            Box::new(|v| {
                let t = tally(v);
                t["strategies"][3]["entry"]["deaths"][4] = u64::MAX.into();
            }),
            vec![
                "strategy 3, origin entry, deaths",
                "sum to",
                "exactly one cell",
            ],
        ),
        // More events than patients at risk.
        (
            "events_above_at_risk",
            Box::new(|v| {
                let t = tally(v);
                let nrm = &mut t["strategies"][0]["entry"]["nrm"];
                let beyond = nrm.as_array().unwrap().len() - 1;
                let moved = number(&nrm[beyond]);
                nrm[beyond] = 0.into();
                nrm[1] = (number(&nrm[1]) + moved).into();
            }),
            vec!["strategy 0, origin entry", "non-relapse deaths"],
        ),
        // The sum of squares too small for the sum (Cauchy–Schwarz).
        (
            "squares",
            Box::new(|v| {
                let t = tally(v);
                t["strategies"][1]["entry"]["lfs_time_sq"]["units"] = "1".into();
            }),
            vec![
                "restricted leukaemia-free time",
                "sum of squares of at least",
            ],
        ),
        // Paired survivors that do not match the survival counts (a landmark on the grid).
        (
            "paired",
            Box::new(|v| {
                let t = tally(v);
                let better = &mut t["strategies"][1]["paired_alive"][0][0];
                *better = (number(better) + 1).into();
            }),
            vec!["strategy 1, paired comparison", "at landmark 0"],
        ),
    ];
    for (name, change, says) in cases {
        let dir = t.join(name);
        copy_parts(&good, &dir);
        forge(&dir.join("part-2-of-4.json"), change);
        let mut expected = vec!["part-2-of-4.json", "run that shard again"];
        expected.extend(says);
        let stderr = refuses(&["merge", s(&dir), "--out", s(&out)], &expected);
        assert!(!out.exists(), "{name}: a refused merge wrote output");
        assert!(
            stderr.contains("block 0") || stderr.contains("patients 1000..1500"),
            "{name}: the block is not named:\n{stderr}"
        );
    }
    // The unforged parts still merge.
    ok(&["merge", s(&good), "--out", s(&out), "--quiet"]);
}

/// Rules that need the scenario are checked at merge time: a forged part whose counts are
/// consistent among themselves but not with the model (a death state's occupancy without
/// the deaths), or that drops the economic sums of a scenario that has them.
#[test]
fn forged_parts_that_break_the_scenarios_rules_are_refused_when_merged() {
    let (model, source) = fixture(400);
    let good = parts(&model, &source, 2);
    let forged = |change: &dyn Fn(&mut Part)| {
        let mut parts = good.clone();
        change(&mut parts[1].1);
        let (path, part) = &parts[1];
        let bytes = Part::new(&model, &source, part.shard(), part.blocks.clone()).to_bytes();
        // The reader accepts it (no scenario rule is broken without the scenario)...
        let read = Part::from_bytes(&bytes, path).unwrap();
        parts[1].1 = read;
        // ...the merge does not.
        merge(parts).unwrap_err().to_string()
    };
    // Swap the occupancy rows of a death state and the palliative state at every cell: every
    // count is still in range, but the dead no longer match the deaths.
    let e = forged(&|p| {
        let o = &mut p.blocks[0].tally.strategies[0].entry;
        let cells = o.deaths.len();
        let (palliative, death) = (5, 6);
        for c in 0..cells {
            o.occupancy.swap(palliative * cells + c, death * cells + c);
        }
        o.reached.swap(palliative, death);
    });
    assert!(
        e.contains("part-1-of-2.json")
            && e.contains("the death states hold")
            && e.contains("have died by then"),
        "{e}"
    );
    let (model, source) = economics_fixture(400);
    let good = parts(&model, &source, 2);
    let mut dropped = good.clone();
    let mut block = dropped[1].1.blocks[0].clone();
    block.tally.economics = None;
    dropped[1].1 = Part::new(&model, &source, dropped[1].1.shard(), vec![block]);
    let e = merge(dropped).unwrap_err().to_string();
    assert!(e.contains("economic sums"), "{e}");
    // Economic sums edited: a pair's differences no longer match the strategies' sums.
    let mut block = good[0].1.blocks[0].clone();
    let economics = block.tally.economics.as_mut().unwrap();
    economics.strategies[1].cost_discounted.sum.add(1.0);
    let bytes = Part::new(&model, &source, good[0].1.shard(), vec![block]).to_bytes();
    let e = Part::from_bytes(&bytes, Path::new("part-0-of-2.json"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("part-0-of-2.json")
            && e.contains("block 0")
            && e.contains("strategies 0 − 1, economics, cost differences")
            && e.contains("run that shard again"),
        "{e}"
    );
    assert!(merge(good).is_ok());
}

/// Counters that pass every per-part rule can still not wrap when added: the merge adds
/// with checked arithmetic.
#[test]
fn merging_never_wraps_a_counter() {
    let (model, _) = fixture(100);
    let tally = simulate(&model, &Control::default()).unwrap();
    let mut big = tally.clone();
    big.events = u64::MAX - 1;
    let e = big.checked_merge(&tally).unwrap_err();
    assert_eq!(e.place, "events");
    let mut big = tally.clone();
    big.strategies[2].entry.os_time.units = i128::MAX;
    let e = big.checked_merge(&tally).unwrap_err().to_string();
    assert!(
        e.contains("strategy 2, origin entry") && e.contains("overflows"),
        "{e}"
    );
    let mut big = tally.clone();
    big.strategies[0].hsct2.occupancy[0] = i64::MIN;
    let mut negative = tally.clone();
    negative.strategies[0].hsct2.occupancy[0] = -1;
    assert!(big.checked_merge(&negative).is_err());
}

/// PSA parts (no checksum): a draw edited into something no analysis produces is refused
/// when read or merged, naming the file and the draw, with the fix; so is a version 2 part,
/// whose means may leave lives out.
#[test]
fn forged_or_old_psa_parts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let cea = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/donor_policy_cea.toml"
    );
    let good = t.join("good");
    for k in 0..2 {
        let shard = format!("{k}/2");
        ok(&[
            "psa",
            cea,
            "--draws",
            "4",
            "--patients",
            "200",
            "--shard",
            &shard,
            "--out",
            s(&good),
            "--quiet",
        ]);
    }
    let out = t.join("out");
    let merge_refuses = |dir: &Path, says: &[&str]| {
        refuses(&["merge", s(dir), "--out", s(&out)], says);
        assert!(!out.exists(), "a refused merge wrote output");
    };
    type Forgery = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Forgery, Vec<&str>)> = vec![
        (
            "negative_life_years",
            Box::new(|v| v["outcomes"][1]["means"][2][2] = (-1.0).into()),
            vec!["draw 4, strategy 2", "0 ≤ discounted ≤ undiscounted"],
        ),
        (
            "missing_strategy",
            Box::new(|v| {
                v["outcomes"][1]["means"].as_array_mut().unwrap().pop();
            }),
            vec!["draw 4 has", "means of 3 strategies", "where draw 3 has"],
        ),
        (
            "beyond_the_horizon",
            Box::new(|v| {
                v["outcomes"][0]["means"][1][5] = 1e6.into();
                v["outcomes"][0]["means"][1][2] = 1e6.into();
            }),
            vec![
                "draw 3, strategy 1",
                "beyond the horizon",
                "do not fit its scenario",
            ],
        ),
        (
            "draws_out_of_order",
            Box::new(|v| v["outcomes"][1]["draw"] = 7.into()),
            vec!["should hold draws 3–4"],
        ),
        // Header numbers that sized allocations: 10^18 draws made the merge panic ("capacity
        // overflow", exit 101), 10^18 shards likewise.
        (
            "draws_huge",
            Box::new(|v| v["draws"] = 1_000_000_000_000_000_000u64.into()),
            vec!["claims 1000000000000000000 draws"],
        ),
        (
            "shards_huge",
            Box::new(|v| v["shards"] = 1_000_000_000_000_000_000u64.into()),
            vec!["claims to be shard 1 of 1000000000000000000"],
        ),
        (
            "version_2",
            Box::new(|v| {
                v["format_version"] = 2.into();
                for o in v["outcomes"].as_array_mut().unwrap() {
                    o["overflows"] = 0.into();
                }
            }),
            vec![
                "PSA part format version 2",
                "reads version 3",
                "run the shards again",
            ],
        ),
    ];
    for (name, change, says) in cases {
        let dir = t.join(name);
        copy_parts(&good, &dir);
        edit(&dir.join("psa-part-1-of-2.json"), change);
        let mut expected = vec!["psa-part-1-of-2.json"];
        expected.extend(says);
        if name != "version_2" {
            expected.push("run that shard again");
        }
        merge_refuses(&dir, &expected);
    }
    ok(&["merge", s(&good), "--out", s(&out), "--quiet"]);
}
