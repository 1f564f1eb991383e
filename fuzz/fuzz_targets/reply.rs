//! What the reply targets share: one input is a status (picked by the first
//! byte among those the providers really send) and a body, fed to one wire
//! format's `parse_reply`, whose result is then used as the agent would.

use zeroclaw::agent::message::Reply;
use zeroclaw::agent::providers::ProviderError;

/// The statuses the providers really send, picked by the first byte.
const STATUSES: [u16; 8] = [200, 200, 200, 400, 401, 429, 500, 529];

/// A wire format's `parse_reply(provider, status, body)`.
pub type Parse = fn(&str, u16, &[u8]) -> Result<Reply, ProviderError>;

pub fn check(provider: &str, parse: Parse, data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(pick) % STATUSES.len()];
    match parse(provider, status, body) {
        Ok(reply) => {
            let _ = reply.tool_calls();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
