//! A fake Telegram Bot API on 127.0.0.1: `getUpdates` long polling with
//! offset confirmation, `sendMessage`, webhooks, `getMe`, and injectable
//! failures (5xx, dropped connections, 409, 429 with `retry_after`, 401).
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest `sendMessage` text Telegram accepts, in UTF-16 code units.
pub const MAX_TEXT: usize = 4096;
use tokio::sync::Notify;

pub const TOKEN: &str = "123:fake-token";

#[derive(Default)]
pub struct Inner {
    next_id: i64,
    /// Updates not yet confirmed by an offset.
    pub pending: Vec<Value>,
    /// Messages the bot sent: (chat id, text).
    pub sent: Vec<(String, String)>,
    /// Every getUpdates offset asked for (`None` = no offset).
    pub offsets: Vec<Option<i64>>,
    /// When each getUpdates came in.
    pub poll_times: Vec<std::time::Instant>,
    /// The next N getUpdates answer 500.
    pub fail_polls: u32,
    /// The next N getUpdates drop the connection mid-answer.
    pub drop_polls: u32,
    /// The next N getUpdates answer 409.
    pub conflict_polls: u32,
    /// The next N getUpdates answer 200 with a body that is not JSON (a
    /// state the channel does not expect).
    pub garbled_polls: u32,
    /// The next N getUpdates are accepted and never answered (a network
    /// that black-holes the poll).
    pub blackhole_polls: u32,
    /// The next N sendMessage answer 429 (retry_after 1).
    pub rate_limit_sends: u32,
    /// The next N sendMessage are recorded as sent at once and answered
    /// only after this long (a reply in flight when its sender freezes).
    pub held_sends: (u32, Duration),
    pub rate_limited: u32,
    pub webhook: Option<(String, Option<String>)>,
    pub delete_webhook_calls: u32,
    /// The token was revoked: every call answers 401 from now on.
    pub revoked: bool,
    /// The service is down: every call's connection drops.
    pub outage: bool,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Inner {
            next_id: 100,
            ..Inner::default()
        }));
        let fake = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            state,
            notify: Arc::new(Notify::new()),
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(api))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, ..fake }
    }

    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Queue a text message from `user` in chat `chat`; returns its update_id.
    pub fn push_text(&self, chat: i64, user: i64, text: &str) -> i64 {
        let id = self.with(|s| {
            s.next_id += 1;
            let id = s.next_id;
            s.pending.push(update(id, chat, user, text));
            id
        });
        self.notify.notify_waiters();
        id
    }

    pub fn sent(&self) -> Vec<(String, String)> {
        self.with(|s| s.sent.clone())
    }
}

/// The JSON of a text-message update.
pub fn update(id: i64, chat: i64, user: i64, text: &str) -> Value {
    json!({
        "update_id": id,
        "message": {
            "message_id": id.wrapping_mul(10),
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": user, "is_bot": false, "first_name": "T", "username": format!("u{user}")},
            "text": text
        }
    })
}

fn error(code: u16, description: &str, extra: Value) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Value::Object(m) = extra {
        body.as_object_mut().unwrap().extend(m);
    }
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

/// A response whose body fails half-way: the client sees a broken connection.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::other("connection dropped by the fake"))
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}

async fn api(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if fake.with(|s| s.outage) {
        return dropped();
    }
    if bot != format!("bot{TOKEN}") || fake.with(|s| s.revoked) {
        return error(401, "Unauthorized", json!({}));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    match method.as_str() {
        "getMe" => ok(json!({"id": 123, "is_bot": true, "username": "fake_bot"})),
        "getUpdates" => get_updates(fake, body).await,
        "sendMessage" => {
            let limited = fake.with(|s| {
                if s.rate_limit_sends > 0 {
                    s.rate_limit_sends -= 1;
                    s.rate_limited += 1;
                    true
                } else {
                    false
                }
            });
            if limited {
                return error(
                    429,
                    "Too Many Requests: retry after 1",
                    json!({"parameters": {"retry_after": 1}}),
                );
            }
            let chat = match &body["chat_id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let text = body["text"].as_str().unwrap_or_default().to_string();
            if text.is_empty() {
                return error(400, "Bad Request: message text is empty", json!({}));
            }
            // Telegram measures text in UTF-16 code units.
            if text.encode_utf16().count() > MAX_TEXT {
                return error(400, "Bad Request: message is too long", json!({}));
            }
            let hold = fake.with(|s| {
                s.sent.push((chat.clone(), text.clone()));
                match &mut s.held_sends {
                    (n, hold) if *n > 0 => {
                        *n -= 1;
                        Some(*hold)
                    }
                    _ => None,
                }
            });
            if let Some(hold) = hold {
                tokio::time::sleep(hold).await;
            }
            ok(json!({"message_id": 1, "chat": {"id": chat}, "text": text}))
        }
        "setWebhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_string();
            let secret = body["secret_token"].as_str().map(String::from);
            fake.with(|s| s.webhook = Some((url, secret)));
            ok(json!(true))
        }
        "deleteWebhook" => {
            fake.with(|s| {
                s.webhook = None;
                s.delete_webhook_calls += 1;
            });
            ok(json!(true))
        }
        "getWebhookInfo" => {
            let url = fake.with(|s| s.webhook.clone().map(|w| w.0).unwrap_or_default());
            ok(json!({"url": url, "pending_update_count": 0, "has_custom_certificate": false}))
        }
        _ => error(404, "Not Found", json!({})),
    }
}

async fn get_updates(fake: FakeTelegram, body: Value) -> Response {
    let offset = body["offset"].as_i64();
    let timeout = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0));
    enum Inject {
        Fail,
        Drop,
        Conflict,
        Garbled,
        Blackhole,
    }
    let inject = fake.with(|s| {
        s.offsets.push(offset);
        s.poll_times.push(std::time::Instant::now());
        if s.fail_polls > 0 {
            s.fail_polls -= 1;
            Some(Inject::Fail)
        } else if s.drop_polls > 0 {
            s.drop_polls -= 1;
            Some(Inject::Drop)
        } else if s.conflict_polls > 0 {
            s.conflict_polls -= 1;
            Some(Inject::Conflict)
        } else if s.garbled_polls > 0 {
            s.garbled_polls -= 1;
            Some(Inject::Garbled)
        } else if s.blackhole_polls > 0 {
            s.blackhole_polls -= 1;
            Some(Inject::Blackhole)
        } else {
            None
        }
    });
    match inject {
        Some(Inject::Fail) => {
            return error(502, "Bad Gateway", json!({}));
        }
        Some(Inject::Drop) => return dropped(),
        Some(Inject::Garbled) => return (StatusCode::OK, "<html>garbled</html>").into_response(),
        Some(Inject::Blackhole) => std::future::pending::<()>().await,
        Some(Inject::Conflict) => {
            return error(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                json!({}),
            );
        }
        None => {}
    }
    if fake.with(|s| s.webhook.is_some()) {
        return error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            json!({}),
        );
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = fake.notify.notified();
        let ready = fake.with(|s| {
            // Confirm everything below the offset, as Telegram does.
            if let Some(o) = offset {
                s.pending
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= o);
            }
            s.pending.clone()
        });
        if !ready.is_empty() {
            return ok(Value::Array(ready));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ok(json!([]));
        }
    }
}
