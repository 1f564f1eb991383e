//! `zeroclaw cron ...` through the real binary with no daemon running: the
//! CLI reads the database itself and persists enable/disable overrides.

mod support;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use std::path::PathBuf;
use support::daemon::zeroclaw_at;
use zeroclaw::cron::{RunStatus, Store, job_id};

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[daemon]
state_dir = "{}"

[[cron.jobs]]
name = "每日新闻推送"
schedule = "0 9 * * *"
enabled = true
message = "获取今日技术新闻并推送给用户"
timezone = "Asia/Shanghai"

[[cron.jobs]]
name = "备份提醒"
schedule = "0 18 * * 5"
message = "提醒用户进行数据备份"
timezone = "UTC"
"#,
            state.display()
        ),
    )
    .unwrap();
    (dir, config)
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn list_works_without_a_daemon_and_says_so() {
    let (_dir, config) = setup();
    let out = zeroclaw_at(&config, &["cron", "list", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    assert_eq!(v["daemon"], "stopped");
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["id"], job_id("每日新闻推送"));
    assert_eq!(jobs[0]["timezone"], "Asia/Shanghai");
    // 09:00 in Shanghai = 01:00 UTC
    assert!(
        jobs[0]["next_run"]
            .as_str()
            .unwrap()
            .ends_with("T01:00:00Z")
    );

    let out = zeroclaw_at(&config, &["cron", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("daemon is stopped"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("备份提醒"));
}

#[test]
fn disable_persists_and_enable_returns_to_config() {
    let (_dir, config) = setup();
    let out = zeroclaw_at(&config, &["cron", "disable", "备份提醒"]);
    assert!(out.status.success(), "{out:?}");
    let out = zeroclaw_at(&config, &["cron", "status", &job_id("备份提醒"), "--json"]);
    let v = json(&out);
    assert_eq!(v["job"]["enabled"], false);
    assert_eq!(v["job"]["enabled_source"], "override");
    assert!(v["job"]["next_run"].is_null());

    let out = zeroclaw_at(&config, &["cron", "enable", "备份提醒", "--json"]);
    let v = json(&out);
    assert_eq!(v["job"]["enabled"], true);
    assert_eq!(v["job"]["enabled_source"], "config");
    let upcoming = zeroclaw_at(&config, &["cron", "status", "备份提醒", "--json"]);
    let v = json(&upcoming);
    let times = v["job"]["detail"]["upcoming"].as_array().unwrap();
    assert_eq!(times.len(), 5);
    for t in times {
        let t: chrono::DateTime<Utc> = t.as_str().unwrap().parse().unwrap();
        assert_eq!(t.format("%a %H:%M").to_string(), "Fri 18:00");
    }
}

#[test]
fn unknown_name_exits_1_with_suggestions() {
    let (_dir, config) = setup();
    for cmd in ["status", "disable", "enable", "run"] {
        let out = zeroclaw_at(&config, &["cron", cmd, "备份"]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        if cmd != "run" {
            assert!(err.contains("did you mean `备份提醒`"), "{cmd}: {err}");
        }
    }
    let out = zeroclaw_at(
        &config,
        &["cron", "runs", "--name", "nothing-like-it", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "not_found");
}

#[test]
fn runs_reads_history_from_the_database() {
    let (dir, config) = setup();
    let db = dir.path().join("state/cron.sqlite3");
    let id = job_id("每日新闻推送");
    {
        let store = Store::open(&db).unwrap();
        let t = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).single().unwrap();
        let run = store
            .begin_run(&id, "每日新闻推送", Some(t(1)), t(1))
            .unwrap();
        store
            .finish_run(run, t(2), RunStatus::Ok, Some("今日新闻"), None, 1000)
            .unwrap();
        store
            .record(&id, "每日新闻推送", t(3), RunStatus::Missed, "down", t(4))
            .unwrap();
    }
    let out = zeroclaw_at(&config, &["cron", "runs", "--id", &id, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let runs = json(&out)["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["status"], "missed");
    assert_eq!(runs[1]["status"], "ok");
    assert_eq!(runs[1]["output"], "今日新闻");
    let out = zeroclaw_at(
        &config,
        &["cron", "runs", "--name", "每日新闻推送", "--limit", "1"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("missed") && !text.contains("今日新闻"),
        "{text}"
    );
    let out = zeroclaw_at(&config, &["cron", "list", "--json"]);
    assert_eq!(json(&out)["jobs"][0]["last_run"]["status"], "missed");
}
