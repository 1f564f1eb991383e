//! Cron's part of the state store (see `crate::store`): the names the cron
//! code and its tests use.

pub use super::record::{RunRecord, RunStatus, truncate_output};
pub use crate::store::StoreError;
pub use crate::store::sqlite::Db as Store;
