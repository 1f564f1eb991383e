//! The two schedules that are not calendar expressions: `@every DURATION`
//! (a fixed interval) and `@at TIME` (once, at an instant). Runtime jobs
//! store their `--every` and `--at` in these forms, so a job is one
//! [`CronJob`](crate::config::CronJob) whatever it came from.

use chrono::{DateTime, SecondsFormat, Utc};
use std::time::Duration;

/// The shortest `@every` interval.
pub const MIN_EVERY: Duration = Duration::from_secs(1);

/// A schedule of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Every(chrono::Duration),
    At(DateTime<Utc>),
}

/// `None` when `expr` is not one of these forms; the error is the reason only.
pub fn parse(expr: &str) -> Option<Result<Special, String>> {
    let expr = expr.trim();
    if let Some(rest) = expr.strip_prefix("@every") {
        return Some(parse_every(rest.trim()).map(Special::Every));
    }
    let rest = expr.strip_prefix("@at")?;
    Some(
        DateTime::parse_from_rfc3339(rest.trim())
            .map(|t| Special::At(t.with_timezone(&Utc)))
            .map_err(|e| format!("`@at` needs an RFC 3339 time with offset ({e})")),
    )
}

fn parse_every(text: &str) -> Result<chrono::Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("`@every` needs a duration such as `90s` or `2h30m` ({e})"))?;
    if d < MIN_EVERY {
        return Err(format!(
            "the interval must be at least {}",
            humantime::format_duration(MIN_EVERY)
        ));
    }
    chrono::Duration::from_std(d).map_err(|_| "the interval is too long".to_string())
}

/// The expression of a job run every `every`.
pub fn every_expr(every: Duration) -> String {
    format!("@every {}", humantime::format_duration(every))
}

/// The expression of a job run once at `at`.
pub fn at_expr(at: DateTime<Utc>) -> String {
    format!("@at {}", at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A `--at` TIME: RFC 3339 with an offset, or a duration from `now` (`20m`).
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    match humantime::parse_duration(text) {
        Ok(d) => chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| format!("time `{text}` is too far away")),
        Err(_) => Err(format!(
            "time `{text}` is neither an RFC 3339 time with offset \
             (`2026-03-01T18:00:00+01:00`) nor a duration from now (`20m`, `2h30m`)"
        )),
    }
}

impl Special {
    /// The first fire time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match *self {
            Special::Every(every) => t.checked_add_signed(every),
            Special::At(at) => (at > t).then_some(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn forms_parse_and_refuse_with_reasons() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
        assert_eq!(
            parse("@every 90s"),
            Some(Ok(Special::Every(chrono::Duration::seconds(90))))
        );
        assert!(
            parse("@every 10ms")
                .unwrap()
                .unwrap_err()
                .contains("at least")
        );
        assert!(parse("@at tomorrow").unwrap().is_err());
        assert_eq!(parse("0 * * * *"), None);
        let at = parse_time("2h30m", now).unwrap();
        assert_eq!(at - now, chrono::Duration::minutes(150));
        let at2 = parse_time("2026-01-01T01:00:00+01:00", now).unwrap();
        assert_eq!(at2, now);
        assert!(parse_time("soon", now).unwrap_err().contains("RFC 3339"));
        let once = Special::At(at);
        assert_eq!(once.next_after(now), Some(at));
        assert_eq!(once.next_after(at), None);
        assert_eq!(parse(&at_expr(at)), Some(Ok(once)));
        assert_eq!(
            parse(&every_expr(Duration::from_secs(3600))),
            Some(Ok(Special::Every(chrono::Duration::hours(1))))
        );
    }
}

/// Whether `expr` is a one-shot (`@at`) schedule.
pub fn is_one_shot(expr: &str) -> bool {
    matches!(parse(expr), Some(Ok(Special::At(_))))
}

/// The default of `[cron] one_shot_grace`: how long after its time a
/// one-shot job still runs when the daemon was down at that time; later,
/// it is recorded `missed`.
pub const ONE_SHOT_GRACE: Duration = Duration::from_secs(3600);

/// What a one-shot job owes when its actor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneShotAtStart {
    /// Its time is still ahead: arm the timer.
    Pending,
    /// Its time passed unaccounted within the grace: run it now.
    Run(DateTime<Utc>),
    /// Its time passed unaccounted beyond the grace: record it missed.
    Missed(DateTime<Utc>),
    /// It already ran (or was interrupted): nothing more, ever.
    Done,
}

/// `anchor` is the latest fire time already accounted for.
pub fn one_shot_at_start(
    at: DateTime<Utc>,
    anchor: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: Duration,
) -> OneShotAtStart {
    if at > now {
        return OneShotAtStart::Pending;
    }
    if anchor.is_some_and(|a| a >= at) {
        return OneShotAtStart::Done;
    }
    let late = (now - at).to_std().unwrap_or_default();
    if late <= grace {
        OneShotAtStart::Run(at)
    } else {
        OneShotAtStart::Missed(at)
    }
}

#[cfg(test)]
mod one_shot_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_one_shot_runs_once_within_its_grace_and_is_missed_after() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 18, 0, 0).single().unwrap();
        let h = |n: i64| at + chrono::Duration::minutes(n);
        let grace = ONE_SHOT_GRACE;
        use OneShotAtStart::*;
        assert_eq!(one_shot_at_start(at, Some(h(-60)), h(-1), grace), Pending);
        assert_eq!(one_shot_at_start(at, Some(h(-60)), h(59), grace), Run(at));
        assert_eq!(one_shot_at_start(at, None, h(30), grace), Run(at));
        assert_eq!(
            one_shot_at_start(at, Some(h(-60)), h(61), grace),
            Missed(at)
        );
        assert_eq!(one_shot_at_start(at, Some(at), h(1), grace), Done);
        assert!(is_one_shot(&at_expr(at)));
        assert!(!is_one_shot("@every 1m"));
    }
}
