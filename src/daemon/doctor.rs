//! `zeroclaw doctor`: every check an operator would do by hand before
//! asking why the daemon does not start or answer.

use crate::config::{self, Config};
use crate::control::call::Call;
use crate::control::client::{self, ClientError};
use crate::control::protocol::{StatusReply, state_name};
use serde::Serialize;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;
use zeroclaw_actors::ChildState;

/// One line of the report.
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
}

fn pass(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: true,
        detail: crate::secrets::redact_string(detail.into()),
        fix: None,
    }
}

fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: false,
        detail: crate::secrets::redact_string(detail.into()),
        fix: Some(fix.into()),
    }
}

/// Run every check; never stops at the first failure.
pub fn run(config_path: Option<&Path>) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut config = match config::load(config_path) {
        Ok(loaded) => {
            let shown = loaded
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "built-in defaults (no config file)".into());
            checks.push(pass("config", format!("valid: {shown}")));
            loaded.config
        }
        Err(e) => {
            checks.push(fail(
                "config",
                e.to_string(),
                "fix the listed errors (`zeroclaw config check` lists them all)",
            ));
            return checks;
        }
    };
    if let Ok(cwd) = std::env::current_dir() {
        super::run::absolutize_paths(&mut config, &cwd);
    }
    checks.push(state_dir(&config));
    checks.push(shell_sandbox(&config));
    if let Some(c) = log_file(&config) {
        checks.push(c);
    }
    let running = control(&config, &mut checks);
    if config.gateway.enabled {
        checks.push(gateway_port(&config, running));
    }
    checks.extend(channel_credentials(&config));
    checks.extend(tools(&config));
    checks.extend(mcp_servers(&config));
    checks.extend(
        crate::cluster::doctor::checks(&config)
            .into_iter()
            .map(|f| match f.result {
                Ok(detail) => pass(f.name, detail),
                Err((detail, fix)) => fail(f.name, detail, fix),
            }),
    );
    checks
}

/// Each MCP server starts and lists its tools (`mcp <name>`).
fn mcp_servers(config: &Config) -> Vec<Check> {
    if config.mcp.servers.is_empty() {
        return Vec::new();
    }
    let workdir = config
        .daemon
        .workdir
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    runtime
        .block_on(crate::mcp::doctor::run(config, &workdir))
        .into_iter()
        .map(|(server, result)| {
            let name = format!("mcp {server}");
            match result {
                Ok(detail) => pass(&name, detail),
                Err(e) => fail(
                    &name,
                    e,
                    format!(
                        "fix [mcp.servers.{server}]; run its command by hand to see what it prints"
                    ),
                ),
            }
        })
        .collect()
}

/// Whether each tool a job or channel offers can run (`tool <name>`).
fn tools(config: &Config) -> Vec<Check> {
    let workdir = config
        .daemon
        .workdir
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        return Vec::new();
    };
    runtime
        .block_on(crate::agent::tools::doctor::run(config, &workdir))
        .into_iter()
        .map(|c| {
            let name = format!("tool {}", c.tool);
            match c.fix {
                None => pass(&name, c.detail),
                Some(fix) => fail(&name, c.detail, fix),
            }
        })
        .collect()
}

/// One authenticated probe per configured channel (the same as `channel doctor`).
fn channel_credentials(config: &Config) -> Vec<Check> {
    if crate::channels::configured(config).is_empty() {
        return Vec::new();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return vec![fail(
                "channels",
                e.to_string(),
                "retry; the system is short of resources",
            )];
        }
    };
    runtime
        .block_on(crate::channels::doctor::run(config))
        .into_iter()
        .map(|c| {
            let name = format!("{} {}", c.channel, c.check);
            if c.ok {
                pass(&name, c.detail)
            } else {
                fail(
                    &name,
                    c.detail,
                    format!("check [channel.{}] in the config; `zeroclaw channel doctor` probes it alone", c.channel),
                )
            }
        })
        .collect()
}

