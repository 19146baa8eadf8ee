//! Part files: one shard's accumulators, with everything needed to check and merge them.
//!
//! Why JSON: a part is read by one program, but people open it when a merge refuses it
//! ("which shard is this, which scenario, which seed?"), so it should read without tools;
//! it compresses well if stored; and it costs little: a 4-strategy part is about 60 kB and
//! reads in well under a millisecond. Integers only — accumulators are counts, and exact
//! sums are `i128` (times) or 256-bit (economic values) integers in decimal strings — so
//! the encoding is exact, and a given shard of a
//! given run always produces the same bytes (no timestamps, no host names, no thread
//! counts), which makes re-running a shard idempotent.
//!
//! Layout (format version 3): the header fields are pretty-printed one per line, so
//! `head part-003-of-100.json` shows what the file is; each block (one draw's patient range
//! and its tally) is one compact line, and so is the list of the scenario's files.
//!
//! ```text
//! {
//!   "format": "hsctsim part",
//!   "format_version": 3,
//!   "program": "hsctsim",
//!   "program_version": "0.1.0",
//!   "shard": 3,
//!   "shards": 100,
//!   "seed": 20261121,
//!   "patients": 1000000,
//!   "draws": 1,
//!   "scenario": {
//!     "name": "donor_question",
//!     "sha256": "5f1c…",
//!     "layers": [{"path":"runs/donor_question.toml","sha256":"0b9e…","base":1,"text":"…"},{"path":"runs/base.toml","sha256":"77d2…","base":2,"text":"…"},{"path":"models/hsct_review.toml","builtin":"hsct-review","sha256":"c410…","text":"…"}]
//!   },
//!   "blocks_sha256": "9a0e…",
//!   "blocks": [
//!     {"draw":0,"first_patient":30000,"last_patient":40000,"tally":{…}}
//!   ]
//! }
//! ```
//!
//! The whole composed scenario is embedded — every file of its chain of `extends`, and the
//! built-in model it ends in, each with its path as given, its text and its SHA-256 — so
//! that a merge needs nothing but the parts: it cannot be handed a base file that was
//! edited after (or between) the shards ran, and a folder of parts copied off a cluster is
//! complete. `scenario.sha256` identifies the whole composition
//! ([`Composition::sha256`]); parts whose compositions differ in any layer are refused,
//! naming the layer. `blocks_sha256` is the SHA-256 of the blocks in compact JSON; it
//! catches damage that still parses (a changed digit), which no structural check could.
//! What a checksum cannot catch — a part forged or damaged and then re-sealed with a
//! recomputed checksum — the accumulators' invariants do: every block is checked when read
//! ([`Tally::check`], the rules any simulation satisfies) and again, with the scenario's
//! rules, before it is merged.
//!
//! Compatibility: readers reject unknown fields and other format versions, so a file is
//! never half-understood; an older version is refused with a message to run the shards
//! again, since a merge must give the single run's bytes. Version 1 embedded only the top
//! file's text, which cannot rebuild a scenario that extends a file. Version 2 summed
//! economic values in `i128` fixed point and left lives whose costs exceeded about 7·10^8
//! out of them (`overflows`); version 3 sums them in 256-bit fixed point
//! ([`crate::aggregate::wide`]) and leaves no life out.

use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Shard;
use crate::aggregate::Tally;
use crate::atomic::{Signature, StagedFile};
use crate::engine::{self, Control, EngineError};
use crate::model::Model;
use crate::output::manifest::sha256_hex;
pub use crate::scenario::compose::Composition;

/// The `format` field: tells a part file from any other JSON.
pub const FORMAT: &str = "hsctsim part";
/// The format version this program writes and reads (3: exact 256-bit economic sums;
/// see the module documentation).
pub const FORMAT_VERSION: u32 = 3;
/// This program's version, recorded in parts and required of them at merge time.
pub const PROGRAM_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Largest part file read (a 10-strategy, 50-state, 20-year monthly part is a few MB).
pub const MAX_PART_BYTES: u64 = 256 * 1024 * 1024;

