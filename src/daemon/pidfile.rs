//! The pid file: written atomically, locked for the daemon's whole life so a
//! second daemon can tell a live owner from a stale file.
//!
//! The path may be in a directory others can write to (`/run`, `/tmp`), so it
//! is handled as hostile (docs/security.md, "Pid file"): an existing entry is
//! opened without following a symlink and without blocking, must be a
//! regular file, and only a few bytes of it are read (and shown only as a
//! number); the new file is created exclusively under an unpredictable name
//! and renamed into place.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A pid and a newline fit; nothing more of an existing file is read.
const MAX_READ: u64 = 32;

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error(
        "another zeroclaw is running (pid {pid}, holding the pid file {path}); stop it with `zeroclaw stop` or use another --pid-file"
    )]
    Held { path: String, pid: String },
    #[error(
        "pid file {path} is a symbolic link; zeroclaw does not follow it (someone may have planted it): remove it, or use another --pid-file"
    )]
    Symlink { path: String },
    #[error("pid file {path} is not a regular file ({kind}); remove it, or use another --pid-file")]
    NotRegular { path: String, kind: &'static str },
    #[error("pid file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Holds the lock; removes the file on drop if it still is the one written.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    // The lock lives as long as this handle.
    file: File,
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a plain file"
    }
}

/// The existing entry at `path`, opened read-only without following a
/// symlink or blocking on a FIFO; `None` when there is none.
fn open_existing(path: &Path) -> Result<Option<File>, PidFileError> {
    let shown = || path.display().to_string();
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(PidFileError::Symlink { path: shown() });
        }
        Err(source) => {
            return Err(PidFileError::Io {
                path: shown(),
                source,
            });
        }
    };
    let meta = file.metadata().map_err(|source| PidFileError::Io {
        path: shown(),
        source,
    })?;
    if !meta.is_file() {
        return Err(PidFileError::NotRegular {
            path: shown(),
            kind: kind(&meta),
        });
    }
    Ok(Some(file))
}

/// The pid an existing file names, or a placeholder: never its raw bytes.
fn read_pid(file: &mut File) -> String {
    let mut buf = Vec::new();
    let _ = file.take(MAX_READ).read_to_end(&mut buf);
    match String::from_utf8_lossy(&buf).trim().parse::<u32>() {
        Ok(pid) => pid.to_string(),
        Err(_) => "unknown: the file holds no pid".into(),
    }
}

impl PidFile {
    /// Take the pid file at `path` for this process.
    pub fn acquire(path: &Path) -> Result<Self, PidFileError> {
        let io = |source| PidFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(io)?;
                dir
            }
            None => Path::new("."),
        };
        // Check the current file's lock first: a live owner keeps it locked.
        if let Some(mut existing) = open_existing(path)? {
            match existing.try_lock() {
                Ok(()) => {
                    let old = read_pid(&mut existing);
                    tracing::warn!(
                        path = %path.display(),
                        old_pid = %old,
                        "taking over a stale pid file (its process is gone)"
                    );
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(PidFileError::Held {
                        path: path.display().to_string(),
                        pid: read_pid(&mut existing),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        // Write a locked temporary file and rename it into place, so a reader
        // never sees a half-written pid and the lock moves with the inode.
        // Created with O_EXCL under a random name: nothing planted is written through.
        let stem = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "zeroclaw.pid".into());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{stem}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io)?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
        tmp.as_file().try_lock().map_err(|e| match e {
            TryLockError::Error(e) => io(e),
            TryLockError::WouldBlock => io(std::io::Error::other("temporary pid file is locked")),
        })?;
        writeln!(tmp.as_file(), "{}", std::process::id()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        let file = tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only the very file written (not whatever was put at the path since).
        let same = match (std::fs::symlink_metadata(&self.path), self.file.metadata()) {
            (Ok(at_path), Ok(ours)) => (at_path.dev(), at_path.ino()) == (ours.dev(), ours.ino()),
            _ => false,
        };
        if same {
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

    #[test]
    fn no_temporary_file_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.pid");
        let pf = PidFile::acquire(&path).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["z.pid"]);
        assert_eq!(
            std::fs::metadata(pf.path()).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
