//! The restart policy: which exits restart a child and after what delay.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// systemd's `Restart=` values, with the same meaning (systemd.service(5)),
/// so that an operator reads a child's setting as they would a unit's. Which
/// exits each one restarts after is the table in `docs/architecture.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// Never restart: for a child whose end is final (a one-shot task).
    No,
    /// Restart only after a clean stop: a child meant to run again and again.
    OnSuccess,
    /// Restart after anything but a clean stop: a child that stops cleanly
    /// meant to, one that failed did not. The default, as systemd's for
    /// long-running services.
    #[default]
    OnFailure,
    /// Restart after a panic or a start timeout, not after an `Err`: for a
    /// child whose `Err` means bad input a restart would only repeat, while a
    /// panic or a hang may be transient.
    OnAbnormal,
    /// Restart only after a panic.
    OnAbort,
    /// Restart after every exit.
    Always,
}

/// How a child ended, in systemd's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitKind {
    /// Clean stop (systemd: clean exit code or signal).
    Success,
    /// `Err` from startup or a handler (systemd: unclean exit code).
    Failure,
    /// A panic (systemd: unclean signal).
    Abort,
    /// Startup did not finish within the start timeout (systemd: timeout).
    Timeout,
}

/// What the supervisor does when a child hits its start limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnGiveUp {
    /// Leave the child `failed`; the rest of the tree keeps running.
    #[default]
    StayFailed,
    /// Stop the whole tree with an error so the init system restarts the process.
    Exit,
}

/// Per-child restart policy, field for field systemd's unit settings of the
/// same names; what each guarantees is in `docs/architecture.md` and the
/// defaults are systemd's where it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartPolicy {
    /// After which exits the child is restarted (`Restart=`).
    pub restart: Restart,
    /// Delay before the first restart of a run (`RestartSec=`), so a child
    /// whose upstream is down does not spin.
    #[serde(with = "humantime_serde")]
    pub restart_sec: Duration,
    /// In how many restarts the delay grows from `restart_sec` to
    /// `restart_max_delay` (`RestartSteps=`); 0 keeps it constant.
    pub restart_steps: u32,
    /// The longest delay (`RestartMaxDelaySec=`); unset keeps it constant.
    #[serde(with = "humantime_serde")]
    pub restart_max_delay: Option<Duration>,
    /// How many starts are allowed within `start_limit_interval` before the
    /// child is given up on (`StartLimitBurst=`); 0 disables the limit.
    pub start_limit_burst: u32,
    /// The window of the start limit (`StartLimitIntervalSec=`); zero disables
    /// the limit. A run longer than this also resets the backoff.
    #[serde(with = "humantime_serde")]
    pub start_limit_interval: Duration,
    /// What hitting the start limit does to the rest of the tree.
    pub on_give_up: OnGiveUp,
    /// A start that takes longer than this counts as `ExitKind::Timeout`.
    #[serde(with = "humantime_serde")]
    pub start_timeout: Duration,
    /// A child asked to stop is killed after this long.
    #[serde(with = "humantime_serde")]
    pub stop_timeout: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            restart: Restart::OnFailure,
            restart_sec: Duration::from_secs(10),
            restart_steps: 0,
            restart_max_delay: None,
            start_limit_burst: 5,
            start_limit_interval: Duration::from_secs(10),
            on_give_up: OnGiveUp::StayFailed,
            start_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(5),
        }
    }
}

impl Restart {
    /// The table of systemd.service(5): does this setting restart after this
    /// exit? Public so that `status` and tests can state the table without
    /// running a tree.
    pub fn restarts_after(self, exit: ExitKind) -> bool {
        use ExitKind::*;
        match self {
            Restart::No => false,
            Restart::Always => true,
            Restart::OnSuccess => exit == Success,
            Restart::OnFailure => matches!(exit, Failure | Abort | Timeout),
            Restart::OnAbnormal => matches!(exit, Abort | Timeout),
            Restart::OnAbort => exit == Abort,
        }
    }
}