/// The scenario a part was simulated from: its name and every file it was composed of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRecord {
    /// Scenario name (the default output folder).
    pub name: String,
    /// SHA-256 of the whole composition ([`Composition::sha256`]), as in the manifest.
    pub sha256: String,
    /// The files, the one that was run first.
    pub layers: Composition,
}

impl ScenarioRecord {
    /// The record of scenario `name` composed of `composition`.
    pub fn new(name: &str, composition: &Composition) -> ScenarioRecord {
        ScenarioRecord {
            name: name.to_string(),
            sha256: composition.sha256(),
            layers: composition.clone(),
        }
    }

    /// Checks the record on its own: the layers hold together and `sha256` is theirs.
    pub fn check(&self) -> Result<(), String> {
        self.layers.check()?;
        if self.sha256 != self.layers.sha256() {
            return Err("the scenario's SHA-256 is not that of its files".into());
        }
        Ok(())
    }
}

/// The scenario a run simulates, as the files it was composed of (see
/// [`Composition`]); kept under this name for the shard API.
pub type ScenarioSource = Composition;

/// One draw's contiguous range of patients and what they accumulated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// PSA draw (0 in a deterministic run).
    pub draw: u64,
    /// First patient index.
    pub first_patient: u64,
    /// One past the last patient index.
    pub last_patient: u64,
    /// The accumulators of these patients.
    pub tally: Tally,
}

impl Block {
    /// The patient indices.
    pub fn patients(&self) -> Range<u64> {
        self.first_patient..self.last_patient
    }
}

/// A part file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this program.
    pub format_version: u32,
    /// Always "hsctsim".
    pub program: String,
    /// Version of the program that simulated it.
    pub program_version: String,
    /// Shard number, from 0.
    pub shard: u64,
    /// Number of shards of the run.
    pub shards: u64,
    /// Master seed.
    pub seed: u64,
    /// Patients of the whole run (per draw).
    pub patients: u64,
    /// Draws of the whole run (1 without PSA).
    pub draws: u64,
    /// The scenario, embedded.
    pub scenario: ScenarioRecord,
    /// SHA-256 of `blocks` in compact JSON.
    pub blocks_sha256: String,
    /// This shard's work, one block per draw it touches (none if the shard is empty).
    pub blocks: Vec<Block>,
}

/// Why a part file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    /// The file system refused.
    #[error("{path}: {action}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The system's reason.
        source: io::Error,
    },
    /// The file is not a readable part, with what to do about it.
    #[error("{path}: {problem}; {fix}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: String,
    },
    /// A different part is already in the way.
    #[error("{path} already exists and holds a different result ({existing})")]
    Exists {
        /// The file.
        path: PathBuf,
        /// What the existing file is.
        existing: String,
    },
}

const RERUN: &str = "run that shard again (same scenario, seed and shard) to rewrite it";

impl Part {
    /// The part of `shard` of a run of `model`, holding `blocks`.
    pub fn new(model: &Model, source: &ScenarioSource, shard: Shard, blocks: Vec<Block>) -> Part {
        let blocks_sha256 = blocks_sha256(&blocks);
        Part {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            program: "hsctsim".into(),
            program_version: PROGRAM_VERSION.into(),
            shard: shard.index,
            shards: shard.count,
            seed: model.settings.seed,
            patients: model.settings.patients,
            draws: 1,
            scenario: ScenarioRecord::new(&model.name, source),
            blocks_sha256,
            blocks,
        }
    }

    /// Which shard this is.
    pub fn shard(&self) -> Shard {
        Shard {
            index: self.shard,
            count: self.shards,
        }
    }

    /// The file name of this part: `part-K-of-N.json`, K zero-padded so names sort.
    pub fn file_name(&self) -> String {
        file_name(self.shard())
    }

