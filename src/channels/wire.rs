//! Reading what a service sends. Services add fields and change shapes, and
//! bad input must never take a channel down: a field of an unexpected shape
//! reads as absent instead of failing the whole payload.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// For `#[serde(default, deserialize_with = "lenient")]` on an `Option`
/// field: the value when it has the expected shape, else `None`.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::lenient;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "lenient")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "lenient")]
        s: Option<String>,
    }

    #[test]
    fn odd_shapes_read_as_absent() {
        let t: T = serde_json::from_str(r#"{"n":"seven","s":"x","extra":[1]}"#).unwrap();
        assert_eq!((t.n, t.s.as_deref()), (None, Some("x")));
        let t: T = serde_json::from_str(r#"{"n":7,"s":null}"#).unwrap();
        assert_eq!((t.n, t.s), (Some(7), None));
        let t: T = serde_json::from_str("{}").unwrap();
        assert_eq!((t.n, t.s), (None, None));
    }
}
