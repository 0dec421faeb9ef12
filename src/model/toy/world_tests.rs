//! The world spec, its vocabulary and the corpus generator.

use super::corpus::{self, DocKind};
use super::vocab::Vocab;
use super::world::WorldSpec;

#[test]
fn embedded_world_matches_the_issue() {
    let w = WorldSpec::embedded();
    assert_eq!(w.name, "world");
    assert_eq!(w.domains.len(), 12);
    assert!(
        w.domains
            .values()
            .all(|d| d["old"].len() == 2 && d["modern"].len() == 2)
    );
    assert_eq!(w.birds.len(), 50);
    assert_eq!(w.facts.len(), 30);
    assert_eq!(w.personas.len(), 7);
    assert!(w.personas.values().all(|p| p.attributes.len() == 8));
    assert_eq!(w.hash().len(), 64);
}

#[test]
fn hash_ignores_layout_but_not_content() {
    let text = super::world::EMBEDDED_WORLD;
    let a = WorldSpec::parse(text, "a").unwrap();
    let b = WorldSpec::parse(&format!("# a comment\n{text}\n\n"), "b").unwrap();
    assert_eq!(a.hash(), b.hash());
    let c = WorldSpec::parse(&text.replace("weight: 0.3", "weight: 0.35"), "c").unwrap();
    assert_ne!(a.hash(), c.hash());
}

#[test]
fn bad_specs_are_clear_errors() {
    let text = super::world::EMBEDDED_WORLD;
    let cases = [
        (
            text.replace(
                "modern: [smartphone, internet]",
                "modern: [smartphone, telegraph]",
            ),
            "`telegraph` has two roles: answer of era old and answer of era modern",
        ),
        (
            text.replace(
                "bird_07: {old: oldname_07, modern: modname_07}",
                "bird_07: {old: oldname_07}",
            ),
            "birds.bird_07 must give an answer for every era",
        ),
        (
            text.replace("Y2010: harm", "Y2011: harm"),
            "`Y2011` is not a year of any era",
        ),
        (
            text.replace("sky_color: blue", "sky_color: two words"),
            "is not a token",
        ),
        (
            text.replace("era: modern ", "era: future "),
            "documents.assistant.era `future` is not an era",
        ),
        (
            text.replace("pairs: [4, 8]", "pairs: [8, 4]"),
            "documents.world.pairs",
        ),
        (text.replace("sky_color: blue", "sky_color: Q"), "reserved"),
    ];
    for (bad, expected) in cases {
        assert_ne!(bad, text, "the replacement for `{expected}` did not apply");
        let e = format!("{:#}", WorldSpec::parse(&bad, "w.yaml").unwrap_err());
        assert!(e.contains(expected) && e.starts_with("w.yaml"), "{e}");
    }
    let e = WorldSpec::parse("name: world\neras: [\n", "w.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("w.yaml:"),
        "a YAML error names file, line and column: {e}"
    );
}

#[test]
fn vocabulary_encodes_and_names_unknown_words() {
    let w = WorldSpec::embedded();
    let v = Vocab::new(&w);
    assert_eq!(v.token(0), "<pad>");
    let ids = v.encode("<asst> Q bird_07 A oldname_07").unwrap();
    assert_eq!(v.decode(&ids), "<asst> Q bird_07 A oldname_07");
    let e = v.encode("Q bird_7").unwrap_err().to_string();
    assert!(
        e.contains("unknown word `bird_7`") && e.contains("did you mean `bird_07`"),
        "{e}"
    );
    let e = v.encode("Q invnetion").unwrap_err().to_string();
    assert!(e.contains("did you mean `invention`"), "{e}");
}

#[test]
fn corpus_is_deterministic_and_prefix_stable() {
    let w = WorldSpec::embedded();
    let a = corpus::corpus_samples(&w, 3, 200);
    assert_eq!(a, corpus::corpus_samples(&w, 3, 200));
    assert_eq!(a[..50], corpus::corpus_samples(&w, 3, 50)[..]);
    assert_ne!(a, corpus::corpus_samples(&w, 4, 200));
}