    /// The file's bytes: deterministic for given contents.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(64 * 1024);
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, Shallow::new(2));
        // Serializing plain data into memory cannot fail.
        let _ = self.serialize(&mut serializer);
        bytes.push(b'\n');
        bytes
    }

    /// Reads a part from bytes, checking everything that can be checked without the others.
    ///
    /// `path` is used in messages only.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Part, PartError> {
        let invalid = |problem: String, fix: &str| PartError::Invalid {
            path: path.to_path_buf(),
            problem,
            fix: fix.to_string(),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(invalid(
                "is empty: the shard that writes it did not finish".into(),
                RERUN,
            ));
        }
        // First only what identifies the file, so that another program's JSON, or a newer
        // format, gets a message about that rather than about a missing field.
        #[derive(Deserialize)]
        struct Identity {
            format: Option<String>,
            format_version: Option<serde_json::Value>,
            program_version: Option<String>,
        }
        let identity: Identity = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                invalid(
                    format!("is cut short (it ends at line {}, inside the data): the copy or the shard did not finish", e.line()),
                    RERUN,
                )
            } else if e.classify() == serde_json::error::Category::Syntax {
                invalid(
                    format!("is not a part file: not valid JSON ({e})"),
                    "merge only the part-K-of-N.json files that sharded runs write",
                )
            } else {
                invalid(
                    format!("is JSON but not an hsctsim part file ({e})"),
                    "merge only the part-K-of-N.json files that sharded runs write",
                )
            }
        })?;
        if identity.format.as_deref() != Some(FORMAT) {
            return Err(invalid(
                "is JSON but not an hsctsim part file (no \"format\": \"hsctsim part\")".into(),
                "merge only the part-K-of-N.json files that sharded runs write",
            ));
        }
        let version = identity.format_version.as_ref().and_then(|v| v.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            let shown = identity
                .format_version
                .map_or("none".to_string(), |v| v.to_string());
            let writer = identity.program_version.unwrap_or_else(|| "?".into());
            // The format can change within a program version (between builds of one
            // release); then only running the shards again helps.
            let fix = if writer == PROGRAM_VERSION {
                "run the shards again with this build of hsctsim".to_string()
            } else {
                format!("merge with hsctsim {writer}, or run the shards again with this version")
            };
            return Err(invalid(
                format!(
                    "has part format version {shown} (written by hsctsim {writer}); this hsctsim {PROGRAM_VERSION} reads version {FORMAT_VERSION}"
                ),
                &fix,
            ));
        }
        let part: Part = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("is damaged: {e}"), RERUN))?;
        if part.blocks_sha256 != blocks_sha256(&part.blocks) {
            return Err(invalid(
                format!(
                    "is damaged: the accumulators of shard {} do not match their checksum (blocks_sha256)",
                    part.shard()
                ),
                RERUN,
            ));
        }
        if let Err(problem) = part.scenario.check() {
            return Err(invalid(
                format!(
                    "is damaged: in the embedded scenario of shard {}, {problem}",
                    part.shard()
                ),
                RERUN,
            ));
        }
        if Shard::new(part.shard, part.shards).is_err() {
            return Err(invalid(
                format!(
                    "is damaged: it claims to be shard {} of {}",
                    part.shard, part.shards
                ),
                RERUN,
            ));
        }
        if part.draws != 1 {
            return Err(invalid(
                format!(
                    "holds {} PSA draws; this hsctsim merges runs without PSA draws only",
                    part.draws
                ),
                "merge with the hsctsim version that wrote the parts",
            ));
        }
        if !(1..=crate::scenario::build::MAX_PATIENTS).contains(&part.patients) {
            return Err(invalid(
                format!("is damaged: it claims a run of {} patients", part.patients),
                RERUN,
            ));
        }
        for (i, block) in part.blocks.iter().enumerate() {
            let patients = block.patients();
            if patients.start > patients.end || patients.end > part.patients {
                return Err(invalid(
                    format!(
                        "is damaged: block {i} claims patients {}..{} of a run of {}",
                        patients.start, patients.end, part.patients
                    ),
                    RERUN,
                ));
            }
            // The rules any simulated tally satisfies; the scenario's own rules are checked
            // again when the part is merged.
            block
                .tally
                .check(patients.end - patients.start, None)
                .map_err(|violation| {
                    invalid(
                        format!(
                            "is damaged: block {i} (draw {}, patients {}..{}) holds accumulators no simulation produces: {violation}",
                            block.draw, patients.start, patients.end
                        ),
                        RERUN,
                    )
                })?;
        }
        Ok(part)
    }

    /// Reads a part file.
    pub fn read(path: &Path) -> Result<Part, PartError> {
        let bytes = crate::input::read_bounded(path, MAX_PART_BYTES).map_err(|e| match e {
            crate::input::InputError::Io { source, .. } => PartError::Io {
                path: path.to_path_buf(),
                action: "cannot read the part file",
                source,
            },
            crate::input::InputError::TooLarge { .. } => PartError::Invalid {
                path: path.to_path_buf(),
                problem: format!("is larger than any part file ({MAX_PART_BYTES} bytes at most)"),
                fix: "merge only the part-K-of-N.json files that sharded runs write".into(),
            },
            other => PartError::Invalid {
                path: path.to_path_buf(),
                problem: other
                    .to_string()
                    .replacen(&format!("{} ", path.display()), "", 1),
                fix: "merge only the part-K-of-N.json files that sharded runs write".into(),
            },
        })?;
        Part::from_bytes(&bytes, path)
    }

    /// A one-line description for messages.
    pub fn describe(&self) -> String {
        format!(
            "shard {} of scenario `{}`, seed {}, {} patients, hsctsim {}",
            self.shard(),
            self.scenario.name,
            self.seed,
            self.patients,
            self.program_version
        )
    }
}

