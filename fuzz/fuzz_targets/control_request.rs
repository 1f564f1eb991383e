//! Control-socket request lines: a request or a `bad_request`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroclaw::control::server::{parse_request, salvage_id};

fuzz_target!(|data: &[u8]| {
    match parse_request(data) {
        Ok(request) => {
            let _ = serde_json::to_string(&request);
        }
        Err(e) => {
            let _ = salvage_id(data);
            let _ = serde_json::to_string(&e);
        }
    }
});
