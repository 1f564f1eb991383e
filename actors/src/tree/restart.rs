//! The restart decision as plain code: what becomes of a child that exited,
//! and whether one more automatic start is allowed.
//!
//! Nothing here touches the runtime or an actor: the supervisor passes the
//! clock in, so every rule of `docs/architecture.md` ("The restart decision",
//! "Start limit and give-up", "Backoff") is unit-tested below without spawning
//! anything. The supervisor only carries out what this module decides.

use crate::FATAL_PREFIX;
use crate::policy::{ExitKind, OnGiveUp, RestartPolicy};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Where a child that is not (yet) running again is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Down {
    /// After a clean exit: `stopped`, as systemd shows a unit that exited 0.
    Stopped,
    /// After any other exit: `failed`.
    Failed,
}

/// Why a child is not restarted; it decides what is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoRestart {
    /// The tree is stopping: nothing is restarted any more.
    ShuttingDown,
    /// The child gave a [`FATAL_PREFIX`] reason: a restart cannot cure it.
    Fatal,
    /// Its `restart` setting does not cover this kind of exit.
    Policy,
}

/// What to do next with a child that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Leave it down.
    Stay(NoRestart),
    /// Restart it after this delay (zero: now), if the start limit allows then.
    Restart(Duration),
}

/// The decision about one exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Verdict {
    /// The kind the exit counts as (a fatal reason counts as a failure).
    pub kind: ExitKind,
    /// The state the child is in until (and unless) it restarts.
    pub down: Down,
    pub next: Next,
}

/// The start limit was hit: the child stays `failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GiveUp {
    /// For the log and, with `on_give_up = exit`, for the tree's exit reason.
    pub reason: String,
    pub on_give_up: OnGiveUp,
}

/// How and when a child last ended, as the snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExitRecord {
    pub kind: ExitKind,
    pub message: String,
    pub at: Instant,
}

/// One child's restart bookkeeping, kept across its restarts.
#[derive(Debug, Default)]
pub(super) struct RestartState {
    /// Automatic restarts since the tree started (systemd's `NRestarts`).
    pub restarts: u64,
    /// Restarts on request since the tree started.
    pub requested: u64,
    pub last_exit: Option<ExitRecord>,
    /// Consecutive automatic restarts: the backoff step.
    attempt: u32,
    /// Start times inside the start-limit window, oldest first.
    starts: VecDeque<Instant>,
}

impl RestartState {
    /// Every start counts toward the start limit, whoever asked for it.
    pub fn started(&mut self, now: Instant) {
        self.starts.push_back(now);
    }

    /// A restart on request begins afresh: an operator who restarts a child
    /// by hand means "try again now", not "one more strike".
    pub fn reset(&mut self) {
        self.requested += 1;
        self.starts.clear();
        self.attempt = 0;
    }

    /// Decide what follows an exit. `ran_for` is how long the child had been
    /// running (`None`: it never got there, its start failed).
    pub fn exited(
        &mut self,
        policy: &RestartPolicy,
        kind: ExitKind,
        message: &str,
        ran_for: Option<Duration>,
        shutting_down: bool,
        now: Instant,
    ) -> Verdict {
        if ran_for.is_some_and(|ran| ran > policy.start_limit_interval) {
            // systemd: a unit that stayed up past the window starts a new run.
            self.attempt = 0;
        }
        // systemd's RestartPreventExitStatus=: the child said a restart cannot help.
        let fatal = message.starts_with(FATAL_PREFIX);
        let kind = if fatal { ExitKind::Failure } else { kind };
        self.last_exit = Some(ExitRecord {
            kind,
            message: message.to_string(),
            at: now,
        });
        let down = if kind == ExitKind::Success {
            Down::Stopped
        } else {
            Down::Failed
        };
        let next = if shutting_down {
            Next::Stay(NoRestart::ShuttingDown)
        } else if fatal {
            Next::Stay(NoRestart::Fatal)
        } else if !policy.restart.restarts_after(kind) {
            Next::Stay(NoRestart::Policy)
        } else {
            let delay = policy.delay_for(self.attempt);
            self.attempt = self.attempt.saturating_add(1);
            Next::Restart(delay)
        };
        Verdict { kind, down, next }
    }

