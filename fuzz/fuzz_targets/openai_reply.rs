//! openai replies: any status and body become a reply or a ProviderError.
#![no_main]

mod reply;

use libfuzzer_sys::fuzz_target;
use zeroclaw::agent::providers::openai::parse_reply;

fuzz_target!(|data: &[u8]| {
    reply::check("openai", parse_reply, data);
});
