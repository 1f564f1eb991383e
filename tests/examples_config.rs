//! Every config in `examples/` is valid and says what its comments promise.

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};
use zeroclaw::config::Config;

/// The environment variables the examples reference as "${VAR}".
const SECRETS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ZEROCLAW_GATEWAY_TOKEN",
    "TELEGRAM_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "ZEROCLAW_DATABASE_URL",
];

/// What a test sets `var` to: any text for a token, a URL of the right
/// scheme for the database (`config check` checks it; nothing connects).
fn test_value(var: &str) -> String {
    match var {
        "ZEROCLAW_DATABASE_URL" => "postgres://zeroclaw:test@127.0.0.1:5432/zeroclaw".to_string(),
        _ => format!("test-value-for-{var}-0123456789abcdef"),
    }
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    found.sort();
    let names: Vec<_> = found
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "quickstart.toml",
        "production.toml",
        "primary.toml",
        "standby.toml",
    ] {
        assert!(names.iter().any(|n| n == want), "examples/{want} missing");
    }
    found
}

fn load(name: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `"${VAR}"` references outside comment lines.
fn env_references(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| {
            l.match_indices("\"${").filter_map(|(at, _)| {
                let rest = &l[at + 3..];
                rest.find("}\"").map(|end| rest[..end].to_owned())
            })
        })
        .collect()
}

#[test]
fn every_example_matches_the_schema() {
    let mut referenced = std::collections::BTreeSet::new();
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = toml::from_str::<Config>(&text) {
            panic!("{}: {e}", path.display());
        }
        // Every secret the file references is one the tests (and the docs) know.
        for var in env_references(&text) {
            assert!(
                SECRETS.contains(&var.as_str()),
                "{} references ${{{var}}}, unknown to this test and to docs/operations.md",
                path.display()
            );
            referenced.insert(var);
        }
    }
    for var in SECRETS {
        assert!(
            referenced.contains(*var),
            "no example references ${{{var}}}"
        );
    }
}

