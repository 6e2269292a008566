//! A deserializer over a parsed JSON document that holds structs to JSON objects.
//!
//! serde's derived structs also accept a sequence (fields by position), so `"address": ["1
//! Main St", null, "Redmond"]` would parse as an address. A contract whose schema says
//! `type: object` must not accept that; this adapter refuses a non-object wherever a struct is
//! expected, at any depth, and otherwise reads the document as serde_json's own would.

use serde::de::value::StringDeserializer;
use serde::de::{
    self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

pub struct Strict(pub Value);

impl<'de> de::Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries::new(map)),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            scalar => scalar.deserialize_any(visitor).map_err(de::Error::custom),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries::new(map)),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a JSON object",
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            value => visitor.visit_some(Strict(value)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Enums of this API are strings; serde_json's own handling is the reference.
        de::Deserializer::deserialize_enum(self.0, name, variants, visitor)
            .map_err(de::Error::custom)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct identifier ignored_any
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

struct Entries {
    entries: serde_json::map::IntoIter,
    pending: Option<Value>,
}

impl Entries {
    fn new(map: Map<String, Value>) -> Self {
        Self {
            entries: map.into_iter(),
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                let key: StringDeserializer<serde_json::Error> = key.into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        let value = self.pending.take().ok_or_else(|| {
            <serde_json::Error as de::Error>::custom("a value was read before its key")
        })?;
        seed.deserialize(Strict(value))
    }
}

struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        self.0
            .next()
            .map(|item| seed.deserialize(Strict(item)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        name: String,
        inner: Inner,
        tags: Vec<String>,
        note: Option<String>,
        kind: Kind,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        count: u32,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Small,
        Large,
    }

    fn read(json: &str) -> Result<Outer, String> {
        let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Outer::deserialize(Strict(value)).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_what_serde_json_reads() {
        assert_eq!(
            read(r#"{"name":"a","inner":{"count":3},"tags":["x"],"note":null,"kind":"large"}"#),
            Ok(Outer {
                name: "a".into(),
                inner: Inner { count: 3 },
                tags: vec!["x".into()],
                note: None,
                kind: Kind::Large,
            })
        );
    }

    #[test]
    fn refuses_arrays_in_place_of_objects_at_any_depth() {
        let nested = read(r#"{"name":"a","inner":[3],"tags":[],"note":null,"kind":"small"}"#);
        assert!(
            nested
                .as_ref()
                .is_err_and(|e| e.contains("expected a JSON object")),
            "{nested:?}"
        );
        let top = read(r#"["a",{"count":3},[],null,"small"]"#);
        assert!(top.is_err());
    }

    #[test]
    fn keeps_serde_checks() {
        let unknown =
            read(r#"{"name":"a","inner":{"count":3,"x":1},"tags":[],"note":null,"kind":"small"}"#);
        assert!(unknown.is_err_and(|e| e.contains("unknown field")));
        let range =
            read(r#"{"name":"a","inner":{"count":-1},"tags":[],"note":null,"kind":"small"}"#);
        assert!(range.is_err());
        let variant =
            read(r#"{"name":"a","inner":{"count":1},"tags":[],"note":null,"kind":"huge"}"#);
        assert!(variant.is_err_and(|e| e.contains("unknown variant")));
    }
}
