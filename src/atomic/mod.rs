//! Outputs written whole or not at all, only where the user said, replacing only our own.
//!
//! Every command writes the same way, in three steps, so a failure at any point leaves
//! nothing that looks like a result and nothing of the user's lost:
//!
//! 1. **Plan** ([`Plan`]), before any simulation: each destination is checked against the
//!    inputs (an output may never be, or contain, one of the files it was computed from),
//!    against the other destinations (a patient export inside the output folder would be
//!    swept away when the folder is replaced), against the current folder, and against what
//!    is there now: nothing, or — only when replacing was asked for — a previous output of
//!    ours, recognised by its [`Signature`] (a folder with our `manifest.json`, a file that
//!    starts the way ours do). Never an arbitrary file or folder, never through a symbolic
//!    link, never a name that is not one (`.`, `..`, too long for the file system).
//! 2. **Stage** ([`StagedFolder`], [`StagedFile`]): files are written under a hidden name
//!    beside their destination (`.NAME.partial-PID-N`) and synced; a staged item that is
//!    dropped without being committed removes itself.
//! 3. **Commit** ([`commit`]): all staged items of one command go into place together. A
//!    destination that is still free is taken with a rename that refuses to replace
//!    (`renameat2(RENAME_NOREPLACE)` on Linux), so of two runs racing into one folder one
//!    wins and the other is refused with nothing left behind; one that holds our previous
//!    output is swapped with it atomically (`RENAME_EXCHANGE`), so the destination is never
//!    missing or half-written, and the old content is then removed. If any item cannot go
//!    into place, those already moved are moved back. A cancellation flag is checked before
//!    the first rename, so Ctrl-C while outputs are being written still writes nothing.
//!
//! Nothing here knows about command-line flags: errors say what is wrong and what would fix
//! it in general terms, and the caller may add how to ask for it.

mod rename;

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Longest final path component of an output, in bytes: the file system's 255 less the room
/// the hidden staging name needs (`.` + `.partial-PID-N`).
pub const MAX_NAME_BYTES: usize = 200;

/// How a previous output of ours is recognised, so that replacing one never replaces
/// anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// A folder holding a `manifest.json` written by hsctsim (`"program": "hsctsim"`).
    ManifestFolder,
    /// A file whose bytes start with this text (a CSV header, a JSON format marker).
    FileStartingWith(&'static str),
}

impl Signature {
    /// Whether what is at `path` (which exists) was written by us.
    pub fn matches(self, path: &Path) -> bool {
        match self {
            Signature::ManifestFolder => is_our_folder(path),
            Signature::FileStartingWith(prefix) => file_starts_with(path, prefix.as_bytes()),
        }
    }

    fn is_folder(self) -> bool {
        matches!(self, Signature::ManifestFolder)
    }
}

/// Whether `dir` is a folder (not a link) with a `manifest.json` that says hsctsim wrote it.
pub fn is_our_folder(dir: &Path) -> bool {
    let is_dir = fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    if !is_dir {
        return false;
    }
    let Ok(bytes) = crate::input::read_bounded(&dir.join("manifest.json"), 16 << 20) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("program")
                .and_then(|p| p.as_str())
                .map(|p| p == "hsctsim")
        })
        .unwrap_or(false)
}

fn file_starts_with(path: &Path, prefix: &[u8]) -> bool {
    let is_file = fs::symlink_metadata(path).is_ok_and(|m| m.is_file());
    if !is_file {
        return false;
    }
    let mut start = Vec::with_capacity(prefix.len());
    File::open(path)
        .and_then(|f| f.take(prefix.len() as u64).read_to_end(&mut start))
        .is_ok()
        && start == prefix
}

/// What a destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Written as a whole and replaced as a whole (a run's output folder).
    Folder(Signature),
    /// One file, replaced as a whole.
    File(Signature),
    /// A folder that collects files of several runs (the parts of a sharded run): created
    /// when missing, never replaced; the files in it are destinations of their own.
    Collection,
}

