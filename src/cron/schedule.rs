//! Cron expressions: standard Unix 5-field, 6-field with seconds, `@daily` and friends.
//!
//! The `cron` crate does the calendar search, but its dialect differs from the
//! Unix one operators write: it requires a seconds field, numbers weekdays
//! 1–7 from Sunday (Unix: 0–7, 0 and 7 = Sunday) and ANDs day-of-month with
//! day-of-week (Unix ORs them when both are restricted). [`normalize`]
//! rewrites a Unix expression into one or two `cron`-crate expressions with
//! the Unix meaning, and [`Schedule::next_after`] walks them in *local wall
//! time* of the job's zone, mapping wall times onto instants the way cronie
//! does around DST changes:
//! - a wall time that does not exist (spring forward, 02:30 in a 02:00→03:00
//!   gap) fires once, at the first valid instant after the gap (03:00);
//! - a wall time that happens twice (fall back) fires once, at its first
//!   occurrence.

use super::fields::{DAY_OF_MONTH, HOUR, MINUTE, MONTH, SECOND, check};
use super::interval::Special;
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

/// Why a schedule or zone was refused; the text names the input and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule `{expr}`: {reason}")]
    Invalid { expr: String, reason: String },
    #[error(
        "timezone `{0}` is not an IANA zone name (examples: `Europe/Berlin`, `America/New_York`, `Asia/Shanghai`, `UTC`)"
    )]
    Timezone(String),
}

/// Check an expression without computing fire times (used by config
/// validation). The error is the reason only; callers name the expression.
pub fn validate(expr: &str) -> Result<(), String> {
    if let Some(special) = super::interval::parse(expr) {
        return special.map(drop);
    }
    normalize(expr).and_then(|parts| parts.iter().try_for_each(|p| build(p).map(|_| ())))
}

/// The zone named in a job, or the machine's local zone when unset (UTC when
/// the local zone cannot be determined or is not an IANA name).
pub fn parse_timezone(name: Option<&str>) -> Result<Tz, ScheduleError> {
    match name {
        Some(n) => Tz::from_str(n.trim()).map_err(|_| ScheduleError::Timezone(n.to_string())),
        None => Ok(local_timezone()),
    }
}

/// The machine's zone (iana-time-zone reads /etc/localtime, `TZ`, ...),
/// read once per process as libc reads it: every turn's system prompt asks
/// for it, and a readlink per turn showed in the webhook's profile
/// (docs/performance.md, "Conversation memory"). A changed zone is seen
/// after a restart.
pub fn local_timezone() -> Tz {
    static LOCAL: std::sync::OnceLock<Tz> = std::sync::OnceLock::new();
    *LOCAL.get_or_init(|| {
        iana_time_zone::get_timezone()
            .ok()
            .and_then(|n| Tz::from_str(&n).ok())
            .unwrap_or(Tz::UTC)
    })
}

/// A parsed schedule bound to a zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    tz: Tz,
    /// One part, or two when Unix's day-of-month OR day-of-week rule
    /// applies; none for `@every` and `@at`.
    parts: Vec<cron::Schedule>,
    special: Option<Special>,
}

/// Upper bound on candidates examined by one `next_after` (only reached while
/// skipping the second pass of a repeated hour with an every-second schedule).
const MAX_CANDIDATES: usize = 100_000;

impl Schedule {
    pub fn parse(expr: &str, tz: Tz) -> Result<Self, ScheduleError> {
        let invalid = |reason: String| ScheduleError::Invalid {
            expr: expr.to_string(),
            reason,
        };
        let special = super::interval::parse(expr).transpose().map_err(invalid)?;
        let parts = match special {
            Some(_) => Vec::new(),
            None => normalize(expr)
                .and_then(|p| p.iter().map(|s| build(s)).collect::<Result<Vec<_>, _>>())
                .map_err(invalid)?,
        };
        let schedule = Self {
            expr: expr.trim().to_string(),
            tz,
            parts,
            special,
        };
        Ok(schedule)
    }

