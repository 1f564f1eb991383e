//! Libraries that dump wire data at trace level are held at debug, whatever
//! level the operator asks for (`docs/security.md`, "Secrets").
//!
//! tungstenite traces every websocket frame with its payload (Discord's
//! IDENTIFY carries the bot token, in hex and as bytes); hyper, h2 and
//! reqwest trace connection and header handling; rustls traces handshakes.
//! The redactor masks known secrets in every line, but a payload dumped byte
//! by byte is beyond it, so these never reach the pipeline at all.

use tracing_subscriber::filter::{LevelFilter, Targets};

/// Targets (and their sub-modules) capped at [`CAP`].
pub const CAPPED: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tokio_rustls",
];

/// The most detailed level the [`CAPPED`] targets may log at.
pub const CAP: LevelFilter = LevelFilter::DEBUG;

/// A global filter letting everything through except trace of [`CAPPED`];
/// it narrows the operator's filter and never widens it.
pub fn dependency_caps() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED.iter().map(|t| (*t, CAP)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn trace_of_wire_libraries_is_off_even_when_asked_for() {
        let filter = match "trace,tungstenite=trace".parse::<Targets>() {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(dependency_caps());
        with_default(subscriber, || {
            assert!(!tracing::enabled!(target: "tungstenite::protocol", Level::TRACE));
            assert!(!tracing::enabled!(target: "h2::codec", Level::TRACE));
            assert!(tracing::enabled!(target: "tungstenite::protocol", Level::DEBUG));
            assert!(tracing::enabled!(target: "zeroclaw::channels", Level::TRACE));
        });
    }
}
