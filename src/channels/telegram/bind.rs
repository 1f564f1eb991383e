//! `zeroclaw channel bind-telegram <id>`: the config edit itself, kept apart
//! from the CLI so it is testable on strings. toml_edit keeps the operator's
//! comments, order and layout; only the `allowed_users` array changes.

use toml_edit::{Array, DocumentMut, Item, Table, Value};

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "`{0}` is not a Telegram user id: ids are numbers (send /start to @userinfobot to learn yours)"
    )]
    BadId(String),
    #[error("{origin} is not valid TOML, nothing changed: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: `{key}` must be a table, so the id cannot be added there; fix it by hand")]
    NotATable { origin: String, key: String },
    #[error(
        "{origin}: `channel.telegram.allowed_users` must be an array of strings like [\"123\"]; fix it by hand"
    )]
    NotAnArray { origin: String },
}

/// Check that `id` is a plausible Telegram user id and return it trimmed.
pub fn validate_user_id(id: &str) -> Result<String, BindError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BindError::BadId(id.to_string()));
    }
    Ok(id.to_string())
}

/// Add `id` to `[channel.telegram] allowed_users` in the TOML `text`.
/// Returns the new text and whether it changed (`false` = already there).
pub fn add_allowed_user(text: &str, origin: &str, id: &str) -> Result<(String, bool), BindError> {
    let id = validate_user_id(id)?;
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| BindError::Parse {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
    let not_table = |key: &str| BindError::NotATable {
        origin: origin.to_string(),
        key: key.to_string(),
    };
    let channel = doc
        .entry("channel")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| not_table("channel"))?;
    let telegram = channel
        .entry("telegram")
        .or_insert(Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| not_table("channel.telegram"))?;
    let users = telegram
        .entry("allowed_users")
        .or_insert(Item::Value(Value::Array(Array::new())))
        .as_array_mut()
        .ok_or_else(|| BindError::NotAnArray {
            origin: origin.to_string(),
        })?;
    let present = users.iter().any(|v| match v {
        Value::String(s) => s.value().trim() == id,
        Value::Integer(n) => n.value().to_string() == id,
        _ => false,
    });
    if present {
        return Ok((text.to_string(), false));
    }
    users.push(id);
    Ok((doc.to_string(), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# my bot\n[channel.telegram]\nenabled = true\n# who may talk\nallowed_users = [\"1\"]  # me\nbot_token = \"x\"\n\n[gateway]\nport = 3000\n";

    #[test]
    fn adds_keeps_comments_and_is_idempotent() {
        let (out, changed) = add_allowed_user(FILE, "c.toml", "42").unwrap();
        assert!(changed);
        assert!(out.contains("# my bot") && out.contains("# who may talk") && out.contains("# me"));
        assert!(out.contains("allowed_users = [\"1\", \"42\"]"), "{out}");
        let (again, changed) = add_allowed_user(&out, "c.toml", "42").unwrap();
        assert!(!changed);
        assert_eq!(again, out);
    }

    #[test]
    fn creates_the_table_when_missing() {
        let (out, changed) = add_allowed_user("[gateway]\nport = 1\n", "c.toml", "7").unwrap();
        assert!(changed);
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(
            parsed["channel"]["telegram"]["allowed_users"],
            toml::Value::Array(vec!["7".into()])
        );
    }

    #[test]
    fn refuses_bad_ids_and_bad_shapes() {
        assert!(matches!(
            add_allowed_user(FILE, "c", "abc"),
            Err(BindError::BadId(_))
        ));
        assert!(matches!(
            add_allowed_user(FILE, "c", "-5"),
            Err(BindError::BadId(_))
        ));
        assert!(matches!(
            add_allowed_user("[channel.telegram]\nallowed_users = \"1\"\n", "c", "5"),
            Err(BindError::NotAnArray { .. })
        ));
        assert!(matches!(
            add_allowed_user("[[[", "c", "5"),
            Err(BindError::Parse { .. })
        ));
    }
}
