//! Configuration: the schema, loading with complete error reports, and validation.

pub mod cli;
pub mod diagnostic;
pub mod document;
pub mod load;
pub mod paths;
pub mod schema;
pub mod schema_cluster;
pub mod schema_mcp;
pub mod schema_web;
pub mod shape;
pub mod template;
pub mod types;
pub mod unknown;
pub mod validate;

pub use diagnostic::{ConfigError, Diagnostic};
pub use load::{Loaded, Report, check_str, check_str_with_env, default_path, load, parse_str};
pub use schema::*;
pub use schema_cluster::{ClusterBackend, ClusterConfig};
pub use schema_mcp::{McpConfig, McpServerConfig};
pub use schema_web::{SearchBackend, WebFetchToolConfig, WebSearchToolConfig};
pub use types::{Seconds, Secret};
