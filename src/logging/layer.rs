//! The tracing side: tracing-subscriber's own formatters render each event,
//! and this writer hands the rendered line to the queue instead of a file.

use super::output::{LineStyle, syslog_priority};
use super::pipe::Pipe;
use std::io::{self, Write};
use std::sync::Arc;
use tracing::Metadata;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;

/// Makes one `LineWriter` per event.
#[derive(Clone)]
pub struct QueueMakeWriter {
    pipe: Arc<Pipe>,
}

impl QueueMakeWriter {
    pub fn new(pipe: Arc<Pipe>) -> Self {
        Self { pipe }
    }
}

/// Collects one event's bytes and submits them as one line when dropped
/// (tracing-subscriber writes each event with a single `write_all`, but this
/// does not rely on it).
pub struct LineWriter<'a> {
    pipe: &'a Pipe,
    buf: Vec<u8>,
}

impl<'a> MakeWriter<'a> for QueueMakeWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            pipe: &self.pipe,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        let mut buf = Vec::new();
        if self.pipe.style() == LineStyle::Journal {
            buf.extend_from_slice(format!("<{}>", syslog_priority(meta.level())).as_bytes());
        }
        LineWriter {
            pipe: &self.pipe,
            buf,
        }
    }
}

impl io::Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        // A journal prefix alone is not a line.
        if self.buf.last() == Some(&b'\n') {
            self.pipe.submit(std::mem::take(&mut self.buf));
        }
    }
}

/// A formatting layer writing through the queue in the given style.
pub fn queue_layer<S>(pipe: Arc<Pipe>, style: LineStyle) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let writer = QueueMakeWriter::new(pipe);
    let base = tracing_subscriber::fmt::layer().with_writer(writer);
    match style {
        LineStyle::Text { ansi } => base.with_ansi(ansi).boxed(),
        LineStyle::Json => base.json().with_ansi(false).boxed(),
        LineStyle::Journal => base
            .without_time()
            .with_level(false)
            .with_ansi(false)
            .boxed(),
    }
}

/// Human-readable lines straight to stderr, for an operator at a terminal.
pub fn echo_layer<S>() -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(|| EchoWriter(Vec::new()))
        .with_ansi(true)
        .boxed()
}

/// One event's bytes, written to stderr with known secrets masked on drop.
struct EchoWriter(Vec<u8>);

impl io::Write for EchoWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EchoWriter {
    fn drop(&mut self) {
        let line = crate::secrets::redact_line(std::mem::take(&mut self.0));
        // Nowhere left to report a failing stderr.
        let _ = io::stderr().write_all(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::SubscriberExt;

    fn capture(style: LineStyle, emit: impl FnOnce()) -> Vec<String> {
        let pipe = Arc::new(Pipe::new(1 << 20, style, false, true));
        let subscriber = tracing_subscriber::registry().with(queue_layer(pipe.clone(), style));
        with_default(subscriber, emit);
        pipe.take()
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn text_lines_are_whole_and_plain() {
        let lines = capture(LineStyle::Text { ansi: false }, || {
            tracing::info!(target: "zeroclaw::test", n = 7, "hello");
            tracing::warn!(target: "zeroclaw::test", "second");
        });
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].ends_with("INFO zeroclaw::test: hello n=7\n"),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains('\x1b'));
        assert!(lines[1].contains("WARN zeroclaw::test: second"));
    }

    #[test]
    fn json_lines_parse() -> Result<(), serde_json::Error> {
        let lines = capture(LineStyle::Json, || {
            tracing::error!(target: "zeroclaw::test", code = 3, "boom");
        });
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&lines[0])?;
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["fields"]["message"], "boom");
        assert_eq!(v["fields"]["code"], 3);
        Ok(())
    }

    #[test]
    fn journal_lines_have_priority_and_no_timestamp() {
        let lines = capture(LineStyle::Journal, || {
            tracing::error!(target: "z", "e");
            tracing::warn!(target: "z", "w");
            tracing::info!(target: "z", "i");
            tracing::debug!(target: "z", "d");
        });
        assert_eq!(lines, ["<3>z: e\n", "<4>z: w\n", "<6>z: i\n", "<7>z: d\n"]);
    }
}
