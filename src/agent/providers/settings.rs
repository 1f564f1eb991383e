//! Which endpoint, key and model a provider name means under a config.
//!
//! `[provider]` is the default; `[providers.<name>]` holds per-provider
//! credentials; conventional environment variables fill what the file leaves
//! out. Shared by the agent and `zeroclaw auth status`, so both agree.

use super::error::{ErrorKind, ProviderError};
use crate::config::{Config, Secret};

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Anthropic,
    /// OpenAI chat completions: OpenAI, OpenRouter, Ollama, vLLM, llama.cpp...
    OpenAi,
    /// No network: replies with the prompt (quickstart, trying without keys).
    Echo,
}

/// Where a credential was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Written in the config file, in this table (`[provider]`, `[providers.openai]`).
    ConfigFile(String),
    /// The config file says `"${VAR}"`.
    ConfigEnv(String),
    /// A conventional variable such as `ANTHROPIC_API_KEY`.
    Env(String),
    /// Nowhere.
    Missing,
}

impl KeySource {
    /// `config file [provider]`, `environment variable ANTHROPIC_API_KEY`.
    pub fn describe(&self) -> String {
        match self {
            KeySource::ConfigFile(table) => format!("config file {table}"),
            KeySource::ConfigEnv(var) => {
                format!("environment variable {var} (named in the config file)")
            }
            KeySource::Env(var) => format!("environment variable {var}"),
            KeySource::Missing => "not configured".into(),
        }
    }
}

/// A credential and where it came from.
#[derive(Debug, Clone)]
pub struct Credential {
    pub value: Option<String>,
    pub source: KeySource,
}

/// Everything needed to call one provider.
#[derive(Clone)]
pub struct ProviderSettings {
    pub name: String,
    pub wire: Wire,
    /// Without trailing `/` or `/v1`; paths such as `/v1/messages` are appended.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub key_source: KeySource,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("name", &self.name)
            .field("wire", &self.wire)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("key_source", &self.key_source)
            .finish()
    }
}

/// Names the daemon knows without a `[providers.<name>]` table.
pub const BUILTIN: &[&str] = &["anthropic", "openai", "openrouter", "ollama", "echo"];

/// The wire format of `name`, or `None` when it is neither built in nor an
/// OpenAI-compatible server configured with a `base_url`.
pub fn wire_for(config: &Config, name: &str) -> Option<Wire> {
    match name {
        "anthropic" => Some(Wire::Anthropic),
        "openai" | "openrouter" | "ollama" => Some(Wire::OpenAi),
        "echo" => Some(Wire::Echo),
        other => {
            let has_base = (config.provider.name == other && config.provider.base_url.is_some())
                || config
                    .providers
                    .get(other)
                    .is_some_and(|p| p.base_url.is_some());
            has_base.then_some(Wire::OpenAi)
        }
    }
}

/// The conventional environment variable of a provider's key.
pub fn env_var_for(name: &str) -> Option<&'static str> {
    match name {
        "anthropic" => Some("ANTHROPIC_API_KEY"),
        "openai" => Some("OPENAI_API_KEY"),
        "openrouter" => Some("OPENROUTER_API_KEY"),
        _ => None,
    }
}

/// Whether calls fail without a key (local servers usually take none).
pub fn key_required(name: &str) -> bool {
    matches!(name, "anthropic" | "openai" | "openrouter")
}

fn default_base_url(name: &str) -> Option<&'static str> {
    match name {
        "anthropic" => Some("https://api.anthropic.com"),
        "openai" => Some("https://api.openai.com"),
        "openrouter" => Some("https://openrouter.ai/api"),
        "ollama" => Some("http://127.0.0.1:11434"),
        _ => None,
    }
}

fn default_model(name: &str) -> Option<&'static str> {
    match name {
        "anthropic" => Some("claude-sonnet-4-5"),
        "openai" => Some("gpt-4o-mini"),
        "openrouter" => Some("anthropic/claude-sonnet-4.5"),
        "ollama" => Some("llama3.2"),
        "echo" => Some("echo"),
        _ => None,
    }
}

