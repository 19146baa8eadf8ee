//! Output files of a run, written atomically.
//!
//! A run's files are written into a hidden sibling folder (`.NAME.partial-PID`) and the
//! folder is renamed into place only when every file is complete, so a folder named like a
//! result is always a whole result. An existing result is replaced only when asked
//! (`--force`), and then only after the new one is complete.

pub mod curves;
pub mod economics;
pub mod manifest;
pub mod psa;
pub mod summary;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::aggregate::results::Results;
use crate::plot::{self, PlotError, PlotOptions, RunData};
pub use manifest::Manifest;

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The folder exists and `force` was not given.
    #[error("{0} already exists; use --force to replace it, or --out to write elsewhere")]
    Exists(PathBuf),
    /// The figures could not be rendered.
    #[error("figures: {0}")]
    Figures(#[from] PlotError),
    /// A file system operation failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Fails early if `dir` exists and may not be replaced, before any simulation is done.
pub fn check_destination(dir: &Path, force: bool) -> Result<(), OutputError> {
    if dir.exists() && !force {
        return Err(OutputError::Exists(dir.to_path_buf()));
    }
    Ok(())
}

/// Formats a number for CSV: shortest text that reads back to the same `f64`; empty for NaN.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// Writes `curves.csv`, `summary.csv` and `manifest.json` into `dir` atomically.
pub fn write_run(
    dir: &Path,
    results: &Results,
    manifest: &Manifest,
    force: bool,
) -> Result<(), OutputError> {
    check_destination(dir, force)?;
    write_folder(dir, &run_files(results, manifest), force)
}

/// A run's data files: curves, summary, manifest, and the economic tables when there are
/// economics.
fn run_files(results: &Results, manifest: &Manifest) -> Vec<(String, Vec<u8>)> {
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

/// Writes `curves.csv`, `summary.csv`, `manifest.json` and the figures `options` ask for
/// (into `figures/`) atomically: the folder appears, figures included, only when all is
/// written, so a run folder that looks complete always has its figures.
pub fn write_run_with_figures(
    dir: &Path,
    results: &Results,
    manifest: &Manifest,
    options: &PlotOptions,
    force: bool,
) -> Result<(), OutputError> {
    check_destination(dir, force)?;
    let figures = plot::render(&RunData::from_results(results, manifest), options)?;
    let mut files = run_files(results, manifest);
    files.extend(
        figures
            .into_iter()
            .map(|f| (format!("figures/{}", f.file_name), f.bytes)),
    );
    write_folder(dir, &files, force)
}

/// Creates a folder and its parents; a file standing where a folder must go is named as
/// such (the system's own message, "File exists", hides which one).
pub fn create_folder(path: &Path) -> io::Result<()> {
    if let Some(file) = path.ancestors().find(|a| a.is_file()) {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is a file, not a folder", file.display()),
        ));
    }
    fs::create_dir_all(path)
}

/// Writes files (names relative to `dir`, subfolders allowed) into a fresh folder that
/// replaces `dir` only when complete.
pub fn write_folder<N: AsRef<Path>>(
    dir: &Path,
    files: &[(N, Vec<u8>)],
    force: bool,
) -> Result<(), OutputError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_folder(&parent).map_err(io_error(&parent))?;
    let name = dir
        .file_name()
        .map_or("output".into(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    let partial = parent.join(format!(".{name}.partial-{pid}"));
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(io_error(&partial))?;
    }
    fs::create_dir(&partial).map_err(io_error(&partial))?;
    let written = (|| {
        for (file, bytes) in files {
            let path = partial.join(file);
            if let Some(folder) = path.parent() {
                fs::create_dir_all(folder).map_err(io_error(folder))?;
            }
            let mut f = fs::File::create(&path).map_err(io_error(&path))?;
            f.write_all(bytes).map_err(io_error(&path))?;
            f.sync_all().map_err(io_error(&path))?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&partial);
        return Err(e);
    }
    if dir.exists() {
        if !force {
            let _ = fs::remove_dir_all(&partial);
            return Err(OutputError::Exists(dir.to_path_buf()));
        }
        let old = parent.join(format!(".{name}.old-{pid}"));
        fs::rename(dir, &old).map_err(io_error(dir))?;
        fs::rename(&partial, dir).map_err(io_error(dir))?;
        fs::remove_dir_all(&old).map_err(io_error(&old))?;
    } else {
        fs::rename(&partial, dir).map_err(io_error(dir))?;
    }
    Ok(())
}
