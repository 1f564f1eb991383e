//! What the logger writes to: the rotating file, or stderr when no file is
//! configured. Blocking code, run from `spawn_blocking`.

use super::error::LoggingError;
use super::file::{BatchFailure, RotatingFile};
use super::output::SinkTarget;
use std::io::Write;

pub enum Sink {
    File(RotatingFile),
    Stderr,
}

impl Sink {
    /// Opens the target; `first_open` may create the log directory.
    pub fn open(target: &SinkTarget, first_open: bool) -> Result<Self, LoggingError> {
        match target {
            SinkTarget::File { path, rotation } => {
                RotatingFile::open(path, *rotation, first_open).map(Sink::File)
            }
            SinkTarget::Stderr => Ok(Sink::Stderr),
        }
    }

    /// Writes a batch, reopening the file first when asked to.
    pub fn write(&mut self, lines: &[Vec<u8>], reopen: bool) -> Result<(), BatchFailure> {
        match self {
            Sink::File(f) => {
                if reopen {
                    f.reopen().map_err(|error| BatchFailure {
                        error,
                        unwritten_from: 0,
                    })?;
                }
                f.write_lines(lines)
            }
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                // stderr has no fallback of its own: errors are ignored.
                for line in lines {
                    let _ = err.write_all(line);
                }
                let _ = err.flush();
                Ok(())
            }
        }
    }
}

/// How the sink is named in notices and the startup line.
pub fn describe(target: &SinkTarget) -> String {
    match target {
        SinkTarget::File { path, .. } => path.display().to_string(),
        SinkTarget::Stderr => "stderr".to_string(),
    }
}
