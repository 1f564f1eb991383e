//! The agent in-process against a fake provider: the config, the agent and a
//! request, the same for every provider's tests.

use zeroclaw::agent::{Agent, AgentRequest};
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
