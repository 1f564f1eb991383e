//! anthropic replies: any status and body become a reply or a ProviderError.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroclaw::agent::providers::anthropic::parse_reply;

/// The statuses the provider really sends, picked by the first byte.
const STATUSES: [u16; 8] = [200, 200, 200, 400, 401, 429, 500, 529];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(pick) % STATUSES.len()];
    match parse_reply("anthropic", status, body) {
        Ok(reply) => {
            let _ = reply.tool_calls();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
