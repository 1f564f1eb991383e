//! Configuration: the schema, loading with complete error reports, and validation.

pub mod cli;
pub mod load;
pub mod paths;
pub mod schema;
pub mod types;

pub use load::{ConfigError, Loaded, default_path, load, parse_str};
pub use schema::*;
pub use types::{Seconds, Secret};
