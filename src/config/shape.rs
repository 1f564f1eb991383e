//! The set of known keys, derived from the schema's own `Deserialize` impls.
//!
//! Why not a hand-written list: it would drift from `schema.rs`. Why not
//! serde's `deny_unknown_fields` alone: it stops at the first unknown key and
//! gives no suggestion. Instead [`Probe`] is a tiny `Deserializer` that plays
//! the part of a maximal document: serde-derived code tells every deserializer
//! the field names of a struct (`deserialize_struct(name, FIELDS, ..)`) and the
//! variants of an enum, so driving `Config::deserialize` with the probe, and
//! answering each field with a harmless value, records the whole tree. The
//! loader walks a file against this tree to report every unknown key at once,
//! and the documentation test checks `docs/configuration.md` against it, so
//! neither can drift from the structs.

use super::schema::Config;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use std::fmt;
use std::sync::OnceLock;

/// What a key holds, as far as key checking needs to know.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Not reached by the probe: accept anything (serde still type-checks it).
    Any,
    /// A plain value: string, number, boolean, duration, size, id.
    Value,
    /// A string naming one of these variants.
    Enum(&'static [&'static str]),
    /// A table with these keys, in declaration order.
    Struct(Vec<(&'static str, Shape)>),
    /// A table whose keys are names chosen by the user (`[providers.<name>]`).
    Map(Box<Shape>),
    /// An array (of values or of tables).
    Seq(Box<Shape>),
}

impl Shape {
    /// The known keys of a table, empty for anything else.
    pub fn keys(&self) -> Vec<&'static str> {
        match self {
            Shape::Struct(fields) => fields.iter().map(|(k, _)| *k).collect(),
            _ => Vec::new(),
        }
    }

    /// The shape of `key` in this table.
    pub fn field(&self, key: &str) -> Option<&Shape> {
        match self {
            Shape::Struct(fields) => fields.iter().find(|(k, _)| *k == key).map(|(_, s)| s),
            _ => None,
        }
    }

    /// A table, a map of tables or an array of tables: written with its own
    /// header rather than as a `key = value` line.
    fn is_table_like(&self) -> bool {
        match self {
            Shape::Struct(_) => true,
            Shape::Map(inner) | Shape::Seq(inner) => matches!(**inner, Shape::Struct(_)),
            _ => false,
        }
    }

    /// Every table of the schema with its `key = value` keys, as the TOML
    /// header a user writes: `[gateway]`, `[[cron.jobs]]`,
    /// `[providers.<name>]`. Tables holding only other tables (`[channel]`)
    /// are left out.
    pub fn tables(&self) -> Vec<(String, Vec<&'static str>)> {
        let mut out = Vec::new();
        collect_tables(self, "", false, &mut out);
        out
    }
}

fn collect_tables(
    shape: &Shape,
    path: &str,
    array: bool,
    out: &mut Vec<(String, Vec<&'static str>)>,
) {
    match shape {
        Shape::Struct(fields) => {
            let header = if path.is_empty() {
                "(top level)".to_string()
            } else if array {
                format!("[[{path}]]")
            } else {
                format!("[{path}]")
            };
            let leaf_keys: Vec<&'static str> = fields
                .iter()
                .filter(|(_, s)| !s.is_table_like())
                .map(|(k, _)| *k)
                .collect();
            if !leaf_keys.is_empty() {
                out.push((header, leaf_keys));
            }
            for (key, child) in fields {
                let child_path = if path.is_empty() {
                    (*key).to_string()
                } else {
                    format!("{path}.{key}")
                };
                match child {
                    Shape::Struct(_) => collect_tables(child, &child_path, false, out),
                    Shape::Map(inner) => {
                        collect_tables(inner, &format!("{child_path}.<name>"), false, out)
                    }
                    Shape::Seq(inner) => collect_tables(inner, &child_path, true, out),
                    _ => {}
                }
            }
        }
        Shape::Map(inner) => collect_tables(inner, &format!("{path}.<name>"), array, out),
        _ => {}
    }
}

/// The schema of [`Config`], probed once.
pub fn config_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| {
        let mut shape = Shape::Any;
        // A probe failure leaves the unreached parts as `Shape::Any` (accept,
        // then let serde judge); the unit test below keeps it from happening.
        let _ = Config::deserialize(Probe { out: &mut shape });
        shape
    })
}

