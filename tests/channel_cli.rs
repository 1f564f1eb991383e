//! `zeroclaw channel ...` through the real binary.

mod support;

use assert_cmd::Command;
use serde_json::Value;
use support::telegram::{FakeTelegram, TOKEN};

fn zeroclaw(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("zeroclaw")
        .unwrap()
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("ZEROCLAW_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn bind_telegram_keeps_comments_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let original = format!(
        "# my zeroclaw\n[daemon]\nstate_dir = \"{}\"\n\n[channel.telegram]\n# from @BotFather\nbot_token = \"x\"\nallowed_users = [\"1\"] # me\n",
        dir.path().join("state").display()
    );
    std::fs::write(&path, &original).unwrap();

    let out = zeroclaw(&path, &["channel", "bind-telegram", "424242"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("added Telegram user 424242"), "{stdout}");
    assert!(stdout.contains("not running"), "{stdout}");
    let edited = std::fs::read_to_string(&path).unwrap();
    assert!(edited.contains("# my zeroclaw\n"), "{edited}");
    assert!(edited.contains("# from @BotFather\n"), "{edited}");
    assert!(
        edited.contains("allowed_users = [\"1\", \"424242\"] # me"),
        "{edited}"
    );

    let out = zeroclaw(&path, &["channel", "bind-telegram", "424242"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);

    let out = zeroclaw(&path, &["channel", "bind-telegram", "@someone"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Telegram user id"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
}

fn telegram_config(dir: &std::path::Path, api_base: &str, token: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\nstate_dir = \"{}\"\n\n[channel.telegram]\nbot_token = \"{token}\"\napi_base = \"{api_base}\"\nallowed_users = [\"42\"]\n",
            dir.join("state").display()
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_probes_telegram_and_fails_on_a_rejected_token() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let good = telegram_config(dir.path(), &fake.api_base(), TOKEN);
    let out =
        tokio::task::spawn_blocking(move || zeroclaw(&good, &["channel", "doctor", "--json"]))
            .await
            .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks[0]["check"], "getMe");
    assert!(checks[0]["detail"].as_str().unwrap().contains("@fake_bot"));
    assert_eq!(checks[1]["check"], "getWebhookInfo");

    let bad_dir = tempfile::tempdir().unwrap();
    let bad = telegram_config(bad_dir.path(), &fake.api_base(), "1:revoked");
    let out = tokio::task::spawn_blocking(move || zeroclaw(&bad, &["channel", "doctor"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL") && stdout.contains("bot token rejected (401"),
        "{stdout}"
    );
}

#[test]
fn list_shows_modes_without_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\nstate_dir = \"{}\"\n[channel.telegram]\nbot_token = \"1:x\"\nwebhook_url = \"https://x/webhook/telegram\"\nwebhook_secret = \"s\"\n[channel.slack]\nenabled = false\napp_token = \"xapp\"\n",
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let out = zeroclaw(&path, &["channel", "list", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let channels = v["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    assert_eq!(channels[0]["name"], "channel:telegram");
    assert_eq!(channels[0]["mode"], "webhook");
    assert_eq!(channels[0]["state"], "daemon not running");
    assert_eq!(channels[1]["name"], "channel:slack");
    assert_eq!(channels[1]["enabled"], false);
    assert_eq!(channels[1]["mode"], "socket");
}
