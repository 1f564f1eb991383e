//! `zeroclaw config show|check|init` through the real binary.

use assert_cmd::Command;
use std::path::Path;

const SEED: &str = include_str!("fixtures/config/seed.toml");

/// The binary with a private HOME and no config from the environment.
fn zeroclaw(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("zeroclaw").expect("binary built");
    cmd.env("HOME", home)
        .env_remove("ZEROCLAW_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_accepts_the_seed_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.toml");
    std::fs::write(&path, SEED).unwrap();
    let out = zeroclaw(dir.path())
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("ok: {}", path.display()));
    // The seed's gaps are shown as warnings.
    assert!(stderr(&out).contains("warning: line"), "{}", stderr(&out));
}

#[test]
fn check_lists_every_error_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[gateway]\nprot = 3000\nhost = \"0.0.0.0\"\n\n[[cron.jobs]]\nname = \"x\"\nschedule = \"\"\nmessage = \"m\"\n",
    )
    .unwrap();
    let out = zeroclaw(dir.path())
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("3 errors"), "{err}");
    assert!(
        err.contains("line 2:1: [gateway] `prot`: unknown key; did you mean `port`?"),
        "{err}"
    );
    assert!(err.contains("line 3:1: [gateway] `host`"), "{err}");
    assert!(
        err.contains("line 7:1: [[cron.jobs]] #1 (`x`) `schedule`"),
        "{err}"
    );

    let out = zeroclaw(dir.path())
        .args(["config", "check", "--json", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[0]["key"], "prot");
    assert_eq!(errors[0]["table"], "[gateway]");
    assert!(errors[0]["message"].as_str().unwrap().contains("port"));
}

#[test]
fn check_json_ok_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[gateway]\nport = 0\n").unwrap();
    let out = zeroclaw(dir.path())
        .args(["config", "check", "--json", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0));

    let missing = dir.path().join("nope.toml");
    let out = zeroclaw(dir.path())
        .args(["config", "check", "--config"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
}

#[test]
fn check_without_a_file_uses_builtin_defaults() {
    let home = tempfile::tempdir().unwrap();
    let out = zeroclaw(home.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("ok: built-in defaults"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_reads_secrets_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[gateway]\nauth_token = \"${ZC_CLI_TOKEN}\"\n").unwrap();
    let out = zeroclaw(dir.path())
        .args(["config", "check", "--config"])
        .arg(&path)
        .env_remove("ZC_CLI_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`ZC_CLI_TOKEN` is not set"),
        "{}",
        stderr(&out)
    );
    let out = zeroclaw(dir.path())
        .args(["config", "check", "--config"])
        .arg(&path)
        .env("ZC_CLI_TOKEN", "abc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn show_hides_secrets_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.toml");
    std::fs::write(&path, SEED).unwrap();
    let out = zeroclaw(dir.path())
        .args(["config", "show", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    for secret in [
        "your-secret-token",
        "BOT_TOKEN_FROM_BOTFATHER",
        "DISCORD_BOT_TOKEN",
        "xoxb-YOUR-BOT-TOKEN",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
    assert!(shown.contains("bot_token = \"***\""), "{shown}");
    assert!(shown.contains("每日新闻推送"));
    assert!(shown.contains("max_size = \"100MB\""), "{shown}");

    // What `show` prints is itself a valid config.
    let again = dir.path().join("shown.toml");
    std::fs::write(&again, &shown).unwrap();
    zeroclaw(dir.path())
        .args(["config", "check", "--config"])
        .arg(&again)
        .assert()
        .code(0);

    let out = zeroclaw(dir.path())
        .args(["config", "show", "--json", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gateway"]["auth_token"], "***");
    assert_eq!(v["gateway"]["port"], 3000);
    assert_eq!(v["cron"]["jobs"][0]["name"], "每日新闻推送");
}

#[test]
fn show_of_a_bad_file_exits_1_with_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[gateway]\nport = \"x\"\n").unwrap();
    let out = zeroclaw(dir.path())
        .args(["config", "show", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("[gateway] `port`"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn init_writes_a_valid_template_and_refuses_to_overwrite() {
    let home = tempfile::tempdir().unwrap();
    let out = zeroclaw(home.path())
        .args(["config", "init"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let path = home.path().join(".zeroclaw").join("config.toml");
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("# zeroclaw configuration"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The default path is now found by check.
    let out = zeroclaw(home.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("ok: {}", path.display()));
    assert!(
        stderr(&out).is_empty(),
        "template has no warnings: {}",
        stderr(&out)
    );

    std::fs::write(&path, "# mine\n").unwrap();
    let out = zeroclaw(home.path())
        .args(["config", "init"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");

    // --config picks the target, creating missing directories.
    let other = home.path().join("etc").join("zeroclaw").join("config.toml");
    zeroclaw(home.path())
        .args(["config", "init", "--config"])
        .arg(&other)
        .assert()
        .code(0);
    assert!(other.exists());
}
