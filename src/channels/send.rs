//! Sending a reply: split to the service's length limit, send the parts in
//! order, wait out rate limits. The same for every channel, so it lives once.

use super::platform::{PlatformError, Severity};
use std::future::Future;
use std::time::Duration;

/// How often one part is retried after a 429 before giving up.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 5;

/// How often one part is retried after a momentary server error (5xx).
pub const MAX_SERVER_RETRIES: u32 = 3;

/// First wait after a 5xx; it grows linearly with each retry.
pub const SERVER_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Send every part with `send`, in order. A rate-limited part is retried
/// after the wait the service asked for (up to [`MAX_RATE_LIMIT_RETRIES`]), a
/// part that met a server error up to [`MAX_SERVER_RETRIES`] times when
/// `retry_server` (an incoming message is not redelivered, so failing on a
/// momentary 5xx would lose the answer); any other error ends the reply.
/// `sent` is called once per delivered part with the time its successful
/// attempt took (metrics).
pub async fn send_parts<E, F, Fut>(
    channel: &'static str,
    target: &str,
    parts: Vec<String>,
    retry_server: bool,
    mut send: F,
    mut sent: impl FnMut(Duration),
) -> Result<(), E>
where
    E: PlatformError,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    for part in parts {
        let (mut retries, mut server_retries) = (0, 0);
        loop {
            let attempt = tokio::time::Instant::now();
            match send(part.clone()).await {
                Ok(()) => {
                    sent(attempt.elapsed());
                    break;
                }
                Err(e) => match e.severity() {
                    Severity::RateLimited(wait) if retries < MAX_RATE_LIMIT_RETRIES => {
                        retries += 1;
                        tracing::warn!(channel, target, ?wait, "rate limited (429), waiting");
                        tokio::time::sleep(wait).await;
                    }
                    Severity::Server if retry_server && server_retries < MAX_SERVER_RETRIES => {
                        server_retries += 1;
                        let wait = SERVER_RETRY_DELAY * server_retries;
                        tracing::warn!(channel, target, ?wait, "server error; retrying");
                        tokio::time::sleep(wait).await;
                    }
                    _ => return Err(e),
                },
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[derive(Debug, PartialEq)]
    enum E {
        Limited,
        Broken,
    }

    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl PlatformError for E {
        fn severity(&self) -> Severity {
            match self {
                E::Limited => Severity::RateLimited(Duration::from_millis(10)),
                E::Broken => Severity::Lost,
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limits_are_waited_out_and_other_errors_end_the_reply() {
        let calls = Cell::new(0);
        let delivered = Cell::new(0);
        let parts = vec!["a".to_string(), "b".to_string()];
        let r: Result<(), E> = send_parts(
            "test",
            "t",
            parts.clone(),
            false,
            |_| {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n == 1 { Err(E::Limited) } else { Ok(()) } }
            },
            |_| delivered.set(delivered.get() + 1),
        )
        .await;
        assert_eq!(r, Ok(()));
        assert_eq!((calls.get(), delivered.get()), (3, 2));

        let r: Result<(), E> = send_parts(
            "test",
            "t",
            parts,
            false,
            |_| async { Err(E::Broken) },
            |_| {},
        )
        .await;
        assert_eq!(r, Err(E::Broken));

        let limited = Cell::new(0);
        let r: Result<(), E> = send_parts(
            "test",
            "t",
            vec!["x".into()],
            false,
            |_| {
                limited.set(limited.get() + 1);
                async { Err(E::Limited) }
            },
            |_| {},
        )
        .await;
        assert_eq!(r, Err(E::Limited));
        assert_eq!(limited.get(), MAX_RATE_LIMIT_RETRIES + 1);
    }
}