    /// The expression as written.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The instant of a one-shot (`@at`) schedule.
    pub fn one_shot(&self) -> Option<DateTime<Utc>> {
        match self.special {
            Some(Special::At(at)) => Some(at),
            _ => None,
        }
    }

    /// The first fire time strictly after `t`; `None` if the expression never
    /// fires again (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if let Some(special) = &self.special {
            return special.next_after(t);
        }
        self.parts
            .iter()
            .filter_map(|p| self.next_for_part(p, t))
            .min()
    }

    /// The next `n` fire times after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    fn next_for_part(&self, part: &cron::Schedule, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Walk wall-clock times: the crate's search in `Utc` is pure calendar arithmetic.
        let wall = t.with_timezone(&self.tz).naive_local().and_utc();
        for candidate in part.after(&wall).take(MAX_CANDIDATES) {
            let naive = candidate.naive_utc();
            let instant = match self.tz.from_local_datetime(&naive) {
                LocalResult::Single(dt) => Some(dt),
                // Repeated hour: the first occurrence only.
                LocalResult::Ambiguous(first, _) => Some(first),
                // Spring-forward gap: the first valid instant after it.
                LocalResult::None => self.gap_end(naive),
            };
            match instant {
                Some(dt) if dt.with_timezone(&Utc) > t => return Some(dt.with_timezone(&Utc)),
                _ => continue,
            }
        }
        None
    }

    /// The first existing wall time after a non-existent one. Offsets change on
    /// whole minutes in every IANA zone, so a minute walk finds the transition.
    fn gap_end(&self, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
        let mut m = naive.with_second(0)?.with_nanosecond(0)?;
        for _ in 0..(26 * 60) {
            m += chrono::Duration::minutes(1);
            if let Some(dt) = self.tz.from_local_datetime(&m).earliest() {
                return Some(dt);
            }
        }
        None
    }
}

fn build(expr: &str) -> Result<cron::Schedule, String> {
    // The crate's message echoes our normalised (6-field) expression with a
    // caret under it; the user wrote something else, so keep the last line.
    cron::Schedule::from_str(expr).map_err(|e| {
        let text = e.to_string();
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(&text)
            .trim()
            .to_string()
    })
}

/// Rewrite a Unix expression into `cron`-crate expressions (sec min hour dom
/// month dow) with the same meaning. Two expressions when both day fields are
/// restricted: Unix fires when *either* matches.
pub fn normalize(expr: &str) -> Result<Vec<String>, String> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err("empty schedule; write 5 fields like `0 9 * * *` or `@daily`".into());
    }
    let expanded = if let Some(word) = trimmed.strip_prefix('@') {
        match word.to_ascii_lowercase().as_str() {
            "yearly" | "annually" => "0 0 0 1 1 *",
            "monthly" => "0 0 0 1 * *",
            "weekly" => "0 0 0 * * 0",
            "daily" | "midnight" => "0 0 0 * * *",
            "hourly" => "0 0 * * * *",
            "reboot" => {
                return Err("`@reboot` is not supported; a job runs on a schedule \
                            (see `[cron] catch_up = \"once\"` to run after downtime)"
                    .into());
            }
            _ => {
                return Err(format!(
                    "unknown shorthand `@{word}`; use @hourly, @daily, @weekly, @monthly or @yearly"
                ));
            }
        }
        .to_string()
    } else {
        trimmed.to_string()
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let (sec, rest) = match fields.len() {
        5 => ("0", &fields[..]),
        6 => (fields[0], &fields[1..]),
        n => {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), \
                 or 6 with seconds first, got {n}"
            ));
        }
    };
    let (min, hour, dom, month, dow) = (rest[0], rest[1], rest[2], rest[3], rest[4]);
    check(SECOND, sec)?;
    check(MINUTE, min)?;
    check(HOUR, hour)?;
    check(DAY_OF_MONTH, dom)?;
    check(MONTH, month)?;
    let dow = weekdays(dow)?;
    let dom_any = dom.starts_with('*') || dom == "?";
    let dow_any = dow.is_none();
    let dow_text = dow.unwrap_or_else(|| "*".into());
    if !dom_any && !dow_any {
        Ok(vec![
            format!("{sec} {min} {hour} {dom} {month} *"),
            format!("{sec} {min} {hour} * {month} {dow_text}"),
        ])
    } else {
        let dom = if dom == "?" { "*" } else { dom };
        Ok(vec![format!("{sec} {min} {hour} {dom} {month} {dow_text}")])
    }
}