/// Every provider the config mentions: the default, then each `[providers.*]`.
pub fn configured_names(config: &Config) -> Vec<String> {
    let mut names = vec![config.provider.name.clone()];
    for name in config.providers.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// Read a secret, following an unexpanded `${VAR}` (the loader normally expands it).
pub(crate) fn read_secret(secret: &Secret, table: &str) -> Option<Credential> {
    if let Some(var) = secret.env_reference() {
        let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
        return Some(Credential {
            value: Some(value),
            source: KeySource::ConfigEnv(var.to_string()),
        });
    }
    secret.trimmed().map(|value| Credential {
        value: Some(value.to_string()),
        source: KeySource::ConfigFile(table.to_string()),
    })
}

/// The key of `name`: `[provider] api_key` (if it is the default),
/// `[providers.<name>] api_key`, then the conventional variable.
pub fn credential(config: &Config, name: &str) -> Credential {
    let from_default = (config.provider.name == name)
        .then_some(config.provider.api_key.as_ref())
        .flatten()
        .and_then(|s| read_secret(s, "[provider]"));
    let from_entry = || {
        config
            .providers
            .get(name)
            .and_then(|p| p.api_key.as_ref())
            .and_then(|s| read_secret(s, &format!("[providers.{name}]")))
    };
    let from_env = || {
        let var = env_var_for(name)?;
        let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
        Some(Credential {
            value: Some(value),
            source: KeySource::Env(var.to_string()),
        })
    };
    let credential = from_default
        .or_else(from_entry)
        .or_else(from_env)
        .unwrap_or(Credential {
            value: None,
            source: KeySource::Missing,
        });
    // A key from the environment is a secret the config loader never saw.
    crate::secrets::learn(credential.value.as_deref());
    credential
}

/// `http://host/v1/` → `http://host`, so both spellings users copy work.
fn normalise_base(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_string()
}

/// Resolve `name` (and an optional model override) into callable settings.
pub fn resolve(
    config: &Config,
    name: &str,
    model_override: Option<&str>,
) -> Result<ProviderSettings, ProviderError> {
    let not_configured =
        |detail: String| ProviderError::new(ErrorKind::NotConfigured, name, detail);
    let wire = wire_for(config, name).ok_or_else(|| {
        not_configured(format!(
            "unknown provider `{name}`: use one of {} or add a [providers.{name}] table with the \
             base_url of an OpenAI-compatible server",
            BUILTIN.join(", ")
        ))
    })?;
    let is_default = config.provider.name == name;
    let entry = config.providers.get(name);
    let base_url = is_default
        .then(|| config.provider.base_url.clone())
        .flatten()
        .or_else(|| entry.and_then(|e| e.base_url.clone()))
        .or_else(|| default_base_url(name).map(String::from))
        .unwrap_or_default();
    let model = model_override
        .map(String::from)
        .filter(|m| !m.trim().is_empty())
        .or_else(|| is_default.then(|| config.provider.model.clone()).flatten())
        .or_else(|| entry.and_then(|e| e.model.clone()))
        .or_else(|| default_model(name).map(String::from))
        .ok_or_else(|| {
            not_configured(format!(
                "no model for provider `{name}`: set `model` in [providers.{name}] (or [provider])"
            ))
        })?;
    let credential = credential(config, name);
    if wire != Wire::Echo && key_required(name) && credential.value.is_none() {
        let var = env_var_for(name).unwrap_or("the provider's key variable");
        let table = if is_default {
            "[provider]".to_string()
        } else {
            format!("[providers.{name}]")
        };
        return Err(not_configured(format!(
            "no API key for provider `{name}`: set `api_key` in {table} of the config file, or \
             the environment variable {var}"
        )));
    }
    Ok(ProviderSettings {
        name: name.to_string(),
        wire,
        base_url: normalise_base(&base_url),
        model,
        api_key: credential.value,
        key_source: credential.source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    #[test]
    fn default_table_then_entry_then_builtin() {
        let c = parse_str(
            r#"
            [provider]
            name = "anthropic"
            api_key = "sk-ant-123"
            [providers.ollama]
            model = "qwen3"
            [providers.vllm]
            base_url = "http://10.0.0.2:8000/v1/"
            model = "m"
            "#,
            "t",
        )
        .unwrap();
        let a = resolve(&c, "anthropic", None).unwrap();
        assert_eq!(a.wire, Wire::Anthropic);
        assert_eq!(a.base_url, "https://api.anthropic.com");
        assert_eq!(a.api_key.as_deref(), Some("sk-ant-123"));
        assert_eq!(a.key_source, KeySource::ConfigFile("[provider]".into()));
        let o = resolve(&c, "ollama", Some("llama3")).unwrap();
        assert_eq!((o.wire, o.model.as_str()), (Wire::OpenAi, "llama3"));
        assert_eq!(o.base_url, "http://127.0.0.1:11434");
        let v = resolve(&c, "vllm", None).unwrap();
        assert_eq!(v.base_url, "http://10.0.0.2:8000");
        let e = resolve(&c, "mystery", None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotConfigured);
        assert!(e.detail.contains("unknown provider `mystery`"), "{e}");
    }

    #[test]
    fn a_real_provider_without_key_is_an_error_not_echo() {
        let c = parse_str("[provider]\nname = \"openrouter\"\n", "t").unwrap();
        // SAFETY of the assertion: OPENROUTER_API_KEY is not set in the test environment.
        if std::env::var_os("OPENROUTER_API_KEY").is_none() {
            let e = resolve(&c, "openrouter", None).unwrap_err();
            assert_eq!(e.kind, ErrorKind::NotConfigured);
            assert!(e.detail.contains("OPENROUTER_API_KEY"), "{e}");
        }
    }
}
