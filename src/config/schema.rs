//! The typed config schema: every table docs/configuration.md describes.
//!
//! Each struct denies unknown keys and fills defaults, so a file written for
//! the seed guide parses as written and a typo is caught. Secrets are
//! [`Secret`]s so that `Debug` and `config show` never print them.

use super::types::{Seconds, Secret, exact_size, ids};
use bytesize::ByteSize;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use zeroclaw_actors::{OnGiveUp, Restart, RestartPolicy};

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub daemon: DaemonConfig,
    pub supervisor: SupervisorConfig,
    pub provider: ProviderConfig,
    pub providers: BTreeMap<String, ProviderEntry>,
    pub agent: AgentConfig,
    pub gateway: GatewayConfig,
    pub channel: ChannelsConfig,
    pub cron: CronConfig,
    pub logging: LoggingConfig,
    pub tools: ToolsConfig,
    pub mcp: super::schema_mcp::McpConfig,
    /// `None` = one instance on SQLite.
    pub cluster: Option<super::schema_cluster::ClusterConfig>,
}

/// `[daemon]`: where the process keeps its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// Working directory of the daemon and the tools it runs (created if missing).
    pub workdir: Option<PathBuf>,
    /// Control socket and databases; default `~/.zeroclaw/state`, mode 0700.
    pub state_dir: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    /// Default `<state_dir>/zeroclaw.sock`.
    pub control_socket: Option<PathBuf>,
    /// Control-socket clients served at once; more are answered `busy`.
    pub control_max_connections: usize,
    /// A control-socket client that sends no complete request (or does not
    /// read its reply) for this long is disconnected.
    #[serde(with = "humantime_serde")]
    pub control_idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            workdir: None,
            state_dir: None,
            pid_file: None,
            control_socket: None,
            control_max_connections: 64,
            control_idle_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// `[supervisor]`: the restart policy of every child, with per-child overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisorConfig {
    pub restart: Restart,
    #[serde(with = "humantime_serde")]
    pub restart_sec: Duration,
    pub restart_steps: u32,
    #[serde(with = "humantime_serde")]
    pub restart_max_delay: Option<Duration>,
    pub start_limit_burst: u32,
    #[serde(with = "humantime_serde")]
    pub start_limit_interval: Duration,
    pub on_give_up: OnGiveUp,
    /// `[supervisor.children.<child name>]`, e.g. `[supervisor.children."channel:telegram"]`.
    pub children: BTreeMap<String, RestartOverride>,
}

impl Default for SupervisorConfig {
    /// The kernel's defaults, so that a config without `[supervisor]` runs
    /// every child exactly as `RestartPolicy::default()` describes.
    fn default() -> Self {
        let kernel = RestartPolicy::default();
        Self {
            restart: kernel.restart,
            restart_sec: kernel.restart_sec,
            restart_steps: kernel.restart_steps,
            restart_max_delay: kernel.restart_max_delay,
            start_limit_burst: kernel.start_limit_burst,
            start_limit_interval: kernel.start_limit_interval,
            on_give_up: kernel.on_give_up,
            children: BTreeMap::new(),
        }
    }
}

/// Per-child override of `[supervisor]`; unset keys inherit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestartOverride {
    pub restart: Option<Restart>,
    #[serde(with = "humantime_serde")]
    pub restart_sec: Option<Duration>,
    pub restart_steps: Option<u32>,
    #[serde(with = "humantime_serde")]
    pub restart_max_delay: Option<Duration>,
    pub start_limit_burst: Option<u32>,
    #[serde(with = "humantime_serde")]
    pub start_limit_interval: Option<Duration>,
    pub on_give_up: Option<OnGiveUp>,
}

/// `[provider]`: the default LLM provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderConfig {
    /// `anthropic | openai | ollama | openrouter | echo`.
    pub name: String,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub base_url: Option<String>,
    /// Per-request timeout.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Retries on connect errors, 429 and 5xx.
    pub max_retries: u32,
    pub max_tokens: u32,
    /// First retry delay; doubles per retry (with jitter) up to `retry_max_delay`.
    #[serde(with = "humantime_serde")]
    pub retry_min_delay: Duration,
    /// Longest wait between retries; also caps a server's `retry-after`.
    #[serde(with = "humantime_serde")]
    pub retry_max_delay: Duration,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            name: "echo".into(),
            model: None,
            api_key: None,
            base_url: None,
            timeout: Duration::from_secs(120),
            max_retries: 3,
            max_tokens: 4096,
            retry_min_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(30),
        }
    }
}

/// `[providers.<name>]`: credentials and endpoint of a named provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderEntry {
    pub api_key: Option<Secret>,
    pub base_url: Option<String>,
    pub model: Option<String>,
}