impl RestartPolicy {
    /// Delay before restart number `attempt` (0-based) in a run of consecutive
    /// restarts: `restart_sec` growing geometrically to `restart_max_delay` in
    /// `restart_steps` steps, as systemd >= 254 does.
    ///
    /// The step `n` is `restart_sec * (restart_max_delay / restart_sec)^(n / restart_steps)`,
    /// rounded to whole microseconds (systemd's clock unit) so that 10s, 4 steps,
    /// 160s gives exactly 10, 20, 40, 80, 160 s. Without steps, without a maximum,
    /// with a maximum not above `restart_sec`, or with `restart_sec = 0` (nothing
    /// to multiply), every delay is `restart_sec`.
    pub fn delay_for(&self, attempt: u32) -> Duration {
        let base = self.restart_sec;
        let Some(max) = self.restart_max_delay else {
            return base;
        };
        if self.restart_steps == 0 || base.is_zero() || max <= base {
            return base;
        }
        if attempt >= self.restart_steps {
            return max;
        }
        let ratio = max.as_secs_f64() / base.as_secs_f64();
        let factor = ratio.powf(f64::from(attempt) / f64::from(self.restart_steps));
        let micros = (base.as_secs_f64() * factor * 1e6).round();
        // `micros` is finite and between base and max here; clamp anyway so a
        // float surprise can never produce a delay beyond the configured maximum.
        Duration::from_micros(micros as u64).clamp(base, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delay_grows_geometrically_then_stays_at_the_maximum() {
        let policy = RestartPolicy {
            restart_sec: secs(10),
            restart_steps: 4,
            restart_max_delay: Some(secs(160)),
            ..RestartPolicy::default()
        };
        let delays: Vec<Duration> = (0..7).map(|n| policy.delay_for(n)).collect();
        let expected: Vec<Duration> = [10, 20, 40, 80, 160, 160, 160].map(secs).to_vec();
        assert_eq!(delays, expected);
        assert_eq!(policy.delay_for(u32::MAX), secs(160));
    }

    #[test]
    fn non_power_of_two_ratio_is_monotonic_and_bounded() {
        let policy = RestartPolicy {
            restart_sec: Duration::from_millis(250),
            restart_steps: 3,
            restart_max_delay: Some(secs(5)),
            ..RestartPolicy::default()
        };
        let delays: Vec<Duration> = (0..5).map(|n| policy.delay_for(n)).collect();
        assert_eq!(delays[0], Duration::from_millis(250));
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(delays[3], secs(5));
        assert_eq!(delays[4], secs(5));
    }

    #[test]
    fn without_steps_or_maximum_the_delay_is_constant() {
        let no_steps = RestartPolicy {
            restart_sec: secs(10),
            restart_steps: 0,
            restart_max_delay: Some(secs(160)),
            ..RestartPolicy::default()
        };
        let no_max = RestartPolicy {
            restart_steps: 4,
            restart_max_delay: None,
            ..no_steps.clone()
        };
        let max_below = RestartPolicy {
            restart_max_delay: Some(secs(5)),
            ..no_max.clone()
        };
        let zero = RestartPolicy {
            restart_sec: Duration::ZERO,
            restart_steps: 4,
            restart_max_delay: Some(secs(160)),
            ..RestartPolicy::default()
        };
        for n in 0..6 {
            assert_eq!(no_steps.delay_for(n), secs(10));
            assert_eq!(no_max.delay_for(n), secs(10));
            assert_eq!(max_below.delay_for(n), secs(10));
            assert_eq!(zero.delay_for(n), Duration::ZERO);
        }
    }

    #[test]
    fn policy_reads_from_toml_like_config_values() {
        let policy: RestartPolicy = serde_json::from_str(
            r#"{"restart":"on-abnormal","restart_sec":"250ms","restart_steps":2,
                "restart_max_delay":"1m","start_limit_burst":5,"start_limit_interval":"10s",
                "on_give_up":"exit","start_timeout":"30s","stop_timeout":"5s"}"#,
        )
        .expect("valid policy");
        assert_eq!(policy.restart, Restart::OnAbnormal);
        assert_eq!(policy.restart_sec, Duration::from_millis(250));
        assert_eq!(policy.on_give_up, OnGiveUp::Exit);
    }
}
