//! The logger's own lines ("N log lines dropped", "resumed"), rendered like
//! tracing's formatter renders events so they sort and parse with the rest.
//!
//! They cannot go through tracing itself: they are produced where the queue is
//! full or the file is down, exactly when a tracing event would be lost.

use super::output::{LineStyle, syslog_priority};
use tracing::Level;

/// The target the logger's own lines carry.
pub const TARGET: &str = "zeroclaw::logging";

/// One rendered line, newline included.
pub fn render(style: LineStyle, level: Level, message: &str) -> Vec<u8> {
    let line = match style {
        LineStyle::Text { .. } => format!("{}{level:>6} {TARGET}: {message}\n", now()),
        LineStyle::Json => {
            let value = serde_json::json!({
                "timestamp": now(),
                "level": level.as_str(),
                "fields": { "message": message },
                "target": TARGET,
            });
            format!("{value}\n")
        }
        LineStyle::Journal => format!("<{}>{TARGET}: {message}\n", syslog_priority(&level)),
    };
    line.into_bytes()
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(style: LineStyle, level: Level, msg: &str) -> String {
        String::from_utf8_lossy(&render(style, level, msg)).into_owned()
    }

    #[test]
    fn text_matches_tracing_layout() {
        let l = text(
            LineStyle::Text { ansi: false },
            Level::WARN,
            "3 log lines dropped",
        );
        assert!(
            l.ends_with("Z  WARN zeroclaw::logging: 3 log lines dropped\n"),
            "{l}"
        );
        let l = text(LineStyle::Text { ansi: false }, Level::INFO, "m");
        assert!(l.ends_with("Z  INFO zeroclaw::logging: m\n"), "{l}");
    }

    #[test]
    fn json_is_one_object_per_line() -> Result<(), serde_json::Error> {
        let l = text(LineStyle::Json, Level::WARN, "say \"hi\"");
        assert!(l.ends_with('\n') && l.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&l)?;
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["fields"]["message"], "say \"hi\"");
        Ok(())
    }

    #[test]
    fn journal_has_priority_and_no_time() {
        assert_eq!(
            text(LineStyle::Journal, Level::ERROR, "down"),
            "<3>zeroclaw::logging: down\n"
        );
    }
}
