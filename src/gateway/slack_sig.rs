//! Slack's request signing (v0): HMAC-SHA256 over `v0:{timestamp}:{raw body}`
//! with the app's signing secret, sent as `X-Slack-Signature: v0=<hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Slack's own recommendation: refuse requests older than five minutes so a
/// captured request cannot be replayed later.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a Slack request was refused; every variant is a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackAuthError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature header")]
    Missing,
    #[error("X-Slack-Request-Timestamp `{0}` is not a Unix time in seconds")]
    BadTimestamp(String),
    #[error(
        "the request is {0} s away from this machine's clock (more than 5 minutes): \
         a replay, or the clock is wrong (check NTP)"
    )]
    Stale(i64),
    #[error("X-Slack-Signature is not of the form v0=<64 hex digits>")]
    BadSignatureFormat,
    #[error("X-Slack-Signature does not match: check [channel.slack] signing_secret")]
    Mismatch,
}

/// Verify one request. `now_unix` is passed in so the check is testable.
pub fn verify(
    signing_secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SlackAuthError> {
    check_headers(timestamp, signature, now_unix)?.verify(signing_secret, body)
}

/// The signature headers, checked for presence, form and freshness before
/// the body is read: a request that cannot be Slack's is refused without
/// buffering what it sends.
pub fn check_headers(
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_unix: i64,
) -> Result<Signed, SlackAuthError> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(SlackAuthError::Missing);
    };
    let ts_num: i64 = ts
        .trim()
        .parse()
        .map_err(|_| SlackAuthError::BadTimestamp(ts.chars().take(32).collect()))?;
    let skew = now_unix.saturating_sub(ts_num);
    if skew.abs() > MAX_SKEW_SECS {
        return Err(SlackAuthError::Stale(skew));
    }
    let expected = sig
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|m| m.len() == MAC_LEN)
        .ok_or(SlackAuthError::BadSignatureFormat)?;
    Ok(Signed {
        timestamp: ts.trim().to_string(),
        expected,
    })
}

/// Length of an HMAC-SHA256.
const MAC_LEN: usize = 32;

/// Headers that passed [`check_headers`]; the body is checked with [`Signed::verify`].
#[derive(Debug)]
pub struct Signed {
    timestamp: String,
    expected: Vec<u8>,
}

impl Signed {
    pub fn verify(&self, signing_secret: &[u8], body: &[u8]) -> Result<(), SlackAuthError> {
        let mac = mac_for(signing_secret, &self.timestamp, body);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&self.expected)
            .map_err(|_| SlackAuthError::Mismatch)
    }
}

/// The `X-Slack-Signature` value Slack would send (used by tests and fakes).
pub fn sign(signing_secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mac = mac_for(signing_secret, timestamp, body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn mac_for(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so the error arm cannot be taken.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC-SHA256 accepts keys of every length")
    };
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from Slack's "Verifying requests from Slack" guide.
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slack_documented_example_verifies() {
        assert_eq!(sign(SECRET, TS, BODY), SIG);
        assert_eq!(
            verify(SECRET, Some(TS), Some(SIG), BODY, 1531420618 + 10),
            Ok(())
        );
    }

    #[test]
    fn refusals() {
        let now = 1531420618;
        assert_eq!(
            verify(SECRET, None, Some(SIG), BODY, now),
            Err(SlackAuthError::Missing)
        );
        assert!(matches!(
            verify(SECRET, Some("x"), Some(SIG), BODY, now),
            Err(SlackAuthError::BadTimestamp(_))
        ));
        assert_eq!(
            verify(SECRET, Some(TS), Some(SIG), BODY, now + 301),
            Err(SlackAuthError::Stale(301))
        );
        assert_eq!(
            verify(SECRET, Some(TS), Some("a2114d"), BODY, now),
            Err(SlackAuthError::BadSignatureFormat)
        );
        assert_eq!(
            verify(b"other", Some(TS), Some(SIG), BODY, now),
            Err(SlackAuthError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some(TS), Some(SIG), b"tampered", now),
            Err(SlackAuthError::Mismatch)
        );
    }
}
