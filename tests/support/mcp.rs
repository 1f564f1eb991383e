//! The real MCP servers the tests drive (`@modelcontextprotocol/server-*`
//! from npm, pinned in tests/mcp/package.json and installed by `.ci/run`
//! into tests/mcp/node_modules), and the config tables that start them.
//! A test that needs them fails, loudly, when they are not installed.

use std::path::PathBuf;

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
