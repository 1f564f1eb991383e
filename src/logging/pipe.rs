//! The bounded queue between the tracing layer and the logger actor.
//!
//! It lives in the `LogHandle`, outside the actor, so lines survive a restart
//! of the logger. Producers never wait on I/O: a push takes a short lock, and a
//! full queue counts the line as dropped instead of blocking the daemon.
//! While the file is down, producers write straight to stderr so nothing is
//! silently lost.

use super::notice;
use super::output::LineStyle;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;
use tracing::Level;

/// Whether lines currently reach the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SinkState {
    /// The logger has not started yet: lines wait in the queue (file sinks
    /// only, so that the startup lines land in the file).
    Pending,
    /// The logger runs: lines go through the queue to the sink.
    Up,
    /// The logger failed or stopped: lines go straight to stderr.
    Down,
}

/// Counters for `status` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LogStats {
    pub state: SinkState,
    /// Lines waiting in the queue.
    pub queued: usize,
    /// Lines the logger wrote to its sink.
    pub written: u64,
    /// Lines lost because the queue was full (each reported by a notice).
    pub dropped: u64,
    /// Lines sent to stderr because the sink was down.
    pub to_stderr: u64,
}

struct Inner {
    lines: Vec<Vec<u8>>,
    bytes: usize,
    state: SinkState,
    dropped_unreported: u64,
    diverted_unreported: u64,
}

/// What the logger takes in one go.
pub struct Batch {
    pub lines: Vec<Vec<u8>>,
    /// Reopen the file before writing (SIGUSR1 arrived).
    pub reopen: bool,
}

pub struct Pipe {
    inner: Mutex<Inner>,
    capacity_bytes: usize,
    style: LineStyle,
    /// A terminal already shows every line: do not print them twice when down.
    echo_stderr: bool,
    pub(crate) wake: Notify,
    pub(crate) drain_scheduled: AtomicBool,
    reopen: AtomicBool,
    opened_once: AtomicBool,
    /// Bumped by every `go_up`, so a late exit of an old logger instance cannot
    /// take down the sink of the instance that replaced it.
    generation: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    to_stderr: AtomicU64,
}

impl Pipe {
    /// `wait_for_logger`: queue lines until the logger starts (a file sink);
    /// otherwise write them to stderr directly until then, so a process that
    /// never starts the logger still shows its lines.
    pub fn new(
        capacity_bytes: usize,
        style: LineStyle,
        echo_stderr: bool,
        wait_for_logger: bool,
    ) -> Self {
        Self {
            inner: Mutex::new(Inner {
                lines: Vec::new(),
                bytes: 0,
                state: if wait_for_logger {
                    SinkState::Pending
                } else {
                    SinkState::Down
                },
                dropped_unreported: 0,
                diverted_unreported: 0,
            }),
            capacity_bytes,
            style,
            echo_stderr,
            wake: Notify::new(),
            drain_scheduled: AtomicBool::new(false),
            reopen: AtomicBool::new(false),
            opened_once: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            to_stderr: AtomicU64::new(0),
        }
    }

