//! The agent in-process against a fake provider: the config, the agent and a
//! request, the same for every provider's tests.

use std::time::Duration;
use zeroclaw::agent::{Agent, AgentError, AgentRequest};
use zeroclaw::config::{Config, parse_str};

/// `[provider]` pointed at a fake at `base_url`, with short retry delays so
/// retry tests take milliseconds.
pub fn provider_config(
    name: &str,
    model: &str,
    base_url: &str,
    key: &str,
    timeout: &str,
    retries: u32,
) -> Config {
    parse_str(
        &format!(
            r#"
            [provider]
            name = "{name}"
            model = "{model}"
            api_key = "{key}"
            base_url = "{base_url}"
            timeout = "{timeout}"
            max_retries = {retries}
            retry_min_delay = "10ms"
            retry_max_delay = "5s"
            "#
        ),
        "test",
    )
    .unwrap()
}

pub fn new_agent(config: &Config) -> Agent {
    Agent::new(config, std::env::temp_dir()).unwrap()
}

/// A message in conversation `test:1`.
pub fn ask(message: &str) -> AgentRequest {
    AgentRequest {
        session: "test:1".into(),
        message: message.into(),
        ..Default::default()
    }
}

/// The error `message` ends in; fails if the agent takes 10 s or answers.
pub async fn respond_err(agent: &Agent, message: &str) -> AgentError {
    tokio::time::timeout(Duration::from_secs(10), agent.respond(ask(message)))
        .await
        .expect("respond must not hang")
        .unwrap_err()
}

/// Asks `message` with the `shell` tool offered; the answer.
pub async fn ask_with_shell(agent: &Agent, message: &str) -> String {
    let mut req = ask(message);
    req.tools = vec!["shell".into()];
    agent.respond(req).await.unwrap()
}

/// `answer` passes on what `date +%Y` printed, as the fakes' `EchoToolResult`
/// words it.
pub fn assert_reports_this_year(answer: &str) {
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(
        answer.starts_with("The tool said: exit status 0"),
        "{answer}"
    );
    assert!(answer.contains(&year), "{answer}");
}
