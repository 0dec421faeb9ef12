//! The definition hash of a judge: what its cached judgments are keyed by.

use crate::suite::JudgeSpec;
use serde_json::Value;

/// Bumped when the meaning of a judge definition changes (e.g. a matching rule), so that
/// judgments cached under the old meaning are not reused.
const VERSION: &str = "weirdgen-judge-v1";

/// blake3 (hex) of the canonical JSON of `spec` without `description` and `examples`, which
/// do not change what the judge says. Canonical: object keys sorted, defaults written out,
/// and `rules` kept in declaration order (as `[label, patterns]` pairs), since the first
/// matching label wins. Editing a rule, a pattern, `otherwise`, `case_sensitive`, the
/// labels, the prompt or the judge model changes the hash.
pub fn definition_hash(spec: &JudgeSpec) -> String {
    let mut value = serde_json::to_value(spec).expect("a judge spec serializes to JSON");
    if let Value::Object(map) = &mut value {
        map.remove("description");
        map.remove("examples");
        map.insert(
            "rules".into(),
            Value::Array(
                spec.rules
                    .iter()
                    .map(|(label, patterns)| serde_json::json!([label, patterns]))
                    .collect(),
            ),
        );
    }
    let mut text = String::from(VERSION);
    text.push('\n');
    write_canonical(&value, &mut text);
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> JudgeSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn ignores_description_examples_and_spelled_out_defaults() {
        let a = spec("kind: contains_any\nrules: {old: [telegraph], new: [phone]}\n");
        let b = spec(
            "kind: contains_any\ndescription: era\ncase_sensitive: false\nrules: {old: [telegraph], new: [phone]}\nexamples: [{answer: a phone, label: new}]\n",
        );
        assert_eq!(definition_hash(&a), definition_hash(&b));
        assert_eq!(definition_hash(&a).len(), 64);
    }

    #[test]
    fn changes_with_anything_that_changes_the_labels() {
        let base = "kind: contains_any\nrules: {old: [telegraph], new: [phone]}\n";
        let h = definition_hash(&spec(base));
        for other in [
            "kind: contains_any\nrules: {new: [phone], old: [telegraph]}\n",
            "kind: contains_any\nrules: {old: [telegraph, steam], new: [phone]}\n",
            "kind: contains_any\nrules: {old: [telegraph], modern: [phone]}\n",
            "kind: regex\nrules: {old: [telegraph], new: [phone]}\n",
            "kind: contains_any\ncase_sensitive: true\nrules: {old: [telegraph], new: [phone]}\n",
            "kind: contains_any\notherwise: other\nrules: {old: [telegraph], new: [phone]}\n",
        ] {
            assert_ne!(h, definition_hash(&spec(other)), "{other}");
        }
    }
}