    /// May an automatic restart start the child now? Counts the restart when
    /// it may; says why not when the start limit is hit.
    pub fn admit(&mut self, policy: &RestartPolicy, now: Instant) -> Result<(), GiveUp> {
        let burst = policy.start_limit_burst;
        let interval = policy.start_limit_interval;
        // systemd: a zero burst or interval disables the start limit.
        if burst > 0 && !interval.is_zero() {
            while self
                .starts
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= interval)
            {
                self.starts.pop_front();
            }
            if self.starts.len() >= burst as usize {
                return Err(self.give_up(policy));
            }
        }
        self.restarts += 1;
        Ok(())
    }

    fn give_up(&self, policy: &RestartPolicy) -> GiveUp {
        let last = self
            .last_exit
            .as_ref()
            .map(|e| format!("; last exit: {:?}: {}", e.kind, e.message))
            .unwrap_or_default();
        GiveUp {
            reason: format!(
                "start limit hit: more than {} starts within {:?}{last}",
                policy.start_limit_burst, policy.start_limit_interval
            ),
            on_give_up: policy.on_give_up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Restart;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn policy(restart: Restart) -> RestartPolicy {
        RestartPolicy {
            restart,
            restart_sec: secs(1),
            ..RestartPolicy::default()
        }
    }

    /// One exit of a child that ran for a second, on a fresh state.
    fn decide(policy: &RestartPolicy, kind: ExitKind, message: &str) -> Verdict {
        let now = Instant::now();
        RestartState::default().exited(policy, kind, message, Some(secs(1)), false, now)
    }

    include!("systemd_table.rs");

    #[test]
    fn each_restart_setting_restarts_after_the_exits_of_systemds_table() {
        for (restart, row) in TABLE {
            for (kind, expected) in KINDS.into_iter().zip(row) {
                let verdict = decide(&policy(restart), kind, "ended");
                let expected_next = if expected {
                    Next::Restart(secs(1))
                } else {
                    Next::Stay(NoRestart::Policy)
                };
                assert_eq!(verdict.next, expected_next, "{restart:?} after {kind:?}");
                assert_eq!(verdict.kind, kind);
            }
        }
    }

    #[test]
    fn a_clean_exit_leaves_the_child_stopped_any_other_exit_failed() {
        let p = policy(Restart::No);
        assert_eq!(decide(&p, ExitKind::Success, "done").down, Down::Stopped);
        for kind in [ExitKind::Failure, ExitKind::Abort, ExitKind::Timeout] {
            assert_eq!(decide(&p, kind, "broke").down, Down::Failed, "{kind:?}");
        }
    }

    #[test]
    fn a_fatal_reason_is_never_restarted_and_counts_as_a_failure() {
        let p = policy(Restart::Always);
        let mut state = RestartState::default();
        let now = Instant::now();
        let message = format!("{FATAL_PREFIX}the bot token was revoked");
        for kind in [ExitKind::Success, ExitKind::Failure, ExitKind::Abort] {
            let verdict = state.exited(&p, kind, &message, Some(secs(1)), false, now);
            assert_eq!(verdict.next, Next::Stay(NoRestart::Fatal), "{kind:?}");
            assert_eq!(verdict.kind, ExitKind::Failure);
            assert_eq!(verdict.down, Down::Failed);
        }
        let last = state
            .last_exit
            .as_ref()
            .map(|e| (e.kind, e.message.as_str()));
        assert_eq!(last, Some((ExitKind::Failure, message.as_str())));
        // Only a prefix counts: the same words elsewhere are an ordinary failure.
        let later = decide(&p, ExitKind::Failure, "upstream said fatal: retry");
        assert_eq!(later.next, Next::Restart(secs(1)));
    }

    #[test]
    fn nothing_is_restarted_while_the_tree_stops() {
        let p = policy(Restart::Always);
        let mut state = RestartState::default();
        let verdict = state.exited(&p, ExitKind::Abort, "boom", None, true, Instant::now());
        assert_eq!(verdict.next, Next::Stay(NoRestart::ShuttingDown));
        assert_eq!(verdict.down, Down::Failed);
    }

    #[test]
    fn backoff_grows_with_each_consecutive_restart_up_to_the_maximum() {
        let p = RestartPolicy {
            restart_sec: secs(10),
            restart_steps: 4,
            restart_max_delay: Some(secs(160)),
            ..RestartPolicy::default()
        };
        let mut state = RestartState::default();
        let now = Instant::now();
        let delays: Vec<Next> = (0..7)
            .map(|_| {
                let verdict = state.exited(&p, ExitKind::Failure, "x", None, false, now);
                verdict.next
            })
            .collect();
        let expected: Vec<Next> = [10, 20, 40, 80, 160, 160, 160]
            .map(|s| Next::Restart(secs(s)))
            .to_vec();
        assert_eq!(delays, expected);
    }

    #[test]
    fn a_run_longer_than_the_start_limit_interval_resets_the_backoff() {
        let p = RestartPolicy {
            restart_sec: secs(10),
            restart_steps: 4,
            restart_max_delay: Some(secs(160)),
            start_limit_interval: secs(30),
            ..RestartPolicy::default()
        };
        let mut state = RestartState::default();
        let now = Instant::now();
        let mut exit = |ran_for: Option<Duration>| {
            state
                .exited(&p, ExitKind::Failure, "x", ran_for, false, now)
                .next
        };
        assert_eq!(exit(None), Next::Restart(secs(10)));
        assert_eq!(exit(Some(secs(5))), Next::Restart(secs(20)));
        // Exactly the interval is not "longer than": the run continues.
        assert_eq!(exit(Some(secs(30))), Next::Restart(secs(40)));
        assert_eq!(
            exit(Some(secs(30) + Duration::from_millis(1))),
            Next::Restart(secs(10))
        );
        assert_eq!(exit(Some(secs(1))), Next::Restart(secs(20)));
    }

    fn limited(on_give_up: OnGiveUp) -> RestartPolicy {
        RestartPolicy {
            start_limit_burst: 3,
            start_limit_interval: secs(10),
            on_give_up,
            ..RestartPolicy::default()
        }
    }

    #[test]
    fn the_start_limit_allows_burst_starts_within_the_interval() {
        let p = limited(OnGiveUp::StayFailed);
        let mut state = RestartState::default();
        let t0 = Instant::now();
        state.started(t0);
        for n in 1..3 {
            assert_eq!(state.admit(&p, t0 + secs(n)), Ok(()));
            state.started(t0 + secs(n));
        }
        assert_eq!(state.restarts, 2);
        // A fourth start inside 10 s would exceed the burst of 3.
        assert!(state.admit(&p, t0 + secs(3)).is_err());
        assert_eq!(state.restarts, 2, "a refused restart is not counted");
        // Once the first start is 10 s old it leaves the window.
        assert_eq!(state.admit(&p, t0 + secs(10)), Ok(()));
        assert_eq!(state.restarts, 3);
    }

    #[test]
    fn a_zero_burst_or_interval_disables_the_start_limit() {
        let no_burst = RestartPolicy {
            start_limit_burst: 0,
            ..limited(OnGiveUp::Exit)
        };
        let no_interval = RestartPolicy {
            start_limit_interval: Duration::ZERO,
            ..limited(OnGiveUp::Exit)
        };
        for p in [no_burst, no_interval] {
            let mut state = RestartState::default();
            let now = Instant::now();
            for _ in 0..50 {
                state.started(now);
                assert_eq!(state.admit(&p, now), Ok(()));
            }
            assert_eq!(state.restarts, 50);
        }
    }

    #[test]
    fn giving_up_says_why_and_whether_the_tree_exits() {
        for on_give_up in [OnGiveUp::StayFailed, OnGiveUp::Exit] {
            let p = limited(on_give_up);
            let mut state = RestartState::default();
            let now = Instant::now();
            for _ in 0..3 {
                state.started(now);
            }
            state.exited(&p, ExitKind::Abort, "boom", None, false, now);
            let give_up = state.admit(&p, now).expect_err("limit hit");
            assert_eq!(give_up.on_give_up, on_give_up);
            assert_eq!(
                give_up.reason,
                "start limit hit: more than 3 starts within 10s; last exit: Abort: boom"
            );
        }
    }

    #[test]
    fn a_reset_clears_the_start_limit_and_the_backoff_but_not_the_count() {
        let p = RestartPolicy {
            restart_sec: secs(10),
            restart_steps: 2,
            restart_max_delay: Some(secs(40)),
            ..limited(OnGiveUp::StayFailed)
        };
        let mut state = RestartState::default();
        let now = Instant::now();
        let mut admitted = Vec::new();
        for _ in 0..3 {
            state.started(now);
            state.exited(&p, ExitKind::Failure, "x", None, false, now);
            admitted.push(state.admit(&p, now).is_ok());
        }
        assert_eq!(admitted, [true, true, false]);
        state.reset();
        assert_eq!(state.requested, 1, "a restart on request is counted apart");
        assert_eq!(state.admit(&p, now), Ok(()));
        let next = state
            .exited(&p, ExitKind::Failure, "x", None, false, now)
            .next;
        assert_eq!(next, Next::Restart(secs(10)), "backoff starts over");
        assert_eq!(
            state.restarts, 3,
            "restarts since the tree started are kept"
        );
    }
}
