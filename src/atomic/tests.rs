use super::*;

const EXPORT: Signature = Signature::FileStartingWith("patient,strategy,");

fn ours(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("manifest.json"),
        "{\n  \"program\": \"hsctsim\",\n  \"version\": \"0\"\n}\n",
    )
    .unwrap();
}

fn folder(dir: &Path, replace: bool) -> Plan {
    let mut plan = Plan::new(replace);
    plan.output(
        dir,
        Kind::Folder(Signature::ManifestFolder),
        "the output folder",
    );
    plan
}

fn hidden_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn an_output_is_never_an_input_nor_contains_one() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    fs::write(&scenario, "x").unwrap();
    let mut plan = folder(&scenario, true);
    plan.input(&scenario, "the scenario file");
    let e = plan.check().unwrap_err();
    assert!(
        matches!(e, DestinationError::Overlap { .. }) && e.to_string().contains("itself"),
        "{e}"
    );
    // The folder holding the scenario (reached through `..`), replaced with force.
    let previous = tmp.path().join("previous");
    ours(&previous);
    let inside = previous.join("s.toml");
    fs::write(&inside, "x").unwrap();
    let mut plan = folder(&tmp.path().join("sub/../previous"), true);
    plan.input(&inside, "the scenario file");
    let e = plan.check().unwrap_err();
    assert!(e.to_string().contains("would delete"), "{e}");
    // A file destination equal to an input (the export over the scenario).
    let mut plan = Plan::new(true);
    plan.input(&scenario, "the scenario file");
    plan.output(&scenario, Kind::File(EXPORT), "the patient export");
    assert!(plan.check().unwrap_err().to_string().contains("itself"));
}

#[test]
fn destinations_may_not_overlap_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let mut plan = folder(&out, false);
    plan.output(&out.join("p.csv"), Kind::File(EXPORT), "the patient export");
    let e = plan.check().unwrap_err();
    assert!(e.to_string().contains("inside the output folder"), "{e}");
    let mut plan = folder(&out, false);
    plan.output(&out, Kind::File(EXPORT), "the patient export");
    assert!(plan.check().unwrap_err().to_string().contains("is also"));
    // A part file inside its collection is what a collection is for.
    let mut plan = Plan::new(false);
    plan.output(&out, Kind::Collection, "the parts folder");
    plan.output(
        &out.join("part-0-of-2.json"),
        Kind::File(EXPORT),
        "the part file",
    );
    plan.check().unwrap();
}

#[test]
fn replacing_is_only_of_our_own_outputs_and_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let stranger = tmp.path().join("photos");
    fs::create_dir(&stranger).unwrap();
    fs::write(stranger.join("a.jpg"), "x").unwrap();
    let e = folder(&stranger, true).check().unwrap_err();
    assert!(matches!(e, DestinationError::NotOurs { .. }), "{e}");
    let e = folder(&stranger, false).check().unwrap_err();
    assert!(e.replaceable(), "{e}");
    let previous = tmp.path().join("run");
    ours(&previous);
    folder(&previous, true).check().unwrap();
    assert!(folder(&previous, false).check().unwrap_err().replaceable());
    // A file where a folder goes, a folder where a file goes.
    let file = tmp.path().join("notes.txt");
    fs::write(&file, "mine").unwrap();
    let e = folder(&file, true).check().unwrap_err();
    assert!(e.to_string().contains("is a file, not a folder"), "{e}");
    let mut plan = Plan::new(true);
    plan.output(&file, Kind::File(EXPORT), "the patient export");
    assert!(matches!(
        plan.check().unwrap_err(),
        DestinationError::NotOurs { .. }
    ));
    fs::write(&file, "patient,strategy,from\n").unwrap();
    plan.check().unwrap();
}

#[test]
fn names_that_are_not_names_and_links_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [".", "..", "a/..", "/"] {
        let e = folder(Path::new(bad), true).check().unwrap_err();
        assert!(matches!(e, DestinationError::BadPath { .. }), "{bad}: {e}");
    }
    let cwd = std::env::current_dir().unwrap();
    let e = folder(&cwd, true).check().unwrap_err();
    assert!(e.to_string().contains("current folder"), "{e}");
    let e = folder(cwd.parent().unwrap(), true).check().unwrap_err();
    assert!(e.to_string().contains("contains the current folder"), "{e}");
    let long = tmp.path().join("x".repeat(MAX_NAME_BYTES + 1));
    assert!(
        folder(&long, false)
            .check()
            .unwrap_err()
            .to_string()
            .contains("limited")
    );
    let file = tmp.path().join("f");
    fs::write(&file, "").unwrap();
    let e = folder(&file.join("out"), false).check().unwrap_err();
    assert!(e.to_string().contains("is a file, not a folder"), "{e}");
    #[cfg(unix)]
    {
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
        let e = folder(&dangling, true).check().unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }
}