#[test]
fn every_example_passes_config_check() {
    for path in examples() {
        let mut cmd = cargo_bin_cmd!("zeroclaw");
        cmd.env_remove("ZEROCLAW_CONFIG");
        for var in SECRETS {
            cmd.env(var, test_value(var));
        }
        let out = cmd
            .arg("--config")
            .arg(&path)
            .args(["config", "check"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "`zeroclaw --config {} config check` failed:\n{}{stderr}",
            path.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn quickstart_runs_without_accounts() {
    let c = load("quickstart.toml");
    assert_eq!(c.provider.name, "echo");
    assert!(c.provider.api_key.is_none());
    assert!(c.gateway.enabled);
    assert_eq!(
        (c.gateway.host.as_str(), c.gateway.port),
        ("127.0.0.1", 3000)
    );
    assert!(c.gateway.auth_token.is_some());
    assert!(c.supervisor.restart_sec <= std::time::Duration::from_secs(2));
    // The default state dir, so the CLI finds the daemon as a new user expects.
    assert!(c.daemon.state_dir.is_none());
    assert!(c.daemon.control_socket.is_none());
    let [job] = c.cron.jobs.as_slice() else {
        panic!("quickstart wants exactly one job");
    };
    assert_eq!(job.schedule, "* * * * *");
    assert!(job.enabled);
    assert!(job.deliver_to.is_none(), "the job's answer goes to the log");
    assert!(c.channel.telegram.is_none() && c.channel.discord.is_none());
    assert!(c.channel.slack.is_none());
}

#[test]
fn production_has_every_block_of_the_guide() {
    let c = load("production.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/production.toml"),
    )
    .unwrap();
    assert_eq!(c.provider.name, "anthropic");
    assert_eq!(
        c.provider.api_key.as_ref().and_then(|s| s.env_reference()),
        Some("ANTHROPIC_API_KEY")
    );
    let g = &c.gateway;
    assert_eq!(
        g.auth_token.as_ref().and_then(|s| s.env_reference()),
        Some("ZEROCLAW_GATEWAY_TOKEN")
    );
    assert_eq!(
        (g.host.as_str(), g.port, g.rate_limit),
        ("127.0.0.1", 3000, 100)
    );
    assert_eq!(g.max_connections, 100);
    assert_eq!(g.connection_timeout.0.as_secs(), 30);
    assert_eq!(g.read_timeout.0.as_secs(), 60);
    assert_eq!(g.write_timeout.0.as_secs(), 60);
    assert!(text.contains("# tls_cert = ") && text.contains("# tls_key = "));

    let tg = c.channel.telegram.as_ref().expect("[channel.telegram]");
    assert_eq!(
        tg.bot_token.as_ref().and_then(|s| s.env_reference()),
        Some("TELEGRAM_BOT_TOKEN")
    );
    assert_eq!(tg.allowed_users, ["123456789", "987654321"]);
    assert_eq!(tg.max_message_length, 4096);
    let dc = c.channel.discord.as_ref().expect("[channel.discord]");
    assert_eq!(dc.prefix.as_deref(), Some("!"));
    assert!(!dc.allowed_channels.is_empty() && !dc.allowed_guilds.is_empty());
    let sl = c.channel.slack.as_ref().expect("[channel.slack]");
    assert_eq!(sl.allowed_channels, ["C0123456789"]);
    for token in [&dc.bot_token, &sl.bot_token, &sl.app_token] {
        assert!(token.as_ref().and_then(|s| s.env_reference()).is_some());
    }

    let jobs: Vec<(&str, &str)> = c
        .cron
        .jobs
        .iter()
        .map(|j| (j.name.as_str(), j.schedule.as_str()))
        .collect();
    assert_eq!(
        jobs,
        [
            ("每日新闻推送", "0 9 * * *"),
            ("系统健康检查", "0 3 * * *"),
            ("备份提醒", "0 18 * * 5"),
        ]
    );
    assert_eq!(c.cron.jobs[1].tools, ["shell"]);

    let l = &c.logging;
    assert_eq!(l.level.as_deref(), Some("info"));
    assert_eq!(
        l.file.as_deref(),
        Some(Path::new("/var/log/zeroclaw/daemon.log"))
    );
    assert_eq!(l.max_size, bytesize::ByteSize::mb(100));
    assert_eq!((l.max_files, l.rotate), (5, true));
    // The directories the systemd unit and the OpenRC script create.
    assert_eq!(
        c.daemon.state_dir.as_deref(),
        Some(Path::new("/var/lib/zeroclaw"))
    );
}

#[test]
fn primary_and_standby_are_one_cluster_that_does_not_collide() {
    let p = load("primary.toml");
    let s = load("standby.toml");
    assert_eq!((p.gateway.port, s.gateway.port), (3001, 3002));
    assert_ne!(p.state_dir(), s.state_dir());
    assert_ne!(p.control_socket(), s.control_socket());
    assert_ne!(p.logging.file, s.logging.file);
    assert!(p.gateway.trust_forwarded_for && s.gateway.trust_forwarded_for);
    // One cluster: the same database, each its own instance name.
    let (pc, sc) = (p.cluster.as_ref().unwrap(), s.cluster.as_ref().unwrap());
    let url = |c: &zeroclaw::config::schema_cluster::ClusterConfig| {
        c.url.as_ref().map(|u| u.expose().to_string())
    };
    assert_eq!(url(pc), url(sc));
    assert_eq!(pc.lease_ttl, sc.lease_ttl);
    assert_eq!(
        (pc.instance.as_deref(), sc.instance.as_deref()),
        (Some("primary"), Some("standby"))
    );
    // Either can take over: the same bot and the same jobs on both (the
    // lease decides which one polls and runs them).
    let bot = |c: &Config| {
        let t = c.channel.telegram.as_ref().unwrap();
        (
            t.bot_token.as_ref().map(|b| b.expose().to_string()),
            t.allowed_users.clone(),
        )
    };
    assert_eq!(bot(&p), bot(&s));
    let jobs = |c: &Config| {
        c.cron
            .jobs
            .iter()
            .map(|j| (j.name.clone(), j.schedule.clone(), j.message.clone()))
            .collect::<Vec<_>>()
    };
    assert!(!jobs(&p).is_empty());
    assert_eq!(jobs(&p), jobs(&s));

    let nginx =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx.conf"))
            .unwrap();
    assert!(nginx.contains("upstream zeroclaw {"));
    assert!(nginx.contains("server 127.0.0.1:3001"));
    assert!(nginx.contains("server 127.0.0.1:3002"));
    assert!(nginx.contains("proxy_pass http://zeroclaw;"));
    assert!(nginx.contains("X-Forwarded-For"));
}
