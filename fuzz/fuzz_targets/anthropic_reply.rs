//! anthropic replies: any status and body become a reply or a ProviderError.
#![no_main]

mod reply;

use libfuzzer_sys::fuzz_target;
use zeroclaw::agent::providers::anthropic::parse_reply;

fuzz_target!(|data: &[u8]| {
    reply::check("anthropic", parse_reply, data);
});