#[test]
fn commit_puts_everything_in_place_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let export = tmp.path().join("p.csv");
    let mut f = StagedFolder::create(&out, Signature::ManifestFolder, false).unwrap();
    f.write("manifest.json", b"{\"program\": \"hsctsim\"}")
        .unwrap();
    f.write("figures/a.svg", b"<svg/>").unwrap();
    let mut e = StagedFile::create(&export, Some(EXPORT), false).unwrap();
    e.write(b"patient,strategy,\n").unwrap();
    e.finish().unwrap();
    // Someone takes the folder's place in the meantime: nothing goes in, nothing stays.
    fs::create_dir(&out).unwrap();
    fs::write(out.join("theirs"), "x").unwrap();
    let err = commit(&mut [e.stage(), f.stage()], None).unwrap_err();
    assert!(matches!(err, WriteError::Taken { .. }), "{err}");
    assert!(!export.exists(), "the export was put back");
    drop((f, e));
    assert_eq!(hidden_entries(tmp.path()), Vec::<String>::new());
    assert!(out.join("theirs").exists());
    // Folders made for a destination that never came go again.
    let deep = tmp.path().join("a/b/c/export.csv");
    let staged = StagedFile::create(&deep, Some(EXPORT), false).unwrap();
    assert!(tmp.path().join("a/b/c").is_dir());
    drop(staged);
    assert!(!tmp.path().join("a").exists());
}

#[test]
fn two_writers_of_one_destination_end_in_one_result_and_one_refusal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut a = StagedFolder::create(&out, Signature::ManifestFolder, false).unwrap();
    let mut b = StagedFolder::create(&out, Signature::ManifestFolder, false).unwrap();
    a.write("manifest.json", b"{\"program\": \"hsctsim\", \"n\": 1}")
        .unwrap();
    b.write("manifest.json", b"{\"program\": \"hsctsim\", \"n\": 2}")
        .unwrap();
    commit(&mut [a.stage()], None).unwrap();
    let err = commit(&mut [b.stage()], None).unwrap_err();
    assert!(matches!(err, WriteError::Taken { .. }), "{err}");
    drop((a, b));
    assert_eq!(
        fs::read_to_string(out.join("manifest.json")).unwrap(),
        "{\"program\": \"hsctsim\", \"n\": 1}"
    );
    assert_eq!(hidden_entries(tmp.path()), Vec::<String>::new());
}

#[test]
fn replacing_swaps_in_the_new_result_and_removes_the_old() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ours(&out);
    fs::write(out.join("old.csv"), "old").unwrap();
    let mut f = StagedFolder::create(&out, Signature::ManifestFolder, true).unwrap();
    f.write("manifest.json", b"{\"program\": \"hsctsim\"}")
        .unwrap();
    // Cancelled before the commit: the old result stays, the new one goes.
    let cancel = AtomicBool::new(true);
    let err = commit(&mut [f.stage()], Some(&cancel)).unwrap_err();
    assert!(matches!(err, WriteError::Cancelled));
    assert!(out.join("old.csv").exists());
    let leftovers = commit(&mut [f.stage()], None).unwrap();
    assert!(leftovers.is_empty());
    drop(f);
    assert!(!out.join("old.csv").exists());
    assert!(out.join("manifest.json").exists());
    assert_eq!(hidden_entries(tmp.path()), Vec::<String>::new());
}

#[test]
fn resolving_applies_dots_to_paths_that_do_not_exist_yet() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(tmp.path()).unwrap();
    assert_eq!(
        resolve(&tmp.path().join("a/b/../c")).unwrap(),
        base.join("a/c")
    );
    assert_eq!(
        resolve(&tmp.path().join("a/./c")).unwrap(),
        base.join("a/c")
    );
}
