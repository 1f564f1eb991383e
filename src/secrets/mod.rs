//! The process's redactor: every secret it has read, masked wherever text
//! leaves the process (see `docs/security.md`, "Secrets").
//!
//! Loading a config ([`crate::config::load`]) teaches it every `Secret`
//! value the file held (after `${VAR}` expansion), and resolving a provider's
//! key teaches it keys read from the environment. What it learned stays for
//! the life of the process, so a rotated token is still masked in a late
//! error. The exits call [`redact`]: every log line (any level, any format),
//! every control-socket reply, every probe result printed by the CLI, and
//! every tool result handed to the model.
//!
//! One process-wide instance rather than a handle passed around, because the
//! exits include the tracing pipeline, which is installed once per process
//! and knows nothing of the daemon's components.

mod redact;

pub use redact::{MASK, MIN_SECRET_LEN, Redactor};

use std::borrow::Cow;
use std::sync::{Arc, PoisonError, RwLock};

static CURRENT: RwLock<Option<Arc<Redactor>>> = RwLock::new(None);

fn current() -> Option<Arc<Redactor>> {
    CURRENT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Add values to mask from now on (blank, short and known ones are skipped).
pub fn learn<I, S>(secrets: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let secrets: Vec<S> = secrets
        .into_iter()
        .filter(|s| s.as_ref().trim().len() >= MIN_SECRET_LEN)
        .collect();
    let known = |r: &Redactor| secrets.iter().all(|s| r.contains(s.as_ref()));
    if secrets.is_empty() || current().is_some_and(|r| known(&r)) {
        return;
    }
    let mut guard = CURRENT.write().unwrap_or_else(PoisonError::into_inner);
    let base = guard.as_deref().cloned().unwrap_or_default();
    if let Some(next) = base.with(secrets) {
        *guard = Some(Arc::new(next));
    }
}

/// `text` with every learned secret masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    match current() {
        Some(r) => r.redact(text),
        None => Cow::Borrowed(text),
    }
}

/// [`redact`] for an owned string, reusing it when nothing is masked.
pub fn redact_string(text: String) -> String {
    match redact(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => s,
    }
}

/// [`redact`] for a rendered log line.
pub fn redact_line(line: Vec<u8>) -> Vec<u8> {
    match current() {
        Some(r) => r.redact_bytes(line),
        None => line,
    }
}

/// Replace the default panic hook with one printing the same report to
/// stderr with secrets masked: a panic message may quote an error or a URL.
/// Call first thing; hooks installed later chain to this one.
pub fn mask_panics() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>");
        let location = info.location().map(|l| l.to_string()).unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        let report = format!("thread '{name}' panicked at {location}:\n{message}");
        let backtrace = std::backtrace::Backtrace::capture();
        let tail = match backtrace.status() {
            std::backtrace::BacktraceStatus::Captured => format!("\nstack backtrace:\n{backtrace}"),
            _ => String::new(),
        };
        eprintln!("\n{}{tail}", redact(&report));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    // The instance is process-wide: values here are unique to this test.
    #[test]
    fn learned_values_are_masked_everywhere_and_kept() {
        learn(["global-test-secret-one"]);
        learn(["global-test-secret-two", "global-test-secret-one"]);
        assert_eq!(
            redact("a global-test-secret-one b global-test-secret-two"),
            "a *** b ***"
        );
        assert_eq!(
            redact_line(b"global-test-secret-two\n".to_vec()),
            b"***\n".to_vec()
        );
        assert_eq!(redact_string("clean".into()), "clean");
    }
}
