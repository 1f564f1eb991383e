//! The log file itself: size-bounded writes, rotation, reopen, and noticing
//! when the file at the configured path is no longer the one we hold open.
//!
//! Plain blocking code, driven by the logger actor from `spawn_blocking`.

use super::error::LoggingError;
use super::rotate;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// When to rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// `false`: the file only grows (external logrotate owns it).
    pub enabled: bool,
    /// A file is rotated before a line would take it past this many bytes.
    pub max_size: u64,
    /// Rotated files kept (`daemon.log.1` … `.max_files`).
    pub max_files: u32,
}

/// A batch write that stopped part-way: lines from `unwritten_from` on are not
/// known to be in the file and must go elsewhere.
#[derive(Debug)]
pub struct BatchFailure {
    pub error: LoggingError,
    pub unwritten_from: usize,
}

/// An open, append-only log file with size rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    rotation: Rotation,
    out: BufWriter<File>,
    size: u64,
    identity: (u64, u64),
}

/// Logs can hold secrets the operator pasted into a chat: not world-readable.
const FILE_MODE: u32 = crate::file_mode::LOG;
const WRITE_BUFFER: usize = 64 * 1024;

impl RotatingFile {
    /// Opens (creating) the file for appending. `create_dir` creates missing
    /// parent directories: done on the daemon's first start only, so a log
    /// directory removed at run time is reported rather than silently recreated.
    pub fn open(path: &Path, rotation: Rotation, create_dir: bool) -> Result<Self, LoggingError> {
        let open_err = |source| LoggingError::Open {
            path: path.to_path_buf(),
            source,
        };
        if create_dir && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(open_err)?;
        }
        let (file, size, identity) = open_append(path).map_err(open_err)?;
        // Files rotated by an earlier run keep the mode they had then.
        for n in 1..=rotation.max_files {
            let _ = crate::file_mode::clamp_path(&rotate::rotated_path(path, n), FILE_MODE);
        }
        Ok(Self {
            path: path.to_path_buf(),
            rotation,
            out: BufWriter::with_capacity(WRITE_BUFFER, file),
            size,
            identity,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the current file, as far as this writer knows.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Closes and opens the path again: after an external logrotate moved the
    /// file away (SIGUSR1), the next line lands in a fresh file.
    pub fn reopen(&mut self) -> Result<(), LoggingError> {
        self.out.flush().map_err(|e| self.write_err(e))?;
        let (file, size, identity) =
            open_append(&self.path).map_err(|source| LoggingError::Open {
                path: self.path.clone(),
                source,
            })?;
        self.out = BufWriter::with_capacity(WRITE_BUFFER, file);
        self.size = size;
        self.identity = identity;
        Ok(())
    }

    /// Writes whole lines, rotating between lines so that no file exceeds
    /// `max_size` unless a single line is larger than that. Flushes at the end
    /// so a `tail -f` sees every batch at once.
    pub fn write_lines<L: AsRef<[u8]>>(&mut self, lines: &[L]) -> Result<(), BatchFailure> {
        let fail = |error, unwritten_from| BatchFailure {
            error,
            unwritten_from,
        };
        self.follow_path().map_err(|e| fail(e, 0))?;
        // Lines before `committed` were flushed successfully.
        let mut committed = 0;
        for (i, line) in lines.iter().enumerate() {
            let line = line.as_ref();
            if self.must_rotate(line.len() as u64) {
                self.out
                    .flush()
                    .map_err(|e| fail(self.write_err(e), committed))?;
                committed = i;
                self.rotate().map_err(|e| fail(e, committed))?;
            }
            self.out
                .write_all(line)
                .map_err(|e| fail(self.write_err(e), committed))?;
            self.size += line.len() as u64;
        }
        self.out
            .flush()
            .map_err(|e| fail(self.write_err(e), committed))
    }

    fn must_rotate(&self, next: u64) -> bool {
        self.rotation.enabled && self.size > 0 && self.size + next > self.rotation.max_size
    }

    fn rotate(&mut self) -> Result<(), LoggingError> {
        rotate::shift(&self.path, self.rotation.max_files).map_err(|source| {
            LoggingError::Rotate {
                path: self.path.clone(),
                source,
            }
        })?;
        self.reopen()
    }

    /// Re-checks that the path still names the file we hold: if it was moved
    /// or deleted, open it again (like `tail -F`); if it cannot be opened (its
    /// directory is gone or is no longer a directory), fail so the actor does.
    /// Without this, writes to an unlinked file would succeed into the void.
    fn follow_path(&mut self) -> Result<(), LoggingError> {
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.identity => {
                // Truncated in place (logrotate `copytruncate`): count from there.
                self.size = m.len();
                Ok(())
            }
            Ok(_) => self.reopen(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.reopen(),
            Err(source) => Err(LoggingError::Write {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn write_err(&self, source: io::Error) -> LoggingError {
        LoggingError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

fn open_append(path: &Path) -> io::Result<(File, u64, (u64, u64))> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)?;
    // `mode` applies to a new file only: an existing one is brought down too.
    crate::file_mode::clamp(&file, FILE_MODE)?;
    let meta = file.metadata()?;
    Ok((file, meta.len(), (meta.dev(), meta.ino())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn rotation(max_size: u64, max_files: u32) -> Rotation {
        Rotation {
            enabled: true,
            max_size,
            max_files,
        }
    }

    fn open(path: &Path, r: Rotation) -> RotatingFile {
        match RotatingFile::open(path, r, true) {
            Ok(f) => f,
            Err(e) => panic!("open {}: {e}", path.display()),
        }
    }

    fn write(f: &mut RotatingFile, lines: &[String]) {
        if let Err(e) = f.write_lines(lines) {
            panic!("write: {}", e.error);
        }
    }

    #[test]
    fn rotates_before_exceeding_max_size() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sub/daemon.log");
        let mut f = open(&path, rotation(100, 2));
        // 10 lines of 30 bytes: three per file, four files' worth.
        let lines: Vec<String> = (0..10).map(|i| format!("{i:028}\n")).collect();
        write(&mut f, &lines);
        let cur = fs::read_to_string(&path)?;
        let r1 = fs::read_to_string(rotate::rotated_path(&path, 1))?;
        let r2 = fs::read_to_string(rotate::rotated_path(&path, 2))?;
        assert!(!rotate::rotated_path(&path, 3).exists());
        assert_eq!(cur, lines[9]);
        assert_eq!(r1, lines[6..9].concat());
        assert_eq!(r2, lines[3..6].concat());
        Ok(())
    }

    #[test]
    fn a_line_longer_than_max_size_gets_a_file_of_its_own() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("daemon.log");
        let mut f = open(&path, rotation(10, 3));
        let lines = vec![
            "short\n".to_string(),
            "x".repeat(50) + "\n",
            "tail\n".into(),
        ];
        write(&mut f, &lines);
        assert_eq!(fs::read_to_string(&path)?, "tail\n");
        assert_eq!(
            fs::read_to_string(rotate::rotated_path(&path, 1))?,
            lines[1]
        );
        assert_eq!(
            fs::read_to_string(rotate::rotated_path(&path, 2))?,
            "short\n"
        );
        Ok(())
    }

    #[test]
    fn rotate_false_only_grows() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("daemon.log");
        let mut f = open(
            &path,
            Rotation {
                enabled: false,
                max_size: 10,
                max_files: 3,
            },
        );
        let lines: Vec<String> = (0..20).map(|i| format!("line {i}\n")).collect();
        write(&mut f, &lines);
        assert_eq!(fs::read_to_string(&path)?, lines.concat());
        assert!(!rotate::rotated_path(&path, 1).exists());
        Ok(())
    }

    #[test]
    fn appends_to_an_existing_file_and_counts_its_size() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("daemon.log");
        fs::write(&path, "0123456789\n")?;
        let mut f = open(&path, rotation(15, 1));
        assert_eq!(f.size(), 11);
        write(&mut f, &["abcdef\n".to_string()]);
        assert_eq!(fs::read_to_string(&path)?, "abcdef\n");
        assert_eq!(
            fs::read_to_string(rotate::rotated_path(&path, 1))?,
            "0123456789\n"
        );
        Ok(())
    }

    #[test]
    fn follows_a_file_moved_away_without_a_signal() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("daemon.log");
        let mut f = open(&path, rotation(1 << 20, 1));
        write(&mut f, &["before\n".to_string()]);
        fs::rename(&path, dir.path().join("moved.log"))?;
        write(&mut f, &["after\n".to_string()]);
        assert_eq!(fs::read_to_string(&path)?, "after\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("moved.log"))?,
            "before\n"
        );
        Ok(())
    }

    #[test]
    fn copytruncate_resets_the_size() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("daemon.log");
        let mut f = open(&path, rotation(20, 1));
        write(&mut f, &["0123456789abcde\n".to_string()]);
        // logrotate `copytruncate`: copy, then truncate the file in place.
        fs::OpenOptions::new().write(true).open(&path)?.set_len(0)?;
        write(&mut f, &["fits now\n".to_string()]);
        assert_eq!(fs::read_to_string(&path)?, "fits now\n");
        assert!(!rotate::rotated_path(&path, 1).exists());
        Ok(())
    }

    #[test]
    fn reopen_starts_a_fresh_file_after_logrotate() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("daemon.log");
        let mut f = open(&path, rotation(1 << 20, 1));
        write(&mut f, &["one\n".to_string()]);
        // logrotate with `create`: move, then create an empty file.
        fs::rename(&path, dir.path().join("daemon.log-20261125"))?;
        fs::write(&path, "")?;
        if let Err(e) = f.reopen() {
            panic!("reopen: {e}");
        }
        write(&mut f, &["two\n".to_string()]);
        assert_eq!(fs::read_to_string(&path)?, "two\n");
        Ok(())
    }

    #[test]
    fn directory_replaced_by_a_file_fails_even_as_root() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let logs = dir.path().join("logs");
        let path = logs.join("daemon.log");
        let mut f = open(&path, rotation(1 << 20, 1));
        write(&mut f, &["ok\n".to_string()]);
        fs::remove_dir_all(&logs)?;
        fs::write(&logs, "not a directory")?;
        let failure = match f.write_lines(&["lost?\n"]) {
            Ok(()) => panic!("writing under a regular file must fail"),
            Err(e) => e,
        };
        assert_eq!(failure.unwritten_from, 0);
        assert!(failure.error.to_string().contains("daemon.log"));
        Ok(())
    }

    #[test]
    fn removed_directory_fails() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let logs = dir.path().join("logs");
        let path = logs.join("daemon.log");
        let mut f = open(&path, rotation(1 << 20, 1));
        fs::remove_dir_all(&logs)?;
        assert!(f.write_lines(&["x\n"]).is_err());
        Ok(())
    }

    #[test]
    fn disk_full_fails() {
        // /dev/full answers every write with ENOSPC.
        let mut f = match RotatingFile::open(
            Path::new("/dev/full"),
            Rotation {
                enabled: false,
                max_size: 1 << 20,
                max_files: 0,
            },
            false,
        ) {
            Ok(f) => f,
            Err(e) => panic!("open /dev/full: {e}"),
        };
        let failure = match f.write_lines(&["a\n", "b\n"]) {
            Ok(()) => panic!("/dev/full must fail"),
            Err(e) => e,
        };
        assert_eq!(failure.unwritten_from, 0);
        assert!(
            failure.error.to_string().contains("No space left"),
            "{}",
            failure.error
        );
    }
}
