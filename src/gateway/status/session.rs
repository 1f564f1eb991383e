//! Who may see the status page: a session cookie set by the sign-in form,
//! or `Authorization: Bearer <auth_token>` for scripts. Posts made with the
//! cookie must also carry the session's CSRF token in a header (which a
//! cross-site form cannot set) and must not come from another site.

use crate::gateway::auth::{check_bearer, secrets_match};
use crate::gateway::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The cookie's name; scoped to `/status` so no other route ever sees it.
pub const COOKIE: &str = "zeroclaw_session";
/// The header the page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a sign-in lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept at most; the oldest goes first (a flood of sign-ins with
/// the right token is the only way to fill it).
const MAX_SESSIONS: usize = 1024;

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    /// Signed in through the form; its CSRF token.
    Session {
        csrf: String,
    },
}

struct Session {
    csrf: String,
    expires: Instant,
}

/// The signed-in sessions of one gateway (a gateway restart signs everyone out).
#[derive(Default)]
pub struct Sessions {
    /// By the SHA-256 of the cookie value, so a lookup's timing says nothing
    /// about how much of a guessed id matched.
    map: Mutex<HashMap<[u8; 32], Session>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// A new session: its cookie value.
    pub fn create(&self) -> String {
        let id = random_hex();
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            key(&id),
            Session {
                csrf: random_hex(),
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The CSRF token of a live session.
    fn csrf_of(&self, id: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&key(id))
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    pub fn remove(&self, id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&key(id));
    }

    /// The request's credential: a valid bearer token first, then the
    /// session cookie. `None` configured token = nobody (the page fails
    /// closed rather than show the tree to anyone who reaches the port).
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        token: Option<&str>,
    ) -> Result<Credential, ApiError> {
        let Some(token) = token else {
            return Err(not_configured());
        };
        if headers.contains_key(header::AUTHORIZATION) {
            return check_bearer(headers, Some(token)).map(|()| Credential::Bearer);
        }
        cookie(headers)
            .and_then(|id| self.csrf_of(&id))
            .map(|csrf| Credential::Session { csrf })
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "sign in at /status with [gateway] auth_token, or send `Authorization: Bearer <token>`",
                )
            })
    }
}

/// The status page needs `auth_token`: what to do about it.
pub fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "auth_not_configured",
        "the status page needs [gateway] auth_token to sign in with: set one (e.g. \
         `openssl rand -hex 32`), or turn the page off with [gateway] status_page = false",
    )
}

/// The value of our cookie in `Cookie:` headers.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_string())
}

/// `Set-Cookie` for a new session (`secure` when the gateway serves TLS).
pub fn set_cookie(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!(
        "{COOKIE}={id}; Path=/status; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    HeaderValue::from_str(&v)
        .unwrap_or_else(|_| HeaderValue::from_static("zeroclaw_session=; Path=/status"))
}

/// `Set-Cookie` that signs out.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "zeroclaw_session=; Path=/status; HttpOnly; SameSite=Strict; Max-Age=0",
    )
}

/// A request that changes something must come from this site: no
/// `Sec-Fetch-Site: cross-site`, and an `Origin`, when sent, naming the
/// host the request was sent to.
pub fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site",
            format!("refused: {why}; use the status page itself or a bearer token"),
        )
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(refused("the request came from another site"));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
        if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
            return Err(refused("its Origin is not this gateway"));
        }
    }
    Ok(())
}

/// A change requested with `cred`: bearer passes; a session must send its
/// CSRF token and come from this site.
pub fn check_change(cred: &Credential, headers: &HeaderMap) -> Result<(), ApiError> {
    let Credential::Session { csrf } = cred else {
        return Ok(());
    };
    same_origin(headers)?;
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if sent.is_empty() || !secrets_match(sent.as_bytes(), csrf.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "refused: the request lacks the page's CSRF token (reload /status)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn sessions_bearer_and_csrf() {
        let s = Sessions::default();
        assert_eq!(
            s.authenticate(&HeaderMap::new(), None).unwrap_err().code,
            "auth_not_configured"
        );
        assert!(s.authenticate(&HeaderMap::new(), Some("t")).is_err());
        let bearer = headers(&[("authorization", "Bearer t")]);
        assert_eq!(
            s.authenticate(&bearer, Some("t")).unwrap(),
            Credential::Bearer
        );
        let wrong = headers(&[("authorization", "Bearer x")]);
        assert!(s.authenticate(&wrong, Some("t")).is_err());
        let id = s.create();
        let c = format!("other=1; {COOKIE}={id}");
        let cred = s
            .authenticate(&headers(&[("cookie", &c)]), Some("t"))
            .unwrap();
        let Credential::Session { csrf } = &cred else {
            panic!("{cred:?}")
        };
        assert!(
            s.authenticate(&headers(&[("cookie", "zeroclaw_session=guess")]), Some("t"))
                .is_err()
        );
        assert_eq!(
            check_change(&cred, &HeaderMap::new()).unwrap_err().code,
            "csrf"
        );
        let ok = headers(&[
            (CSRF_HEADER, csrf),
            ("host", "h:1"),
            ("origin", "http://h:1"),
        ]);
        assert!(check_change(&cred, &ok).is_ok());
        let cross = headers(&[
            (CSRF_HEADER, csrf),
            ("host", "h:1"),
            ("origin", "http://evil"),
        ]);
        assert_eq!(check_change(&cred, &cross).unwrap_err().code, "cross_site");
        let site = headers(&[(CSRF_HEADER, csrf), ("sec-fetch-site", "cross-site")]);
        assert_eq!(check_change(&cred, &site).unwrap_err().code, "cross_site");
        assert!(check_change(&Credential::Bearer, &HeaderMap::new()).is_ok());
        s.remove(&id);
        assert!(
            s.authenticate(&headers(&[("cookie", &c)]), Some("t"))
                .is_err()
        );
    }
}