/// Why a destination may not be written; always the input's fault (exit 2 in the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// Something is there and replacing it was not asked for.
    #[error("{what} {path} already exists")]
    Exists {
        /// What the destination is for ("the output folder").
        what: String,
        /// Where.
        path: PathBuf,
    },
    /// Something is there that is not a previous output of ours: never replaced.
    #[error(
        "{what} {path} exists and is not {expected}; it is never replaced: remove it yourself if you mean to, or write elsewhere"
    )]
    NotOurs {
        /// What the destination is for.
        what: String,
        /// Where.
        path: PathBuf,
        /// What would have been replaceable ("an hsctsim output folder (one with its manifest.json)").
        expected: String,
    },
    /// The destination is, contains or lies inside something it may not.
    #[error("{what} {path} {problem}; write elsewhere")]
    Overlap {
        /// What the destination is for.
        what: String,
        /// Where.
        path: PathBuf,
        /// How it overlaps ("is the scenario file itself").
        problem: String,
    },
    /// The path cannot name a new file or folder.
    #[error("{what} {path}: {problem}")]
    BadPath {
        /// What the destination is for.
        what: String,
        /// Where.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

impl DestinationError {
    /// True when asking for replacement would resolve it (the CLI names its flag then).
    pub fn replaceable(&self) -> bool {
        matches!(self, DestinationError::Exists { .. })
    }
}

/// One destination of a plan.
#[derive(Debug, Clone)]
struct Destination {
    path: PathBuf,
    resolved: PathBuf,
    kind: Kind,
    what: String,
    replace: bool,
}

/// The inputs and destinations of one command, checked together before any work is done.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    force: bool,
    inputs: Vec<(PathBuf, String)>,
    destinations: Vec<Destination>,
}

impl Plan {
    /// A plan; `replace` allows replacing previous outputs of ours.
    pub fn new(replace: bool) -> Plan {
        Plan {
            force: replace,
            ..Plan::default()
        }
    }

    /// Whether replacing previous outputs was asked for.
    pub fn replaces(&self) -> bool {
        self.force
    }

    /// An input the command reads (`what`: "the scenario file").
    pub fn input(&mut self, path: &Path, what: impl Into<String>) -> &mut Plan {
        if let Ok(resolved) = resolve(path) {
            self.inputs.push((resolved, what.into()));
        }
        self
    }

    /// A destination, replaceable if the plan's `replace` says so.
    pub fn output(&mut self, path: &Path, kind: Kind, what: impl Into<String>) -> &mut Plan {
        let replace = self.force;
        self.output_replacing(path, kind, what, replace)
    }

    /// A destination with its own rule on replacing a previous output of ours (a part file
    /// of the same run may always be rewritten; its caller checks what "same" means).
    pub fn output_replacing(
        &mut self,
        path: &Path,
        kind: Kind,
        what: impl Into<String>,
        replace: bool,
    ) -> &mut Plan {
        let resolved = resolve(path).unwrap_or_else(|_| path.to_path_buf());
        self.destinations.push(Destination {
            path: path.to_path_buf(),
            resolved,
            kind,
            what: what.into(),
            replace,
        });
        self
    }

    /// Checks every destination; the first problem found is returned.
    pub fn check(&self) -> Result<(), DestinationError> {
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|d| fs::canonicalize(d).ok());
        for d in &self.destinations {
            self.check_one(d, cwd.as_deref())?;
        }
        for (i, a) in self.destinations.iter().enumerate() {
            for b in &self.destinations[i + 1..] {
                check_pair(a, b)?;
                check_pair(b, a)?;
            }
        }
        Ok(())
    }

    fn check_one(&self, d: &Destination, cwd: Option<&Path>) -> Result<(), DestinationError> {
        let bad = |problem: String| DestinationError::BadPath {
            what: d.what.clone(),
            path: d.path.clone(),
            problem,
        };
        let overlap = |problem: String| DestinationError::Overlap {
            what: d.what.clone(),
            path: d.path.clone(),
            problem,
        };
        let name = match d.path.components().next_back() {
            Some(Component::Normal(name)) => name.to_os_string(),
            _ => {
                return Err(bad(
                    "names no new file or folder (it ends in `.`, `..` or `/`); give a name, e.g. output/run1".into(),
                ));
            }
        };
        check_name(&name).map_err(bad)?;
        if let Some(cwd) = cwd
            && cwd.starts_with(&d.resolved)
        {
            return Err(overlap(if cwd == d.resolved {
                "is the current folder".into()
            } else {
                "contains the current folder".into()
            }));
        }
        for (input, what) in &self.inputs {
            if *input == d.resolved {
                return Err(overlap(format!("is {what} itself")));
            }
            if matches!(d.kind, Kind::Folder(_)) && input.starts_with(&d.resolved) {
                return Err(overlap(format!(
                    "contains {what} ({}), which writing the folder anew would delete",
                    input.display(),
                )));
            }
        }
        // Every ancestor that exists must be a folder.
        if let Some(file) = d
            .path
            .ancestors()
            .skip(1)
            .filter(|a| !a.as_os_str().is_empty())
            .find(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()))
        {
            return Err(bad(format!(
                "{} is a file, not a folder; choose a path whose folders are folders",
                file.display()
            )));
        }
        let meta = match fs::symlink_metadata(&d.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(bad(format!("cannot be examined: {e}"))),
        };
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&d.path)
                .map(|t| format!(" to {}", t.display()))
                .unwrap_or_default();
            return Err(bad(format!(
                "is a symbolic link{target}; outputs are never written through links: give the real path, or another one"
            )));
        }
        let expected = match d.kind {
            Kind::Collection => {
                return if meta.is_dir() {
                    Ok(())
                } else {
                    Err(bad(format!(
                        "is {}, not a folder; give a folder for the files",
                        crate::input::kind_of(&meta)
                    )))
                };
            }
            Kind::Folder(signature) | Kind::File(signature) => signature,
        };
        if expected.is_folder() != meta.is_dir() {
            return Err(bad(if meta.is_dir() {
                format!(
                    "is a folder; give the path of a file, e.g. {}",
                    d.path.join(name).display()
                )
            } else {
                format!(
                    "is {}, not a folder; give a folder's path",
                    crate::input::kind_of(&meta)
                )
            }));
        }
        if !d.replace {
            return Err(DestinationError::Exists {
                what: d.what.clone(),
                path: d.path.clone(),
            });
        }
        if !expected.matches(&d.path) {
            return Err(DestinationError::NotOurs {
                what: d.what.clone(),
                path: d.path.clone(),
                expected: describe(expected),
            });
        }
        Ok(())
    }
}

