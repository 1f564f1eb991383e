//! Rules beyond types: what a well-typed file can still get wrong.
//!
//! Each rule yields a [`Finding`] at a path; the loader turns the path into a
//! line. Errors stop the daemon from starting; warnings are things the seed
//! guide itself writes (so they must load) but that leave a feature unable to
//! work or unauthenticated — they are logged and shown by `config check`.

use super::document::Seg;
use super::schema::Config;
use super::types::Secret;
use super::unknown::closest;
use crate::channels::target::DeliverTarget;
use crate::component::ChannelKind;
use std::collections::{BTreeMap, HashSet};

mod cluster;
mod mcp;
mod network;
mod tools;

use network::{daemon, gateway};
use tools::{provider_known, provider_name_error, providers, tool_lists, tools};

/// The providers the agent implements.
pub const PROVIDERS: &[&str] = &["anthropic", "openai", "ollama", "openrouter", "echo"];

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One broken rule.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub path: Vec<Seg>,
    pub message: String,
}

struct Findings(Vec<Finding>);

impl Findings {
    fn error(&mut self, path: Vec<Seg>, message: impl Into<String>) {
        self.0.push(Finding {
            severity: Severity::Error,
            path,
            message: message.into(),
        });
    }
    fn warn(&mut self, path: Vec<Seg>, message: impl Into<String>) {
        self.0.push(Finding {
            severity: Severity::Warning,
            path,
            message: message.into(),
        });
    }
}

fn p(parts: &[&str]) -> Vec<Seg> {
    parts.iter().map(|k| Seg::Key((*k).to_string())).collect()
}

fn job_path(index: usize, key: &str) -> Vec<Seg> {
    vec![
        Seg::Key("cron".into()),
        Seg::Key("jobs".into()),
        Seg::Index(index),
        Seg::Key(key.into()),
    ]
}

fn is_set(secret: &Option<Secret>) -> bool {
    secret.as_ref().is_some_and(|s| !s.is_blank())
}

/// Check every rule; never stops at the first.
pub fn validate(config: &Config) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    providers(config, &mut f);
    tool_lists(config, &mut f);
    supervisor(config, &mut f);
    daemon(config, &mut f);
    gateway(config, &mut f);
    channels(config, &mut f);
    cron(config, &mut f);
    logging(config, &mut f);
    tools(config, &mut f);
    mcp::servers(config, &mut f);
    cluster::cluster(config, &mut f);
    f.0
}

fn supervisor(config: &Config, f: &mut Findings) {
    let s = &config.supervisor;
    if let Some(max) = s.restart_max_delay
        && max < s.restart_sec
    {
        f.error(
            p(&["supervisor", "restart_max_delay"]),
            format!(
                "restart_max_delay ({}) is shorter than restart_sec ({}); the delay only grows",
                humantime::format_duration(max),
                humantime::format_duration(s.restart_sec)
            ),
        );
    }
    if s.restart_steps > 0 && s.restart_max_delay.is_none() {
        f.error(
            p(&["supervisor", "restart_steps"]),
            "restart_steps needs restart_max_delay (the delay grows towards it, as in systemd)",
        );
    }
    for (child, o) in &s.children {
        let sec = o.restart_sec.unwrap_or(s.restart_sec);
        if let Some(max) = o.restart_max_delay.or(s.restart_max_delay)
            && max < sec
        {
            f.error(
                p(&["supervisor", "children", child, "restart_max_delay"]),
                "restart_max_delay is shorter than restart_sec; the delay only grows",
            );
        }
    }
}

