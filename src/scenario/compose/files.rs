//! Where the files of a composition come from, and the record of what was composed.
//!
//! One composer ([`super::compose`]) reads a chain of files through a [`Files`] source:
//! [`Disk`] for a scenario being run, validated or checked, and [`Replay`] for the layers
//! recorded in a part file (or any [`Composition`] kept in memory, e.g. by a library
//! service that never touches the disk). The composer alone decides what a chain means;
//! a source only answers "which file does `extends = "…"` in this file name?" and "which
//! built-in model is `model = "…"`?". So a merge rebuilds a model by exactly the code that
//! built it, from exactly the texts that were simulated, and a folder of parts copied off a
//! cluster needs nothing else.
//!
//! What [`Disk`] agrees to read when a *file* names another (`extends`, a target file's
//! `model`, a fit file's `targets` and `model`) is narrower than what a user may name on the
//! command line, because a scenario can come from someone else: the named path must be a
//! regular file (a folder, named pipe, device or socket is refused, each by what it is)
//! whose resolved name — after following symbolic links, so `x.toml -> /etc/passwd` is
//! refused — ends in `.toml`. Such a file's lines are quoted in messages only once it is
//! known to be of the expected kind: valid TOML whose top-level keys all belong to that
//! kind (for a scenario: `[scenario]`, `[simulation]`, `[[states]]`, …). Before that, a
//! message names the file and says what it is not, with a line and column for a TOML
//! syntax error, but shows none of its text. A file the user named, a built-in model and a
//! recorded layer are quoted as they are: they show the user nothing the user does not
//! already have.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::builtin;
use super::super::error::{BuildError, Path as TomlPath, ScenarioError, Segment};
use crate::suggest::did_you_mean;

/// Most files in one chain of `extends`: the scenario, the files below it and the built-in
/// model it may end in. A real chain has two or three; a longer one is almost surely a
/// mistake, and the limit bounds the work a hostile file can ask for.
pub const MAX_DEPTH: usize = 16;

/// A kind of file that files name (a scenario, a target file): what makes a named file
/// recognisably one before any of its lines is shown.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// What it is called in messages.
    pub noun: &'static str,
    /// Its top-level keys.
    pub tables: &'static [&'static str],
    /// How to see its errors with their lines: check it as the file one names.
    pub see: &'static str,
}

/// A scenario (or model) file.
pub const SCENARIO: Kind = Kind {
    noun: "scenario",
    tables: &SCENARIO_TABLES,
    see: "run `hsctsim validate` on it",
};

/// The top-level tables of a scenario file.
pub const SCENARIO_TABLES: [&str; 12] = [
    "scenario",
    "simulation",
    "states",
    "variables",
    "cohort",
    "transitions",
    "decisions",
    "strategies",
    "background_mortality",
    "economics",
    "figures",
    "psa",
];

/// One file of a composition, as a source read it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The name shown in messages and recorded: the path as given (joined to the folder of
    /// the file that named it), or a built-in model's file.
    pub path: String,
    /// Its whole text.
    pub text: String,
    /// The built-in model's name, when it is one.
    pub builtin: Option<String>,
    /// Whether its lines may be quoted before it is known to be a scenario (see the module
    /// documentation): the file the caller named, a built-in model, a recorded layer.
    pub trusted: bool,
    /// What makes two fetched files the same file, to find cycles.
    pub identity: Identity,
}

/// What makes two fetched files the same file.
#[derive(Debug, Clone)]
pub enum Identity {
    /// A file on disk.
    Disk {
        /// Its canonical path (symbolic links and `..` resolved).
        canonical: PathBuf,
        /// The folder its own `extends` paths are relative to.
        dir: PathBuf,
    },
    /// Layer `k` of a recorded composition.
    Layer(usize),
    /// A file held in [`Memory`], by name.
    Memory(String),
    /// A built-in model.
    Builtin(String),
}

impl Identity {
    /// Whether two files are one.
    pub fn same(&self, other: &Identity) -> bool {
        match (self, other) {
            (Identity::Disk { canonical: a, .. }, Identity::Disk { canonical: b, .. }) => a == b,
            (Identity::Layer(a), Identity::Layer(b)) => a == b,
            (Identity::Memory(a), Identity::Memory(b)) => a == b,
            (Identity::Builtin(a), Identity::Builtin(b)) => a == b,
            _ => false,
        }
    }
}

