//! Slack: a Socket Mode frame, or an Events API body, down to the message
//! the channel would answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroclaw::channels::slack::events::incoming;
use zeroclaw::channels::slack::socket::{Frame, decode_frame};
use zeroclaw::channels::split::split_message;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((_ack, frame)) = decode_frame(text) else {
        return;
    };
    if let Frame::Event { event, .. } = frame
        && let Some(m) = incoming(&event)
    {
        let parts = split_message(m.text, 4000);
        assert!(parts.iter().all(|p| p.chars().count() <= 4000));
    }
    // Events API (HTTP) bodies carry the event at the top level's `event`.
    if let Ok(body) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = incoming(&body["event"]);
    }
});