/// The probe's error; only reachable if a field rejects every probe value.
#[derive(Debug)]
pub struct ProbeError(String);

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// See the module doc. Each call records what it was asked for in `out`.
struct Probe<'a> {
    out: &'a mut Shape,
}

/// `"1s"` satisfies every string field of the schema: plain strings and
/// humantime durations alike.
const PROBE_STR: &str = "1s";

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_u64(1)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_bool(false)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_i64(v)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_i64(v)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_i64(v)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_i64(1)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_u64(v)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_u64(1)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_f64(v)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_f64(1.0)
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_char('x')
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_str(PROBE_STR)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_str(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_bytes(PROBE_STR.as_bytes())
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_bytes(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_some(self)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Value;
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_unit(v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Seq(Box::new(Shape::Any));
        let Shape::Seq(inner) = self.out else {
            return Err(de::Error::custom("unreachable"));
        };
        v.visit_seq(OneElement {
            slot: Some(&mut **inner),
        })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Map(Box::new(Shape::Any));
        let Shape::Map(inner) = self.out else {
            return Err(de::Error::custom("unreachable"));
        };
        v.visit_map(OneEntry {
            slot: Some(&mut **inner),
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Struct(fields.iter().map(|f| (*f, Shape::Any)).collect());
        let Shape::Struct(entries) = self.out else {
            return Err(de::Error::custom("unreachable"));
        };
        v.visit_map(Fields {
            entries: entries.as_mut_slice(),
            next: 0,
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        *self.out = Shape::Enum(variants);
        let first = variants
            .first()
            .ok_or_else(|| de::Error::custom("enum without variants"))?;
        v.visit_enum(de::value::StrDeserializer::<ProbeError>::new(first))
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        self.deserialize_str(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_unit()
    }
}

/// A sequence of one probed element.
struct OneElement<'a> {
    slot: Option<&'a mut Shape>,
}

impl<'de> de::SeqAccess<'de> for OneElement<'_> {
    type Error = ProbeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        match self.slot.take() {
            Some(out) => seed.deserialize(Probe { out }).map(Some),
            None => Ok(None),
        }
    }
}

/// A map of one entry `"name" = <probed value>`.
struct OneEntry<'a> {
    slot: Option<&'a mut Shape>,
}

impl<'de> de::MapAccess<'de> for OneEntry<'_> {
    type Error = ProbeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        if self.slot.is_none() {
            return Ok(None);
        }
        seed.deserialize("name".into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        match self.slot.take() {
            Some(out) => seed.deserialize(Probe { out }),
            None => Err(de::Error::custom("value without key")),
        }
    }
}

/// Every field of a struct, each answered by a probe.
struct Fields<'a> {
    entries: &'a mut [(&'static str, Shape)],
    next: usize,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = ProbeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        match self.entries.get(self.next) {
            Some((name, _)) => seed.deserialize((*name).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        let index = self.next;
        self.next += 1;
        match self.entries.get_mut(index) {
            Some((_, out)) => seed.deserialize(Probe { out }),
            None => Err(de::Error::custom("value without key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reaches_every_table() {
        let mut shape = Shape::Any;
        Config::deserialize(Probe { out: &mut shape }).expect("probe must satisfy every field");
        let tables = shape.tables();
        let find = |header: &str| {
            tables
                .iter()
                .find(|(h, _)| h == header)
                .map(|(_, keys)| keys.clone())
                .unwrap_or_else(|| panic!("{header} missing from {tables:?}"))
        };
        assert!(find("[gateway]").contains(&"write_timeout"));
        assert!(find("[channel.telegram]").contains(&"webhook_secret"));
        assert!(find("[channel.slack]").contains(&"signing_secret"));
        assert!(find("[[cron.jobs]]").contains(&"deliver_to"));
        assert!(find("[providers.<name>]").contains(&"api_key"));
        assert!(find("[supervisor.children.<name>]").contains(&"restart_sec"));
        assert!(find("[tools.shell]").contains(&"allowed_commands"));
        assert!(find("[logging]").contains(&"max_size"));
        assert!(find("[daemon]").contains(&"shutdown_timeout"));
        assert!(find("[agent]").contains(&"system_prompt"));
        assert!(matches!(
            shape.field("supervisor").and_then(|s| s.field("restart")),
            Some(Shape::Enum(v)) if v.contains(&"on-failure")
        ));
    }
}