    // A panic while holding this lock cannot leave the queue inconsistent
    // (every critical section is a few field updates), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn style(&self) -> LineStyle {
        self.style
    }

    /// Hands one formatted line (newline included) to the logger. Never blocks
    /// on I/O unless the sink is down, in which case it writes to stderr.
    /// Known secrets are masked here, the one door of every line.
    pub fn submit(&self, line: Vec<u8>) {
        let line = crate::secrets::redact_line(line);
        let mut g = self.lock();
        if g.state == SinkState::Down {
            g.diverted_unreported += 1;
            drop(g);
            self.write_stderr(std::slice::from_ref(&line), None);
            return;
        }
        // One line is always accepted, however long, so that an oversized line
        // is written rather than dropped forever.
        if !g.lines.is_empty() && g.bytes + line.len() > self.capacity_bytes {
            g.dropped_unreported += 1;
            drop(g);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was_empty = g.lines.is_empty();
        g.bytes += line.len();
        g.lines.push(line);
        drop(g);
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Takes everything queued, with a `N log lines dropped` notice appended
    /// if the queue overflowed since the last batch: the drops happened after
    /// every line now in the queue, so the notice goes last.
    pub fn take(&self) -> Batch {
        let reopen = self.reopen.swap(false, Ordering::AcqRel);
        let mut g = self.lock();
        let mut lines = std::mem::take(&mut g.lines);
        g.bytes = 0;
        let dropped = std::mem::take(&mut g.dropped_unreported);
        drop(g);
        if dropped > 0 {
            lines.push(self.notice(Level::WARN, &format!("{dropped} log lines dropped")));
        }
        Batch { lines, reopen }
    }

    pub fn is_empty(&self) -> bool {
        self.lock().lines.is_empty()
    }

    pub fn count_written(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The logger opened its sink: lines flow through the queue again. If
    /// lines went to stderr meanwhile, the first line in the sink says so
    /// (`sink_name` is `None` for stderr itself: nothing to announce).
    /// Returns this instance's generation, for `release`.
    pub fn go_up(&self, sink_name: Option<&str>) -> u64 {
        let mut g = self.lock();
        g.state = SinkState::Up;
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let diverted = std::mem::take(&mut g.diverted_unreported);
        if let Some(sink_name) = sink_name.filter(|_| diverted > 0) {
            let line = self.notice(
                Level::WARN,
                &format!(
                    "logging to {sink_name} resumed; {diverted} lines went to stderr while it \
                     could not be written"
                ),
            );
            g.bytes += line.len();
            g.lines.insert(0, line);
        }
        let wake = !g.lines.is_empty();
        drop(g);
        if wake {
            self.wake.notify_one();
        }
        generation
    }

    /// A logger instance ends (failure, stop or kill): if it is still the one
    /// in charge, the sink is down from now on.
    pub fn release(&self, generation: u64, unwritten: Vec<Vec<u8>>, reason: Option<&str>) {
        let current = {
            let g = self.lock();
            g.state == SinkState::Up && self.generation.load(Ordering::Acquire) == generation
        };
        if current {
            self.go_down(unwritten, reason);
        } else if !unwritten.is_empty() {
            self.write_stderr(&unwritten, reason.map(|r| self.notice(Level::ERROR, r)));
        }
    }

    /// The logger failed or stopped: `unwritten` (lines it held but did not
    /// write) and everything queued go to stderr now, later lines go there
    /// directly until `go_up`. `reason` is printed first, when given.
    pub fn go_down(&self, unwritten: Vec<Vec<u8>>, reason: Option<&str>) {
        let mut g = self.lock();
        g.state = SinkState::Down;
        let queued = std::mem::take(&mut g.lines);
        g.bytes = 0;
        let dropped = std::mem::take(&mut g.dropped_unreported);
        g.diverted_unreported += (unwritten.len() + queued.len()) as u64;
        drop(g);
        let mut lines = unwritten;
        lines.extend(queued);
        if dropped > 0 {
            lines.push(self.notice(Level::WARN, &format!("{dropped} log lines dropped")));
        }
        let reason = reason.map(|r| self.notice(Level::ERROR, r));
        self.write_stderr(&lines, reason);
    }

    fn write_stderr(&self, lines: &[Vec<u8>], reason: Option<Vec<u8>>) {
        if lines.is_empty() && reason.is_none() {
            return;
        }
        let mut err = std::io::stderr().lock();
        // If stderr itself fails there is nowhere left to report it.
        if let Some(reason) = reason {
            let _ = err.write_all(&reason);
        }
        if !self.echo_stderr {
            for line in lines {
                let _ = err.write_all(line);
            }
        }
        let _ = err.flush();
        self.to_stderr
            .fetch_add(lines.len() as u64, Ordering::Relaxed);
    }

    pub fn notice(&self, level: Level, message: &str) -> Vec<u8> {
        notice::render(self.style, level, message)
    }

    /// Ask the logger to reopen its file before the next write.
    pub fn request_reopen(&self) {
        self.reopen.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// True exactly once: the first start may create the log directory.
    pub fn first_open(&self) -> bool {
        !self.opened_once.swap(true, Ordering::AcqRel)
    }

    pub fn stats(&self) -> LogStats {
        let g = self.lock();
        LogStats {
            state: g.state,
            queued: g.lines.len(),
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            to_stderr: self.to_stderr.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe(cap: usize) -> Pipe {
        Pipe::new(cap, LineStyle::Text { ansi: false }, false, true)
    }

    fn texts(lines: &[Vec<u8>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn full_queue_counts_and_reports_drops_once() {
        let p = pipe(20);
        for i in 0..5 {
            p.submit(format!("line {i}\n").into_bytes()); // 7 bytes each
        }
        // 7 + 7 fit, the third would exceed 20.
        let s = p.stats();
        assert_eq!((s.queued, s.dropped), (2, 3));
        let batch = texts(&p.take().lines);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[..2], ["line 0\n", "line 1\n"]);
        assert!(batch[2].ends_with("3 log lines dropped\n"), "{}", batch[2]);
        // Room again: no further notice.
        p.submit(b"next\n".to_vec());
        assert_eq!(texts(&p.take().lines), ["next\n"]);
    }

    #[test]
    fn an_oversized_line_is_accepted_when_empty() {
        let p = pipe(4);
        p.submit(b"much longer than four\n".to_vec());
        assert_eq!(p.stats().queued, 1);
        assert_eq!(p.stats().dropped, 0);
    }

    #[test]
    fn down_diverts_and_up_reports() {
        let p = pipe(1 << 20);
        p.submit(b"queued\n".to_vec());
        p.go_down(vec![b"unwritten\n".to_vec()], Some("disk gone"));
        assert_eq!(p.stats().state, SinkState::Down);
        assert_eq!(p.stats().queued, 0);
        p.submit(b"direct\n".to_vec());
        assert_eq!(p.stats().to_stderr, 3);
        p.go_up(Some("/var/log/z.log"));
        let batch = texts(&p.take().lines);
        assert_eq!(batch.len(), 1);
        assert!(
            batch[0].contains("logging to /var/log/z.log resumed; 3 lines went to stderr"),
            "{}",
            batch[0]
        );
    }

    #[test]
    fn without_a_file_lines_reach_stderr_before_the_logger_starts() {
        let p = Pipe::new(100, LineStyle::Journal, false, false);
        assert_eq!(p.stats().state, SinkState::Down);
        p.submit(b"<6>early\n".to_vec());
        assert_eq!(p.stats().to_stderr, 1);
        p.go_up(None);
        assert!(p.take().lines.is_empty(), "nothing to announce for stderr");
    }

    #[test]
    fn reopen_flag_is_taken_once() {
        let p = pipe(100);
        p.request_reopen();
        assert!(p.take().reopen);
        assert!(!p.take().reopen);
    }

    #[test]
    fn first_open_only_once() {
        let p = pipe(100);
        assert!(p.first_open());
        assert!(!p.first_open());
    }
}