/// Whether the kernel can confine the shell tool's commands.
fn shell_sandbox(config: &Config) -> Check {
    use crate::agent::tools::sandbox::{Support, describe, support};
    use crate::config::ShellSandbox;
    let mode = config.tools.shell.sandbox;
    let (ok, detail) = describe(mode);
    match (ok, mode, support()) {
        (true, _, _) => pass("shell sandbox", detail),
        (false, ShellSandbox::Landlock, _) => fail(
            "shell sandbox",
            detail,
            "run on a kernel with Landlock (Linux 5.13+, `landlock` in `lsm=`), or set \
             `[tools.shell] sandbox = \"off\"` to accept unconfined commands (docs/security.md)",
        ),
        (false, ShellSandbox::Off, Support::Landlock { abi }) => fail(
            "shell sandbox",
            detail,
            format!(
                "this kernel has Landlock ABI {abi}: remove `sandbox = \"off\"` from [tools.shell]"
            ),
        ),
        (false, ShellSandbox::Off, Support::Unavailable(why)) => pass(
            "shell sandbox",
            format!("{detail}; Landlock unavailable ({why}), accepted by the config"),
        ),
    }
}

fn state_dir(config: &Config) -> Check {
    let dir = config.state_dir();
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    let result = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&probe, b"ok"));
    let _ = std::fs::remove_file(&probe);
    match result {
        Ok(()) => pass("state dir", format!("{} is writable", dir.display())),
        Err(e) => fail(
            "state dir",
            format!("{}: {e}", dir.display()),
            "create it for the daemon's user, or set [daemon] state_dir",
        ),
    }
}

fn log_file(config: &Config) -> Option<Check> {
    let file = config.logging.file.as_ref()?;
    let result = file
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
        });
    Some(match result {
        Ok(_) => pass("log file", format!("{} is writable", file.display())),
        Err(e) => fail(
            "log file",
            format!("{}: {e}", file.display()),
            "create the directory for the daemon's user (see docs/operations.md), or change [logging] file",
        ),
    })
}

/// Returns whether a daemon answered.
fn control(config: &Config, checks: &mut Vec<Check>) -> bool {
    let path = config.control_socket();
    let status = client::call_as_with_timeout::<StatusReply>(
        &path,
        &Call::Status {},
        Duration::from_secs(5),
    );
    match status {
        Ok(v) => {
            checks.push(pass(
                "daemon",
                format!("running (pid {}), control socket {}", v.pid, path.display()),
            ));
            for c in v.children {
                let name = c.snapshot.name;
                let state = state_name(c.snapshot.state);
                if c.snapshot.state == ChildState::Running {
                    checks.push(pass(&format!("child {name}"), "running"));
                } else {
                    let why = c.snapshot.last_exit.map(|e| e.message).unwrap_or_default();
                    checks.push(fail(
                        &format!("child {name}"),
                        format!("{state} {why}").trim().to_string(),
                        format!("see the log; `zeroclaw restart {name}` once the cause is fixed"),
                    ));
                }
            }
            true
        }
        Err(ClientError::NotRunning(_)) => {
            checks.push(pass(
                "daemon",
                format!("not running (no control socket at {})", path.display()),
            ));
            false
        }
        Err(e) => {
            checks.push(fail(
                "daemon",
                e.to_string(),
                "a stale or foreign socket: stop the other process or remove the file",
            ));
            false
        }
    }
}

fn gateway_port(config: &Config, daemon_running: bool) -> Check {
    let addr = format!("{}:{}", config.gateway.host, config.gateway.port);
    if config.gateway.port == 0 {
        return pass("gateway port", "port 0: any free port is used");
    }
    let health = probe_health(&addr);
    if daemon_running && health {
        return pass("gateway port", format!("{addr} is served by this zeroclaw"));
    }
    match TcpListener::bind(&addr) {
        Ok(_) => pass("gateway port", format!("{addr} is free")),
        Err(e) if health => fail(
            "gateway port",
            format!("{addr} is held by another zeroclaw ({e})"),
            "stop the other instance or give this config another [gateway] port",
        ),
        Err(e) => fail(
            "gateway port",
            format!("{addr}: {e}"),
            format!(
                "find the owner with `lsof -i :{}` or choose another [gateway] port",
                config.gateway.port
            ),
        ),
    }
}

/// Does something that looks like zeroclaw answer `GET /health` at `addr`?
pub fn probe_health(addr: &str) -> bool {
    let Some(sock) = addr.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&sock, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut body = String::new();
    let _ = stream.take(64 * 1024).read_to_string(&mut body);
    body.starts_with("HTTP/1.1 200") && body.contains("\"uptime_secs\"")
}