/// The file name of a shard's part: `part-K-of-N.json`, K zero-padded so names sort.
pub fn file_name(shard: Shard) -> String {
    let width = shard.count.to_string().len();
    format!(
        "part-{:0width$}-of-{}.json",
        shard.index,
        shard.count,
        width = width
    )
}

/// SHA-256 of blocks in compact JSON.
fn blocks_sha256(blocks: &[Block]) -> String {
    sha256_hex(&serde_json::to_vec(blocks).unwrap_or_default())
}

/// Simulates one shard of a run and returns its part.
///
/// `control.patients` is ignored: the shard decides which patients are simulated.
pub fn run_shard(
    model: &Model,
    source: &ScenarioSource,
    shard: Shard,
    control: &Control,
) -> Result<Part, EngineError> {
    run_shard_with(model, source, shard, control, |control| {
        engine::simulate(model, control)
    })
}

/// [`run_shard`] with another way to simulate each block (e.g. one that also exports the
/// patients); `simulate` must return the accumulators [`engine::simulate`] would.
pub fn run_shard_with<E>(
    model: &Model,
    source: &ScenarioSource,
    shard: Shard,
    control: &Control,
    mut simulate: impl FnMut(&Control) -> Result<Tally, E>,
) -> Result<Part, E> {
    let mut blocks = Vec::new();
    for (draw, patients) in shard.blocks(1, model.settings.patients) {
        let tally = simulate(&Control {
            patients: Some((patients.start, patients.end)),
            draw,
            ..*control
        })?;
        blocks.push(Block {
            draw,
            first_patient: patients.start,
            last_patient: patients.end,
            tally,
        });
    }
    Ok(Part::new(model, source, shard, blocks))
}

/// How a previous run part is recognised (and so may be replaced when asked): by its first
/// bytes, which [`Part::to_bytes`] always writes the same way.
pub const SIGNATURE: Signature = Signature::FileStartingWith("{\n  \"format\": \"hsctsim part\"");

/// Stages a part for `dir` (see [`stage_bytes`]); `None` when the same bytes are there.
pub fn stage(dir: &Path, part: &Part, force: bool) -> Result<Option<StagedFile>, PartError> {
    stage_bytes(
        dir,
        &part.file_name(),
        &part.to_bytes(),
        force,
        SIGNATURE,
        |existing, path| Part::from_bytes(existing, path).map(|p| p.describe()),
    )
}

