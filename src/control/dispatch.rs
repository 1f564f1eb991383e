//! Method name → handler. Adding a request is one line in `dispatch`.

use super::protocol::ControlError;
use crate::daemon::Ctx;
use serde_json::Value;

/// Run one request against the live tree.
pub async fn dispatch(ctx: &Ctx, method: &str, params: Value) -> Result<Value, ControlError> {
    let _ = (ctx, params);
    Err(ControlError::new(
        "unknown_method",
        format!("unknown method `{method}`"),
    ))
}
