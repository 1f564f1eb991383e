//! `zeroclaw auth status` through the real binary, against fakes of the
//! providers and the chat platforms.

mod support;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::path::Path;

/// Telegram `getMe`, Discord `GET /users/@me`, Slack `auth.test`, each
/// accepting one token and answering in the platform's own error shape.
async fn chat_fake() -> String {
    let app = Router::new()
        .route(
            "/telegram/{bot}/getMe",
            get(|axum::extract::Path(bot): axum::extract::Path<String>| async move {
                if bot == "bot123456:TELEGRAM-GOOD" {
                    (
                        axum::http::StatusCode::OK,
                        axum::Json(json!({"ok": true, "result": {"id": 1, "is_bot": true, "username": "zc_bot"}})),
                    )
                } else {
                    (
                        axum::http::StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
                    )
                }
            }),
        )
        .route(
            "/discord/users/@me",
            get(|h: HeaderMap| async move {
                if h.get("authorization").is_some_and(|v| v == "Bot DISCORD-GOOD-TOKEN") {
                    (axum::http::StatusCode::OK, axum::Json(json!({"id": "1", "username": "zc"})))
                } else {
                    (
                        axum::http::StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
                    )
                }
            }),
        )
        .route(
            "/slack/auth.test",
            post(|h: HeaderMap| async move {
                if h.get("authorization").is_some_and(|v| v == "Bearer xoxb-SLACK-GOOD") {
                    axum::Json(json!({"ok": true, "user": "zcbot", "team": "T"}))
                } else {
                    axum::Json(json!({"ok": false, "error": "invalid_auth"}))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn write_config(
    dir: &Path,
    anthropic: &str,
    openai: &str,
    chat: &str,
    telegram_token: &str,
) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[provider]
name = "anthropic"
base_url = "{anthropic}"

[providers.openai]
api_key = "{okey}"
base_url = "{openai}"

[channel.telegram]
bot_token = "{telegram_token}"
api_base = "{chat}/telegram"

[channel.discord]
bot_token = "DISCORD-GOOD-TOKEN"
api_base = "{chat}/discord"

[channel.slack]
bot_token = "xoxb-SLACK-GOOD"
api_base = "{chat}/slack"
"#,
            okey = support::openai::KEY,
        ),
    )
    .unwrap();
    path
}

/// Run the binary off the async workers (the fakes live on them).
async fn zeroclaw(args: &[&str], anthropic_key: &str) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let key = anthropic_key.to_string();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zeroclaw"))
            .args(&args)
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENROUTER_API_KEY")
            .env("ANTHROPIC_API_KEY", key)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    })
    .await
    .unwrap()
}

fn entry<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {v}"))
}

/// `auth status --json --check` with every service faked: the providers'
/// fakes accept their `KEY`, the chat fake `*-GOOD` tokens.
async fn check_against_fakes(telegram_token: &str, anthropic_key: &str) -> (i32, String) {
    let anthropic = support::anthropic::Fake::start(vec![]).await;
    let openai = support::openai::Fake::start(vec![]).await;
    let chat = chat_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &anthropic.base_url,
        &openai.base_url,
        &chat,
        telegram_token,
    );
    let cfg = config.to_str().unwrap();
    let args = ["--config", cfg, "auth", "status", "--json", "--check"];
    zeroclaw(&args, anthropic_key).await
}

#[tokio::test]
async fn check_passes_when_every_service_accepts_its_credential() {
    let (code, out) = check_against_fakes("123456:TELEGRAM-GOOD", support::anthropic::KEY).await;
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    let a = entry(&v, "anthropic");
    assert_eq!(a["source"], "environment variable ANTHROPIC_API_KEY");
    assert_eq!(a["redacted"], "sk-a…ey");
    assert_eq!(a["check"]["ok"], true);
    assert_eq!(
        entry(&v, "openai")["source"],
        "config file [providers.openai]"
    );
    assert_eq!(
        entry(&v, "telegram")["check"]["detail"],
        "authenticated as zc_bot"
    );
    assert_eq!(
        entry(&v, "discord")["check"]["detail"],
        "authenticated as zc"
    );
    assert_eq!(
        entry(&v, "slack")["check"]["detail"],
        "authenticated as zcbot"
    );
    for secret in [
        support::anthropic::KEY,
        support::openai::KEY,
        "TELEGRAM-GOOD",
        "DISCORD-GOOD",
        "SLACK-GOOD",
    ] {
        assert!(!out.contains(secret), "{secret} printed: {out}");
    }
}

#[tokio::test]
async fn check_fails_with_exit_1_and_names_what_was_rejected() {
    let (code, out) = check_against_fakes("999:TELEGRAM-BAD-TOKEN", "sk-ant-wrong-key-000").await;
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    let a = &entry(&v, "anthropic")["check"];
    assert_eq!(a["ok"], false);
    assert!(
        a["detail"]
            .as_str()
            .unwrap()
            .contains("authentication_error"),
        "{a}"
    );
    let t = &entry(&v, "telegram")["check"];
    assert_eq!(t["ok"], false);
    assert_eq!(t["detail"], "HTTP 401: Unauthorized");
    assert!(!out.contains("TELEGRAM-BAD-TOKEN"), "token leaked: {out}");
    assert_eq!(entry(&v, "openai")["check"]["ok"], true);
}

#[tokio::test]
async fn text_output_without_check_shows_sources_and_missing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[provider]\nname = \"openrouter\"\n[providers.ollama]\n",
    )
    .unwrap();
    let (code, out) = zeroclaw(
        &["--config", path.to_str().unwrap(), "auth", "status"],
        "sk-ant-from-env-1234",
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}: {out}"))
            .to_string()
    };
    assert!(line("openrouter").contains("MISSING"), "{out}");
    assert!(line("ollama").contains("not set (optional)"), "{out}");
}
