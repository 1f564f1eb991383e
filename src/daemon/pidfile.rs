//! The pid file: written atomically, locked for the daemon's whole life so a
//! second daemon can tell a live owner from a stale file.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error(
        "another zeroclaw is running (pid {pid}, holding the pid file {path}); stop it with `zeroclaw stop` or use another --pid-file"
    )]
    Held { path: String, pid: String },
    #[error("pid file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Holds the lock; removes the file on drop if it still names this process.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    // The lock lives as long as this handle.
    _file: File,
}

impl PidFile {
    /// Take the pid file at `path` for this process.
    pub fn acquire(path: &Path) -> Result<Self, PidFileError> {
        let io = |source| PidFileError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Check the current file's lock first: a live owner keeps it locked.
        if let Ok(mut existing) = OpenOptions::new().read(true).write(true).open(path) {
            match existing.try_lock() {
                Ok(()) => {
                    let mut old = String::new();
                    let _ = existing.read_to_string(&mut old);
                    tracing::warn!(
                        path = %path.display(),
                        old_pid = old.trim(),
                        "taking over a stale pid file (its process is gone)"
                    );
                }
                Err(TryLockError::WouldBlock) => {
                    let mut pid = String::new();
                    let _ = existing.read_to_string(&mut pid);
                    return Err(PidFileError::Held {
                        path: path.display().to_string(),
                        pid: pid.trim().to_string(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        // Write a locked temporary file and rename it into place, so a reader
        // never sees a half-written pid and the lock moves with the inode.
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io)?;
        file.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => io(e),
            TryLockError::WouldBlock => io(std::io::Error::other("temporary pid file is locked")),
        })?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            _file: file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path)
            .map(|s| s.trim() == std::process::id().to_string())
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_in_same_dir_is_refused_and_names_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.pid");
        let first = PidFile::acquire(&path).unwrap();
        // flock locks are per open file description, so a second open in the
        // same process conflicts just like another process would.
        let err = PidFile::acquire(&path).unwrap_err();
        assert!(
            err.to_string().contains(&std::process::id().to_string()),
            "{err}"
        );
        drop(first);
        assert!(!path.exists());
    }

    #[test]
    fn stale_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.pid");
        std::fs::write(&path, "999999\n").unwrap();
        let pf = PidFile::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(pf.path()).unwrap().trim(),
            std::process::id().to_string()
        );
    }
}