/// Unix day-of-week field → the crate's numbering (Sun=1 … Sat=7), as an
/// explicit list. `None` when the field starts with `*` (unrestricted for the
/// day-of-month OR rule, as in Vixie cron/cronie).
fn weekdays(field: &str) -> Result<Option<String>, String> {
    if field == "*" || field == "?" {
        return Ok(None);
    }
    let mut days = [false; 7];
    for item in field.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("day-of-week step `{s}` in `{item}` is not a number"))?;
                if step == 0 {
                    return Err(format!("day-of-week step in `{item}` must be at least 1"));
                }
                (b, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if base == "*" {
            (0, 7)
        } else if let Some((a, b)) = base.split_once('-') {
            (weekday(a)?, weekday(b)?)
        } else {
            let d = weekday(base)?;
            // `a/step` runs from a to the end of the range (Vixie cron).
            (d, if item.contains('/') { 7 } else { d })
        };
        if lo > hi {
            return Err(format!(
                "day-of-week range `{base}` runs backwards; write it as two ranges (e.g. `5-6,0`)"
            ));
        }
        for d in (lo..=hi).step_by(step as usize) {
            days[(d % 7) as usize] = true;
        }
    }
    let list: Vec<String> = days
        .iter()
        .enumerate()
        .filter(|(_, on)| **on)
        .map(|(d, _)| (d + 1).to_string())
        .collect();
    if list.is_empty() {
        return Err(format!("day-of-week `{field}` names no day"));
    }
    Ok(Some(list.join(",")))
}

