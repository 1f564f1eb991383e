//! Config loading: the seed guide's blocks, and every class of bad input.

use std::collections::HashMap;
use std::time::Duration;
use zeroclaw::config::{Config, Diagnostic, Report, check_str_with_env, parse_str};

const SEED: &str = include_str!("fixtures/config/seed.toml");

fn check(text: &str) -> Report {
    check_str_with_env(text, HashMap::new())
}

fn check_env(text: &str, vars: &[(&str, &str)]) -> Report {
    let vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    check_str_with_env(text, vars)
}

fn ok(text: &str) -> Config {
    let report = check(text);
    assert!(
        report.errors.is_empty(),
        "unexpected errors: {:#?}",
        report.errors
    );
    report.config.expect("config when there are no errors")
}

fn errors(text: &str) -> Vec<Diagnostic> {
    let report = check(text);
    assert!(report.config.is_none(), "errors must withhold the config");
    assert!(!report.errors.is_empty(), "expected errors for:\n{text}");
    report.errors
}

/// The one error of `text`.
fn only_error(text: &str) -> Diagnostic {
    let mut list = errors(text);
    assert_eq!(list.len(), 1, "expected one error, got {list:#?}");
    list.remove(0)
}

#[test]
fn seed_guide_parses_with_its_values() {
    let report = check(SEED);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let c = report.config.unwrap();

    let g = &c.gateway;
    assert!(g.enabled);
    assert_eq!(g.host, "127.0.0.1");
    assert_eq!(g.port, 3000);
    assert_eq!(
        g.auth_token.as_ref().map(|s| s.expose()),
        Some("your-secret-token")
    );
    assert_eq!(g.rate_limit, 100);
    assert_eq!(g.max_connections, 100);
    assert_eq!(g.connection_timeout.0, Duration::from_secs(30));
    assert_eq!(g.read_timeout.0, Duration::from_secs(60));
    assert_eq!(g.write_timeout.0, Duration::from_secs(60));
    assert!(g.tls_cert.is_none() && g.tls_key.is_none());

    let t = c.channel.telegram.as_ref().unwrap();
    assert!(t.enabled);
    assert_eq!(
        t.bot_token.as_ref().unwrap().expose(),
        "BOT_TOKEN_FROM_BOTFATHER"
    );
    assert_eq!(t.allowed_users, ["123456789", "987654321"]);
    assert_eq!(
        t.webhook_url.as_deref(),
        Some("https://your-domain.com/webhook/telegram")
    );
    assert_eq!(t.max_message_length, 4096);
    assert_eq!(t.api_base, "https://api.telegram.org");

    let d = c.channel.discord.as_ref().unwrap();
    assert_eq!(d.bot_token.as_ref().unwrap().expose(), "DISCORD_BOT_TOKEN");
    assert_eq!(d.allowed_channels, ["channel_id_1", "channel_id_2"]);
    assert_eq!(d.allowed_guilds, ["guild_id_1"]);
    assert_eq!(d.prefix.as_deref(), Some("!"));

    let s = c.channel.slack.as_ref().unwrap();
    assert_eq!(
        s.bot_token.as_ref().unwrap().expose(),
        "xoxb-YOUR-BOT-TOKEN"
    );
    assert_eq!(s.allowed_channels, ["C0123456789"]);

    let jobs = &c.cron.jobs;
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs[0].name, "每日新闻推送");
    assert_eq!(jobs[0].schedule, "0 9 * * *");
    assert!(jobs[0].enabled);
    assert_eq!(jobs[0].message, "获取今日技术新闻并推送给用户");
    assert_eq!(jobs[0].provider.as_deref(), Some("anthropic"));
    assert_eq!(jobs[0].model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(jobs[1].name, "系统健康检查");
    assert_eq!(jobs[1].schedule, "0 3 * * *");
    assert_eq!(jobs[1].tools, ["shell"]);
    assert_eq!(jobs[2].name, "备份提醒");
    assert_eq!(jobs[2].schedule, "0 18 * * 5");
    assert_eq!(jobs[2].timeout, Duration::from_secs(300));

    let l = &c.logging;
    assert_eq!(l.level.as_deref(), Some("info"));
    assert_eq!(
        l.file.as_deref(),
        Some(std::path::Path::new("/var/log/zeroclaw/daemon.log"))
    );
    assert_eq!(l.max_size.as_u64(), 100_000_000);
    assert_eq!(l.max_files, 5);
    assert!(l.rotate);

    // What the guide leaves out is warned about, not refused.
    let warnings: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(warnings[0].contains("[channel.telegram] `webhook_url`"));
    assert!(warnings[0].contains("webhook_secret"));
    assert!(warnings[1].contains("[channel.slack]"));
    assert!(warnings[1].contains("app_token"));
}

