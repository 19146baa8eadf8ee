//! Output files of a run: what they hold ([`curves`], [`summary`], [`economics`],
//! [`manifest`], [`psa`]) and the folder they go in, written through [`crate::atomic`]: a
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
use crate::plot::{self, PlotError, PlotOptions, RunData};
pub use manifest::Manifest;

/// How every output folder of ours is recognised: by the `manifest.json` in it.
pub const FOLDER: Signature = Signature::ManifestFolder;

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The figures could not be rendered.
    #[error("figures: {0}")]
    Figures(#[from] PlotError),
    /// Writing or putting the folder in place failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

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

/// A run's data files and, with `options`, its figures (under `figures/`), rendered in
/// memory so that nothing is on disk until everything could be made. Figures that cannot
/// be drawn do not cost the data: a figure that cannot be laid out is replaced by a note
/// (with [`PlotOptions::after_simulation`]), and when no figure can be drawn at all the
/// files come without them and the reason is returned beside them (`hsctsim plot` can
/// retry from the data).
pub fn run_files_with_figures(
    results: &Results,
    manifest: &Manifest,
    options: Option<&PlotOptions>,
) -> RunFiles {
    let mut files = run_files(results, manifest);
    let Some(options) = options else {
        return RunFiles {
            files,
            figures_failed: None,
        };
    };
    match plot::render(&RunData::from_results(results, manifest), options) {
        Ok(figures) => {
            files.extend(
                figures
                    .into_iter()
                    .map(|f| (format!("figures/{}", f.file_name), f.bytes)),
            );
            RunFiles {
                files,
                figures_failed: None,
            }
        }
        Err(e) => RunFiles {
            files,
            figures_failed: Some(e),
        },
    }
}

/// The files of a run's output folder, and what became of its figures.
pub struct RunFiles {
    /// Names relative to the folder (figures under `figures/`) and contents.
    pub files: Vec<(String, Vec<u8>)>,
    /// Why no figure could be drawn, if none could.
    pub figures_failed: Option<PlotError>,
}

/// The notes in place of figures among an output folder's `files` (see
/// [`plot::Figure::is_note`]): each note's name in the folder and the reason it gives.
pub fn omitted<N: AsRef<str>>(files: &[(N, Vec<u8>)]) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|(name, _)| name.as_ref().ends_with(plot::NOTE_SUFFIX))
        .map(|(name, bytes)| {
            let reason = String::from_utf8_lossy(bytes);
            (
                name.as_ref().to_string(),
                reason.lines().next().unwrap_or_default().to_string(),
            )
        })
        .collect()
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

/// Writes a run folder (data files, and figures with `options`), all or nothing; returns
/// why the figures are missing, if they are.
pub fn write_run(
    dir: &Path,
    results: &Results,
    manifest: &Manifest,
    options: Option<&PlotOptions>,
    replace: bool,
) -> Result<Option<PlotError>, OutputError> {
    let RunFiles {
        files,
        figures_failed,
    } = run_files_with_figures(results, manifest, options);
    write_folder(dir, &files, replace, None)?;
    Ok(figures_failed)
}
