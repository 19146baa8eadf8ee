//! Output files of a run: what they hold ([`curves`], [`summary`], [`economics`],
//! [`manifest`]; the PSA and OWSA tables are [`crate::psa::files`]) and the folder they go in, written through [`crate::atomic`]: a
//! folder named like a result is always a whole result, and only a previous output of ours
//! is ever replaced.

pub mod curves;
pub mod economics;
pub mod manifest;
pub mod summary;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::aggregate::results::Results;
use crate::atomic::{self, Signature, StagedFolder, WriteError};
pub use manifest::Manifest;

/// How every output folder of ours is recognised: by the `manifest.json` in it.
pub const FOLDER: Signature = Signature::ManifestFolder;

/// Formats a number for CSV: shortest text that reads back to the same `f64`; empty for NaN.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// A run's data files: curves, summary, manifest, and the economic tables when there are
/// economics.
pub fn run_files(results: &Results, manifest: &Manifest) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("curves.csv".into(), curves::to_csv(&results.curves)),
        ("summary.csv".into(), summary::to_csv(&results.summary)),
        ("manifest.json".into(), manifest.to_json()),
    ];
    if let Some(economics) = &results.economics {
        files.push((
            "economics.csv".into(),
            economics::values_csv(&economics.values),
        ));
        files.push((
            "incremental.csv".into(),
            economics::increments_csv(&economics.increments),
        ));
    }
    files
}

/// Stages `files` (names relative to the folder, subfolders allowed) as the folder that
/// will become `dir`; [`atomic::commit`] puts it in place.
pub fn stage_folder<N: AsRef<str>>(
    dir: &Path,
    files: &[(N, Vec<u8>)],
    replace: bool,
) -> Result<StagedFolder, WriteError> {
    let mut folder = StagedFolder::create(dir, FOLDER, replace)?;
    for (name, bytes) in files {
        folder.write(name.as_ref(), bytes)?;
    }
    Ok(folder)
}

/// Writes `files` as the folder `dir`, all or nothing (destinations are checked by the
/// caller's [`atomic::Plan`] first); `cancel` set before the folder goes into place stops
/// with nothing written.
pub fn write_folder<N: AsRef<str>>(
    dir: &Path,
    files: &[(N, Vec<u8>)],
    replace: bool,
    cancel: Option<&AtomicBool>,
) -> Result<(), WriteError> {
    let mut folder = stage_folder(dir, files, replace)?;
    atomic::commit(&mut [folder.stage()], cancel)?;
    Ok(())
}