/// Why a source did not give the file a value named.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// Something about the name or what it points at (missing, a folder, not `.toml`):
    /// reported at the value that named it, in the naming file.
    Here {
        /// What is wrong, naming the file.
        message: String,
        /// How to fix it.
        help: String,
        /// Nothing of that name exists (a caller may then suggest other kinds of name).
        missing: bool,
    },
    /// A problem inside the named file as a whole (not UTF-8, too large): reported in that
    /// file, with the place that named it as a link.
    There(Box<ScenarioError>),
}

impl Refusal {
    fn here(message: String, help: &str) -> Refusal {
        Refusal::Here {
            message,
            help: help.to_string(),
            missing: false,
        }
    }

    /// The refusal as an error: at `naming`'s value, or in the named file with `naming` as
    /// its link.
    pub fn at(self, naming: &Naming) -> ScenarioError {
        match self {
            Refusal::Here { message, help, .. } => naming.error(message, help),
            Refusal::There(e) => e.named_from(naming.link()),
        }
    }
}

/// A value in one file that names another file: where a problem with the named file is
/// reported, and the link shown in the chain of an error from inside it.
#[derive(Debug, Clone)]
pub struct Naming<'a> {
    /// The naming file, as shown.
    pub file: &'a str,
    /// Its text.
    pub source: &'a str,
    /// The naming value's path in it, e.g. `scenario.extends`.
    pub path: TomlPath,
    /// What the naming file is, as the link says it: "" for a scenario, "target file ",
    /// "fit file ".
    pub kind: &'a str,
    /// The value as written.
    pub named: &'a str,
}

impl Naming<'_> {
    /// An error at the naming value.
    pub fn error(&self, message: String, help: String) -> ScenarioError {
        ScenarioError::from_build(
            self.file,
            self.source,
            BuildError::new(self.path.clone(), message).help(help),
        )
    }

    /// The link of the chain: `target file t.toml:3:9 (model = "broken.toml")`.
    pub fn link(&self) -> String {
        let place = ScenarioError::from_build(
            self.file,
            self.source,
            BuildError::new(self.path.clone(), String::new()),
        )
        .location
        .map_or(String::new(), |(line, col)| format!(":{line}:{col}"));
        let key = match self.path.last() {
            Some(Segment::Key(k)) => k.as_str(),
            _ => "",
        };
        format!(
            "{}{}{place} ({key} = {:?})",
            self.kind, self.file, self.named
        )
    }
}

/// Where the composer reads the files a chain names.
pub trait Files {
    /// The file that `named`, the value of `[scenario] extends` in `from`, means.
    fn extends(&mut self, from: &Fetched, named: &str) -> Result<Fetched, Refusal>;
    /// The built-in model that `name`, the value of `[scenario] model` in `from`, means.
    fn model(&mut self, from: &Fetched, name: &str) -> Result<Fetched, Refusal>;
}

/// Files on disk, relative to the folder of the file that names them; built-in models from
/// the binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

impl Files for Disk {
    fn extends(&mut self, from: &Fetched, named: &str) -> Result<Fetched, Refusal> {
        match &from.identity {
            Identity::Disk { dir, .. } => open_named(dir, named),
            _ => Err(Refusal::here(
                format!(
                    "`{}` is a built-in model; it cannot extend a file",
                    from.path
                ),
                "start the chain of `extends` from a file",
            )),
        }
    }

    fn model(&mut self, _from: &Fetched, name: &str) -> Result<Fetched, Refusal> {
        builtin_model(name)
    }
}

