//! The agent's HTTP client comes from the one place clients are built.

pub use crate::http::{ClientError, client};
