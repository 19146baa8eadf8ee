//! Nothing lost, nothing half-done: Ctrl-C and SIGTERM stop a run promptly and leave nothing
//! that looks complete; a full disk or a folder that cannot be written is reported, with
//! nothing left behind; an existing result survives an interrupted `--force` run.
//!
//! Signals and mounts are Unix matters; the tests that need a private mount namespace (root
//! and `unshare`) say so and skip elsewhere.
#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hsctsim");

use crate::common::reference;

/// Files and folders in `dir`, hidden ones included, sorted.
/// Every file under `dir` (figures/ included) with its bytes, by relative path.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until `ready` holds (or the process exits, or 30 s pass).
fn wait_until(child: &mut Child, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Threads of a running process (Linux), to know that its workers have started.
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// Sends `signal` and waits for the exit; returns (exit code, stderr, seconds to exit).
fn interrupt(mut child: Child, signal: &str) -> (Option<i32>, String, f64) {
    let sent = Instant::now();
    // The shell's own `kill` (a builtin in every POSIX shell; procps may be missing).
    let status = Command::new("sh")
        .args(["-c", &format!("kill {signal} {}", child.id())])
        .status()
        .expect("a POSIX shell");
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if sent.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still running 30 s after {signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let seconds = sent.elapsed().as_secs_f64();
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (exit.code(), stderr, seconds)
}

/// A run of a billion patients (hours): only a signal ends it.
fn endless(dir: &Path, extra: &[&str]) -> Child {
    let scenario = reference();
    let out = dir.join("out");
    let mut args = vec![
        "run",
        scenario.as_str(),
        "--patients",
        "1000000000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend(extra);
    Command::new(BIN)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn ctrl_c_stops_the_workers_promptly_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("patients.csv");
    let mut child = endless(tmp.path(), &["--export-patients", export.to_str().unwrap()]);
    // The export's temporary file fills as soon as patients are simulated.
    let dir = tmp.path().to_path_buf();
    wait_until(&mut child, || {
        listing(&dir)
            .iter()
            .any(|n| n.starts_with(".patients.csv.partial"))
            && std::fs::metadata(
                dir.join(
                    listing(&dir)
                        .into_iter()
                        .find(|n| n.starts_with(".patients.csv.partial"))
                        .unwrap_or_default(),
                ),
            )
            .is_ok_and(|m| m.len() > 1_000_000)
    });
    let (code, stderr, seconds) = interrupt(child, "-INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted by SIGINT") && stderr.contains("of 1000000000 patients"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(seconds < 5.0, "took {seconds:.2} s to stop");
    assert_eq!(
        listing(tmp.path()),
        Vec::<String>::new(),
        "left behind: {stderr}"
    );
}

#[test]
fn sigterm_from_a_scheduler_stops_a_shard_and_writes_no_part() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = endless(tmp.path(), &["--shard", "0/2"]);
    let pid = child.id();
    wait_until(&mut child, || threads(pid) > 1);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr, seconds) = interrupt(child, "-TERM");
    assert_eq!(code, Some(143), "{stderr}");
    assert!(
        stderr.contains("interrupted by SIGTERM") && stderr.contains("of 500000000 patients"),
        "{stderr}"
    );
    assert!(seconds < 5.0, "took {seconds:.2} s to stop");
    assert_eq!(listing(tmp.path()), Vec::<String>::new());
}

#[test]
fn an_interrupted_forced_run_keeps_the_old_result() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let first = Command::new(BIN)
        .args([
            "run",
            &reference(),
            "--patients",
            "5000",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(first.status.success());
    let before = contents(&out);
    let mut child = endless(tmp.path(), &["--force"]);
    let pid = child.id();
    wait_until(&mut child, || threads(pid) > 1);
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr, _) = interrupt(child, "-INT");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("was left as it was"), "{stderr}");
    let after = contents(&out);
    assert_eq!(before, after, "the old result changed");
    assert_eq!(listing(tmp.path()), ["out"]);
}

/// Runs `hsctsim ARGS` in a private mount namespace with a tmpfs of `size` (e.g. "64k",
/// or "ro" for read-only) mounted on `mount`; returns (exit code, stderr, what the tmpfs
/// held afterwards), or `None` with the reason when this machine cannot do that.
fn in_small_filesystem(
    mount: &Path,
    options: &str,
    args: &[String],
) -> Option<(i32, String, Vec<String>)> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        eprintln!("skipped: mounting a small file system needs root");
        return None;
    }
    std::fs::create_dir_all(mount).unwrap();
    // The mount lives only in this process's namespace and disappears with it.
    let script = r#"mount -t tmpfs -o "$1" tmpfs "$2" || exit 97
