//! Where lines go and how they look, decided once at startup from the
//! settings and the process's surroundings (terminal, systemd journal).

use super::file::Rotation;
use crate::config::schema::LogFormat;
use std::path::PathBuf;

/// How one line is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    /// tracing's full text format; colours only for a terminal.
    Text { ansi: bool },
    /// One JSON object per line.
    Json,
    /// For journald: no timestamp (the journal adds one), level as `<N>`.
    Journal,
}

/// What the logger actor writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkTarget {
    File { path: PathBuf, rotation: Rotation },
    Stderr,
}

/// The output plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub sink: SinkTarget,
    pub style: LineStyle,
    /// Also print human-readable lines straight to stderr (file + terminal).
    pub echo_stderr: bool,
}

/// A file always wins; without one, a terminal gets colours, the journal gets
/// `<N>` prefixes, and anything else gets the configured format plainly.
pub fn plan(
    file: Option<PathBuf>,
    rotation: Rotation,
    format: LogFormat,
    foreground_tty: bool,
    journal: bool,
) -> Plan {
    let configured = match format {
        LogFormat::Text => LineStyle::Text { ansi: false },
        LogFormat::Json => LineStyle::Json,
    };
    match file {
        Some(path) => Plan {
            sink: SinkTarget::File { path, rotation },
            style: configured,
            echo_stderr: foreground_tty,
        },
        None if foreground_tty => Plan {
            sink: SinkTarget::Stderr,
            style: LineStyle::Text { ansi: true },
            echo_stderr: false,
        },
        None if journal => Plan {
            sink: SinkTarget::Stderr,
            style: LineStyle::Journal,
            echo_stderr: false,
        },
        None => Plan {
            sink: SinkTarget::Stderr,
            style: configured,
            echo_stderr: false,
        },
    }
}

/// systemd sets `JOURNAL_STREAM=<dev>:<ino>` for a service whose stderr is the
/// journal; it recommends comparing it with stderr's own device and inode, since
/// the variable is inherited by children whose stderr may be redirected.
pub fn is_journal_stream(journal_stream: Option<&str>, stderr_dev_ino: Option<(u64, u64)>) -> bool {
    let (Some(value), Some((dev, ino))) = (journal_stream, stderr_dev_ino) else {
        return false;
    };
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    matches!((d.parse::<u64>(), i.parse::<u64>()), (Ok(d), Ok(i)) if d == dev && i == ino)
}

/// Device and inode of this process's stderr, if it has one.
pub fn stderr_dev_ino() -> Option<(u64, u64)> {
    let st = nix::sys::stat::fstat(std::io::stderr()).ok()?;
    // dev_t/ino_t widths differ between targets; both fit in u64 on Linux.
    #[allow(clippy::useless_conversion)]
    Some((u64::from(st.st_dev), u64::from(st.st_ino)))
}

/// Syslog priority for journald's `<N>` prefix (sd-daemon(3)).
pub fn syslog_priority(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 3,
        tracing::Level::WARN => 4,
        tracing::Level::INFO => 6,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rotation = Rotation {
        enabled: true,
        max_size: 100,
        max_files: 3,
    };

    #[test]
    fn file_wins_and_terminal_echoes() {
        let p = plan(Some("/x/d.log".into()), R, LogFormat::Json, true, true);
        assert_eq!(
            p.sink,
            SinkTarget::File {
                path: "/x/d.log".into(),
                rotation: R
            }
        );
        assert_eq!(p.style, LineStyle::Json);
        assert!(p.echo_stderr);
    }

    #[test]
    fn file_in_background_does_not_echo() {
        let p = plan(Some("/x/d.log".into()), R, LogFormat::Text, false, true);
        assert_eq!(p.style, LineStyle::Text { ansi: false });
        assert!(!p.echo_stderr);
    }

    #[test]
    fn journal_without_file() {
        let p = plan(None, R, LogFormat::Text, false, true);
        assert_eq!(p.sink, SinkTarget::Stderr);
        assert_eq!(p.style, LineStyle::Journal);
    }

    #[test]
    fn terminal_without_file_is_human_readable() {
        let p = plan(None, R, LogFormat::Json, true, false);
        assert_eq!(p.style, LineStyle::Text { ansi: true });
    }

    #[test]
    fn plain_stderr_keeps_the_format() {
        assert_eq!(
            plan(None, R, LogFormat::Json, false, false).style,
            LineStyle::Json
        );
        assert_eq!(
            plan(None, R, LogFormat::Text, false, false).style,
            LineStyle::Text { ansi: false }
        );
    }

    #[test]
    fn journal_stream_must_match_stderr() {
        assert!(is_journal_stream(Some("8:12345"), Some((8, 12345))));
        assert!(!is_journal_stream(Some("8:12345"), Some((8, 999))));
        assert!(!is_journal_stream(Some("garbage"), Some((8, 12345))));
        assert!(!is_journal_stream(None, Some((8, 12345))));
        assert!(!is_journal_stream(Some("8:12345"), None));
    }

    #[test]
    fn priorities_follow_syslog() {
        use tracing::Level;
        assert_eq!(syslog_priority(&Level::ERROR), 3);
        assert_eq!(syslog_priority(&Level::WARN), 4);
        assert_eq!(syslog_priority(&Level::INFO), 6);
        assert_eq!(syslog_priority(&Level::DEBUG), 7);
        assert_eq!(syslog_priority(&Level::TRACE), 7);
    }
}