/// `[agent]`: how conversations are run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    pub system_prompt: String,
    pub max_tool_iterations: u32,
    /// History kept per session, in turns and in characters.
    pub max_history_turns: usize,
    pub max_history_chars: usize,
    /// Sessions answered at once across the daemon.
    pub max_concurrent: usize,
    /// IANA zone of the date and time in the system prompt, and of the
    /// reminders a chat schedules; unset = the host's.
    pub timezone: Option<String>,
    /// Jobs not yet done one chat may have scheduled (the `schedule` tool).
    pub max_jobs_per_chat: usize,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            system_prompt: "You are ZeroClaw, a concise and helpful assistant running as a \
                            background daemon. Answer briefly. Use tools only when they help."
                .into(),
            max_tool_iterations: 8,
            max_history_turns: 20,
            max_history_chars: 32_000,
            max_concurrent: 8,
            timezone: None,
            max_jobs_per_chat: 20,
        }
    }
}

/// `[gateway]`: the HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    pub enabled: bool,
    pub host: String,
    /// `0` = any free port (the bound address is logged and shown by `status`).
    pub port: u16,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub auth_token: Option<Secret>,
    /// Allow a non-loopback `host` without `auth_token`.
    pub allow_insecure: bool,
    /// Requests per minute per client IP; `0` = unlimited.
    pub rate_limit: u32,
    pub max_connections: usize,
    /// Idle keep-alive timeout (seconds or humantime).
    pub connection_timeout: Seconds,
    pub read_timeout: Seconds,
    pub write_timeout: Seconds,
    #[serde(serialize_with = "exact_size")]
    pub max_body_size: ByteSize,
    /// Take the client IP from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Peers whose `X-Forwarded-For` / `X-Real-IP` are believed (IPs or CIDRs).
    pub trusted_proxies: Vec<String>,
    /// Let `POST /webhook` answer without `auth_token` (anyone who reaches the port).
    pub allow_unauthenticated: bool,
    /// Host names clients may use besides the bound address and `localhost`.
    pub public_hosts: Vec<String>,
    /// Connections one client IP may hold; unset = a quarter of
    /// `max_connections`, `0` = no per-client cap.
    pub max_connections_per_client: Option<usize>,
    /// Time for a request's headers to arrive (also the idle wait for the
    /// next request on a kept-alive connection); never more than `read_timeout`.
    pub header_timeout: Seconds,
    /// Body limit of routes that cannot authenticate before reading the body
    /// (`/webhook/slack`, and `/webhook` with `allow_unauthenticated`).
    #[serde(serialize_with = "exact_size")]
    pub max_unauthenticated_body_size: ByteSize,
    /// Serve the live status page at `/status` (signed in with `auth_token`).
    pub status_page: bool,
}

impl GatewayConfig {
    /// The per-client connection cap in force; `None` = no cap.
    pub fn per_client_connections(&self) -> Option<usize> {
        match self.max_connections_per_client {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some((self.max_connections / 4).max(1)),
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            host: "127.0.0.1".into(),
            port: 3000,
            tls_cert: None,
            tls_key: None,
            auth_token: None,
            allow_insecure: false,
            rate_limit: 0,
            max_connections: 1024,
            connection_timeout: Seconds::from_secs(30),
            read_timeout: Seconds::from_secs(60),
            write_timeout: Seconds::from_secs(60),
            max_body_size: ByteSize::mib(1),
            trust_forwarded_for: false,
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1".into()],
            allow_unauthenticated: false,
            public_hosts: Vec::new(),
            max_connections_per_client: None,
            header_timeout: Seconds::from_secs(10),
            max_unauthenticated_body_size: ByteSize::kib(64),
            status_page: true,
        }
    }
}

/// `[channel.*]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    pub telegram: Option<TelegramConfig>,
    pub discord: Option<DiscordConfig>,
    pub slack: Option<SlackConfig>,
}

/// `[channel.telegram]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub enabled: bool,
    pub bot_token: Option<Secret>,
    /// Telegram user ids allowed to talk to the bot; empty = nobody.
    #[serde(deserialize_with = "ids")]
    pub allowed_users: Vec<String>,
    /// Set = webhook mode (updates through the gateway's `/webhook/telegram`).
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<Secret>,
    pub max_message_length: usize,
    pub api_base: String,
    /// Tools the agent may use in this channel.
    pub tools: Vec<String>,
    /// How long one `getUpdates` long poll waits on the server; tests shorten it.
    #[serde(with = "humantime_serde")]
    pub poll_timeout: Duration,
    /// Minimum gap between two messages to one chat (Telegram allows about 1/s).
    #[serde(with = "humantime_serde")]
    pub send_interval: Duration,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bot_token: None,
            allowed_users: Vec::new(),
            webhook_url: None,
            webhook_secret: None,
            max_message_length: 4096,
            api_base: "https://api.telegram.org".into(),
            tools: Vec::new(),
            poll_timeout: Duration::from_secs(30),
            send_interval: Duration::from_secs(1),
        }
    }
}

