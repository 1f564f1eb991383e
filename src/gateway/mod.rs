//! The HTTP gateway: `/health`, `/ready`, `/metrics`, `/webhook*`, `/status`.
//!
//! [`actor`] is the supervised child; it drives the plain pieces below,
//! each testable without a runtime or in-process with [`serve`]:
//! [`router`] (routes and layers), [`server`] (accept loop, limits, TLS),
//! [`bind`] (binding and the port-in-use diagnosis), and one file per route
//! family and per concern (auth, rate limit, idempotency, Slack signatures).

pub mod access;
pub mod actor;
pub mod auth;
pub mod bind;
pub mod body;
pub mod deps;
pub mod error;
pub mod forward;
pub mod health;
pub mod host;
pub mod idempotency;
pub mod io;
pub mod peers;
pub mod proxy;
pub mod rate_limit;
pub mod router;
pub mod server;
pub mod slack;
pub mod slack_sig;
pub mod state;
pub mod status;
pub mod telegram;
pub mod tls;
pub mod ttl;
pub mod webhook;

pub use actor::{Gateway, GatewayActor, GatewayArgs, GatewayMsg, child_spec};
pub use deps::GatewayDeps;
pub use error::{ApiError, GatewayError};
pub use router::router;
pub use server::serve;
pub use state::{ChannelLookup, GatewayState, TreeView};
