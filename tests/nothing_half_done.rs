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

fn reference() -> String {
    format!(
        "{}/scenarios/reference_markov.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

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
