//! Reading the files a user names: only regular files, never more than a stated limit, and
//! never waiting on a pipe.
//!
//! Every input of hsctsim (scenario files and the files they extend, target and fit files,
//! part files, a run folder's CSV files for `plot`) is small and regular. Anything else is a
//! mistake or an attack, and the naive `fs::read` turns each into a failure that is not
//! reported as one: `/dev/zero` reads until memory runs out, a FIFO blocks `open` until a
//! writer appears (forever), a file that grows while being read outruns its own size check.
//! So a file is opened without blocking, its type is taken from the open handle (not from the
//! path, which could be swapped between a check and the open), and it is read through a
//! limit one byte above the largest size accepted, whatever its metadata says (`/proc` files
//! say 0).

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Why a named input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Nothing is at the path.
    #[error("{path}: no such file")]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The path names something other than a regular file.
    #[error("{path} is {what}, not a regular file")]
    NotAFile {
        /// The path as given.
        path: PathBuf,
        /// What it is: "a folder", "a named pipe (FIFO)", …
        what: &'static str,
    },
    /// The file is larger than inputs of its kind may be.
    #[error("{path} is larger than {limit} bytes, the most accepted for this kind of file")]
    TooLarge {
        /// The path as given.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The system refused (permissions, I/O).
    #[error("{path}: cannot read the file: {source}")]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
}

impl InputError {
    /// A sentence on what to do, for messages.
    pub fn help(&self) -> &'static str {
        match self {
            InputError::NotFound { .. } => {
                "check the path (relative paths start from the current folder)"
            }
            InputError::NotAFile { .. } => "give the path of a file",
            InputError::TooLarge { .. } => {
                "is this the right file? hsctsim's input files are small texts"
            }
            InputError::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                "check the file's permissions"
            }
            InputError::Io { .. } => "check the file and the disk",
        }
    }

    /// True when the input is at fault (a wrong path or file), false when the system is
    /// (a read error on a file that should be readable).
    pub fn is_input_fault(&self) -> bool {
        match self {
            InputError::Io { source, .. } => source.kind() == io::ErrorKind::PermissionDenied,
            _ => true,
        }
    }
}

/// What kind of thing a path's metadata describes, in words for a message.
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    if t.is_file() {
        return "a file";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// Opens `path` for reading without blocking (a FIFO would otherwise wait for a writer).
fn open(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// Reads the regular file at `path`, refusing anything else and anything over `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let shown = path.to_path_buf();
    let io_error = |source: io::Error| {
        if source.kind() == io::ErrorKind::NotFound {
            InputError::NotFound {
                path: shown.clone(),
            }
        } else {
            InputError::Io {
                path: shown.clone(),
                source,
            }
        }
    };
    let file = open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if !meta.is_file() {
        return Err(InputError::NotAFile {
            path: shown,
            what: kind_of(&meta),
        });
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge { path: shown, limit });
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { path: shown, limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_within_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_bounded(&path, 9),
            Err(InputError::TooLarge { limit: 9, .. })
        ));
        assert!(matches!(
            read_bounded(&dir.path().join("missing.toml"), 10),
            Err(InputError::NotFound { .. })
        ));
        let e = read_bounded(dir.path(), 10).unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_pipes_are_refused_without_waiting() {
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_bounded(&fifo, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("named pipe"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn files_whose_size_lies_are_cut_at_the_limit() {
        // /proc files report a size of 0 but have content.
        let e = read_bounded(Path::new("/proc/self/maps"), 16).unwrap_err();
        assert!(matches!(e, InputError::TooLarge { .. }), "{e}");
    }
}
