//! The real MCP servers the tests drive (`@modelcontextprotocol/server-*`
//! from npm, pinned in tests/mcp/package.json and installed by `.ci/run`
//! into tests/mcp/node_modules), and the config tables that start them.
//! A test that needs them fails, loudly, when they are not installed.

use super::daemon::Env;
use super::openai::Step;
use serde_json::Value;
use std::path::PathBuf;

/// The fake model's step that calls tool `name` with `arguments`.
pub fn call(name: &str, arguments: Value) -> Step {
    Step::ToolCall {
        name: name.into(),
        arguments: arguments.to_string(),
    }
}

/// `cron run <job> --json` on the running daemon: the run's output (the
/// run must have finished `ok`).
pub fn run(env: &Env, job: &str) -> String {
    let out = env.cli(&["cron", "run", job, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(v["run"]["status"], "ok", "{v}");
    v["run"]["output"].as_str().unwrap_or_default().to_string()
}

/// Where `npm ci` installs the servers.
pub fn modules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/node_modules")
}

/// The entry point of package `@modelcontextprotocol/<package>`.
pub fn entry(package: &str) -> PathBuf {
    let path = modules()
        .join("@modelcontextprotocol")
        .join(package)
        .join("dist/index.js");
    assert!(
        path.is_file(),
        "{} is missing: install the test MCP servers with `npm ci --prefix tests/mcp` \
         (`.ci/run` does it)",
        path.display()
    );
    path
}

/// `[mcp.servers.<name>]` running `@modelcontextprotocol/server-everything`
/// over stdio, with `tools` allowed and `extra` lines appended.
pub fn everything(name: &str, tools: &str, extra: &str) -> String {
    format!(
        "[mcp.servers.{name}]\ncommand = \"node\"\nargs = [\"{entry}\", \"stdio\"]\n\
         read_paths = [\"{modules}\"]\ntools = {tools}\n{extra}\n",
        entry = entry("server-everything").display(),
        modules = modules().display(),
    )
}

/// `[mcp.servers.<name>]` running `@modelcontextprotocol/server-filesystem`
/// over stdio, serving `root`.
pub fn filesystem(name: &str, root: &std::path::Path, tools: &str) -> String {
    format!(
        "[mcp.servers.{name}]\ncommand = \"node\"\nargs = [\"{entry}\", \"{root}\"]\n\
         read_paths = [\"{modules}\", \"{root}\"]\ntools = {tools}\n",
        entry = entry("server-filesystem").display(),
        modules = modules().display(),
        root = root.display(),
    )
}

/// `[provider]` pointed at the fake OpenAI-compatible model at `base`.
pub fn provider(base: &str) -> String {
    format!(
        "[provider]\nname = \"openai\"\nmodel = \"gpt-test\"\napi_key = \"{key}\"\n\
         base_url = \"{base}/v1\"\nretry_min_delay = \"10ms\"\nretry_max_delay = \"100ms\"\n",
        key = super::openai::KEY,
    )
}

/// A cron job `name` (never due by itself) offering `tools`.
pub fn job(name: &str, tools: &str) -> String {
    format!(
        "[[cron.jobs]]\nname = \"{name}\"\nschedule = \"0 3 1 1 *\"\nmessage = \"use the tools\"\n\
         tools = {tools}\n"
    )
}

/// `server-everything` serving Streamable HTTP on 127.0.0.1:`port` (`/mcp`),
/// run by the test itself; killed when dropped.
pub struct HttpEverything {
    child: std::process::Child,
    pub port: u16,
}

impl HttpEverything {
    /// Start it on a free port.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        Self::start_on(port)
    }

    /// Start it on `port`, and wait until it accepts connections.
    pub fn start_on(port: u16) -> Self {
        let child = std::process::Command::new("node")
            .arg(entry("server-everything"))
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start node");
        super::daemon::wait_for(
            "the HTTP MCP server listening",
            std::time::Duration::from_secs(20),
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// Kill it and wait until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `[mcp.servers.<name>]` running tests/mcp/list-changed.mjs (every tool allowed).
pub fn list_changed(name: &str) -> String {
    let script = modules().with_file_name("list-changed.mjs");
    let sdk = modules().join("@modelcontextprotocol/sdk/package.json");
    assert!(
        sdk.is_file(),
        "{} is missing: run `npm ci --prefix tests/mcp` (`.ci/run` does it)",
        sdk.display()
    );
    format!(
        "[mcp.servers.{name}]\ncommand = \"node\"\nargs = [\"{script}\"]\n\
         read_paths = [\"{dir}\"]\ntools = [\"*\"]\n",
        script = script.display(),
        dir = modules().with_file_name("").display(),
    )
}