fn channels(config: &Config, f: &mut Findings) {
    let missing_token = |name: &str| {
        format!(
            "[channel.{name}] is enabled but has no bot_token; set it (e.g. bot_token = \
             \"${{{}_BOT_TOKEN}}\") or set enabled = false",
            name.to_uppercase()
        )
    };
    if let Some(t) = config.channel.telegram.as_ref().filter(|t| t.enabled) {
        if !is_set(&t.bot_token) {
            f.error(
                p(&["channel", "telegram", "bot_token"]),
                missing_token("telegram"),
            );
        }
        if t.webhook_url.is_some() && !is_set(&t.webhook_secret) {
            f.warn(
                p(&["channel", "telegram", "webhook_url"]),
                "webhook_url without webhook_secret: the gateway cannot tell Telegram's updates \
                 from forged ones; set webhook_secret (1-256 characters A-Z a-z 0-9 _ -)",
            );
        }
        if let Some(secret) = t.webhook_secret.as_ref().filter(|s| !s.is_blank()) {
            let s = secret.expose();
            let valid = s.len() <= 256
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                f.error(
                    p(&["channel", "telegram", "webhook_secret"]),
                    "Telegram accepts only 1-256 characters A-Z a-z 0-9 _ - as a webhook secret",
                );
            }
        }
        if t.max_message_length == 0 || t.max_message_length > 4096 {
            f.error(
                p(&["channel", "telegram", "max_message_length"]),
                format!(
                    "max_message_length {} is outside 1..=4096 (Telegram's limit)",
                    t.max_message_length
                ),
            );
        }
    }
    if let Some(d) = config.channel.discord.as_ref().filter(|d| d.enabled)
        && !is_set(&d.bot_token)
    {
        f.error(
            p(&["channel", "discord", "bot_token"]),
            missing_token("discord"),
        );
    }
    if let Some(s) = config.channel.slack.as_ref().filter(|s| s.enabled) {
        if !is_set(&s.bot_token) {
            f.error(
                p(&["channel", "slack", "bot_token"]),
                missing_token("slack"),
            );
        }
        if !is_set(&s.app_token) && !is_set(&s.signing_secret) {
            f.warn(
                p(&["channel", "slack"]),
                "neither app_token (Socket Mode) nor signing_secret (Events API through the \
                 gateway) is set, so no message can arrive; set one of them",
            );
        }
    }
}

fn channel_enabled(config: &Config, kind: ChannelKind) -> bool {
    match kind {
        ChannelKind::Telegram => config.channel.telegram.as_ref().is_some_and(|c| c.enabled),
        ChannelKind::Discord => config.channel.discord.as_ref().is_some_and(|c| c.enabled),
        ChannelKind::Slack => config.channel.slack.as_ref().is_some_and(|c| c.enabled),
    }
}

/// The channel of a `deliver_to`, or why it is not a target.
#[cfg(test)]
fn check_deliver_to(target: &str) -> Result<&'static str, String> {
    DeliverTarget::parse(target)
        .map(|t| t.kind.as_str())
        .map_err(|e| e.to_string())
}

/// The longest `[cron] one_shot_grace`.
const MAX_ONE_SHOT_GRACE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

fn cron(config: &Config, f: &mut Findings) {
    let c = &config.cron;
    if c.max_concurrent == 0 {
        f.error(
            p(&["cron", "max_concurrent"]),
            "max_concurrent must be at least 1",
        );
    }
    if c.one_shot_grace > MAX_ONE_SHOT_GRACE {
        f.error(
            p(&["cron", "one_shot_grace"]),
            "one_shot_grace must be at most 7 days (a reminder that late is news to no one); \
             use \"0s\" to record every late one-shot missed",
        );
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut ids: BTreeMap<String, &str> = BTreeMap::new();
    for (i, job) in c.jobs.iter().enumerate() {
        let name = job.name.trim();
        let id = crate::cron::job_id(&job.name);
        match ids.get(&id) {
            Some(other) if *other != job.name => f.error(
                job_path(i, "name"),
                format!("its id {id} collides with job `{other}`; rename one of them"),
            ),
            Some(_) => {}
            None => {
                ids.insert(id, &job.name);
            }
        }
        if name.is_empty() {
            f.error(
                job_path(i, "name"),
                "job name is empty; give every job a unique name",
            );
        } else if job.name.chars().any(char::is_control) {
            f.error(job_path(i, "name"), "job name contains a control character");
        } else if !seen.insert(name) {
            f.error(
                job_path(i, "name"),
                format!(
                    "duplicate job name `{name}` (an earlier job has it too); names identify \
                     jobs in `zeroclaw cron` commands, so no two jobs may have the same name"
                ),
            );
        }
        if let Err(e) = crate::cron::schedule::validate(&job.schedule) {
            f.error(
                job_path(i, "schedule"),
                format!(
                    "invalid schedule `{}`: {e} (e.g. \"0 9 * * *\" = every day at 9:00, \
                     \"0 9 * * 1-5\" = weekdays, \"@daily\")",
                    job.schedule
                ),
            );
        }
        if job.message.trim().is_empty() {
            f.error(
                job_path(i, "message"),
                "message is empty: it is the prompt the job sends",
            );
        }
        if let Some(provider) = &job.provider
            && !provider_known(config, provider)
        {
            f.error(job_path(i, "provider"), provider_name_error(provider));
        }
        if let Some(tz) = &job.timezone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
            let hint = match closest(tz, names) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => String::new(),
            };
            f.error(
                job_path(i, "timezone"),
                format!("unknown time zone `{tz}`: use an IANA name such as \"Asia/Shanghai\" or \"UTC\"{hint}"),
            );
        }
        if let Some(target) = &job.deliver_to {
            match DeliverTarget::parse(target).map(|t| t.kind) {
                Err(e) => f.error(job_path(i, "deliver_to"), e.to_string()),
                Ok(kind) if !channel_enabled(config, kind) => f.warn(
                    job_path(i, "deliver_to"),
                    format!("delivers to {kind}, but [channel.{kind}] is not enabled; the answer will only be kept in the run history"),
                ),
                Ok(_) => {}
            }
        }
        if job.timeout.is_zero() {
            f.error(job_path(i, "timeout"), "timeout must be greater than zero");
        }
    }
}

