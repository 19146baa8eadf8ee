//! A file written under a temporary name and renamed into place only when complete.
//!
//! A file named like the result is always a whole result: an interrupted or failed run
//! leaves at most a hidden `.NAME.partial-PID` beside it, which is removed on the way out
//! (and which a later run with the same process id would replace). An existing file is
//! replaced only when asked, and then only by the rename of a complete new one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file exists and replacing it was not asked for.
    #[error("{0} already exists; use --force to replace it, or choose another file")]
    Exists(PathBuf),
    /// The path names a folder.
    #[error("{0} is a folder; give the path of a file, e.g. {0}/patients.csv")]
    IsFolder(PathBuf),
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
}

/// Fails early, before any simulation, if `path` may not be written.
pub fn check_destination(path: &Path, force: bool) -> Result<(), FileError> {
    if path.is_dir() {
        return Err(FileError::IsFolder(path.to_path_buf()));
    }
    if path.exists() && !force {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    Ok(())
}

/// A file being written; [`AtomicFile::commit`] puts it in place, dropping it without
/// committing removes what was written.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temporary: PathBuf,
    writer: Option<BufWriter<File>>,
    bytes: u64,
}

impl AtomicFile {
    /// Starts writing `path` (creating its folder if needed) under a temporary name.
    pub fn create(path: &Path, force: bool) -> Result<AtomicFile, FileError> {
        check_destination(path, force)?;
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| FileError::Io {
                action,
                path,
                source,
            }
        };
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        crate::output::create_folder(&parent).map_err(io("cannot create the folder", &parent))?;
        let name = path
            .file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
        let temporary = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&temporary).map_err(io("cannot create", &temporary))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temporary,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            bytes: 0,
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        let writer = self.writer.as_mut().ok_or_else(|| FileError::Io {
            action: "cannot write",
            path: self.path.clone(),
            source: io::Error::other("the file was already finished"),
        })?;
        writer.write_all(bytes).map_err(|source| FileError::Io {
            action: "cannot write",
            path: self.path.clone(),
            source,
        })?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Flushes and syncs the data to disk under the temporary name: after this, only the
    /// rename in [`AtomicFile::commit`] remains, which does not need free space. Call it
    /// before writing other results so a full disk is found while nothing is in place yet.
    pub fn finish(&mut self) -> Result<(), FileError> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let io = |source| FileError::Io {
            action: "cannot write",
            path: self.path.clone(),
            source,
        };
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Finishes the file and renames it into place (replacing an existing file).
    pub fn commit(mut self) -> Result<PathBuf, FileError> {
        self.finish()?;
        fs::rename(&self.temporary, &self.path).map_err(|source| FileError::Io {
            action: "cannot rename the finished file to",
            path: self.path.clone(),
            source,
        })?;
        // Nothing left to clean up.
        self.temporary = PathBuf::new();
        Ok(self.path.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temporary.as_os_str().is_empty() {
            drop(self.writer.take());
            let _ = fs::remove_file(&self.temporary);
        }
    }
}
