//! What sets one wire format apart (its path, headers, request body and how
//! its reply reads) and the one completion exchange built over it, so every
//! format posts, retries and classifies errors the same way.

use super::error::{ErrorKind, ProviderError};
use super::settings::ProviderSettings;
use super::transport::{RetryPolicy, Success, decode_reply, post_json};
use crate::agent::message::{Completion, Reply};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One wire format of a model provider.
pub trait Format {
    /// The body of a successful reply, as the API documents it.
    type Body: DeserializeOwned;
    /// Below `base_url`, e.g. `/v1/messages`.
    const PATH: &'static str;
    /// The reply header that carries the request id the provider logs.
    const REQUEST_ID_HEADER: &'static str;

    fn headers(settings: &ProviderSettings) -> Result<HeaderMap, ProviderError>;
    fn request_body(provider: &str, c: &Completion<'_>) -> Value;
    fn into_reply(provider: &str, ok: Success<Self::Body>) -> Result<Reply, ProviderError>;
}

/// One completion against `settings`' provider in format `F`.
pub async fn complete<F: Format>(
    client: &reqwest::Client,
    settings: &ProviderSettings,
    policy: RetryPolicy,
    c: &Completion<'_>,
) -> Result<Reply, ProviderError> {
    let provider = &settings.name;
    let url = format!("{}{}", settings.base_url, F::PATH);
    let headers = F::headers(settings)?;
    let body = F::request_body(provider, c);
    let ok = post_json(
        client,
        provider,
        &url,
        headers,
        F::REQUEST_ID_HEADER,
        &body,
        policy,
    );
    F::into_reply(provider, ok.await?)
}

/// Turn one complete HTTP reply (status and body) into a reply or an error,
/// exactly as [`complete`] does, without the network: for fuzzing and tests.
pub fn parse_reply<F: Format>(
    provider: &str,
    status: u16,
    body: &[u8],
) -> Result<Reply, ProviderError> {
    decode_reply::<F::Body>(provider, status, body, None, None)
        .and_then(|ok| F::into_reply(provider, ok))
}

/// A header value carrying the API key, marked sensitive so that it never
/// shows in debug output.
pub fn secret_header(provider: &str, value: &str) -> Result<HeaderValue, ProviderError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        ProviderError::new(
            ErrorKind::NotConfigured,
            provider,
            "the API key contains characters not allowed in an HTTP header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}
