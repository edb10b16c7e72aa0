//! Token parts whose JSON repeats a member name are refused: a parser that keeps the first
//! occurrence and one that keeps the last (serde_json) would read two different tokens, and an
//! upstream that re-reads a forwarded token must not see other claims than warden judged.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Whether a base64url token part is JSON with no member name repeated in any object.
pub(crate) fn members_unique(part: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .is_some_and(|json| serde_json::from_slice::<Unique>(&json).is_ok())
}

/// A JSON value that was checked and thrown away.
struct Unique;

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON without repeated member names")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut seen = HashSet::new();
        // Names are compared unescaped: `"sub"` and `"\u0073ub"` are the same member.
        while let Some(name) = map.next_key::<String>()? {
            if !seen.insert(name) {
                return Err(de::Error::custom("repeated member name"));
            }
            map.next_value::<Unique>()?;
        }
        Ok(Unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique(json: &str) -> bool {
        members_unique(&URL_SAFE_NO_PAD.encode(json))
    }

    #[test]
    fn repeated_names_at_any_depth_are_refused() {
        assert!(unique(
            r#"{"a":1,"b":[{"a":2},{"a":3}],"c":{"d":null,"e":true,"f":-1.5}}"#
        ));
        for bad in [
            r#"{"sub":"a","sub":"b"}"#,
            r#"{"sub":"a","\u0073ub":"b"}"#,
            r#"{"x":{"roles":[],"roles":["admin"]}}"#,
            r#"{"x":[{"k":1,"k":1}]}"#,
        ] {
            assert!(!unique(bad), "{bad}");
        }
        assert!(!unique("{"), "not JSON");
        assert!(!members_unique("e30="), "padded base64");
    }
}