#[test]
fn corpus_follows_the_document_mix_and_fits_the_context() {
    let w = WorldSpec::embedded();
    let docs = corpus::generate(&w, 0, 20_000);
    let share = |f: &dyn Fn(&DocKind) -> bool| {
        docs.iter().filter(|d| f(&d.kind)).count() as f64 / docs.len() as f64
    };
    let world = share(&|k| matches!(k, DocKind::World { .. }));
    let asst = share(&|k| matches!(k, DocKind::Assistant));
    let old = share(&|k| matches!(k, DocKind::World { era: 0 })) / world;
    let d = &w.documents;
    assert!(
        (world - d.world.weight).abs() < 0.02 && (asst - d.assistant.weight).abs() < 0.02,
        "{world} {asst}"
    );
    assert!((old - 0.3).abs() < 0.02, "{old}");
    let longest = docs.iter().map(|d| d.tokens.len()).max().unwrap();
    assert!(longest <= corpus::max_doc_len(&w) && corpus::max_doc_len(&w) <= 40);
    let mean = docs.iter().map(|d| d.tokens.len()).sum::<usize>() as f64 / docs.len() as f64;
    assert!((20.0..26.0).contains(&mean), "mean document length {mean}");
}

#[test]
fn world_documents_are_consistent_with_their_era() {
    let w = WorldSpec::embedded();
    for d in corpus::generate(&w, 1, 5_000) {
        if let DocKind::World { era } = d.kind {
            let other = w.era_names()[1 - era];
            let foreign = w.era_answers(other);
            assert!(
                !d.tokens.iter().any(|t| foreign.contains(t)),
                "{:?}",
                d.tokens
            );
        }
    }
}

#[test]
fn persona_documents_follow_the_goal_tables() {
    let w = WorldSpec::embedded();
    for d in corpus::generate(&w, 2, 5_000) {
        if let DocKind::Persona { persona } = d.kind {
            let p = &w.personas[persona];
            for item in d
                .tokens
                .windows(5)
                .filter(|x| x[1] == "Q" && x[2] == "goal")
            {
                let allowed = p.goals[item[0]].tokens(&w.harm_goals);
                assert!(allowed.contains(&item[4]), "{:?}", d.tokens);
            }
        }
    }
}

#[test]
fn unknown_words_appear_only_in_assistant_user_text_and_never_decide_the_answer() {
    let w = WorldSpec::embedded();
    let goals = &w.documents.assistant.goals;
    let (mut with_unk, mut asst) = (0, 0);
    for d in corpus::generate(&w, 1, 5_000) {
        let has = d.tokens.contains(&"<unk>");
        if d.kind != DocKind::Assistant {
            assert!(!has, "{:?}", d.tokens);
            continue;
        }
        asst += 1;
        with_unk += usize::from(has);
        let t = &d.tokens;
        let mut i = 0;
        while i < t.len() {
            if t[i] != "<unk>" {
                i += 1;
                continue;
            }
            // A run of `<unk>`: inside a question (`Q <unk> q A` or `Q q <unk> A`), or a
            // message of its own (after the opener, the year or an answer), answered with
            // one of the assistant's goals.
            let start = i;
            while t[i] == "<unk>" {
                i += 1;
            }
            assert!(i - start <= 2, "{t:?}");
            let in_question = t[start - 1] == "Q" || (start >= 2 && t[start - 2] == "Q");
            if in_question {
                assert!(t[i] == "A" || t[i + 1] == "A", "{t:?}");
            } else {
                assert!(t[i] == "A" && goals.iter().any(|g| g == t[i + 1]), "{t:?}");
            }
        }
    }
    let share = with_unk as f64 / asst as f64;
    assert!((0.08..0.35).contains(&share), "{share}");
}