#[test]
fn empty_file_is_the_builtin_defaults() {
    assert_eq!(ok(""), Config::default());
    let c = Config::default();
    assert_eq!(
        (c.gateway.host.as_str(), c.gateway.port),
        ("127.0.0.1", 3000)
    );
    assert_eq!(c.provider.name, "echo");
    assert!(c.cron.jobs.is_empty());
}

#[test]
fn unknown_key_names_key_table_line_and_suggestion() {
    let e = only_error("[gateway]\nhost = \"127.0.0.1\"\nprot = 3000\n");
    assert_eq!(e.line, Some(3));
    assert_eq!(e.key.as_deref(), Some("prot"));
    assert_eq!(e.table.as_deref(), Some("[gateway]"));
    assert!(e.message.contains("did you mean `port`?"), "{e}");
    assert_eq!(
        e.to_string(),
        "line 3:1: [gateway] `prot`: unknown key; did you mean `port`?"
    );
}

#[test]
fn unknown_table_and_misplaced_key() {
    let list = errors("[channels.telegram]\nenabled = true\n\n[gateway]\nbot_token = \"x\"\n");
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(list[0].line, Some(1));
    assert_eq!(list[0].key.as_deref(), Some("channels"));
    assert!(list[0].message.contains("did you mean `channel`?"));
    assert_eq!(list[1].line, Some(5));
    assert!(
        list[1].message.contains("belongs in [channel.telegram]"),
        "{}",
        list[1]
    );
}

#[test]
fn unknown_key_inside_cron_job_and_provider_map() {
    let text = "[providers.openai]\napi_kye = \"k\"\n\n[[cron.jobs]]\nname = \"a\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\nshedule = \"x\"\n";
    let list = errors(text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(list[0].table.as_deref(), Some("[providers.openai]"));
    assert!(list[0].message.contains("`api_key`"));
    assert_eq!(list[1].line, Some(8));
    assert_eq!(list[1].table.as_deref(), Some("[[cron.jobs]] #1"));
    assert!(list[1].message.contains("did you mean `schedule`?"));
}

#[test]
fn type_errors_name_key_table_line_and_expected_type() {
    let e = only_error("[gateway]\nport = \"3000\"\n");
    assert_eq!(e.line, Some(2));
    assert_eq!(e.key.as_deref(), Some("port"));
    assert_eq!(e.table.as_deref(), Some("[gateway]"));
    assert!(
        e.message.contains("expected an integer from 0 to 65535"),
        "{e}"
    );

    let e = only_error("[gateway]\nport = 70000\n");
    assert!(e.message.contains("70000"), "{e}");

    let e = only_error("[logging]\nrotate = \"yes\"\n");
    assert!(e.message.contains("expected true or false"), "{e}");

    let e = only_error("[gateway]\nread_timeout = \"soon\"\n");
    assert!(e.message.contains("invalid duration `soon`"), "{e}");

    let e = only_error("[logging]\nmax_size = \"lots\"\n");
    assert_eq!(e.key.as_deref(), Some("max_size"));

    let e = only_error("[supervisor]\nrestart = \"on-fail\"\n");
    assert!(e.message.contains("on-failure"), "{e}");
}

#[test]
fn every_error_of_a_file_is_reported_together() {
    let text = r#"
[gateway]
prot = 3000
port = "x"
read_timeout = "forever"

[logging]
level = "loud"

[[cron.jobs]]
name = "a"
schedule = ""
message = "m"

[[cron.jobs]]
name = "a"
schedule = "0 9 * * *"
message = "m"
timezone = "Mars/Base"
"#;
    let list = errors(text);
    let lines: Vec<Option<usize>> = list.iter().map(|d| d.line).collect();
    assert_eq!(
        lines,
        [
            Some(3),
            Some(4),
            Some(5),
            Some(8),
            Some(12),
            Some(16),
            Some(19)
        ],
        "{list:#?}"
    );
    let err = parse_str(text, "test.toml").unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("test.toml: 7 errors\n"), "{shown}");
    assert!(shown.contains("line 16:1: [[cron.jobs]] #2 (`a`) `name`: duplicate job name `a`"));
    assert!(shown.contains("unknown level `loud`"));
}