/// Writes a part into `dir` atomically and returns its path; the rules of [`stage_bytes`].
pub fn write(dir: &Path, part: &Part, force: bool) -> Result<PathBuf, PartError> {
    let path = dir.join(part.file_name());
    if let Some(mut staged) = stage(dir, part, force)? {
        crate::atomic::commit(&mut [staged.stage()], None).map_err(|e| write_error(&path, e))?;
    }
    Ok(path)
}

fn write_error(path: &Path, e: crate::atomic::WriteError) -> PartError {
    match e {
        crate::atomic::WriteError::Io { path, source } => PartError::Io {
            path,
            action: "cannot write",
            source,
        },
        other => PartError::Exists {
            path: path.to_path_buf(),
            existing: other.to_string(),
        },
    }
}

/// Stages a part file's `bytes` as `dir/name`, to be put in place with
/// [`crate::atomic::commit`]. An existing file with the same bytes is left as it is
/// (`None`): re-running a shard, as a scheduler does after a node failure, is harmless. One
/// with other bytes is replaced only if `force` is set, and then only if it is a part
/// (`recognise` reads it and describes it, or says why it is not one): never another file.
pub fn stage_bytes(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    force: bool,
    signature: Signature,
    recognise: impl FnOnce(&[u8], &Path) -> Result<String, PartError>,
) -> Result<Option<StagedFile>, PartError> {
    let path = dir.join(name);
    if fs::symlink_metadata(&path).is_ok() {
        let existing =
            crate::input::read_bounded(&path, MAX_PART_BYTES).map_err(|e| PartError::Exists {
                path: path.clone(),
                existing: e.to_string(),
            })?;
        if existing == bytes {
            return Ok(None);
        }
        match recognise(&existing, &path) {
            Ok(description) if !force => {
                return Err(PartError::Exists {
                    path,
                    existing: description,
                });
            }
            Ok(_) => {}
            Err(e) => {
                return Err(PartError::Invalid {
                    path,
                    problem: format!("is in the way and is not a part file ({e})"),
                    fix: "it is never replaced: remove it yourself, or write the parts to another folder".into(),
                });
            }
        }
    }
    let mut staged =
        StagedFile::create(&path, Some(signature), force).map_err(|e| write_error(&path, e))?;
    staged.write(bytes).map_err(|e| write_error(&path, e))?;
    staged.finish().map_err(|e| write_error(&path, e))?;
    Ok(Some(staged))
}

/// Fails early, before hours of simulation, if `dir` holds a part of `shard` from another
/// run (other scenario, seed, patients or version) and `force` is not set. A part of the
/// same run may stay: the run rewrites it with the same bytes.
pub fn check_destination(
    dir: &Path,
    model: &Model,
    source: &ScenarioSource,
    shard: Shard,
    force: bool,
) -> Result<(), PartError> {
    let path = dir.join(file_name(shard));
    if fs::symlink_metadata(&path).is_err() {
        return Ok(());
    }
    let ours = Part::new(model, source, shard, Vec::new());
    match Part::read(&path) {
        Ok(_) if force => Ok(()),
        Ok(existing)
            if existing.program_version == ours.program_version
                && existing.scenario == ours.scenario
                && (existing.seed, existing.patients, existing.draws)
                    == (ours.seed, ours.patients, ours.draws) =>
        {
            Ok(())
        }
        Ok(existing) => Err(PartError::Exists {
            path,
            existing: existing.describe(),
        }),
        Err(e) => Err(PartError::Invalid {
            path,
            problem: format!("is in the way and is not a part file ({e})"),
            fix: "it is never replaced: remove it yourself, or write the parts to another folder"
                .into(),
        }),
    }
}

/// Whether a file name looks like a part (`part-…json`, not hidden).
pub fn is_part_name(name: &str) -> bool {
    name.starts_with("part-") && name.ends_with(".json")
}