const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

fn logging(config: &Config, f: &mut Findings) {
    let l = &config.logging;
    if let Some(level) = &l.level {
        let simple = !level.contains(['=', ',', '[', ':']);
        if simple && !LEVELS.contains(&level.trim().to_lowercase().as_str()) {
            // A lone word reads as a target name and would log nothing useful.
            let hint = match closest(level, LEVELS.iter().copied()) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => String::new(),
            };
            f.error(
                p(&["logging", "level"]),
                format!(
                    "unknown level `{level}` (one of: {}; or directives like \"zeroclaw=debug,hyper=warn\"){hint}",
                    LEVELS.join(", ")
                ),
            );
        } else if let Err(e) = crate::logging::filter::parse_targets(level) {
            f.error(
                p(&["logging", "level"]),
                format!(
                    "invalid level `{level}`: {e} (e.g. \"info\" or \"zeroclaw=debug,hyper=warn\")"
                ),
            );
        }
    }
    if l.rotate && l.max_size.as_u64() == 0 {
        f.error(
            p(&["logging", "max_size"]),
            "max_size must be greater than zero when rotate = true",
        );
    }
    if l.rotate && l.max_files == 0 {
        f.error(
            p(&["logging", "max_files"]),
            "max_files must be at least 1 when rotate = true",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::network::is_loopback;
    use super::*;

    #[test]
    fn deliver_to_forms() {
        assert_eq!(check_deliver_to("telegram:123456789"), Ok("telegram"));
        assert_eq!(check_deliver_to("telegram:-1001234"), Ok("telegram"));
        assert_eq!(check_deliver_to("telegram:@news_channel"), Ok("telegram"));
        assert_eq!(
            check_deliver_to("discord:112233445566778899"),
            Ok("discord")
        );
        assert_eq!(check_deliver_to("slack:C0123456789"), Ok("slack"));
        assert!(check_deliver_to("telegram").is_err());
        assert!(check_deliver_to("telegram:abc").is_err());
        assert!(check_deliver_to("email:me@example.com").is_err());
        assert!(check_deliver_to("slack:").is_err());
    }

    #[test]
    fn one_shot_grace_defaults_to_an_hour_and_is_bounded() {
        let parse = |text: &str| toml::from_str::<Config>(text).expect("parses");
        let grace = |c: &Config| c.cron.one_shot_grace.as_secs();
        assert_eq!(grace(&parse("")), 3600);
        let short = parse("[cron]\none_shot_grace = \"10m\"\n");
        assert_eq!(grace(&short), 600);
        assert!(validate(&short).is_empty(), "{:?}", validate(&short));
        let long = parse("[cron]\none_shot_grace = \"8d\"\n");
        let found = validate(&long);
        assert!(
            found
                .iter()
                .any(|f| f.path == p(&["cron", "one_shot_grace"]) && f.message.contains("7 days")),
            "{found:?}"
        );
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.0.1.1"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("0.0.0.0"));
        assert!(!is_loopback("192.168.1.100"));
        assert!(!is_loopback("example.com"));
    }
}
