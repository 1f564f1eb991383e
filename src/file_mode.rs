//! The modes of the files the daemon keeps (docs/security.md, "File
//! modes"): databases 0600, logs 0640 at most, enforced when a file is
//! created and every time it is opened again, whatever an earlier version,
//! an operator's umask or a restore left behind.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Run history, chats' ids, conversation memory: the owner only.
pub const DATABASE: u32 = 0o600;
/// Logs can hold what users wrote: the owner, and a log-reading group.
pub const LOG: u32 = 0o640;

/// Clear every permission bit of the open `file` outside `max` (on the
/// descriptor: no race with a path replaced in between). Only a regular
/// file: a log written to `/dev/stderr` or a device keeps its mode.
pub fn clamp(file: &File, max: u32) -> io::Result<()> {
    let meta = file.metadata()?;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_file() && mode & !max != 0 {
        file.set_permissions(Permissions::from_mode(mode & max))?;
    }
    Ok(())
}

/// [`clamp`] the regular file at `path`, if there is one (a symlink is
/// left alone: its target is not ours to change).
pub fn clamp_path(path: &Path, max: u32) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {
            let file = OpenOptions::new()
                .read(true)
                .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
                .open(path)?;
            clamp(&file, max)
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// `<path><suffix>`: SQLite's `-wal`, `-shm` and `-journal` beside a database.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Before SQLite opens the database at `path`: create it 0600 if missing,
/// and bring it and its sidecar files to 0600 (SQLite creates `-wal` and
/// `-shm` with the database's mode). A failure is logged; opening the
/// database then reports the cause if it matters.
pub fn database(path: &Path) {
    let result = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(DATABASE)
        .open(path)
        .and_then(|f| clamp(&f, DATABASE))
        .and_then(|()| {
            ["-wal", "-shm", "-journal"]
                .iter()
                .try_for_each(|s| clamp_path(&sidecar(path, s), DATABASE))
        });
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot make the database private (mode 0600)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn clamping_only_removes_bits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "x").unwrap();
        for (before, after) in [
            (0o666, 0o640),
            (0o600, 0o600),
            (0o604, 0o600),
            (0o4755, 0o640),
        ] {
            std::fs::set_permissions(&p, Permissions::from_mode(before)).unwrap();
            clamp_path(&p, LOG).unwrap();
            assert_eq!(mode(&p), after, "{before:o}");
        }
    }

    #[test]
    fn a_database_and_its_sidecars_become_private() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.sqlite3");
        database(&db);
        assert_eq!(mode(&db), 0o600);
        for s in ["-wal", "-shm"] {
            std::fs::write(sidecar(&db, s), "").unwrap();
            std::fs::set_permissions(sidecar(&db, s), Permissions::from_mode(0o644)).unwrap();
        }
        std::fs::set_permissions(&db, Permissions::from_mode(0o666)).unwrap();
        database(&db);
        for p in [db.clone(), sidecar(&db, "-wal"), sidecar(&db, "-shm")] {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "x").unwrap();
        std::fs::set_permissions(&target, Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        clamp_path(&link, DATABASE).unwrap();
        assert_eq!(mode(&target), 0o644);
    }
}
