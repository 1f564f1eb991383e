//! Handing a webhook payload to a channel actor by its name in the tree.

use super::error::ApiError;
use super::state::GatewayState;
use crate::channels::msg::ChannelMsg;

/// Send `msg` to child `child` (`channel:telegram`), without waiting for it
/// to be processed: webhook senders want an answer at once.
pub fn to_channel(state: &GatewayState, child: &str, msg: ChannelMsg) -> Result<(), ApiError> {
    let Some(cell) = state.channel(child) else {
        return Err(ApiError::unavailable(format!(
            "{child} is not running (see `zeroclaw status`); the update was not accepted, \
             retry later"
        )));
    };
    cell.send_message(msg).map_err(|e| {
        ApiError::unavailable(format!(
            "{child} did not accept the update ({e}); retry later"
        ))
    })
}
