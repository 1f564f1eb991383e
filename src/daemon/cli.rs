//! `zeroclaw daemon`, `gateway`, `status`, `restart`, `reload`, `stop`, `doctor`.

use super::background::{self, ReadyPipe};
use super::run::{self, RunOptions};
use super::tree::Mode;
use crate::cli::Global;
use crate::component::ChildName;
use crate::control::call::Call;
use crate::control::client::{self, ClientError};
use crate::control::locate::locate;
use crate::control::protocol::{ReloadReport, ShutdownReply, StatusReply, state_name};
use anyhow::Context;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use zeroclaw_actors::ExitKind;

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Working directory of the daemon and its tools (created if missing).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Log level or tracing directives; beats RUST_LOG and [logging] level.
    #[arg(long)]
    pub log_level: Option<String>,
    /// Log file; beats [logging] file.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Detach; returns once the daemon answers on its control socket.
    #[arg(long)]
    pub background: bool,
    /// Pid file, locked for the daemon's whole life.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct GatewayArgs {
    /// Interface to bind (beats [gateway] host).
    #[arg(long)]
    pub host: Option<String>,
    /// Port (beats [gateway] port); 0 = any free port. The bound URL is printed on stdout.
    #[arg(long)]
    pub port: Option<u16>,
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

fn options(global: &Global, args: &DaemonArgs) -> RunOptions {
    RunOptions {
        config: global.config.clone(),
        workdir: args.workdir.clone(),
        log_level: args.log_level.clone(),
        log_file: args.log_file.clone(),
        pid_file: args.pid_file.clone(),
        ..RunOptions::default()
    }
}

pub fn run_daemon(global: &Global, args: DaemonArgs) -> anyhow::Result<u8> {
    let opts = options(global, &args);
    start(opts, Mode::Full, args.background)
}

pub fn run_gateway(global: &Global, args: GatewayArgs) -> anyhow::Result<u8> {
    let mut opts = options(global, &args.daemon);
    opts.gateway_host = args.host;
    opts.gateway_port = args.port;
    opts.print_gateway_url = !args.daemon.background;
    let detaching = args.daemon.background && std::env::var_os(background::READY_FD_ENV).is_none();
    let code = start(opts, Mode::GatewayOnly, args.daemon.background)?;
    if detaching && code == 0 {
        // The detached child's stdout is not ours: ask it for the bound URL
        // (it answers on its control socket once it reported ready).
        let url = client::call_as::<StatusReply>(&socket(global)?, &Call::Status {})
            .ok()
            .and_then(|v| {
                v.children
                    .into_iter()
                    .find(|c| c.snapshot.name == ChildName::GATEWAY)?
                    .detail
            });
        match url {
            Some(url) => println!("{url}"),
            None => println!("gateway address unknown; see `zeroclaw status`"),
        }
    }
    Ok(code)
}

fn start(opts: RunOptions, mode: Mode, background_requested: bool) -> anyhow::Result<u8> {
    let is_child = std::env::var_os(background::READY_FD_ENV).is_some();
    if background_requested && !is_child {
        // Validate before detaching so the common mistakes show here at once.
        let loaded = crate::config::load(opts.config.as_deref())?;
        let output = opts.log_file.clone().or(loaded.config.logging.file.clone());
        let args: Vec<_> = std::env::args_os()
            .skip(1)
            .filter(|a| a != "--background")
            .collect();
        let pid = background::spawn(args, output.as_deref())?;
        println!("zeroclaw started in the background (pid {pid})");
        return Ok(0);
    }
    run::run(opts, mode, ReadyPipe::from_env())?;
    Ok(0)
}

/// The control socket of the config the user pointed at. Tolerates a
/// config with errors (the daemon may still run on the old one) and says
/// which errors on stderr.
fn socket(global: &Global) -> anyhow::Result<PathBuf> {
    let located = locate(global.config.as_deref());
    located.warn();
    Ok(located.socket)
}

pub fn status(global: &Global, json_out: bool) -> anyhow::Result<u8> {
    let located = locate(global.config.as_deref());
    located.warn();
    match client::call(&located.socket, &Call::Status {}) {
        Ok(mut v) => {
            if json_out {
                // What the file on disk says now, next to what the daemon runs.
                if let (Some(obj), Err(_)) = (v.as_object_mut(), &located.config) {
                    obj.insert("config_errors".into(), json!(located.errors()));
                }
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let reply: StatusReply = serde_json::from_value(v)
                    .context("malformed `status` reply from the daemon")?;
                print!("{}", render_status(&reply));
            }
            Ok(0)
        }
        Err(ClientError::NotRunning(p)) => {
            if json_out {
                println!("{}", json!({"running": false, "socket": p}));
            } else {
                eprintln!("zeroclaw is not running (no control socket at {p})");
            }
            Ok(3)
        }
        Err(e) => Err(e.into()),
    }
}

fn secs(v: Option<u64>) -> String {
    match v {
        Some(s) => humantime::format_duration(Duration::from_secs(s)).to_string(),
        None => "-".into(),
    }
}

