//! Finding the line and column of a key path in a YAML text.
//!
//! serde_yaml gives no spans to a visitor, but it stamps every error with the position of the
//! node being read. So the text is read once more with a visitor that walks down the key path
//! and fails on purpose at its target: the error's location is the target's. A mapping key is
//! located at the key itself, a sequence item at the item.

use super::error::{KeyPath, Seg};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

const FOUND: &str = "\u{0}weirdgen-located\u{0}";

/// The 1-based (line, column) of `path` in `yaml`, or of its longest prefix that exists.
/// `None` for the root or when nothing of the path exists.
pub(crate) fn locate(yaml: &str, path: &KeyPath) -> Option<(usize, usize)> {
    (1..=path.0.len())
        .rev()
        .find_map(|n| locate_exact(yaml, &path.0[..n]))
}

fn locate_exact(yaml: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let de = serde_yaml::Deserializer::from_str(yaml);
    match (Walk { path }).deserialize(de) {
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

/// Walks down `path`; fails with [`FOUND`] at its end.
struct Walk<'p> {
    path: &'p [Seg],
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.path.split_first() else {
            return found(self.path);
        };
        while let Some(hit) = map.next_key_seed(KeyIs {
            want,
            last: rest.is_empty(),
        })? {
            if hit {
                return map.next_value_seed(Walk { path: rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.path.split_first() else {
            return found(self.path);
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Walk { path: rest })?;
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        found(self.path)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        found(self.path)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        found(self.path)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        found(self.path)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        found(self.path)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        found(self.path)
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        found(self.path)
    }
}

/// At the path's end the target is found; before it, a scalar means the path does not exist.
fn found<E: de::Error>(path: &[Seg]) -> Result<(), E> {
    if path.is_empty() {
        Err(E::custom(FOUND))
    } else {
        Ok(())
    }
}

/// Reads a mapping key: whether it is `want` (failing with [`FOUND`] there if it is the last step).
struct KeyIs<'a> {
    want: &'a str,
    last: bool,
}

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match (v == self.want, self.last) {
            (true, true) => Err(E::custom(FOUND)),
            (hit, _) => Ok(hit),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
name: x
arms:
  base: {model: base}
  treatment:
    finetune:
      dataset: birds
effects:
  - name: a
    kind: level
  - name: b
    treatment: treatmnt
";

    fn at(path: KeyPath) -> Option<(usize, usize)> {
        locate(YAML, &path)
    }

    #[test]
    fn finds_keys_and_items() {
        let r = KeyPath::root();
        assert_eq!(at(r.key("name")), Some((1, 1)));
        assert_eq!(at(r.key("arms").key("treatment")), Some((4, 3)));
        assert_eq!(
            at(r.key("arms")
                .key("treatment")
                .key("finetune")
                .key("dataset")),
            Some((6, 7))
        );
        assert_eq!(at(r.key("arms").key("base").key("model")), Some((3, 10)));
        assert_eq!(at(r.key("effects").index(1)), Some((10, 5)));
        assert_eq!(
            at(r.key("effects").index(1).key("treatment")),
            Some((11, 5))
        );
    }

    #[test]
    fn a_missing_key_falls_back_to_its_parent() {
        let r = KeyPath::root();
        assert_eq!(at(r.key("effects").index(0).key("treatment")), Some((8, 5)));
        assert_eq!(at(r.key("nothing")), None);
        assert_eq!(at(r), None);
    }
}
