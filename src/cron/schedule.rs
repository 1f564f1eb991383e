//! Cron expressions: standard Unix 5-field, 6-field with seconds, `@daily` and friends.

/// Check an expression without computing fire times (used by config validation).
pub fn validate(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Err("empty schedule".into());
    }
    Ok(())
}
