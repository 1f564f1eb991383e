//! The rename scheme of size rotation: `daemon.log` → `daemon.log.1` … `.N`.
//!
//! Hand-written rather than taken from a crate: `tracing-appender` and
//! `file-rotate` rotate by time or own the writer themselves, while here the
//! logger actor must own the file descriptor (to reopen it on SIGUSR1 and to
//! fail visibly) and only needs these few renames.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// `base.n`, the name of the n-th rotated file (1 = newest).
pub fn rotated_path(base: &Path, n: u32) -> PathBuf {
    let mut name = OsString::from(base.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Shifts every rotated file up by one, deleting the oldest, and moves `base`
/// to `base.1`. With `max_files == 0` the current file is simply deleted, so the
/// log never holds more than one file. Missing files are not an error (a fresh
/// install, or an operator who cleaned up), anything else is.
pub fn shift(base: &Path, max_files: u32) -> io::Result<()> {
    if max_files == 0 {
        return ignore_missing(std::fs::remove_file(base));
    }
    ignore_missing(std::fs::remove_file(rotated_path(base, max_files)))?;
    for n in (1..max_files).rev() {
        ignore_missing(std::fs::rename(
            rotated_path(base, n),
            rotated_path(base, n + 1),
        ))?;
    }
    ignore_missing(std::fs::rename(base, rotated_path(base, 1)))
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn read(p: &Path) -> Option<String> {
        fs::read_to_string(p).ok()
    }

    #[test]
    fn names_append_a_number() {
        assert_eq!(
            rotated_path(Path::new("/var/log/z/daemon.log"), 3),
            PathBuf::from("/var/log/z/daemon.log.3")
        );
    }

    #[test]
    fn shifts_and_deletes_the_oldest() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let base = dir.path().join("daemon.log");
        for round in 0..5 {
            fs::write(&base, format!("gen{round}"))?;
            shift(&base, 3)?;
        }
        assert_eq!(read(&base), None);
        assert_eq!(read(&rotated_path(&base, 1)).as_deref(), Some("gen4"));
        assert_eq!(read(&rotated_path(&base, 2)).as_deref(), Some("gen3"));
        assert_eq!(read(&rotated_path(&base, 3)).as_deref(), Some("gen2"));
        assert_eq!(read(&rotated_path(&base, 4)), None);
        Ok(())
    }

    #[test]
    fn zero_files_keeps_none() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let base = dir.path().join("daemon.log");
        fs::write(&base, "x")?;
        shift(&base, 0)?;
        assert_eq!(read(&base), None);
        assert_eq!(read(&rotated_path(&base, 1)), None);
        Ok(())
    }

    #[test]
    fn nothing_to_shift_is_fine() {
        // No current file and no rotated ones: nothing to do, not an error.
        let base = Path::new("/nonexistent-zeroclaw-dir/daemon.log");
        assert!(shift(base, 2).is_ok());
    }

    #[test]
    fn directory_replaced_by_a_file_fails() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let not_a_dir = dir.path().join("logs");
        fs::write(&not_a_dir, "i am a file")?;
        let base = not_a_dir.join("daemon.log");
        let err = match shift(&base, 2) {
            Ok(()) => panic!("shifting under a regular file must fail"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
        Ok(())
    }
}
