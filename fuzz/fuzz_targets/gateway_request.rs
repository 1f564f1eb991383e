//! Whole HTTP requests to the gateway's POST routes (`/webhook`,
//! `/webhook/telegram`, `/webhook/slack`), driven through the real router
//! (auth, content type, body limit, JSON parsing, Slack signature, dedupe,
//! idempotency keys, the echo agent) without a socket.
//!
//! Input: byte 0 picks the route, byte 1 the header flags, the rest is the
//! body. With flag 0x80 the body starts with header lines up to a blank
//! line, so header values are fuzzed too.
#![no_main]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use tower::ServiceExt;
use zeroclaw::config::Config;
use zeroclaw::config::schema::{SlackConfig, TelegramConfig};
use zeroclaw::config::types::Secret;
use zeroclaw::daemon::wiring::Shared;
use zeroclaw::gateway::{GatewayState, router};

const TOKEN: &str = "fuzz-token-0123456789";
const TG_SECRET: &str = "tg-secret";
const SLACK_SECRET: &str = "slack-signing-secret";
const ROUTES: [&str; 4] = [
    "/webhook",
    "/webhook/telegram",
    "/webhook/slack",
    "/metrics",
];

struct World {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut c = Config::default();
        c.gateway.host = "127.0.0.1".into();
        c.gateway.auth_token = Some(Secret::new(TOKEN));
        c.gateway.rate_limit = 0;
        c.channel.telegram = Some(TelegramConfig {
            bot_token: Some(Secret::new("123:abc")),
            webhook_secret: Some(Secret::new(TG_SECRET)),
            ..TelegramConfig::default()
        });
        c.channel.slack = Some(SlackConfig {
            bot_token: Some(Secret::new("xoxb-1")),
            signing_secret: Some(Secret::new(SLACK_SECRET)),
            ..SlackConfig::default()
        });
        let workdir = PathBuf::from("target/fuzz-gateway");
        let shared = Shared::build(c, None, workdir).expect("shared");
        let state = rt
            .block_on(GatewayState::new(shared.gateway_deps()))
            .expect("state");
        World {
            app: router(state),
            rt,
        }
    })
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let w = world();
    let route = ROUTES[usize::from(data[0]) % ROUTES.len()];
    let flags = data[1];
    let mut body = &data[2..];
    let mut req = Request::post(route);
    if flags & 0x80 != 0 {
        // Fuzzed header lines, then the body.
        let split = body.windows(2).position(|w| w == b"\n\n");
        let (head, rest) = match split {
            Some(i) => (&body[..i], &body[i + 2..]),
            None => (body, &[][..]),
        };
        for line in head.split(|b| *b == b'\n') {
            if let Some(colon) = line.iter().position(|b| *b == b':') {
                req = req.header(&line[..colon], &line[colon + 1..]);
            }
        }
        body = rest;
    }
    match flags & 0x03 {
        0 => req = req.header("authorization", format!("Bearer {TOKEN}")),
        1 => req = req.header("authorization", "Bearer wrong"),
        _ => {}
    }
    if flags & 0x04 == 0 {
        req = req.header("content-type", "application/json");
    }
    if flags & 0x08 != 0 {
        // A handful of keys, so replays and conflicts both happen.
        req = req.header("x-idempotency-key", format!("k{}", flags & 0x30));
    }
    if flags & 0x40 == 0 {
        req = req.header("x-telegram-bot-api-secret-token", TG_SECRET);
        let ts = now_unix().to_string();
        let sig = zeroclaw::gateway::slack_sig::sign(SLACK_SECRET.as_bytes(), &ts, body);
        req = req
            .header("x-slack-request-timestamp", ts)
            .header("x-slack-signature", sig);
    }
    // A header the fuzzer wrote may be invalid: that is the request
    // builder's error, which hyper would have refused before the router.
    let Ok(mut req) = req.body(Body::from(body.to_vec())) else {
        return;
    };
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
    let resp =
        w.rt.block_on(w.app.clone().oneshot(req))
            .expect("router is infallible");
    let status = resp.status().as_u16();
    assert!((200..600).contains(&status), "status {status} out of range");
    let bytes =
        w.rt.block_on(axum::body::to_bytes(resp.into_body(), 1 << 20))
            .expect("a response body the gateway wrote");
    // Every answer is JSON: success bodies and the error shape alike
    // (/metrics answers Prometheus text).
    if route != "/metrics" {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
            "non-JSON answer {status}: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
});