/// The human form of `status`: a header and an aligned table of children.
pub fn render_status(v: &StatusReply) -> String {
    let mut out = format!(
        "zeroclaw {} running, pid {}, up {}\nconfig: {}\n\n",
        v.version,
        v.pid,
        secs(Some(v.uptime_secs)),
        v.config.as_deref().unwrap_or("(built-in defaults)")
    );
    if let Some(c) = &v.cluster {
        out.insert_str(out.len() - 1, &cluster_line(c));
    }
    let mut rows = vec![[
        "CHILD".to_string(),
        "STATE".into(),
        "RESTARTS".into(),
        "UPTIME".into(),
        "LAST EXIT".into(),
        "DETAIL".into(),
    ]];
    for c in &v.children {
        let s = &c.snapshot;
        let last = match &s.last_exit {
            Some(e) => format!("{}: {}", exit_name(e.kind), e.message),
            None => "-".into(),
        };
        let mut detail = c.detail.clone().unwrap_or_default();
        if let Some(ms) = s.next_restart_ms {
            detail = format!("restart in {:.1}s {detail}", ms as f64 / 1000.0);
        }
        rows.push([
            s.name.clone(),
            state_name(s.state).to_string(),
            s.restarts.to_string(),
            secs(s.uptime_secs),
            last,
            detail.trim().to_string(),
        ]);
    }
    out.push_str(&table(&rows));
    out
}

/// `cluster: leader (instance a, epoch 3, lease until ...)`, ending in a newline.
fn cluster_line(c: &crate::cluster::ClusterView) -> String {
    let role = match c.role {
        crate::cluster::Role::Leader => "leader",
        crate::cluster::Role::Follower => "follower",
    };
    let leader = c.leader.as_deref().unwrap_or("none");
    let until = c
        .lease_expires
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into());
    format!(
        "cluster: {role} (instance {}, leader {leader}, epoch {}, lease until {until})\n",
        c.instance, c.epoch
    )
}

/// An exit kind as the wire spells it (systemd's words).
fn exit_name(kind: ExitKind) -> &'static str {
    match kind {
        ExitKind::Success => "success",
        ExitKind::Failure => "failure",
        ExitKind::Abort => "abort",
        ExitKind::Timeout => "timeout",
    }
}

pub use crate::cli::table::table;

/// One request whose reply is printed (JSON or a sentence); NotRunning → exit 3.
fn simple(
    global: &Global,
    request: Call,
    json_out: bool,
    say: impl Fn(&Value) -> String,
) -> anyhow::Result<u8> {
    let path = socket(global)?;
    match client::call(&path, &request) {
        Ok(v) => {
            if json_out {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{}", say(&v));
            }
            Ok(0)
        }
        Err(ClientError::NotRunning(p)) => {
            eprintln!("zeroclaw is not running (no control socket at {p})");
            Ok(3)
        }
        Err(ClientError::Remote(e)) => {
            if json_out {
                println!("{}", json!({"ok": false, "error": e}));
            } else {
                eprintln!("error: {}", e.message);
            }
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn restart(global: &Global, child: &str, json_out: bool) -> anyhow::Result<u8> {
    let request = Call::Restart {
        child: child.to_string(),
    };
    simple(global, request, json_out, |_| format!("restarted {child}"))
}

pub fn reload(global: &Global, json_out: bool) -> anyhow::Result<u8> {
    simple(global, Call::Reload {}, json_out, |v| {
        let report: ReloadReport = serde_json::from_value(v.clone()).unwrap_or_default();
        let list = |names: &[String]| match names.join(", ") {
            joined if joined.is_empty() => "none".to_string(),
            joined => joined,
        };
        let mut s = format!(
            "config reloaded; restarted: {}; added: {}; removed: {}",
            list(&report.changed),
            list(&report.added),
            list(&report.removed)
        );
        let pending = list(&report.requires_restart);
        if pending != "none" {
            s.push_str(&format!(
                "\nnote: changes in [{pending}] take effect after a daemon restart"
            ));
        }
        s
    })
}

pub fn stop(global: &Global, json_out: bool) -> anyhow::Result<u8> {
    let path = socket(global)?;
    let reply = match client::call(&path, &Call::Shutdown {}) {
        Ok(v) => v,
        Err(ClientError::NotRunning(p)) => {
            eprintln!("zeroclaw is not running (no control socket at {p})");
            return Ok(3);
        }
        Err(e) => return Err(e.into()),
    };
    let reply: ShutdownReply =
        serde_json::from_value(reply).context("malformed `shutdown` reply from the daemon")?;
    let pid = i32::try_from(reply.pid).context("shutdown reply with an impossible pid")?;
    // Wait until the process is gone, not only the socket.
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = nix::unistd::Pid::from_raw(pid);
    while nix::sys::signal::kill(pid, None).is_ok() {
        if Instant::now() > deadline {
            anyhow::bail!("the daemon (pid {pid}) is still running 60s after the shutdown request");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if json_out {
        println!("{}", json!({"stopped": true, "pid": pid.as_raw()}));
    } else {
        println!("zeroclaw stopped (pid {pid})");
    }
    Ok(0)
}

pub fn doctor(global: &Global, json_out: bool) -> anyhow::Result<u8> {
    let checks = super::doctor::run(global.config.as_deref());
    let failed = checks.iter().any(|c| !c.ok);
    if json_out {
        println!("{}", json!({"ok": !failed, "checks": checks}));
    } else {
        for c in &checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            println!("[{mark}] {}: {}", c.name, c.detail);
            if let Some(fix) = &c.fix {
                println!("       fix: {fix}");
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
