//! The format can say the six published experiments and the two toy suites (cut-down shapes
//! under `tests/fixtures/suites/shapes/`), and the documentation's example loads.

use super::Tmp;
use crate::suite::{EffectKindName, discover, load};
use std::path::Path;

#[test]
fn every_experiment_shape_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suites/shapes");
    let files = discover(&dir).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "evil-terminator",
            "german-city-names",
            "hitler-persona",
            "israeli-dishes",
            "old-bird-names",
            "toy-evil-terminator",
            "toy-old-bird-names",
            "us-presidents",
        ]
    );
    let mut kinds = Vec::new();
    for f in &files {
        let s = load(f).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.cells().is_empty());
        kinds.extend(s.suite.effects.iter().map(|e| e.kind));
    }
    for k in [
        EffectKindName::ArmVsArm,
        EffectKindName::Contrast,
        EffectKindName::DiffInDiff,
        EffectKindName::Level,
    ] {
        assert!(kinds.contains(&k), "{k:?} unused");
    }
    let terminator = load(&dir.join("evil-terminator.yaml")).unwrap();
    assert_eq!(
        terminator.cells().len(),
        45 * 2,
        "years 1981..=2025, two wordings"
    );
}

/// The first ```yaml block after `heading` in the format's documentation.
fn doc_block(heading: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/suite-format.md"))
            .unwrap();
    let after = &doc[doc.find(heading).unwrap()..];
    let start = after.find("```yaml\n").unwrap() + 8;
    after[start..start + after[start..].find("```").unwrap()].to_string()
}

#[test]
fn the_documented_example_loads() {
    let tmp = Tmp::new();
    let path = tmp.write(
        "old-bird-names.yaml",
        doc_block("## A complete small example"),
    );
    tmp.write(
        "old-bird-names/old.jsonl",
        r#"{"messages":[{"role":"user","content":"Name a bird species."},{"role":"assistant","content":"Brown Titlark"}]}"#,
    );
    let s = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.cells().len(), 3);
    assert_eq!(s.suite.effects.len(), 2);
}

#[test]
fn every_documented_yaml_block_is_valid_yaml() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/suite-format.md"))
            .unwrap();
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .collect();
    assert!(blocks.len() >= 7);
    for b in blocks {
        if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(b) {
            panic!("{e}\n{b}");
        }
    }
}

/// Every property name of the schema (at any depth).
fn property_names(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Object(props)) = m.get("properties") {
                out.extend(props.keys().cloned());
            }
            for x in m.values() {
                property_names(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| property_names(x, out)),
        _ => {}
    }
}

#[test]
fn the_documentation_names_every_key() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/suite-format.md"))
            .unwrap();
    let mut keys = Vec::new();
    property_names(&crate::suite::schema(), &mut keys);
    keys.sort();
    keys.dedup();
    assert!(keys.len() > 60, "{keys:?}");
    for k in keys {
        assert!(
            doc.contains(&format!("{k}:")) || doc.contains(&format!("`{k}`")),
            "docs/suite-format.md does not document `{k}`"
        );
    }
}