/// `b` must not be the same as `a`, nor inside `a` when `a` is written as a whole.
fn check_pair(a: &Destination, b: &Destination) -> Result<(), DestinationError> {
    if a.resolved == b.resolved {
        return Err(DestinationError::Overlap {
            what: b.what.clone(),
            path: b.path.clone(),
            problem: format!("is also {} ({})", a.what, a.path.display()),
        });
    }
    if matches!(a.kind, Kind::Folder(_)) && b.resolved.starts_with(&a.resolved) {
        return Err(DestinationError::Overlap {
            what: b.what.clone(),
            path: b.path.clone(),
            problem: format!(
                "is inside {} ({}), which is written as a whole",
                a.what,
                a.path.display()
            ),
        });
    }
    Ok(())
}

fn describe(signature: Signature) -> String {
    match signature {
        Signature::ManifestFolder => {
            "an output folder of hsctsim (one with the manifest.json hsctsim writes)".into()
        }
        Signature::FileStartingWith(prefix) => {
            let shown: String = prefix.chars().take(40).collect();
            format!(
                "a file hsctsim wrote (one that starts with `{}`)",
                shown.escape_debug()
            )
        }
    }
}

/// A final path component must fit the file system with room for its staging name.
fn check_name(name: &OsString) -> Result<(), String> {
    let bytes = name.as_encoded_bytes().len();
    if bytes > MAX_NAME_BYTES {
        return Err(format!(
            "the name is {bytes} bytes long; output names are limited to {MAX_NAME_BYTES} bytes: choose a shorter one"
        ));
    }
    Ok(())
}

/// The absolute path `path` refers to: links resolved in the part that exists, the rest
/// (which cannot hold links, not existing yet) appended with `.` and `..` applied.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    Ok(resolve_absolute(&absolute).unwrap_or_else(|| {
        // A `.` or `..` right after a part that does not exist: apply the dots to the
        // letters, then resolve what exists of the result (which has no dots left).
        let mut lexical = PathBuf::new();
        for c in absolute.components() {
            match c {
                Component::ParentDir => {
                    lexical.pop();
                }
                Component::CurDir => {}
                other => lexical.push(other),
            }
        }
        resolve_absolute(&lexical).unwrap_or(lexical)
    }))
}

/// The longest existing ancestor canonicalized, the rest appended; `None` when a missing
/// part is followed by `.` or `..`.
fn resolve_absolute(absolute: &Path) -> Option<PathBuf> {
    let mut existing = absolute.to_path_buf();
    let mut rest: Vec<OsString> = Vec::new();
    loop {
        if let Ok(canonical) = fs::canonicalize(&existing) {
            let mut out = canonical;
            for part in rest.iter().rev() {
                if part == ".." {
                    out.pop();
                } else if part != "." {
                    out.push(part);
                }
            }
            return Some(out);
        }
        let (name, parent) = (existing.file_name()?, existing.parent()?);
        rest.push(name.to_os_string());
        existing = parent.to_path_buf();
    }
}