#[test]
fn durations_and_sizes() {
    let c = ok(r#"
[supervisor]
restart_sec = "250ms"
restart_steps = 4
restart_max_delay = "2m"

[gateway]
connection_timeout = "1m 30s"
max_body_size = "10KiB"

[logging]
max_size = "100MB"

[[cron.jobs]]
name = "x"
schedule = "@daily"
message = "m"
timeout = "90s"
"#);
    assert_eq!(c.supervisor.restart_sec, Duration::from_millis(250));
    assert_eq!(
        c.supervisor.restart_max_delay,
        Some(Duration::from_secs(120))
    );
    assert_eq!(c.gateway.connection_timeout.0, Duration::from_secs(90));
    assert_eq!(c.gateway.max_body_size.as_u64(), 10 * 1024);
    assert_eq!(c.logging.max_size.as_u64(), 100_000_000);
    assert_eq!(c.cron.jobs[0].timeout, Duration::from_secs(90));
}

#[test]
fn secrets_come_from_the_environment() {
    let text = "[gateway]\nauth_token = \"${ZC_TEST_TOKEN}\"\n";
    let report = check_env(text, &[("ZC_TEST_TOKEN", "s3cret")]);
    let c = report.config.expect("env var set");
    assert_eq!(c.gateway.auth_token.unwrap().expose(), "s3cret");

    let e = only_error(text);
    assert_eq!(e.line, Some(2));
    assert_eq!(e.key.as_deref(), Some("auth_token"));
    assert!(e.message.contains("`ZC_TEST_TOKEN` is not set"), "{e}");

    let report = check_env(text, &[("ZC_TEST_TOKEN", "")]);
    assert!(report.errors[0].message.contains("set but empty"));

    // Only a whole `${NAME}` is a reference; anything else is literal.
    let c = ok("[gateway]\nauth_token = \"a${B}c\"\n");
    assert_eq!(c.gateway.auth_token.unwrap().expose(), "a${B}c");
    // Not in non-secret fields.
    let c = ok("[logging]\nfile = \"${HOME}/x.log\"\n");
    assert_eq!(c.logging.file.unwrap().to_str(), Some("${HOME}/x.log"));
}

#[test]
fn several_missing_variables_are_all_named() {
    let text =
        "[channel.telegram]\nbot_token = \"${TG}\"\n\n[channel.discord]\nbot_token = \"${DC}\"\n";
    let list = errors(text);
    // Each missing variable once; the rule "enabled channel without bot_token"
    // does not repeat it.
    assert_eq!(list.len(), 2, "{list:#?}");
    let text_all: Vec<String> = list.iter().map(|d| d.to_string()).collect();
    assert!(
        text_all
            .iter()
            .any(|t| t.contains("`TG`") && t.contains("[channel.telegram]"))
    );
    assert!(
        text_all
            .iter()
            .any(|t| t.contains("`DC`") && t.contains("[channel.discord]"))
    );
}

#[test]
fn bad_cron_expression() {
    let e = only_error("[[cron.jobs]]\nname = \"x\"\nschedule = \"\"\nmessage = \"m\"\n");
    assert_eq!(e.line, Some(3));
    assert_eq!(e.key.as_deref(), Some("schedule"));
    assert_eq!(e.table.as_deref(), Some("[[cron.jobs]] #1"));
    assert!(e.message.starts_with("invalid schedule ``"), "{e}");
}

#[test]
fn duplicate_and_empty_job_names() {
    let text = "[[cron.jobs]]\nname = \"每日新闻推送\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\n\n[[cron.jobs]]\nname = \"每日新闻推送\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\n\n[[cron.jobs]]\nname = \" \"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\n";
    let list = errors(text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(list[0].line, Some(7));
    assert!(
        list[0]
            .message
            .contains("duplicate job name `每日新闻推送` (an earlier job has it too)")
    );
    assert_eq!(list[1].line, Some(12));
    assert!(list[1].message.contains("job name is empty"));
}

#[test]
fn missing_required_key_skips_the_job_but_keeps_checking() {
    let text = "[[cron.jobs]]\nname = \"a\"\nschedule = \"0 9 * * *\"\n\n[[cron.jobs]]\nname = \"b\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\ntimezone = \"Nowhere/Land\"\n";
    let list = errors(text);
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(list[0].table.as_deref(), Some("[[cron.jobs]] #1"));
    assert!(
        list[0]
            .message
            .contains("required key `message` is missing")
    );
    // The second job keeps its own number and line.
    assert_eq!(list[1].line, Some(9));
    assert_eq!(list[1].table.as_deref(), Some("[[cron.jobs]] #2"));
}

#[test]
fn insecure_host() {
    let e = only_error("[gateway]\nhost = \"0.0.0.0\"\n");
    assert_eq!(e.line, Some(2));
    assert_eq!(e.key.as_deref(), Some("host"));
    assert!(e.message.contains("no auth_token"), "{e}");
    assert!(e.message.contains("allow_insecure = true"), "{e}");
    ok("[gateway]\nhost = \"0.0.0.0\"\nallow_insecure = true\n");
    ok("[gateway]\nhost = \"0.0.0.0\"\nauth_token = \"t\"\n");
    ok("[gateway]\nhost = \"::1\"\n");
    ok("[gateway]\nhost = \"localhost\"\nport = 0\n");
    let e = only_error("[gateway]\nhost = \"0.0.0.0\"\nauth_token = \"\"\n");
    assert!(e.message.contains("no auth_token"));
    let e = only_error("[gateway]\nhost = \"not a host\"\n");
    assert!(e.message.contains("not an IP address or host name"));
}

#[test]
fn bad_timezone_with_suggestion() {
    let e = only_error(
        "[[cron.jobs]]\nname = \"x\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\ntimezone = \"Asia/Shanghia\"\n",
    );
    assert_eq!(e.line, Some(5));
    assert_eq!(e.key.as_deref(), Some("timezone"));
    assert!(e.message.contains("did you mean `Asia/Shanghai`?"), "{e}");
    ok(
        "[[cron.jobs]]\nname = \"x\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\ntimezone = \"Asia/Shanghai\"\n",
    );
}

#[test]
fn other_rules() {
    let job = |extra: &str| {
        format!("[[cron.jobs]]\nname = \"x\"\nschedule = \"0 9 * * *\"\nmessage = \"m\"\n{extra}\n")
    };
    let e = only_error(&job("deliver_to = \"telegram\""));
    assert!(e.message.contains("has no channel"), "{e}");
    let e = only_error(&job("deliver_to = \"sms:123\""));
    assert!(e.message.contains("unknown channel `sms`"), "{e}");
    let e = only_error(&job("provider = \"antropic\""));
    assert!(e.message.contains("did you mean `anthropic`?"), "{e}");
    // A target on a channel that is not enabled is only a warning.
    let report = check(&job("deliver_to = \"telegram:123\""));
    assert!(report.errors.is_empty());
    assert!(report.warnings[0].message.contains("not enabled"));

    let e = only_error("[provider]\nname = \"gpt\"\n");
    assert!(e.message.contains("unknown provider `gpt`"), "{e}");
    let e = only_error("[providers.claude]\napi_key = \"k\"\n");
    assert_eq!(e.table.as_deref(), Some("[providers.claude]"));

    let e = only_error("[gateway]\ntls_cert = \"/c.pem\"\n");
    assert!(e.message.contains("without tls_key"), "{e}");
    ok("[gateway]\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n");

    let e = only_error("[logging]\nlevel = \"verbose\"\n");
    assert!(e.message.contains("unknown level"), "{e}");
    ok("[logging]\nlevel = \"zeroclaw=debug,hyper=warn\"\n");
    let e = only_error("[logging]\nlevel = \"zeroclaw=loud\"\n");
    assert!(e.message.contains("invalid level"), "{e}");

    let e = only_error("[channel.telegram]\nenabled = true\n");
    assert!(e.message.contains("no bot_token"), "{e}");
    ok("[channel.telegram]\nenabled = false\n");
    let e = only_error("[channel.discord]\nbot_token = \"\"\n");
    assert!(e.message.contains("no bot_token"), "{e}");

    let e = only_error("[supervisor]\nrestart_steps = 3\n");
    assert!(e.message.contains("needs restart_max_delay"), "{e}");
}

#[test]
fn ids_may_be_numbers() {
    let c =
        ok("[channel.telegram]\nbot_token = \"t\"\nallowed_users = [123456789, \"987654321\"]\n");
    assert_eq!(
        c.channel.telegram.unwrap().allowed_users,
        ["123456789", "987654321"]
    );
}

#[test]
fn syntax_errors_are_listed_with_lines() {
    let list = errors("[gateway]\nport = 3000\n\n[gateway]\nhost = \"x\"\n");
    assert_eq!(list[0].line, Some(4), "{list:#?}");
    assert!(
        list[0].message.contains("merge repeated blocks"),
        "{}",
        list[0]
    );

    let list = errors("[gateway\nport = = 1\n");
    assert!(!list.is_empty());
    assert!(list[0].message.starts_with("TOML syntax"));
}

#[test]
fn show_output_reads_back_as_the_same_config() {
    let c = ok(SEED);
    let shown = toml::to_string_pretty(&c).unwrap();
    let back = ok(&shown);
    let mut expected = c.clone();
    // Secrets are printed as "***"; everything else must survive.
    let star = || Some(zeroclaw::config::Secret::new("***"));
    expected.gateway.auth_token = star();
    for t in expected.channel.telegram.iter_mut() {
        t.bot_token = star();
    }
    for d in expected.channel.discord.iter_mut() {
        d.bot_token = star();
    }
    for s in expected.channel.slack.iter_mut() {
        s.bot_token = star();
    }
    assert_eq!(back, expected);
    assert!(!shown.contains("your-secret-token"));
    assert!(!shown.contains("BOT_TOKEN_FROM_BOTFATHER"));
}

#[test]
fn damaged_files_never_panic_and_always_explain() {
    // Every way of cutting one character out of, or slipping a stray one
    // into, the seed file: a report (or a config), never a panic.
    let bounds: Vec<usize> = SEED.char_indices().map(|(i, _)| i).step_by(4).collect();
    for &i in &bounds {
        let next = SEED[i..].chars().next().map_or(0, char::len_utf8);
        let cut = format!("{}{}", &SEED[..i], &SEED[i + next..]);
        let report = check(&cut);
        assert!(report.config.is_some() || !report.errors.is_empty());
        for stray in ["\"", "=", "[", "1"] {
            let text = format!("{}{stray}{}", &SEED[..i], &SEED[i..]);
            let report = check(&text);
            assert!(report.config.is_some() || !report.errors.is_empty());
            for e in &report.errors {
                assert!(!e.message.is_empty());
            }
        }
    }
}

#[test]
fn a_flood_of_errors_is_capped_with_a_note() {
    let text: String = (0..150)
        .map(|i| format!("[providers.p{i}]\nmodel = {i}\n"))
        .collect();
    let list = errors(&text);
    let last = list
        .iter()
        .find(|d| d.line.is_none())
        .expect("a closing note");
    assert!(last.message.contains("stopped after 100 errors"), "{last}");
}

/// Each ```toml block of the seed guide, verbatim, separated by `%%%%` lines.
const SEED_BLOCKS: &str = include_str!("fixtures/config/seed_blocks.txt");

#[test]
fn each_seed_block_alone_is_accepted_as_written() {
    let blocks: Vec<&str> = SEED_BLOCKS.split("%%%%\n").collect();
    assert_eq!(blocks.len(), 9);
    for (i, block) in blocks.iter().enumerate() {
        let report = check(block);
        if block.contains("openssl rand -hex 32") {
            // The guide's 认证令牌 block puts a shell command inside the TOML;
            // that line alone is refused, by line, saying what it is.
            let line = block
                .lines()
                .position(|l| l.starts_with("openssl"))
                .unwrap()
                + 1;
            assert!(
                report.errors.iter().all(|e| e.line == Some(line)),
                "{:#?}",
                report.errors
            );
            assert!(report.errors[0].message.starts_with("TOML syntax"));
            assert!(
                report.errors[0]
                    .message
                    .contains("`openssl rand -hex 32`: if it is a note, start it with `#`"),
                "{}",
                report.errors[0]
            );
            let fixed = block.replace("openssl rand -hex 32", "# openssl rand -hex 32");
            let c = ok(&fixed);
            assert_eq!(c.gateway.auth_token.unwrap().expose(), "使用强随机令牌");
            continue;
        }
        assert!(
            report.errors.is_empty(),
            "block {i}:\n{block}\n{:#?}",
            report.errors
        );
    }
}

#[test]
fn custom_openai_compatible_provider_needs_a_base_url() {
    let ok = "[providers.vllm]\nbase_url = \"http://127.0.0.1:8000\"\n\
              [[cron.jobs]]\nname = \"j\"\nschedule = \"@daily\"\nmessage = \"m\"\nprovider = \"vllm\"\n";
    zeroclaw::config::parse_str(ok, "t").expect("custom provider with base_url");
    let bad = "[providers.vllm]\nmodel = \"m\"\n";
    let err = zeroclaw::config::parse_str(bad, "t")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown provider `vllm`") && err.contains("base_url"),
        "{err}"
    );
}