/// One Unix weekday: 0–7 (0 and 7 = Sunday) or a name (`MON`, `Monday`).
fn weekday(s: &str) -> Result<u32, String> {
    if let Ok(n) = s.parse::<u32>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!(
                "day of week `{n}` is out of range: use 0–7 (0 and 7 are Sunday) or SUN–SAT"
            ))
        };
    }
    let lower = s.to_ascii_lowercase();
    const NAMES: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    NAMES
        .iter()
        .position(|full| lower.len() >= 3 && full.starts_with(&lower))
        .map(|i| i as u32)
        .ok_or_else(|| format!("`{s}` is not a day of the week: use 0–7 or SUN–SAT"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Weekday};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
    }

    fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sched(expr: &str) -> Schedule {
        Schedule::parse(expr, Tz::UTC).unwrap()
    }

    fn weekdays_of(expr: &str, n: usize) -> Vec<Weekday> {
        // 2026-01-04 is a Sunday.
        sched(expr)
            .upcoming(utc(2026, 1, 3, 23, 0, 0), n)
            .iter()
            .map(|t| t.weekday())
            .collect()
    }

    #[test]
    fn daily_at_nine() {
        let s = sched("0 9 * * *");
        let got = s.upcoming(utc(2026, 3, 10, 9, 0, 0), 2);
        assert_eq!(
            got,
            vec![utc(2026, 3, 11, 9, 0, 0), utc(2026, 3, 12, 9, 0, 0)]
        );
    }

    #[test]
    fn friday_evening() {
        let got = sched("0 18 * * 5").upcoming(utc(2026, 1, 1, 0, 0, 0), 3);
        assert!(
            got.iter()
                .all(|t| t.weekday() == Weekday::Fri && t.hour() == 18)
        );
        assert_eq!(got[0], utc(2026, 1, 2, 18, 0, 0));
        assert_eq!(got[1], utc(2026, 1, 9, 18, 0, 0));
        assert_eq!(
            sched("0 18 * * FRI").upcoming(utc(2026, 1, 1, 0, 0, 0), 3),
            got
        );
    }

    #[test]
    fn zero_and_seven_are_sunday() {
        for expr in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN", "0 9 * * sun"] {
            assert_eq!(weekdays_of(expr, 3), vec![Weekday::Sun; 3], "{expr}");
        }
        assert_eq!(weekdays_of("0 9 * * 1", 2), vec![Weekday::Mon; 2]);
        assert_eq!(weekdays_of("0 9 * * 6", 2), vec![Weekday::Sat; 2]);
    }

    #[test]
    fn weekdays_range() {
        use Weekday::*;
        assert_eq!(
            weekdays_of("0 9 * * 1-5", 6),
            vec![Mon, Tue, Wed, Thu, Fri, Mon]
        );
        assert_eq!(
            weekdays_of("0 9 * * MON-FRI", 6),
            weekdays_of("0 9 * * 1-5", 6)
        );
        assert_eq!(weekdays_of("0 9 * * 5-7", 4), vec![Sun, Fri, Sat, Sun]);
        assert_eq!(weekdays_of("0 9 * * */2", 5), vec![Sun, Tue, Thu, Sat, Sun]);
        assert_eq!(weekdays_of("0 9 * * 0-6", 7).len(), 7);
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Unix: the 13th of the month OR any Friday.
        let got = sched("0 0 13 * 5").upcoming(utc(2026, 2, 1, 0, 0, 0), 4);
        let days: Vec<u32> = got.iter().map(|t| t.day()).collect();
        assert_eq!(days, vec![6, 13, 20, 27]); // Feb 2026: Fridays 6,13,20,27
        let got = sched("0 0 1 * 1").upcoming(utc(2026, 5, 30, 0, 0, 0), 2);
        assert_eq!(
            got,
            vec![utc(2026, 6, 1, 0, 0, 0), utc(2026, 6, 8, 0, 0, 0)]
        );
    }

    #[test]
    fn shorthands() {
        let from = utc(2026, 3, 10, 9, 30, 0);
        assert_eq!(
            sched("@daily").next_after(from),
            Some(utc(2026, 3, 11, 0, 0, 0))
        );
        assert_eq!(
            sched("@hourly").next_after(from),
            Some(utc(2026, 3, 10, 10, 0, 0))
        );
        assert_eq!(
            sched("@monthly").next_after(from),
            Some(utc(2026, 4, 1, 0, 0, 0))
        );
        assert_eq!(
            sched("@yearly").next_after(from),
            Some(utc(2027, 1, 1, 0, 0, 0))
        );
        let weekly = sched("@weekly").next_after(from).unwrap();
        assert_eq!((weekly.weekday(), weekly.hour()), (Weekday::Sun, 0));
    }

    #[test]
    fn six_fields_with_seconds() {
        let s = sched("*/15 * * * * *");
        let got = s.upcoming(utc(2026, 1, 1, 0, 0, 1), 3);
        assert_eq!(
            got,
            vec![
                utc(2026, 1, 1, 0, 0, 15),
                utc(2026, 1, 1, 0, 0, 30),
                utc(2026, 1, 1, 0, 0, 45)
            ]
        );
        let every = sched("* * * * * *").upcoming(utc(2026, 1, 1, 0, 0, 0), 2);
        assert_eq!(
            every,
            vec![utc(2026, 1, 1, 0, 0, 1), utc(2026, 1, 1, 0, 0, 2)]
        );
    }

    #[test]
    fn timezone_applies() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let s = Schedule::parse("0 9 * * *", tz).unwrap();
        // 09:00 in Shanghai is 01:00 UTC.
        assert_eq!(
            s.next_after(utc(2026, 1, 1, 0, 0, 0)),
            Some(utc(2026, 1, 1, 1, 0, 0))
        );
    }

    #[test]
    fn dst_gap_runs_once_at_end_of_gap() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        let s = Schedule::parse("30 2 * * *", berlin).unwrap();
        let got = s.upcoming(local(berlin, 2026, 3, 28, 3, 0), 2);
        assert_eq!(got[0], utc(2026, 3, 29, 1, 0, 0)); // 03:00 CEST = 01:00 UTC
        assert_eq!(got[1], local(berlin, 2026, 3, 30, 2, 30));
        // Every minute of the gap collapses into a single fire at 03:00.
        let s = Schedule::parse("* 2 * * *", berlin).unwrap();
        let got = s.upcoming(local(berlin, 2026, 3, 29, 1, 59), 3);
        assert_eq!(got[0], utc(2026, 3, 29, 1, 0, 0));
        assert_eq!(got[1], local(berlin, 2026, 3, 30, 2, 0));
    }

    #[test]
    fn dst_repeat_runs_once() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let s = Schedule::parse("30 1 * * *", ny).unwrap();
        let got = s.upcoming(utc(2026, 10, 31, 12, 0, 0), 2);
        assert_eq!(got[0], utc(2026, 11, 1, 5, 30, 0)); // 01:30 EDT, the first one
        assert_eq!(got[1], local(ny, 2026, 11, 2, 1, 30));
        // Every-minute in the repeated hour: once per wall minute.
        let s = Schedule::parse("*/20 1 * * *", ny).unwrap();
        let got = s.upcoming(utc(2026, 11, 1, 4, 59, 0), 4);
        assert_eq!(
            got,
            vec![
                utc(2026, 11, 1, 5, 0, 0),
                utc(2026, 11, 1, 5, 20, 0),
                utc(2026, 11, 1, 5, 40, 0),
                local(ny, 2026, 11, 2, 1, 0)
            ]
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        for (expr, needle) in [
            ("", "empty"),
            ("* * *", "expected 5 fields"),
            ("0 9 * * 8", "out of range"),
            ("0 9 * * FUNDAY", "not a day of the week"),
            ("0 9 * * 5-1", "backwards"),
            (
                "61 * * * *",
                "minute `61` is out of range: minute must be 0–59",
            ),
            ("0 25 * * *", "hour must be 0–23"),
            ("0 9 32 * *", "day of month must be 1–31"),
            ("0 9 * 13 *", "month must be 1–12"),
            ("60 0 9 * * *", "second must be 0–59"),
            ("@reboot", "not supported"),
            ("@fortnightly", "unknown shorthand"),
        ] {
            let err = validate(expr).unwrap_err();
            assert!(err.contains(needle), "{expr}: {err}");
            // One line, without the crate's echo of the normalised expression.
            assert!(!err.contains('\n') && !err.contains('^'), "{expr}: {err}");
        }
        assert!(validate("0 9 * * 1-5").is_ok());
        assert!(validate("0 0 9 * * MON-FRI").is_ok());
        assert!(validate("0 9 1 JAN *").is_ok());
        assert!(validate("59 23 31 12 *").is_ok());
    }

    #[test]
    fn never_firing_expression_has_no_next() {
        assert_eq!(
            sched("0 0 30 2 *").next_after(utc(2026, 1, 1, 0, 0, 0)),
            None
        );
    }

    #[test]
    fn timezone_names() {
        assert!(parse_timezone(Some("Europe/Berlin")).is_ok());
        let err = parse_timezone(Some("Mars/Olympus"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Mars/Olympus") && err.contains("IANA"));
        assert!(parse_timezone(None).is_ok());
    }
}