/// The built-in model `name`, or a refusal with the names there are (and, for a name that
/// looks like a path, the `extends` it was probably meant to be).
fn builtin_model(name: &str) -> Result<Fetched, Refusal> {
    builtin_file(name).ok_or_else(|| {
        let looks_like_a_path = name.contains('/') || name.ends_with(".toml");
        Refusal::here(
            format!(
                "unknown built-in model `{name}`.{}",
                did_you_mean(name, builtin::MODELS.iter().map(|m| m.name))
            ),
            &if looks_like_a_path {
                format!(
                    "`model` names a built-in model; to start from a file write extends = {name:?}"
                )
            } else {
                format!(
                    "built-in models are {}; `hsctsim models` lists them, or use extends = \"path.toml\" for a file",
                    builtin::MODELS
                        .iter()
                        .map(|m| format!("`{}`", m.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        )
    })
}

/// Files held in memory by name — the files a library service was handed, or a fuzzer's
/// inputs — so a chain composes without touching the disk. `extends = "x.toml"` names the
/// file called `x.toml` exactly as written (no folders); as on disk, only `.toml` names are
/// read and a named file's lines are quoted only once it is recognisably a scenario.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// The files, by name.
    pub files: std::collections::BTreeMap<String, String>,
}

impl Memory {
    /// The file `name`, as the file the caller names (its lines may be quoted).
    pub fn top(&self, name: &str) -> Option<Fetched> {
        self.files.get(name).map(|text| Fetched {
            path: name.to_string(),
            text: text.clone(),
            builtin: None,
            trusted: true,
            identity: Identity::Memory(name.to_string()),
        })
    }
}

impl Files for Memory {
    fn extends(&mut self, _from: &Fetched, named: &str) -> Result<Fetched, Refusal> {
        if !named.to_ascii_lowercase().ends_with(".toml") {
            return Err(Refusal::here(
                format!(
                    "`{named}` is not a .toml file; a file named in a file is read only if its name ends in .toml"
                ),
                NAME_A_TOML_FILE,
            ));
        }
        let text = self.files.get(named).ok_or_else(|| Refusal::Here {
            message: format!("cannot read `{named}`: no such file"),
            help: format!(
                "the files given are {}",
                self.files
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            missing: true,
        })?;
        Ok(Fetched {
            path: named.to_string(),
            text: text.clone(),
            builtin: None,
            trusted: false,
            identity: Identity::Memory(named.to_string()),
        })
    }

    fn model(&mut self, _from: &Fetched, name: &str) -> Result<Fetched, Refusal> {
        builtin_model(name)
    }
}

/// A built-in model as a fetched file.
pub fn builtin_file(name: &str) -> Option<Fetched> {
    builtin::find(name).map(|m| Fetched {
        path: m.file.to_string(),
        text: m.text.to_string(),
        builtin: Some(m.name.to_string()),
        trusted: true,
        identity: Identity::Builtin(m.name.to_string()),
    })
}

/// The file the caller named (on the command line, say): read as it is, whatever its name.
pub fn open_given(path: &Path) -> Result<Fetched, ScenarioError> {
    let text = super::super::read_text(path)?;
    Ok(given_text(text, &path.display().to_string(), path.parent()))
}

/// Text the caller holds, named `file` in messages, its `extends` resolved from `dir` (the
/// current folder when `None`).
pub fn given_text(text: String, file: &str, dir: Option<&Path>) -> Fetched {
    let canonical = fs::canonicalize(file).unwrap_or_else(|_| PathBuf::from(file));
    Fetched {
        path: file.to_string(),
        text,
        builtin: None,
        trusted: true,
        identity: Identity::Disk {
            canonical,
            dir: dir.map(Path::to_path_buf).unwrap_or_default(),
        },
    }
}

const NAME_A_TOML_FILE: &str =
    "name a .toml file: a scenario or model (or, for a fit file's `targets`, a target file)";

/// The file that `named` (written in a file in `dir`) means, if it is a regular `.toml`
/// file that can be read (see the module documentation). Its lines are not yet quotable.
pub fn open_named(dir: &Path, named: &str) -> Result<Fetched, Refusal> {
    const RELATIVE: &str = "the path is relative to the folder of the file that names it";
    if named.trim().is_empty() {
        return Err(Refusal::here(
            "names no file (the path is empty)".into(),
            "write the path of a .toml file, relative to the folder of the file that names it",
        ));
    }
    let path = dir.join(named);
    let shown = path.display().to_string();
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) => {
            let dangling = fs::symlink_metadata(&path)
                .ok()
                .filter(|m| m.file_type().is_symlink())
                .and_then(|_| fs::read_link(&path).ok());
            return Err(match (e.kind(), dangling) {
                (std::io::ErrorKind::NotFound, Some(target)) => Refusal::here(
                    format!(
                        "`{shown}` is a symbolic link to `{}`, which does not exist",
                        target.display()
                    ),
                    "point the link at a scenario file, or name the file itself",
                ),
                (std::io::ErrorKind::NotFound, None) => Refusal::Here {
                    message: format!("cannot read `{shown}`: no such file"),
                    help: RELATIVE.into(),
                    missing: true,
                },
                (std::io::ErrorKind::PermissionDenied, _) => Refusal::here(
                    format!("cannot read `{shown}`: permission denied"),
                    "check the permissions of the file and of its folders",
                ),
                _ => Refusal::here(format!("cannot read `{shown}`: {e}"), RELATIVE),
            });
        }
    };
    if let Some(what) = not_a_file(&meta) {
        return Err(Refusal::here(
            format!("`{shown}` is {what}, not a file"),
            NAME_A_TOML_FILE,
        ));
    }
    let canonical = fs::canonicalize(&path)
        .map_err(|e| Refusal::here(format!("cannot read `{shown}`: {e}"), RELATIVE))?;
    let is_toml = canonical
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("toml"));
    if !is_toml {
        let linked = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        let message = if linked {
            format!(
                "`{shown}` is a symbolic link to `{}`, which is not a .toml file; a file named in a file is read only if its name ends in .toml",
                canonical.display()
            )
        } else {
            format!(
                "`{shown}` is not a .toml file; a file named in a file is read only if its name ends in .toml"
            )
        };
        return Err(Refusal::here(message, NAME_A_TOML_FILE));
    }
    let text = super::super::read_text(&path).map_err(|mut e| {
        // Whatever the reader says about the file, it shows none of its lines.
        e.snippet = None;
        Refusal::There(Box::new(e))
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Fetched {
        path: shown,
        text,
        builtin: None,
        trusted: false,
        identity: Identity::Disk { canonical, dir },
    })
}

/// What a non-regular file is, in words; `None` for a regular file.
fn not_a_file(meta: &fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Checks, before any line of it is quoted, that a named file is TOML whose top-level keys
/// are all those of `kind`. Errors name the file (with a line and column for a syntax
/// error) but show none of its text.
pub fn recognise(fetched: &Fetched, kind: Kind) -> Result<(), ScenarioError> {
    let noun = kind.noun;
    let hidden =
        "its lines are not shown until it is known to be one: another file named it, not you";
    let help = format!(
        "if it is meant to be a {noun}, {} to see the error with its line",
        kind.see
    );
    let table = match toml::de::DeTable::parse(&fetched.text) {
        Ok(table) => table,
        Err(e) => {
            let mut error = ScenarioError::at_span(
                &fetched.path,
                &fetched.text,
                e.span(),
                format!("is not valid TOML, so not a {noun} ({hidden})"),
                Some(help),
            );
            error.snippet = None;
            return Err(error);
        }
    };
    let foreign = table
        .get_ref()
        .iter()
        .filter(|(key, _)| !kind.tables.contains(&key.get_ref().as_ref()))
        .count();
    if foreign > 0 {
        return Err(ScenarioError::whole_file(
            &fetched.path,
            format!(
                "is not a {noun} file: {foreign} of its top-level keys are not a {noun}'s ({hidden})"
            ),
            Some(format!(
                "a {noun} has only {} at the top level; {help}",
                kind.tables
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ));
    }
    Ok(())
}

/// The files of a composed scenario, with their texts: enough to compose it again from
/// memory ([`Composition::compose`]), e.g. when merging parts copied off a cluster.
///
/// Layers are listed from the file that was run (layer 0) down to the file or built-in
/// model the chain ends in; each names the layer its `extends` or `model` resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Composition {
    /// The files, the one that was run first.
    pub layers: Vec<LayerRecord>,
}

/// One file of a [`Composition`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRecord {
    /// The path as given (joined to the folder of the file that named it), or a built-in
    /// model's file: a name for messages, never read again.
    pub path: String,
    /// The built-in model's name, when the layer is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// SHA-256 of `text` (UTF-8), as `sha256sum` prints it.
    pub sha256: String,
    /// The layer this one's `extends` or `model` resolved to; absent for the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<usize>,
    /// The file's text.
    pub text: String,
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-256 that identifies a whole composition from its layers' SHA-256 values (top
/// file first): the SHA-256 of those values, one lowercase hex line each, i.e.
/// `sha256sum top.toml base.toml | cut -c1-64 | sha256sum`. Any change to any layer
/// changes it; the paths (where the files happened to be) do not.
pub fn composition_sha256<'a>(layers: impl IntoIterator<Item = &'a str>) -> String {
    let mut listing = String::new();
    for sha in layers {
        listing.push_str(sha);
        listing.push('\n');
    }
    sha256_hex(listing.as_bytes())
}

impl Composition {
    /// The record of fetched files, the one that was run first.
    pub(super) fn of(files: &[&Fetched]) -> Composition {
        let last = files.len().saturating_sub(1);
        Composition {
            layers: files
                .iter()
                .enumerate()
                .map(|(k, f)| LayerRecord {
                    path: f.path.clone(),
                    builtin: f.builtin.clone(),
                    sha256: sha256_hex(f.text.as_bytes()),
                    base: (k < last).then_some(k + 1),
                    text: f.text.clone(),
                })
                .collect(),
        }
    }

    /// The path of the file that was run, as given.
    pub fn top_path(&self) -> &str {
        self.layers.first().map_or("", |l| l.path.as_str())
    }

    /// The name the top file gives the scenario when it has no `[scenario] name`.
    pub fn default_name(&self) -> String {
        Path::new(self.top_path())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "scenario".into())
    }

    /// The paths of the layers that are files (not built-in models), the file that was run
    /// first: the inputs no output may ever replace.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.layers
            .iter()
            .filter(|l| l.builtin.is_none())
            .map(|l| Path::new(l.path.as_str()))
    }

    /// The SHA-256 of the whole composition (see [`composition_sha256`]).
    pub fn sha256(&self) -> String {
        composition_sha256(self.layers.iter().map(|l| l.sha256.as_str()))
    }

    /// Checks what can be checked without composing: at most [`MAX_DEPTH`] layers, each
    /// text matching its SHA-256, each layer naming the next and the last naming none.
    pub fn check(&self) -> Result<(), String> {
        if self.layers.is_empty() {
            return Err("the scenario record holds no file".into());
        }
        if self.layers.len() > MAX_DEPTH {
            return Err(format!(
                "the scenario record holds {} files; a chain holds at most {MAX_DEPTH}",
                self.layers.len()
            ));
        }
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            if layer.sha256 != sha256_hex(layer.text.as_bytes()) {
                return Err(format!(
                    "the text of layer {k} (`{}`) does not match its SHA-256",
                    layer.path
                ));
            }
            let expected = (k < last).then_some(k + 1);
            if layer.base != expected {
                return Err(format!(
                    "layer {k} (`{}`) should name {} but names {}",
                    layer.path,
                    expected.map_or("no layer".into(), |b| format!("layer {b}")),
                    layer.base.map_or("none".into(), |b| format!("layer {b}"))
                ));
            }
        }
        Ok(())
    }

    /// What makes two compositions differ, for messages: the first layer (counted from the
    /// file that was run) whose file differs, with both SHA-256 values; `None` if they are
    /// one composition.
    pub fn difference(&self, other: &Composition) -> Option<String> {
        let short = |s: &str| s.chars().take(12).collect::<String>();
        let role = |k: usize, l: &LayerRecord| match (k, &l.builtin) {
            (0, _) => "the file that was run".to_string(),
            (_, Some(name)) => format!("built-in model `{name}`"),
            _ => format!("the file that layer {} extends", k - 1),
        };
        for k in 0..self.layers.len().max(other.layers.len()) {
            match (self.layers.get(k), other.layers.get(k)) {
                (Some(a), Some(b)) if a.sha256 == b.sha256 => {}
                (Some(a), Some(b)) => {
                    return Some(format!(
                        "layer {k}, {} (`{}`), differs: SHA-256 {}… in the one and {}… (`{}`) in the other",
                        role(k, a),
                        a.path,
                        short(&a.sha256),
                        short(&b.sha256),
                        b.path
                    ));
                }
                (Some(a), None) | (None, Some(a)) => {
                    return Some(format!(
                        "one composes {} files and the other {}: layer {k} (`{}`) is in only one",
                        self.layers.len(),
                        other.layers.len(),
                        a.path
                    ));
                }
                (None, None) => {}
            }
        }
        None
    }

    /// Composes the recorded files again, from memory only, by the composer that composed
    /// them; the result must record exactly these layers.
    pub fn compose(&self) -> Result<super::Composed, ScenarioError> {
        let damaged = |m: String| {
            ScenarioError::whole_file(
                self.top_path(),
                format!("the recorded scenario is damaged: {m}"),
                None,
            )
        };
        self.check().map_err(damaged)?;
        let top = &self.layers[0];
        let fetched = Fetched {
            path: top.path.clone(),
            text: top.text.clone(),
            builtin: top.builtin.clone(),
            trusted: true,
            identity: Identity::Layer(0),
        };
        let composed = super::compose(fetched, None, &mut Replay { record: self })?;
        if composed.composition() != self {
            return Err(damaged(format!(
                "its {} files compose into {} layers",
                self.layers.len(),
                composed.composition().layers.len()
            )));
        }
        Ok(composed)
    }
}

