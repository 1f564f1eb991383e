//! One JSON POST to a provider, with timeout, retries and error classification.
//! Shared by every wire format so reliability behaves the same everywhere.

use super::error::{ErrorKind, ProviderError};
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How hard to try: from `[provider]` (`timeout`, `max_retries`, `retry_min_delay`, `retry_max_delay`).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Per attempt, covering connect, headers and the whole body.
    pub timeout: Duration,
    pub max_retries: u32,
    pub min_delay: Duration,
    /// Also caps a server's `retry-after`, so one header cannot park a chat for an hour.
    pub max_delay: Duration,
}

/// A successful reply: the decoded body and the request id for the log.
pub struct Success<T> {
    pub body: T,
    pub request_id: Option<String>,
}

/// POST `body` to `url` and decode a `T`, retrying transient failures.
pub async fn post_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: HeaderMap,
    request_id_header: &str,
    body: &serde_json::Value,
    policy: RetryPolicy,
) -> Result<Success<T>, ProviderError> {
    let attempt = || async {
        let once = attempt_once::<T>(client, provider, url, &headers, request_id_header, body);
        match tokio::time::timeout(policy.timeout, once).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::new(
                ErrorKind::Timeout,
                provider,
                format!(
                    "no complete reply within {}",
                    humantime::format_duration(policy.timeout)
                ),
            )),
        }
    };
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.max_retries as usize)
        .with_jitter();
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(ProviderError::is_retryable)
        .adjust(|e: &ProviderError, next: Option<Duration>| {
            // `None` means retries are used up; a retry-after never extends them.
            next.map(|d| e.retry_after.map_or(d, |ra| ra.min(policy.max_delay)))
        })
        .notify(|e: &ProviderError, wait: Duration| {
            tracing::warn!(error = %e, wait = ?wait, "model provider call failed; retrying");
        })
        .await
}

async fn attempt_once<T: DeserializeOwned>(
    client: &reqwest::Client,
    provider: &str,
    url: &str,
    headers: &HeaderMap,
    request_id_header: &str,
    body: &serde_json::Value,
) -> Result<Success<T>, ProviderError> {
    let response = client
        .post(url)
        .headers(headers.clone())
        .json(body)
        .send()
        .await
        .map_err(|e| transport_error(provider, &e))?;
    let status = response.status().as_u16();
    let request_id = header_str(response.headers(), request_id_header);
    let retry_after = retry_after(response.headers());
    let bytes = response.bytes().await.map_err(|e| {
        let mut err = ProviderError::new(
            ErrorKind::Connect,
            provider,
            format!("connection dropped while reading the reply: {e}"),
        );
        err.status = Some(status);
        err.request_id = request_id.clone();
        err
    })?;
    decode_reply(provider, status, &bytes, request_id, retry_after)
}

/// Classify one complete HTTP reply (status and body) into a decoded `T` or a
/// `ProviderError`. Pure, so every body a provider could send can be fuzzed.
pub fn decode_reply<T: DeserializeOwned>(
    provider: &str,
    status: u16,
    bytes: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Result<Success<T>, ProviderError> {
    if !(200..300).contains(&status) {
        let mut err = ProviderError::from_status(provider, status, error_detail(bytes));
        if status == 429 && is_quota_exhausted(bytes) {
            // Same status as a rate limit, but waiting will not help until the
            // billing period or the plan changes: do not retry.
            err.kind = ErrorKind::Payment;
        }
        err.request_id = request_id;
        err.retry_after = retry_after;
        return Err(err);
    }
    match serde_json::from_slice::<T>(bytes) {
        Ok(body) => Ok(Success { body, request_id }),
        Err(e) => {
            let mut err = ProviderError::new(
                ErrorKind::Malformed,
                provider,
                format!("reply is not the documented JSON ({e}): {}", snippet(bytes)),
            );
            err.status = Some(status);
            err.request_id = request_id;
            Err(err)
        }
    }
}

/// OpenAI's `insufficient_quota` and Anthropic's `enforced_spend_limit_reached`
/// arrive as 429s but are spend limits, not rate limits.
fn is_quota_exhausted(bytes: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    let err = &v["error"];
    err["code"] == "insufficient_quota"
        || err["type"] == "insufficient_quota"
        || err["details"]["error_code"] == "enforced_spend_limit_reached"
}

/// Classify a reqwest failure before any status was seen.
pub fn transport_error(provider: &str, e: &reqwest::Error) -> ProviderError {
    // A connect timeout is a connect error (retried); other timeouts are not.
    let kind = if e.is_timeout() && !e.is_connect() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Connect
    };
    ProviderError::new(kind, provider, error_chain(e))
}

/// An error with its causes (`error sending request: tcp connect error:
/// Connection refused`): reqwest's top-level message alone hides the cause.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.ends_with(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    detail
}

pub fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `retry-after-ms` (OpenAI) or `retry-after` in seconds (both APIs). The
/// HTTP-date form is not used by either provider and falls back to backoff.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) =
        header_str(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        // Capped: `from_secs_f64` panics on absurd values such as 1e300.
        return Some(Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0));
    }
    let secs = header_str(headers, "retry-after")?
        .trim()
        .parse::<f64>()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The provider's own error message: both wire formats put it at `error.message`
/// (`{"type":"error","error":{"type":..,"message":..}}` / `{"error":{"message":..,"type":..}}`).
pub fn error_detail(bytes: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let err = &v["error"];
        let message = err["message"].as_str().or_else(|| err.as_str());
        let kind = err["type"].as_str().or_else(|| err["code"].as_str());
        match (kind, message) {
            (Some(k), Some(m)) => return format!("{k}: {m}"),
            (None, Some(m)) => return m.to_string(),
            _ => {}
        }
    }
    snippet(bytes)
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    if s.trim().is_empty() {
        s = "(empty body)".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("1e300"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(86_400)));
        h.insert("retry-after-ms", HeaderValue::from_static("1e300"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn spend_limits_are_told_apart_from_rate_limits() {
        assert!(is_quota_exhausted(
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#
        ));
        assert!(is_quota_exhausted(
            br#"{"type":"error","error":{"type":"rate_limit_error","message":"m","details":{"error_code":"enforced_spend_limit_reached"}}}"#
        ));
        assert!(!is_quota_exhausted(
            br#"{"type":"error","error":{"type":"rate_limit_error","message":"m"}}"#
        ));
    }

    #[test]
    fn error_detail_reads_both_shapes() {
        let a = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_detail(a), "overloaded_error: Overloaded");
        let o = br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        assert_eq!(
            error_detail(o),
            "invalid_request_error: Incorrect API key provided"
        );
        assert_eq!(
            error_detail(b"<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
        assert_eq!(error_detail(b""), "(empty body)");
    }
}