/// Why staged outputs could not be written or put in place.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The system refused (a full disk, permissions): the run's fault.
    #[error("cannot write {path}: {source}")]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// Between the plan and the commit, something else took the destination (another run
    /// writing to the same place): nothing of ours was put in place.
    #[error(
        "{path} was created by someone else while this run was working (another run writing to the same place?); nothing was written"
    )]
    Taken {
        /// The destination.
        path: PathBuf,
    },
    /// Between the plan and the commit, the destination became something we may not
    /// replace.
    #[error(
        "{path} changed while this run was working and is no longer a previous output of hsctsim; nothing was written"
    )]
    Changed {
        /// The destination.
        path: PathBuf,
    },
    /// The cancellation flag was set before anything was put in place.
    #[error("interrupted before the outputs were put in place; nothing was written")]
    Cancelled,
}

impl WriteError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
        move |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A unique hidden name beside `destination`: `.NAME.partial-PID-N`.
fn staging_path(destination: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = destination
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let partial = format!(".{name}.partial-{}-{n}", std::process::id());
    match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(partial),
        _ => PathBuf::from(partial),
    }
}

/// The parent folder of `path`, created if needed; returns the folders it created,
/// deepest first, so that a stage that is never committed can remove them again.
fn prepare_parent(path: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => return Ok(Vec::new()),
    };
    if let Some(file) = parent
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()))
    {
        return Err(WriteError::Io {
            path: parent.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is a file, not a folder", file.display()),
            ),
        });
    }
    let missing: Vec<PathBuf> = parent
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .take_while(|a| fs::symlink_metadata(a).is_err())
        .map(Path::to_path_buf)
        .collect();
    fs::create_dir_all(parent).map_err(WriteError::io(parent))?;
    Ok(missing)
}

/// What a staged item is and where it goes; removes its staging copy unless committed.
#[derive(Debug)]
pub struct Stage {
    destination: PathBuf,
    partial: PathBuf,
    /// Folders made for the destination, deepest first: removed again (if still empty)
    /// when the stage is dropped uncommitted, so a failed run leaves no empty folders.
    created: Vec<PathBuf>,
    signature: Option<Signature>,
    folder: bool,
    replace: bool,
    done: bool,
}

impl Stage {
    /// The destination.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    fn remove_partial(&self) {
        let _ = if self.folder {
            fs::remove_dir_all(&self.partial)
        } else {
            fs::remove_file(&self.partial)
        };
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.done {
            self.remove_partial();
            for folder in &self.created {
                // Only if empty: another stage or another process may have used it.
                let _ = fs::remove_dir(folder);
            }
        }
    }
}

/// A folder being written under its staging name.
#[derive(Debug)]
pub struct StagedFolder {
    stage: Stage,
}

impl StagedFolder {
    /// Starts the folder that will become `destination`; `replace` lets it replace a
    /// previous output of ours with `signature` (checked again at commit).
    pub fn create(
        destination: &Path,
        signature: Signature,
        replace: bool,
    ) -> Result<StagedFolder, WriteError> {
        let created = prepare_parent(destination)?;
        let partial = staging_path(destination);
        fs::create_dir(&partial).map_err(WriteError::io(&partial))?;
        Ok(StagedFolder {
            stage: Stage {
                destination: destination.to_path_buf(),
                partial,
                created,
                signature: Some(signature),
                folder: true,
                replace,
                done: false,
            },
        })
    }

    /// Writes `bytes` as `relative` (subfolders allowed, e.g. `figures/os.png`), synced.
    pub fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), WriteError> {
        let relative = Path::new(relative);
        debug_assert!(
            relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        );
        let path = self.stage.partial.join(relative);
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).map_err(WriteError::io(folder))?;
        }
        let mut file = File::create(&path).map_err(WriteError::io(&path))?;
        file.write_all(bytes).map_err(WriteError::io(&path))?;
        file.sync_all().map_err(WriteError::io(&path))
    }

    /// Where the folder is being written (a hidden name beside the destination), for work
    /// that adds files itself before the commit.
    pub fn staging_path(&self) -> &Path {
        &self.stage.partial
    }

    /// The staged item, for [`commit`].
    pub fn stage(&mut self) -> &mut Stage {
        &mut self.stage
    }
}

/// A file being written (streamed) under its staging name.
#[derive(Debug)]
pub struct StagedFile {
    stage: Stage,
    writer: Option<BufWriter<File>>,
    bytes: u64,
}