/// The layers of a recorded composition as a source of files.
#[derive(Debug, Clone, Copy)]
pub struct Replay<'a> {
    /// The record.
    pub record: &'a Composition,
}

impl Replay<'_> {
    fn below(&self, from: &Fetched, builtin: Option<&str>) -> Result<Fetched, Refusal> {
        let missing = |what: String| {
            Refusal::here(
                format!("the recorded scenario does not hold {what}"),
                "the part was damaged or forged; run that shard again",
            )
        };
        let Identity::Layer(k) = from.identity else {
            return Err(missing("the file this one names".into()));
        };
        let record = &self.record.layers;
        let below = record
            .get(k)
            .and_then(|l| l.base)
            .and_then(|b| record.get(b).map(|l| (b, l)));
        match (below, builtin) {
            (Some((b, layer)), Some(name)) if layer.builtin.as_deref() == Some(name) => {
                Ok(self.fetched(b, layer))
            }
            (Some((b, layer)), None) if layer.builtin.is_none() => Ok(self.fetched(b, layer)),
            (_, Some(name)) => Err(missing(format!("the built-in model `{name}`"))),
            (_, None) => Err(missing(format!("the file that `{}` extends", from.path))),
        }
    }

    fn fetched(&self, k: usize, layer: &LayerRecord) -> Fetched {
        Fetched {
            path: layer.path.clone(),
            text: layer.text.clone(),
            builtin: layer.builtin.clone(),
            trusted: true,
            identity: Identity::Layer(k),
        }
    }
}