/// `[channel.discord]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    pub enabled: bool,
    pub bot_token: Option<Secret>,
    #[serde(deserialize_with = "ids")]
    pub allowed_channels: Vec<String>,
    #[serde(deserialize_with = "ids")]
    pub allowed_guilds: Vec<String>,
    /// When set, only messages starting with it are answered (it is stripped).
    pub prefix: Option<String>,
    pub api_base: String,
    pub gateway_url: String,
    pub tools: Vec<String>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bot_token: None,
            allowed_channels: Vec::new(),
            allowed_guilds: Vec::new(),
            prefix: None,
            api_base: "https://discord.com/api/v10".into(),
            gateway_url: "wss://gateway.discord.gg".into(),
            tools: Vec::new(),
        }
    }
}

/// `[channel.slack]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    pub enabled: bool,
    pub bot_token: Option<Secret>,
    /// Socket Mode when set.
    pub app_token: Option<Secret>,
    /// Events API through the gateway's `/webhook/slack` when set.
    pub signing_secret: Option<Secret>,
    #[serde(deserialize_with = "ids")]
    pub allowed_channels: Vec<String>,
    pub api_base: String,
    pub tools: Vec<String>,
    /// Socket Mode: a connection silent this long is pinged, and dropped
    /// (the channel fails and is restarted) when silent that long again.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bot_token: None,
            app_token: None,
            signing_secret: None,
            allowed_channels: Vec::new(),
            api_base: "https://slack.com/api".into(),
            tools: Vec::new(),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// `[cron]` and its `[[cron.jobs]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CronConfig {
    /// Runs at once across all jobs.
    pub max_concurrent: usize,
    pub max_runs_per_job: usize,
    pub catch_up: CatchUp,
    /// Output stored per run is cut to this size.
    #[serde(serialize_with = "exact_size")]
    pub max_output: ByteSize,
    /// A one-shot job whose time passed while the daemon was down runs at
    /// start when it is at most this late, else it is recorded missed.
    #[serde(with = "humantime_serde")]
    pub one_shot_grace: Duration,
    pub jobs: Vec<CronJob>,
}

impl Default for CronConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 4,
            max_runs_per_job: 100,
            catch_up: CatchUp::Skip,
            max_output: ByteSize::kib(16),
            one_shot_grace: crate::cron::interval::ONE_SHOT_GRACE,
            jobs: Vec::new(),
        }
    }
}

/// What happens to fire times missed while the daemon was down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CatchUp {
    /// Record them as `missed`, run nothing.
    #[default]
    Skip,
    /// Record them as `missed` and run the job once at start-up.
    Once,
}

/// One `[[cron.jobs]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronJob {
    /// Any UTF-8; the job's stable id is derived from it.
    pub name: String,
    /// 5-field Unix cron, 6 fields with seconds, or `@daily` and friends.
    pub schedule: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub message: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub tools: Vec<String>,
    /// IANA zone; default the machine's local zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// `telegram:<chat id>`, `discord:<channel id>`, `slack:<channel id>`; unset = history and log only.
    #[serde(default)]
    pub deliver_to: Option<String>,
    #[serde(default = "five_minutes", with = "humantime_serde")]
    pub timeout: Duration,
}

fn yes() -> bool {
    true
}

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `debug | info | warn | error` or tracing directives (`zeroclaw=debug,hyper=warn`).
    pub level: Option<String>,
    pub file: Option<PathBuf>,
    #[serde(serialize_with = "exact_size")]
    pub max_size: ByteSize,
    pub max_files: u32,
    pub rotate: bool,
    pub format: LogFormat,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: None,
            file: None,
            max_size: ByteSize::mb(100),
            max_files: 5,
            rotate: true,
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[tools]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToolsConfig {
    pub shell: ShellToolConfig,
    pub web_fetch: super::schema_web::WebFetchToolConfig,
    pub web_search: super::schema_web::WebSearchToolConfig,
}

/// `[tools.shell]`: what the model may run, argv only, no shell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShellToolConfig {
    /// Program names the model may run.
    pub allowed_commands: Vec<String>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(serialize_with = "exact_size")]
    pub max_output: ByteSize,
    /// Run commands here (default: the daemon's workdir).
    pub workdir: Option<PathBuf>,
    /// Kernel confinement of each command (docs/security.md).
    pub sandbox: ShellSandbox,
}

/// `[tools.shell] sandbox`: how each command is confined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShellSandbox {
    /// Landlock: read-write in the workdir, read-only system directories.
    /// Where the kernel has no Landlock the tool refuses to run.
    #[default]
    Landlock,
    /// No Landlock (the operator's explicit choice); the other defences stay.
    Off,
}

impl Default for ShellToolConfig {
    fn default() -> Self {
        Self {
            // Read-only health checks; docs/security.md says why `ps`, `top`
            // and `hostname` are not here.
            allowed_commands: [
                "date", "uptime", "df", "free", "ls", "cat", "echo", "uname", "whoami", "nproc",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            timeout: Duration::from_secs(30),
            max_output: ByteSize::kib(64),
            workdir: None,
            sandbox: ShellSandbox::Landlock,
        }
    }
}