impl StagedFile {
    /// Starts the file that will become `destination`; see [`StagedFolder::create`].
    pub fn create(
        destination: &Path,
        signature: Option<Signature>,
        replace: bool,
    ) -> Result<StagedFile, WriteError> {
        let created = prepare_parent(destination)?;
        let partial = staging_path(destination);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(WriteError::io(&partial))?;
        Ok(StagedFile {
            stage: Stage {
                destination: destination.to_path_buf(),
                partial,
                created,
                signature,
                folder: false,
                replace,
                done: false,
            },
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            bytes: 0,
        })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.stage.destination
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let path = &self.stage.destination;
        let writer = self.writer.as_mut().ok_or_else(|| WriteError::Io {
            path: path.clone(),
            source: io::Error::other("the file was already finished"),
        })?;
        writer.write_all(bytes).map_err(WriteError::io(path))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Flushes and syncs the data under the staging name: after this only renames remain,
    /// which need no space, so a full disk shows here while nothing is in place yet.
    pub fn finish(&mut self) -> Result<(), WriteError> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let path = self.stage.destination.clone();
        let file = writer
            .into_inner()
            .map_err(|e| WriteError::io(&path)(e.into_error()))?;
        file.sync_all().map_err(WriteError::io(&path))
    }

    /// The staged item, for [`commit`] (finish the file first).
    pub fn stage(&mut self) -> &mut Stage {
        &mut self.stage
    }
}

/// What putting one item in place did, to undo it.
enum Moved {
    /// Renamed into a free destination.
    Renamed,
    /// Swapped with the previous output, now at the staging path.
    Exchanged,
}

/// Puts every staged item in place, in order, or none of them; `cancel`, if set before the
/// first rename, stops with [`WriteError::Cancelled`]. Returns the paths of previous
/// outputs that were replaced but could not be removed (normally none).
pub fn commit(
    stages: &mut [&mut Stage],
    cancel: Option<&AtomicBool>,
) -> Result<Vec<PathBuf>, WriteError> {
    if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
        return Err(WriteError::Cancelled);
    }
    let mut moved: Vec<Moved> = Vec::with_capacity(stages.len());
    for i in 0..stages.len() {
        match put_in_place(stages[i]) {
            Ok(m) => moved.push(m),
            Err(e) => {
                for (stage, m) in stages[..i].iter_mut().zip(&moved).rev() {
                    undo(stage, m);
                }
                return Err(e);
            }
        }
    }
    let mut leftovers = Vec::new();
    for (stage, m) in stages.iter_mut().zip(&moved) {
        stage.done = true;
        if matches!(m, Moved::Exchanged) {
            // The previous output now sits at the staging path.
            let removed = if stage.folder {
                fs::remove_dir_all(&stage.partial)
            } else {
                fs::remove_file(&stage.partial)
            };
            if removed.is_err() {
                leftovers.push(stage.partial.clone());
            }
        }
        sync_parent(&stage.destination);
    }
    Ok(leftovers)
}

fn put_in_place(stage: &mut Stage) -> Result<Moved, WriteError> {
    match fs::symlink_metadata(&stage.destination) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match rename::no_replace(&stage.partial, &stage.destination) {
                Ok(()) => Ok(Moved::Renamed),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists || is_not_empty(&e) => {
                    Err(WriteError::Taken {
                        path: stage.destination.clone(),
                    })
                }
                Err(e) => Err(WriteError::io(&stage.destination)(e)),
            }
        }
        Err(e) => Err(WriteError::io(&stage.destination)(e)),
        Ok(meta) => {
            let ours = !meta.file_type().is_symlink()
                && meta.is_dir() == stage.folder
                && stage
                    .signature
                    .is_some_and(|s| s.matches(&stage.destination));
            if !stage.replace {
                return Err(WriteError::Taken {
                    path: stage.destination.clone(),
                });
            }
            if !ours {
                return Err(WriteError::Changed {
                    path: stage.destination.clone(),
                });
            }
            rename::exchange(&stage.partial, &stage.destination)
                .map_err(WriteError::io(&stage.destination))?;
            Ok(Moved::Exchanged)
        }
    }
}

fn is_not_empty(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::DirectoryNotEmpty
}

fn undo(stage: &mut Stage, moved: &Moved) {
    let _ = match moved {
        Moved::Renamed => fs::rename(&stage.destination, &stage.partial),
        Moved::Exchanged => rename::exchange(&stage.partial, &stage.destination),
    };
}

/// Makes the rename durable (best effort: not every system syncs folders).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests;
