//! YAML straight into JSON values, with a budget on the nodes built.
//!
//! YAML aliases let a few hundred bytes name billions of nodes (`b: &b [*a, *a, ...]`, nested):
//! serde_yaml replays an anchor's events at every alias, so a `serde_yaml::Value` of such a
//! document exhausts memory before anything can look at it. Building the JSON value here counts
//! every node as it is made, aliases included, and stops at a budget proportional to the input,
//! long before the memory is spent. Mapping keys that are numbers, booleans or null become strings
//! (a bare `200:` under `responses`), since JSON and OpenAPI keys are strings.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Nodes any document may build, however small: real specs with a few anchors stay far below.
const BASE_NODE_BUDGET: usize = 250_000;

/// The most nodes a document of `input_len` bytes may expand to. Without aliases a node takes at
/// least two bytes of YAML, so this leaves ample room for ordinary anchors while capping an alias
/// bomb's amplification at a small constant factor of its size.
pub(super) fn node_budget(input_len: usize) -> usize {
    BASE_NODE_BUDGET.saturating_add(input_len)
}

/// The marker in the error message of an exhausted budget, recognised by the caller.
pub(super) const BUDGET_EXCEEDED: &str = "YAML aliases expand to more than";

/// Parses YAML text into a JSON value, building at most `budget` nodes.
pub(super) fn to_json(text: &str, budget: usize) -> Result<Value, serde_yaml::Error> {
    let mut remaining = budget;
    let seed = Node {
        remaining: &mut remaining,
        budget,
    };
    seed.deserialize(serde_yaml::Deserializer::from_str(text))
}

/// One node to build; every node built takes one unit from `remaining`.
struct Node<'b> {
    remaining: &'b mut usize,
    budget: usize,
}

impl Node<'_> {
    fn take<E: de::Error>(&mut self) -> Result<(), E> {
        match self.remaining.checked_sub(1) {
            Some(left) => {
                *self.remaining = left;
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "{BUDGET_EXCEEDED} {} nodes for a spec of this size",
                self.budget
            ))),
        }
    }

    fn child(&mut self) -> Node<'_> {
        Node {
            remaining: self.remaining,
            budget: self.budget,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        // Beyond 64 bits JSON numbers have no exact form here; the nearest float is kept.
        self.visit_f64(v as f64)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.visit_f64(v as f64)
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<Value, E> {
        self.take()?;
        // NaN and infinities have no JSON form; null is the closest faithful value.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.visit_string(v.to_owned())
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let value = map.next_value_seed(self.child())?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A tagged value (`!Tag value`): OpenAPI has no use for tags, so the value stands alone.
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

/// A mapping key: a scalar, written as a string.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null as a mapping key (JSON and OpenAPI keys are strings; a list or mapping cannot be one)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<String, A::Error> {
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keys_and_tags_convert() {
        let value = to_json(
            "a: 1\n200: x\ntrue: y\n~: z\nf: 1.5\nn: .nan\nt: !Tag v\nl: [1, -2]\n",
            1000,
        )
        .unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "200": "x", "true": "y", "null": "z", "f": 1.5, "n": null, "t": "v", "l": [1, -2]})
        );
    }

    #[test]
    fn aliases_count_against_the_budget() {
        let text = "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a, *a]\n";
        assert!(to_json(text, 100).is_ok());
        let err = to_json(text, 15).unwrap_err();
        assert!(err.to_string().contains(BUDGET_EXCEEDED), "{err}");
    }

    #[test]
    fn collection_keys_are_rejected() {
        assert!(to_json("? [1, 2]\n: x\n", 100).is_err());
    }
}
