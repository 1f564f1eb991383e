//! The commented starting config that `zeroclaw config init` writes.

/// The template with a fresh random gateway token filled in. It passes
/// `config check` as written: echo provider, gateway on loopback, channels
/// and jobs present but commented out.
pub fn template() -> String {
    let token = hex::encode(rand::random::<[u8; 32]>());
    TEMPLATE.replace("@AUTH_TOKEN@", &token)
}

const TEMPLATE: &str = r#"# zeroclaw configuration. Every key is described in docs/configuration.md;
# `zeroclaw config check` validates this file, `zeroclaw config show` prints
# the effective values. Secrets may be written "${ENV_VAR}" and are then read
# from the environment when the daemon starts.

[daemon]
# workdir = "/opt/zeroclaw/workspace"
# state_dir = "~/.zeroclaw/state"        # control socket and databases
shutdown_timeout = "10s"

[supervisor]
# Like systemd's Restart=: no | on-success | on-failure | on-abnormal | on-abort | always
restart = "on-failure"
restart_sec = "10s"
start_limit_burst = 5
start_limit_interval = "10s"
on_give_up = "stay-failed"               # or "exit" to let the init system restart zeroclaw

[provider]
# anthropic | openai | ollama | openrouter | echo (echo answers with your own message)
name = "echo"
# model = "claude-sonnet-4-5-20250929"
# api_key = "${ANTHROPIC_API_KEY}"

[gateway]
enabled = true
host = "127.0.0.1"                       # loopback only; use a reverse proxy for remote access
port = 3000
auth_token = "@AUTH_TOKEN@"
rate_limit = 100                         # requests per minute per client, 0 = unlimited
max_connections = 100
connection_timeout = 30
read_timeout = 60
write_timeout = 60
# tls_cert = "/etc/ssl/certs/zeroclaw.crt"
# tls_key = "/etc/ssl/private/zeroclaw.key"

# [channel.telegram]
# enabled = true
# bot_token = "${TELEGRAM_BOT_TOKEN}"
# allowed_users = ["123456789"]

# [channel.discord]
# enabled = true
# bot_token = "${DISCORD_BOT_TOKEN}"
# allowed_channels = ["channel_id"]

# [channel.slack]
# enabled = true
# bot_token = "${SLACK_BOT_TOKEN}"
# app_token = "${SLACK_APP_TOKEN}"       # Socket Mode

# [[cron.jobs]]
# name = "daily-news"
# schedule = "0 9 * * *"                 # every day at 9:00
# message = "Summarise today's technology news"
# timezone = "Asia/Shanghai"
# deliver_to = "telegram:123456789"

[logging]
level = "info"
# file = "/var/log/zeroclaw/daemon.log"
max_size = "100MB"
max_files = 5
rotate = true
format = "text"

[tools.shell]
allowed_commands = ["date", "uptime", "df", "free", "ls", "cat", "echo", "uname", "whoami", "nproc"]
timeout = "30s"
sandbox = "landlock"                     # "off" only where the kernel has no Landlock
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn template_is_valid_and_unique() {
        let a = super::template();
        let b = super::template();
        assert_ne!(a, b, "each init gets its own token");
        let report = crate::config::check_str_with_env(&a, Default::default());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }
}
