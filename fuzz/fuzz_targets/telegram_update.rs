//! Telegram updates (a `getUpdates` result array or one webhook update):
//! parse, extract the message, split the reply-sized text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use zeroclaw::channels::split::{split_message, split_message_utf16};
use zeroclaw::channels::telegram::api::parse_update;

fuzz_target!(|data: &[u8]| {
    let Some((&max, body)) = data.split_first() else {
        return;
    };
    let Ok(raw) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let updates = match raw {
        Value::Array(items) => items,
        one => vec![one],
    };
    for update in updates.into_iter().filter_map(parse_update) {
        let Some(message) = update.message else {
            continue;
        };
        let _ = message.chat.id.to_string();
        if let (Some(text), Some(_from)) = (message.text, message.from) {
            // The channel splits replies; the text is as hostile as any reply.
            for max in [usize::from(max), 4096] {
                let parts = split_message(&text, max);
                assert!(!parts.is_empty());
                assert!(parts.iter().all(|p| p.chars().count() <= max.max(1)));
                // What the Telegram channel sends: UTF-16 units, except a
                // lone character longer than the limit.
                let parts = split_message_utf16(&text, max);
                assert!(!parts.is_empty());
                assert!(
                    parts
                        .iter()
                        .all(|p| p.encode_utf16().count() <= max.max(1) || p.chars().count() == 1)
                );
            }
        }
    }
});
