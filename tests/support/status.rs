//! A daemon with the gateway, its status page and one cron job, for the
//! tests of `/status` over plain HTTP and in a browser.

use super::daemon::{Daemon, Env, wait_for};
use std::time::Duration;

pub const TOKEN: &str = "status-token-0123456789";
/// The cron job every such daemon runs (never fires on its own).
pub const JOB: &str = "tick";
pub const T: Duration = Duration::from_secs(30);

pub fn config(extra_gateway: &str) -> String {
    format!(
        "[gateway]\nport = 0\nauth_token = \"{TOKEN}\"\n{extra_gateway}\n\n\
         [[cron.jobs]]\nname = \"{JOB}\"\nschedule = \"0 0 1 1 *\"\nmessage = \"tick\"\n"
    )
}

/// The gateway's URL once `status` shows it running.
pub fn gateway_url(env: &Env) -> String {
    let mut url = String::new();
    wait_for("the gateway's address in status", T, || {
        match env.child("gateway") {
            Some(c) if c["state"] == "running" => {
                url = c["detail"].as_str().unwrap_or_default().to_string();
                url.starts_with("http")
            }
            _ => false,
        }
    });
    url
}

/// A daemon started with [`config`]; its env, process and gateway URL.
pub fn start(extra_gateway: &str) -> (Env, Daemon, String) {
    let env = Env::new(&config(extra_gateway));
    let d = env.start_ready(&[]);
    let url = gateway_url(&env);
    (env, d, url)
}

/// `cron list --json`'s `enabled` of the job named `name`.
pub fn job_enabled(env: &Env, name: &str) -> Option<bool> {
    let out = env.cli(&["cron", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["jobs"].as_array()?.iter().find(|j| j["name"] == name)?["enabled"].as_bool()
}
