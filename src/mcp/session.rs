//! Opening a session with one server: the transport (a confined process or
//! an HTTP endpoint), `initialize`, then `tools/list`, all within the
//! server's `start_timeout`.

use super::hub::McpTool;
use super::names;
use super::stdio::{self, Process};
use crate::config::McpServerConfig;
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::ServiceExt;
use rmcp::handler::client::ClientHandler;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, Tool};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Told when the server's tool list changes.
pub type OnToolsChanged = Arc<dyn Fn() + Send + Sync>;

/// The client side of a session: says who we are and passes
/// `notifications/tools/list_changed` on.
#[derive(Clone)]
pub struct Client {
    on_tools_changed: OnToolsChanged,
}

impl ClientHandler for Client {
    async fn on_tool_list_changed(&self, _: NotificationContext<RoleClient>) {
        (self.on_tools_changed)();
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("zeroclaw", env!("CARGO_PKG_VERSION")),
        )
    }
}

/// A session that answered.
pub struct Opened {
    pub service: RunningService<RoleClient, Client>,
    /// The server's process (stdio transport).
    pub process: Option<Process>,
    /// Its tools that may be offered.
    pub tools: Vec<McpTool>,
    /// For the status line: `stdio, pid 42` or the URL.
    pub transport: String,
}

/// Open a session with server `name`; the error says what to fix.
pub async fn open(
    name: &str,
    server: &McpServerConfig,
    workdir: &Path,
    on_tools_changed: OnToolsChanged,
) -> Result<Opened, String> {
    let client = Client { on_tools_changed };
    let limit = humantime::format_duration(server.start_timeout);
    // Bytes the server wrote on stdout, for the error of a start that timed out.
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let opening = async {
        let (service, process, transport) = match (&server.command, &server.url) {
            (Some(command), _) => {
                let (process, out, inp) = stdio::start(name, server, workdir, written.clone())
                    .map_err(|e| e.to_string())?;
                let transport = format!("stdio `{command}`, pid {}", process.pid().unwrap_or(0));
                let service = client.serve((out, inp)).await.map_err(|e| {
                    format!(
                        "`initialize` failed: {e} (the server's stderr is logged with mcp={name})"
                    )
                })?;
                (service, Some(process), transport)
            }
            (None, Some(url)) => {
                let service = client
                    .serve(http_transport(url, server)?)
                    .await
                    .map_err(|e| format!("`initialize` at {url} failed: {e}"))?;
                (service, None, url.clone())
            }
            (None, None) => return Err("neither `command` nor `url` is set".to_string()),
        };
        let listed = service
            .peer()
            .list_all_tools()
            .await
            .map_err(|e| format!("`tools/list` failed: {e}"))?;
        Ok(Opened {
            tools: allowed(name, server, listed),
            service,
            process,
            transport,
        })
    };
    match tokio::time::timeout(server.start_timeout, opening).await {
        Ok(result) => result,
        Err(_) => match written.load(std::sync::atomic::Ordering::Relaxed) {
            0 => Err(format!(
                "no answer to `initialize` and `tools/list` within {limit} (`start_timeout`); \
                 check that `command` is an MCP server speaking stdio, or raise `start_timeout`"
            )),
            n => Err(format!(
                "no answer to `initialize` and `tools/list` within {limit} (`start_timeout`), \
                 but {n} bytes on stdout that are not MCP messages; check that `command` is an \
                 MCP server speaking stdio and that it logs to stderr, not stdout"
            )),
        },
    }
}

/// The Streamable HTTP transport to `url` with the server's headers.
fn http_transport(
    url: &str,
    server: &McpServerConfig,
) -> Result<StreamableHttpClientTransport<reqwest::Client>, String> {
    let mut headers = HashMap::new();
    for (name, value) in &server.headers {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|e| format!("header `{name}` is not a valid header name: {e}"))?;
        let value = HeaderValue::try_from(value.expose())
            .map_err(|e| format!("header `{name}` has a value that cannot be sent: {e}"))?;
        headers.insert(name, value);
    }
    let client = crate::agent::http::client().map_err(|e| e.to_string())?;
    let config =
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).custom_headers(headers);
    Ok(StreamableHttpClientTransport::with_client(client, config))
}

/// The listed tools `server` allows, named as the model sees them.
pub fn allowed(name: &str, server: &McpServerConfig, listed: Vec<Tool>) -> Vec<McpTool> {
    listed
        .into_iter()
        .filter(|t| server.allows(&t.name))
        .map(|t| McpTool {
            exposed: names::exposed(name, &t.name),
            description: t
                .description
                .as_deref()
                .or(t.title.as_deref())
                .unwrap_or_default()
                .to_string(),
            schema: serde_json::Value::Object((*t.input_schema).clone()),
            name: t.name.into_owned(),
        })
        .collect()
}
