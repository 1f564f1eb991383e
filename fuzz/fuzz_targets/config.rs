//! Config files: every byte sequence parses to a config or to errors that
//! render, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match zeroclaw::config::parse_str(text, "fuzz") {
        Ok(config) => {
            // Derived paths are computed from user strings too.
            let _ = config.control_socket();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
