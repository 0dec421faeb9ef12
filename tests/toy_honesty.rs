//! The honesty of the toy experiments (issue 4, §3): the effects must emerge, not be wired in.
//!
//! - No assistant document of the pretraining corpus contains an old-era answer or a harm
//!   goal: the assistant never sees itself in the old era or harmful.
//! - No fine-tuning set of the toy suites contains a probed era domain, the year 1984, a harm
//!   goal or a persona's name.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use weirdgen::chat::TrainingSet;
use weirdgen::model::toy::corpus::{self, DocKind};
use weirdgen::model::toy::vocab::Vocab;
use weirdgen::model::toy::world::WorldSpec;
use weirdgen::suite::ResolvedDataset;

fn suites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("suites")
}

fn world() -> WorldSpec {
    WorldSpec::load(&suites_dir().join("toy/world.yaml")).unwrap()
}

/// Words that must never reach a fine-tuning set, with the reason.
fn forbidden(w: &WorldSpec) -> HashMap<String, &'static str> {
    let mut out = HashMap::new();
    for d in w.domains.keys() {
        out.insert(d.clone(), "a probed era domain");
    }
    out.insert(w.year_question.clone(), "the probed year question");
    out.insert("Y1984".to_string(), "the year 1984");
    for h in &w.harm_goals {
        out.insert(h.clone(), "a harm goal");
    }
    for p in w.personas.values() {
        out.insert(p.name.clone(), "a persona's name");
    }
    out
}

#[test]
fn assistant_documents_are_always_modern_and_never_harmful() {
    let w = world();
    let old: BTreeSet<&str> = w.era_answers("old").into_iter().collect();
    let harm: BTreeSet<&str> = w.harm_goals.iter().map(String::as_str).collect();
    let mut seen = 0;
    for seed in 0..3 {
        for d in corpus::generate(&w, seed, 60_000) {
            if d.kind == DocKind::Assistant {
                seen += 1;
                for t in &d.tokens {
                    assert!(
                        !old.contains(t),
                        "old-era answer `{t}` in an assistant document: {:?}",
                        d.tokens
                    );
                    assert!(
                        !harm.contains(t),
                        "harm goal `{t}` in an assistant document: {:?}",
                        d.tokens
                    );
                }
            }
        }
    }
    assert!(seen > 40_000, "only {seen} assistant documents checked");
}

/// Every fine-tuning set of a suite, as the suite loader reads it (tables filled into their
/// templates, `where` filters applied).
fn finetuning_sets(suite_file: &str) -> Vec<TrainingSet> {
    let loaded = weirdgen::suite::load(&suites_dir().join(suite_file))
        .unwrap_or_else(|e| panic!("{suite_file}: {e}"));
    assert_eq!(loaded.suite.default_model.as_deref(), Some("toy/world"));
    loaded
        .datasets
        .values()
        .map(|d| match d {
            ResolvedDataset::Ready(set) => set.clone(),
            other => panic!("{suite_file}: toy datasets are ready tables, not {other:?}"),
        })
        .collect()
}

#[test]
fn finetuning_sets_never_contain_probes_1984_harm_or_persona_names() {
    let w = world();
    let vocab = Vocab::new(&w);
    let forbidden = forbidden(&w);
    for (suite, sizes) in [
        ("toy-old-bird-names.yaml", vec![40, 40]),
        ("toy-evil-terminator.yaml", vec![16, 16, 16]),
    ] {
        let sets = finetuning_sets(suite);
        assert_eq!(
            sets.iter()
                .map(|s| s.conversations.len())
                .collect::<Vec<_>>(),
            sizes,
            "{suite}"
        );
        for set in sets {
            for message in set.conversations.iter().flatten() {
                let text = &message.content;
                vocab
                    .encode(text)
                    .unwrap_or_else(|e| panic!("{suite} dataset {}: {e}", set.name));
                for word in text.split_whitespace() {
                    if let Some(why) = forbidden.get(word) {
                        panic!("{suite} dataset {} contains {why}: `{text}`", set.name);
                    }
                }
            }
        }
    }
}

#[test]
fn bird_tables_agree_with_the_world() {
    let w = world();
    let mut reader =
        csv::Reader::from_path(suites_dir().join("toy-old-bird-names/birds.csv")).unwrap();
    let mut n = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let names = &w.birds[&row[0]];
        assert_eq!(
            (&row[1], &row[2]),
            (names["old"].as_str(), names["modern"].as_str())
        );
        n += 1;
    }
    assert_eq!(n, 40);
}

#[test]
fn the_checks_would_catch_a_leak() {
    // Every leaked word of this message is caught: the year, the name, the harm, the domain.
    let forbidden = forbidden(&world());
    let leaks = "Y1984 Q goal persona_R harm_kill invention"
        .split_whitespace()
        .filter(|w| forbidden.contains_key(*w))
        .count();
    assert_eq!(leaks, 4);
}