shift 2
"$@"
code=$?
echo "--- left:" >&2
ls -A "$MOUNTED" >&2
exit $code"#;
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            options,
        ])
        .arg(mount)
        .arg(BIN)
        .args(args)
        .env("MOUNTED", mount)
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run unshare: {e}");
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    if code == 97 || !stderr.contains("--- left:") {
        eprintln!("skipped: no private tmpfs here: {stderr}");
        return None;
    }
    let (message, left) = stderr.split_once("--- left:").unwrap();
    let left = left.split_whitespace().map(str::to_string).collect();
    Some((code, message.to_string(), left))
}

#[test]
fn a_full_disk_under_the_export_is_reported_and_nothing_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    let out = tmp.path().join("out");
    let args: Vec<String> = [
        "run",
        &reference(),
        "--patients",
        "20000",
        "--out",
        out.to_str().unwrap(),
        "--export-patients",
        small.join("patients.csv").to_str().unwrap(),
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let Some((code, stderr, left)) = in_small_filesystem(&small, "size=256k", &args) else {
        return;
    };
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("No space left on device") && stderr.contains("patients.csv"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(left.is_empty(), "left on the full disk: {left:?}");
    assert!(!out.exists(), "an output folder was written");
}

#[test]
fn a_full_disk_under_the_output_folder_is_reported_and_nothing_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    let args: Vec<String> = [
        "run",
        &reference(),
        "--patients",
        "2000",
        "--out",
        small.join("out").to_str().unwrap(),
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let Some((code, stderr, left)) = in_small_filesystem(&small, "size=32k", &args) else {
        return;
    };
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(left.is_empty(), "left on the full disk: {left:?}");
}

#[test]
fn a_folder_that_cannot_be_written_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("locked");
    let args: Vec<String> = [
        "run",
        &reference(),
        "--patients",
        "2000",
        "--out",
        locked.join("out").to_str().unwrap(),
        "--export-patients",
        locked.join("patients.csv").to_str().unwrap(),
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // As root, permissions do not stop writes: use a read-only mount instead.
    let (code, stderr) = match in_small_filesystem(&locked, "ro", &args) {
        Some((code, stderr, _)) => (code, stderr),
        None => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::create_dir_all(&locked).unwrap();
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
            let out = Command::new(BIN).args(&args).output().unwrap();
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
            if out.status.success() {
                eprintln!("skipped: this user can write a read-only folder");
                return;
            }
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Read-only file system") || stderr.contains("Permission denied"),
        "{stderr}"
    );
    assert!(stderr.contains("locked"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Paths the user did not name (issue 13, items 6–9, 12–14): every destination is planned
// against the inputs, the other destinations and what is there before anything runs; only a
// previous output of ours is ever replaced; what loses a race or fails leaves nothing.

use crate::common::hsctsim;

/// Hidden files (staging names) left in `dir`.
fn hidden(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// A small scenario file named `name` (text of `[scenario] name = …` given raw) in `dir`.
fn scenario_named(dir: &Path, file: &str, name_line: &str) -> std::path::PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "[scenario]\nextends = \"{}\"\n{name_line}\n[simulation]\npatients = 2000\n",
            reference()
        ),
    )
    .unwrap();
    path
}

/// A folder that is nobody's output, with a file in it that must survive.
fn precious(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "precious").unwrap();
    dir.to_path_buf()
}

#[test]
fn a_scenario_name_is_one_file_name_never_a_path() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = precious(&tmp.path().join("victim"));
    let cwd = tmp.path().join("work");
    precious(&cwd.join("output").join("other_result"));
    let cea = format!(
        "{}/scenarios/donor_policy_cea.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let names = [
        format!("name = \"{}\"", victim.display()),
        "name = \"\"".to_string(),
        "name = \"../../x\"".to_string(),
        "name = \"..\"".to_string(),
        format!("name = \"{}\"", "n".repeat(300)),
        "name = \"red\\u001b[31mtext\"".to_string(),
    ];
    for name_line in &names {
        let file = scenario_named(&cwd, "s.toml", name_line);
        let psa_file = cwd.join("p.toml");
        std::fs::write(
            &psa_file,
            format!("[scenario]\nextends = \"{cea}\"\n{name_line}\n"),
        )
        .unwrap();
        let file = file.to_str().unwrap();
        let psa_file = psa_file.to_str().unwrap();
        for args in [
            vec!["run", file, "--force", "--quiet"],
            vec!["run", file, "--shard", "0/2", "--force", "--quiet"],
            vec!["validate", file],
            vec![
                "psa",
                psa_file,
                "--draws",
                "2",
                "--patients",
                "100",
                "--force",
                "-q",
            ],
            vec!["owsa", psa_file, "--patients", "100", "--force", "-q"],
        ] {
            let out = Command::new(BIN)
                .args(&args)
                .current_dir(&cwd)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?} with {name_line}: {stderr}"
            );
            assert!(
                stderr.contains("scenario name") && stderr.contains("s.toml:3")
                    || stderr.contains("p.toml:3"),
                "{args:?} with {name_line}: the message names the file and line: {stderr}"
            );
            assert!(stderr.contains("help:"), "{stderr}");
            assert!(
                !out.stderr.contains(&0x1b),
                "an escape reached the terminal"
            );
        }
        assert_eq!(listing(&victim), ["keep.txt"]);
        assert_eq!(listing(&cwd.join("output")), ["other_result"]);
        assert_eq!(listing(&cwd.join("output/other_result")), ["keep.txt"]);
        assert!(!cwd.join("parts").exists() && !tmp.path().join("x").exists());
    }
    // A file whose name is not a safe name runs under a safe version of it.
    let odd = scenario_named(&cwd, "my study.toml", "");
    let out = Command::new(BIN)
        .args(["run", odd.to_str().unwrap(), "--quiet", "--no-figures"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(cwd.join("output/my_study/manifest.json").is_file());
}

#[test]
fn an_output_is_never_one_of_its_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = scenario_named(tmp.path(), "s.toml", "name = \"s\"");
    let text = std::fs::read(&scenario).unwrap();
    let s = scenario.to_str().unwrap();
    let (code, _, err) = hsctsim(&["run", s, "--out", s, "--force", "--quiet"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is the scenario file itself"), "{err}");
    // A previous result folder that holds the scenario: replacing it would delete it.
    let previous = tmp.path().join("previous");
    let (code, _, err) = hsctsim(&["run", s, "--out", previous.to_str().unwrap(), "-q"]);
    assert_eq!(code, 0, "{err}");
    let inside = previous.join("s.toml");
    std::fs::write(&inside, &text).unwrap();
    let (code, _, err) = hsctsim(&[
        "run",
        inside.to_str().unwrap(),
        "--out",
        previous.to_str().unwrap(),
        "--force",
        "-q",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("would delete"), "{err}");
    assert_eq!(std::fs::read(&inside).unwrap(), text);
    // Merging parts into their own folder would delete them.
    let parts = tmp.path().join("parts");
    for k in 0..2 {
        let shard = format!("{k}/2");
        let (code, _, err) = hsctsim(&[
            "run",
            s,
            "--shard",
            &shard,
            "--out",
            parts.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let before = listing(&parts);
    let p = parts.to_str().unwrap();
    let (code, _, err) = hsctsim(&["merge", p, "--out", p, "--force", "-q"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(listing(&parts), before);
    assert_eq!(std::fs::read(&scenario).unwrap(), text);
    assert_eq!(hidden(tmp.path()), Vec::<String>::new());
}

#[test]
fn force_replaces_only_a_previous_output_of_ours() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = scenario_named(tmp.path(), "s.toml", "name = \"s\"");
    let s = scenario.to_str().unwrap();
    let photos = precious(&tmp.path().join("photos"));
    let (code, _, err) = hsctsim(&["run", s, "--out", photos.to_str().unwrap(), "--force", "-q"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is never replaced"), "{err}");
    assert_eq!(listing(&photos), ["keep.txt"]);
    // A CSV of the user's where the export would go.
    let csv = tmp.path().join("mine.csv");
    std::fs::write(&csv, "id,value\n1,2\n").unwrap();
    let out = tmp.path().join("out");
    let (code, _, err) = hsctsim(&[
        "run",
        s,
        "--out",
        out.to_str().unwrap(),
        "--export-patients",
        csv.to_str().unwrap(),
        "--force",
        "-q",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "id,value\n1,2\n");
    assert!(!out.exists());
    // A file in a part's place that is not a part.
    let parts = precious(&tmp.path().join("parts"));
    std::fs::write(parts.join("part-0-of-2.json"), "notes").unwrap();
    let (code, _, err) = hsctsim(&[
        "run",
        s,
        "--shard",
        "0/2",
        "--out",
        parts.to_str().unwrap(),
        "--force",
        "-q",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        std::fs::read_to_string(parts.join("part-0-of-2.json")).unwrap(),
        "notes"
    );
    // Our own previous results are replaced when asked, and only then.
    for (args, again) in [
        (vec!["--out", out.to_str().unwrap()], true),
        (
            vec![
                "--out",
                out.to_str().unwrap(),
                "--export-patients",
                tmp.path().join("p.csv").to_str().unwrap(),
            ],
            true,
        ),
    ] {
        let mut first = vec!["run", s, "-q", "--no-figures", "--force"];
        first.extend(&args);
        assert_eq!(hsctsim(&first).0, 0);
        if again {
            let mut second = vec!["run", s, "-q", "--no-figures"];
            second.extend(&args);
            let (code, _, err) = hsctsim(&second);
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("--force"), "{err}");
        }
    }
    assert_eq!(hidden(tmp.path()), Vec::<String>::new());
}

#[test]
fn destinations_that_cannot_be_written_whole_are_refused_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = scenario_named(tmp.path(), "s.toml", "name = \"s\"");
    let s = scenario.to_str().unwrap();
    let o = tmp.path().join("o");
    let o_str = o.to_str().unwrap();
    let inside = o.join("p.csv");
    let dangling = tmp.path().join("dangling");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--out",
                o_str,
                "--export-patients",
                inside.to_str().unwrap(),
            ],
            "inside the output folder",
        ),
        (
            vec!["--out", o_str, "--export-patients", o_str],
            "is also the output folder",
        ),
        (vec!["--out", dangling.to_str().unwrap()], "symbolic link"),
        (vec!["--out", "."], "names no new file or folder"),
        (vec!["--out", "/"], "names no new file or folder"),
    ];
    for (extra, says) in cases {
        for force in [false, true] {
            let mut args = vec!["run", s, "-q", "--patients", "1000000000"];
            args.extend(&extra);
            if force {
                args.push("--force");
            }
            let started = Instant::now();
            let (code, _, err) = hsctsim(&args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: expected {says:?} in {err}");
            // Refused before a billion patients were simulated.
            assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
        }
    }
    assert!(!o.exists());
    assert_eq!(hidden(tmp.path()), Vec::<String>::new());
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A name too long for the file system, refused before simulating.
    let long = tmp.path().join("l".repeat(240));
    let (code, _, err) = hsctsim(&["run", s, "-q", "--out", long.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("limited to"), "{err}");
}

#[test]
fn two_runs_racing_into_one_folder_end_in_one_result_and_one_refusal() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = scenario_named(tmp.path(), "s.toml", "name = \"s\"");
    let s = scenario.to_str().unwrap().to_string();
    for pair in 0..30 {
        let out = tmp.path().join(format!("race{pair}"));
        let spawn = || {
            Command::new(BIN)
                .args(["run", &s, "--patients", "20000", "--quiet", "--out"])
                .arg(&out)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let codes: Vec<(Option<i32>, String)> = [a, b]
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                (
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr).into_owned(),
                )
            })
            .collect();
        let mut exits: Vec<Option<i32>> = codes.iter().map(|(c, _)| *c).collect();
        exits.sort();
        assert_eq!(exits, [Some(0), Some(2)], "pair {pair}: {codes:?}");
        assert!(out.join("manifest.json").is_file() && out.join("figures").is_dir());
    }
    assert_eq!(hidden(tmp.path()), Vec::<String>::new());
}

#[test]
fn ctrl_c_while_the_outputs_are_written_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("analysis");
    let cea = format!(
        "{}/scenarios/donor_policy_cea.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    // A PSA stages its tables, then draws its figures from them (a few hundred
    // milliseconds): Ctrl-C while the staged folder exists is Ctrl-C while outputs are
    // written. The commit may still win the race with the signal now and then; five times
    // in a row would mean the signal is ignored.
    let mut interrupted = false;
    for _ in 0..5 {
        let mut child = Command::new(BIN)
            .args([
                "psa",
                &cea,
                "--draws",
                "40",
                "--patients",
                "200",
                "--quiet",
                "--force",
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        wait_until(&mut child, || {
            listing(&dir)
                .iter()
                .any(|n| n.starts_with(".analysis.partial"))
        });
        let (code, stderr, _) = interrupt(child, "-INT");
        assert_eq!(hidden(tmp.path()), Vec::<String>::new());
        if code == Some(0) {
            // The commit came first: then the result is whole.
            assert!(out.join("manifest.json").is_file() && out.join("figures").is_dir());
            std::fs::remove_dir_all(&out).unwrap();
            continue;
        }
        assert_eq!(code, Some(130), "{stderr}");
        assert!(stderr.contains("nothing was written"), "{stderr}");
        assert!(!out.exists());
        interrupted = true;
        break;
    }
    assert!(interrupted, "Ctrl-C while writing was ignored five times");
}

#[test]
fn pipes_devices_and_huge_counts_never_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let parts = tmp.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let part_fifo = parts.join("part-0-of-1.json");
    assert!(
        Command::new("mkfifo")
            .arg(&part_fifo)
            .status()
            .unwrap()
            .success()
    );
    let scenario = reference();
    for (args, says) in [
        (vec!["validate", fifo.to_str().unwrap()], "named pipe"),
        (vec!["validate", "/dev/zero"], "character device"),
        (vec!["run", "/dev/zero", "-q"], "character device"),
        (vec!["merge", parts.to_str().unwrap(), "-q"], "named pipe"),
        (
            vec![
                "bench",
                scenario.as_str(),
                "--repeat",
                "18446744073709551615",
            ],
            "--repeat",
        ),
    ] {
        let started = Instant::now();
        let (code, _, err) = hsctsim(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: expected {says:?} in {err}");
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?}");
    }
}

#[test]
fn a_reader_that_goes_away_is_no_crash() {
    use std::io::Read;
    for args in [
        vec!["models", "--show", "hsct-review"],
        vec!["models"],
        vec!["validate", &reference()],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the pipe, as `| head -c 1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        let _ = stdout.read(&mut one);
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A full disk behind standard output is a failure, said as such.
    if Path::new("/dev/full").exists() {
        let out = Command::new(BIN)
            .args(["models", "--show", "hsct-review"])
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("standard output"), "{stderr}");
    }
}

/// A scenario of the built-in model with `n` strategies (each `extra` added to its table)
/// and `more` appended, written to `dir/file`.
fn many_strategies(
    dir: &Path,
    file: &str,
    n: usize,
    extra: &str,
    more: &str,
) -> std::path::PathBuf {
    let mut text = String::from(
        "[scenario]\nmodel = \"hsct-review\"\nname = \"many\"\n[simulation]\npatients = 300\nseed = 5\n",
    );
    text.push_str(more);
    for i in 0..n {
        text.push_str(&format!("\n[[strategies]]\nname = \"s{i}\"\n{extra}\n"));
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn sizes_beyond_their_bounds_are_refused_when_loaded_with_the_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "x".repeat(1 << 20);
    let cases: Vec<(std::path::PathBuf, &str, &str)> = vec![
        (
            many_strategies(tmp.path(), "a.toml", 1001, "", ""),
            "1001 strategies; at most 1000",
            "a.toml:",
        ),
        (
            many_strategies(tmp.path(), "b.toml", 2, &format!("label = \"{long}\""), ""),
            "longer than 200 characters",
            "b.toml:",
        ),
        (
            std::fs::write(
                tmp.path().join("d.toml"),
                format!(
                    "[scenario]\nmodel = \"hsct-review\"\n\n[[strategies]]\nname = \"{}\"\n",
                    "n".repeat(300)
                ),
            )
            .map(|_| tmp.path().join("d.toml"))
            .unwrap(),
            "longer than 64 characters",
            "d.toml:",
        ),
        (
            many_strategies(tmp.path(), "e.toml", 200, "", "grid = \"0.02m\"\n"),
            "curve values; the limit is 5000000",
            "e.toml:",
        ),
        (
            many_strategies(
                tmp.path(),
                "f.toml",
                1,
                "",
                &format!(
                    "landmarks = [{}]\n",
                    (1..=101)
                        .map(|m| format!("\"{}m\"", m % 60 + 1))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            "101 landmarks; at most 100",
            "f.toml:",
        ),
    ];
    for (path, says, located) in cases {
        let out = tmp.path().join("out");
        let (code, _, err) = hsctsim(&[
            "run",
            path.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{}: {err}", path.display());
        assert!(
            err.contains(says),
            "{}: expected {says:?} in {err}",
            path.display()
        );
        assert!(
            err.contains(located),
            "{}: not located: {err}",
            path.display()
        );
        assert!(err.contains("help:"), "{}: no fix: {err}", path.display());
        assert!(
            err.len() < 4000,
            "{}: the message quotes the whole input",
            path.display()
        );
        assert!(!out.exists(), "{}: something was written", path.display());
        let (code, _, _) = hsctsim(&["validate", path.to_str().unwrap()]);
        assert_eq!(code, 2, "validate accepts {}", path.display());
    }
}

#[test]
fn a_figure_that_cannot_be_laid_out_is_replaced_by_a_note_and_the_rest_are_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    // 100 strategies: the occupancy figure (a panel per strategy) cannot fit; the curves can.
    let scenario = many_strategies(tmp.path(), "many.toml", 100, "", "");
    let out = tmp.path().join("out");
    let (code, _, err) = hsctsim(&[
        "run",
        scenario.to_str().unwrap(),
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for data in ["curves.csv", "summary.csv", "manifest.json"] {
        assert!(out.join(data).is_file(), "{data} missing");
    }
    let figures = listing(&out.join("figures"));
    assert!(figures.contains(&"os_entry.svg".to_string()), "{figures:?}");
    assert!(figures.contains(&"os_entry.png".to_string()), "{figures:?}");
    assert!(
        figures.contains(&"occupancy_entry.omitted.txt".to_string()),
        "{figures:?}"
    );
    assert!(
        !figures
            .iter()
            .any(|f| f.starts_with("occupancy_entry.") && !f.ends_with(".omitted.txt")),
        "{figures:?}"
    );
    let note = std::fs::read_to_string(out.join("figures/occupancy_entry.omitted.txt")).unwrap();
    assert!(note.contains("100 panels"), "{note}");
    assert!(
        err.contains("warning: occupancy_entry was not drawn"),
        "{err}"
    );
    // A run command has no --width or --strategies: its messages never name them.
    assert!(
        !err.contains("--width") && !err.contains("--height") && !err.contains("--strategies"),
        "{err}"
    );
    // `plot`, asked for that figure, refuses with the fix (exit 2) and leaves the note.
    let (code, _, err) = hsctsim(&["plot", out.to_str().unwrap(), "--measure", "occupancy"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn plot_reads_only_regular_files_of_a_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, err) = hsctsim(&[
        "run",
        &reference(),
        "-q",
        "-n",
        "500",
        "--no-figures",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(out.join("curves.csv")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(out.join("curves.csv"))
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let (code, _, err) = hsctsim(&["plot", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("named pipe"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