/// Reads parts from files and folders (a folder contributes its `part-*.json` files, in
/// name order); returns them with their paths.
pub fn read_all(inputs: &[PathBuf]) -> Result<Vec<(PathBuf, Part)>, PartError> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = fs::metadata(input).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                PartError::Invalid {
                    path: input.clone(),
                    problem: "does not exist".into(),
                    fix: "give the folder the shards wrote their parts into, or part files".into(),
                }
            } else {
                PartError::Io {
                    path: input.clone(),
                    action: "cannot read",
                    source,
                }
            }
        })?;
        if meta.is_dir() {
            let entries = fs::read_dir(input).map_err(|source| PartError::Io {
                path: input.clone(),
                action: "cannot list the folder",
                source,
            })?;
            let mut found = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| PartError::Io {
                    path: input.clone(),
                    action: "cannot list the folder",
                    source,
                })?;
                if is_part_name(&entry.file_name().to_string_lossy()) {
                    found.push(entry.path());
                }
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    files
        .into_iter()
        .map(|path| Part::read(&path).map(|part| (path, part)))
        .collect()
}

/// JSON pretty-printed down to `depth` levels of nesting and compact below: readable
/// headers, one line per block.
struct Shallow {
    depth: usize,
    pretty_depth: usize,
    has_value: bool,
}

impl Shallow {
    fn new(pretty_depth: usize) -> Shallow {
        Shallow {
            depth: 0,
            pretty_depth,
            has_value: false,
        }
    }

    fn pretty(&self) -> bool {
        self.depth <= self.pretty_depth
    }

    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, open: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(open)
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, close: &[u8]) -> io::Result<()> {
        let pretty = self.pretty();
        self.depth -= 1;
        if pretty && self.has_value {
            self.newline(w)?;
        }
        w.write_all(close)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty() {
            self.newline(w)?;
        }
        Ok(())
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Shallow {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty() { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::TimeSum;

    #[test]
    fn exact_sums_survive_json_at_the_ends_of_their_range() {
        let tally = Tally {
            strategies: Vec::new(),
            patients: u64::MAX,
            events: 0,
            draws: 1,
            economics: None,
        };
        let text = serde_json::to_string(&tally).unwrap();
        assert_eq!(serde_json::from_str::<Tally>(&text).unwrap(), tally);
        for units in [i128::MIN, -1, 0, i128::MAX] {
            let sum = TimeSum { units };
            let text = serde_json::to_string(&sum).unwrap();
            // A string, so that readers holding numbers as doubles do not round it.
            assert_eq!(text, format!("{{\"units\":\"{units}\"}}"));
            assert_eq!(serde_json::from_str::<TimeSum>(&text).unwrap(), sum);
        }
        assert!(serde_json::from_str::<TimeSum>("{\"units\":\"1.5\"}").is_err());
        assert!(serde_json::from_str::<TimeSum>("{\"units\":\"1\",\"x\":2}").is_err());
    }

    #[test]
    fn the_layout_is_pretty_outside_and_compact_inside() {
        let value = serde_json::json!({
            "a": 1,
            "empty": [],
            "header": { "b": "x", "c": [] },
            "rows": [ { "d": [1, 2], "e": { "f": [] } }, [] ],
        });
        let mut bytes = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, Shallow::new(2));
        value.serialize(&mut serializer).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": 1,\n  \"empty\": [],\n  \"header\": {\n    \"b\": \"x\",\n    \"c\": []\n  },\n  \"rows\": [\n    {\"d\":[1,2],\"e\":{\"f\":[]}},\n    []\n  ]\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn file_names_sort_in_shard_order() {
        let name = |k, n| file_name(Shard::new(k, n).unwrap());
        assert_eq!(name(0, 1), "part-0-of-1.json");
        assert_eq!(name(3, 100), "part-003-of-100.json");
        assert_eq!(name(99, 100), "part-099-of-100.json");
        let mut names: Vec<String> = (0..1000).map(|k| name(k, 1000)).collect();
        let sorted = names.clone();
        names.sort();
        assert_eq!(names, sorted);
        assert!(is_part_name("part-003-of-100.json"));
        assert!(!is_part_name(".part-003-of-100.json.tmp-42"));
        assert!(!is_part_name("manifest.json"));
    }
}
