//! One row of run history and how a run ended: what the store keeps, the
//! control socket shows and the CLI prints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Ok,
    Error,
    Timeout,
    /// A fire time came while the previous run was still going.
    Skipped,
    /// A fire time passed while the daemon was down (or the job's actor was).
    Missed,
    /// The process ended during the run.
    Interrupted,
    Running,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Timeout => "timeout",
            Self::Skipped => "skipped",
            Self::Missed => "missed",
            Self::Interrupted => "interrupted",
            Self::Running => "running",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ok" => Self::Ok,
            "error" => Self::Error,
            "timeout" => Self::Timeout,
            "skipped" => Self::Skipped,
            "missed" => Self::Missed,
            "interrupted" => Self::Interrupted,
            "running" => Self::Running,
            _ => return None,
        })
    }

    /// Counts towards "failures in a row".
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Error | Self::Timeout | Self::Interrupted)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    pub job_id: String,
    pub job_name: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub output: Option<String>,
    pub error: Option<String>,
}

/// Cut `output` to at most `max` bytes on a character boundary, saying so.
pub fn truncate_output(output: &str, max: usize) -> String {
    if output.len() <= max {
        return output.to_string();
    }
    let mut cut = max;
    while cut > 0 && !output.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n… [truncated {} bytes]",
        &output[..cut],
        output.len() - cut
    )
}
