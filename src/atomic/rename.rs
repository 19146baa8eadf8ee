//! The two renames an atomic commit needs: into a free place without ever replacing what
//! another process put there, and an atomic swap with a previous output.
//!
//! On Linux both are one `renameat2` call (`RENAME_NOREPLACE`, `RENAME_EXCHANGE`; Linux 3.15
//! and later, on the common local file systems). Where the call or the flag is not supported
//! (older kernels, some network file systems, other systems) the fallbacks are a check
//! followed by a rename, and a rename of the old output aside followed by the new one into
//! place: correct without concurrency, with a window of microseconds when two processes
//! write to one place at once.

use std::fs;
use std::io;
use std::path::Path;

#[cfg(target_os = "linux")]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let from = CString::new(from.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
    let to = CString::new(to.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
    // SAFETY: two valid NUL-terminated paths relative to the current folder; the system
    // call reads them and nothing else. Called through `syscall` so that it works with any
    // C library, whether or not it wraps renameat2.
    let result = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// True for the errors that mean "this kernel or file system cannot do that flag".
#[cfg(target_os = "linux")]
fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS))
}

/// Renames `from` to `to`, failing with `AlreadyExists` if `to` exists.
pub fn no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match renameat2(from, to, libc::RENAME_NOREPLACE) {
        Err(e) if unsupported(&e) => {}
        other => return other,
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the destination exists",
        ));
    }
    fs::rename(from, to)
}

/// Swaps `a` and `b`, both of which exist.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    match renameat2(a, b, libc::RENAME_EXCHANGE) {
        Err(e) if unsupported(&e) => {}
        other => return other,
    }
    let name = a
        .file_name()
        .map_or_else(|| "swap".into(), |n| n.to_string_lossy().into_owned());
    let aside = a.with_file_name(format!("{name}.swap"));
    fs::rename(b, &aside)?;
    if let Err(e) = fs::rename(a, b) {
        let _ = fs::rename(&aside, b);
        return Err(e);
    }
    fs::rename(&aside, a)
}
