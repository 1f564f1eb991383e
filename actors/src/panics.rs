//! Telling a panic from an `Err`: ractor reports both the same way.
//!
//! ractor 0.16 catches a panic in a handler (or in `pre_start`) and turns its
//! payload into an `ActorProcessingErr` built from the panic message
//! (`get_panic_string` in ractor's `actor.rs`); a handler that returns `Err`
//! produces the same `SupervisionEvent::ActorFailed`. systemd's table needs the
//! difference (a panic is an *unclean signal*, an `Err` an *unclean exit code*),
//! so this module installs, once per process, a panic hook chained to the
//! previous one that remembers the last few panic messages. When a child fails,
//! the supervisor looks the error's `Display` up here: found (and consumed) means
//! the failure was a panic.
//!
//! Limits, accepted knowingly: an `Err` whose text equals the message of a
//! panic that happened moments before elsewhere in the process is taken for a
//! panic; the memory is bounded ([`CAPACITY`]) so a flood of unrelated panics
//! can push a child's panic out before the supervisor looks (it then counts as
//! a failure, which restarts under the same settings except `on-abort`).

use std::any::Any;
use std::collections::VecDeque;
use std::panic::PanicHookInfo;
use std::sync::{Mutex, Once};

/// How many recent panic messages are remembered.
const CAPACITY: usize = 128;

/// What ractor substitutes for a payload that is neither `&str` nor `String`.
const RACTOR_UNKNOWN_PANIC: &str = "Unknown panic occurred which couldn't be coerced to a string";

static INSTALL: Once = Once::new();
static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// Install the recording hook (idempotent), keeping whatever hook was set before.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            let message =
                payload_message(info.payload()).unwrap_or_else(|| RACTOR_UNKNOWN_PANIC.to_string());
            record(message);
            previous(info);
        }));
    });
}

/// The message of a panic payload, when it is text (`panic!` with a literal
/// or with format arguments); `None` for any other payload.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&str>() {
        Some((*s).to_string())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

fn record(message: String) {
    // A poisoned lock only means another thread panicked while holding it; the
    // deque is still usable, and a panic hook must never panic itself.
    let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    if recent.len() == CAPACITY {
        recent.pop_front();
    }
    recent.push_back(message);
}

/// Was `message` the message of a recent panic? Consumes the match.
pub(crate) fn take_panic(message: &str) -> bool {
    let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    match recent.iter().rposition(|m| m == message) {
        Some(i) => {
            recent.remove(i);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_panic_is_found_once() {
        install_hook();
        let result = std::panic::catch_unwind(|| panic!("panics-unit-test {}", 42));
        assert!(result.is_err());
        assert!(take_panic("panics-unit-test 42"));
        assert!(!take_panic("panics-unit-test 42"));
        assert!(!take_panic("never panicked"));
    }
}