impl Files for Replay<'_> {
    fn extends(&mut self, from: &Fetched, _named: &str) -> Result<Fetched, Refusal> {
        self.below(from, None)
    }

    fn model(&mut self, from: &Fetched, name: &str) -> Result<Fetched, Refusal> {
        self.below(from, Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names serde expects at the top level of `T`, from its "unknown field" message.
    fn top_level_keys<T: serde::de::DeserializeOwned + std::fmt::Debug>() -> Vec<String> {
        let message = toml::from_str::<T>("not_a_key = 1")
            .unwrap_err()
            .to_string();
        let expected = message.split("expected one of").nth(1).unwrap_or_default();
        expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_tables_that_recognise_a_scenario_are_the_formats_own() {
        assert_eq!(
            top_level_keys::<super::super::super::format::ScenarioFile>(),
            SCENARIO_TABLES
        );
    }

    fn memory(files: &[(&str, &str)]) -> Memory {
        Memory {
            files: files
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    const BASE: &str = "[simulation]\npatients = 10\n[[states]]\nname = \"a\"\n[[states]]\nname = \"dead\"\ndeath = \"nrm\"\n[cohort]\nentry = \"a\"\n[[transitions]]\nfrom = \"a\"\nto = \"dead\"\nrate = 0.1\n";

    #[test]
    fn a_chain_in_memory_composes_and_its_record_composes_again() {
        let mut files = memory(&[
            (
                "top.toml",
                "[scenario]\nextends = \"base.toml\"\n[simulation]\nseed = 4\n",
            ),
            ("base.toml", BASE),
        ]);
        let top = files.top("top.toml").unwrap();
        let composed = super::super::compose(top, None, &mut files.clone()).unwrap();
        let record = composed.composition().clone();
        let paths: Vec<&str> = record.layers.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, ["top.toml", "base.toml"]);
        assert_eq!(
            record.sha256(),
            composition_sha256([
                sha256_hex(files.files["top.toml"].as_bytes()).as_str(),
                sha256_hex(BASE.as_bytes()).as_str()
            ])
        );
        let again = record.compose().unwrap();
        assert_eq!(again.composition(), &record);
        let model = again.build("top").unwrap();
        assert_eq!((model.settings.patients, model.settings.seed), (10, 4));
        // What Memory refuses, it refuses at the `extends` line, like the disk.
        files.files.insert(
            "top.toml".into(),
            "[scenario]\nextends = \"notes.txt\"\n".into(),
        );
        let e = super::super::compose(files.top("top.toml").unwrap(), None, &mut files.clone())
            .unwrap_err();
        assert_eq!((e.file.as_str(), e.location), ("top.toml", Some((2, 11))));
        assert!(e.message.contains("is not a .toml file"), "{e}");
    }

    #[test]
    fn a_record_that_does_not_hold_together_is_refused_by_what_is_wrong() {
        let files = memory(&[("top.toml", "[scenario]\nmodel = \"hsct-review\"\n")]);
        let top = files.top("top.toml").unwrap();
        let record = super::super::compose(top, None, &mut files.clone())
            .unwrap()
            .composition()
            .clone();
        assert_eq!(record.layers[1].builtin.as_deref(), Some("hsct-review"));
        assert!(record.check().is_ok());
        let broken = |change: &dyn Fn(&mut Composition)| {
            let mut r = record.clone();
            change(&mut r);
            r.check()
                .err()
                .or_else(|| r.compose().err().map(|e| e.message))
        };
        assert!(
            broken(&|r| r.layers.clear())
                .unwrap()
                .contains("holds no file")
        );
        assert!(
            broken(&|r| r.layers[1].base = Some(0))
                .unwrap()
                .contains("layer 1 (`models/hsct_review.toml`) should name no layer")
        );
        assert!(
            broken(&|r| r.layers[1].sha256 = "0".repeat(64))
                .unwrap()
                .contains("does not match its SHA-256")
        );
        // A layer recorded as another built-in model than the text asks for.
        let e = broken(&|r| r.layers[1].builtin = Some("other".into())).unwrap();
        assert!(
            e.contains("does not hold the built-in model `hsct-review`"),
            "{e}"
        );
        let many = Composition {
            layers: vec![record.layers[0].clone(); MAX_DEPTH + 1],
        };
        assert!(many.check().unwrap_err().contains("at most 16"));
    }

    #[test]
    fn two_compositions_differ_by_their_first_different_layer() {
        let layer = |path: &str, text: &str, base: Option<usize>| LayerRecord {
            path: path.into(),
            builtin: None,
            sha256: sha256_hex(text.as_bytes()),
            base,
            text: text.into(),
        };
        let a = Composition {
            layers: vec![
                layer("top.toml", "t", Some(1)),
                layer("base.toml", "b", None),
            ],
        };
        let mut b = a.clone();
        assert_eq!(a.difference(&b), None);
        b.layers[1] = layer("elsewhere/base.toml", "b2", None);
        let d = a.difference(&b).unwrap();
        assert!(
            d.starts_with(
                "layer 1, the file that layer 0 extends (`base.toml`), differs: SHA-256 "
            ) && d.ends_with("(`elsewhere/base.toml`) in the other"),
            "{d}"
        );
        b.layers.truncate(1);
        b.layers[0].base = None;
        assert!(
            a.difference(&b)
                .unwrap()
                .contains("one composes 2 files and the other 1")
        );
    }
}
