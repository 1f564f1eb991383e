//! Stable short job ids.
//!
//! Operators type job names in Chinese, with spaces and quotes; an id derived
//! from the name gives them something short to type that stays the same across
//! restarts and config reorderings (unlike a position), and needs no storage.

use sha2::{Digest, Sha256};

/// First 8 hex digits of SHA-256 of the name (32 bits: collisions between the
/// few dozen jobs of one config are vanishingly unlikely, and config loading
/// can reject them).
pub fn job_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    hex::encode(&digest[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_short_hex() {
        let id = job_id("每日新闻推送");
        assert_eq!(id.len(), 8);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(id, job_id("每日新闻推送"));
        assert_ne!(id, job_id("系统健康检查"));
        // sha256("abc") = ba7816bf...
        assert_eq!(job_id("abc"), "ba7816bf");
    }
}
