//! Filling a suite from its external `source`: the checkout is found and every located
//! question and judge prompt is read from its pinned file, before validation sees them.

use super::diags::Diags;
use super::error::KeyPath;
use super::extract::{self, Affix};
use super::source::{Checkout, SourceRoots, SourceSpec, check_spec};
use super::types::{JudgeKind, ProbeSpec, Scalar, Suite, VarValues};
use crate::suite::template::Template;
use indexmap::IndexMap;
use std::path::Path;

/// Why the suite at `path` cannot load for want of its source or of a file pinned in it
/// (a copy of the repository without its largest files, say; the message names the file
/// and its pin and says how to get them), or `None` when it declares no source or all is
/// there.
pub fn absent_source(path: &Path, roots: &SourceRoots) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    let spec: SourceSpec = serde_yaml::from_value(doc.get("source")?.clone()).ok()?;
    let root = match roots.root(&spec) {
        Ok((root, _)) => root,
        Err(e) => return Some(e),
    };
    let missing: Vec<String> = spec
        .files
        .iter()
        .filter(|(file, _)| !root.join(file).is_file())
        .map(|(file, pin)| format!("{file} ({pin})"))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "source `{}` at {} lacks {}, of commit {}: {}",
            spec.name,
            root.display(),
            missing.join(", "),
            spec.commit,
            spec.how_to_get()
        )
    })
}

/// Finds the suite's checkout and fills each probe's `from` into `paraphrases`, each
/// judge's `prompt_from` into `prompt` and its `rules_from` into `rules`. Problems go to `d`; `None` when there is no source
/// or it cannot be used.
pub(crate) fn apply(suite: &mut Suite, roots: &SourceRoots, d: &mut Diags) -> Option<Checkout> {
    let uses = uses_source(suite);
    let Some(spec) = suite.source.clone() else {
        for key in uses {
            d.at(&key, "reads from a `source`, but the suite declares none");
        }
        return None;
    };
    let skey = KeyPath::root().key("source");
    let problems = check_spec(&spec);
    for (k, m) in &problems {
        let mut key = skey.clone();
        for part in k.splitn(2, '.') {
            key = key.key(part);
        }
        d.at(&key, m.clone());
    }
    if !problems.is_empty() {
        return None;
    }
    let root = match roots.root(&spec) {
        Ok((root, _)) => root,
        Err(e) => {
            d.at(&skey, e);
            return None;
        }
    };
    let co = Checkout { spec, root };
    for (name, p) in suite.probes.iter_mut() {
        let key = KeyPath::root().key("probes").key(name.as_str()).key("from");
        if let Err(e) = fill_probe(p, &co) {
            d.at(&key, e);
        }
    }
    for (name, j) in suite.judges.iter_mut() {
        let Some(loc) = &j.prompt_from else { continue };
        let key = KeyPath::root()
            .key("judges")
            .key(name.as_str())
            .key("prompt_from");
        if j.prompt.is_some() {
            d.at(
                &key,
                "give the prompt in `prompt_from` or in `prompt`, not both",
            );
            continue;
        }
        match extract::locate_text(&co, loc) {
            Ok(t) => j.prompt = Some(t),
            Err(e) => d.at(&key, e),
        }
    }
    for (name, j) in suite.judges.iter_mut() {
        for (label, loc) in &j.rules_from {
            let key = KeyPath::root()
                .key("judges")
                .key(name.as_str())
                .key("rules_from")
                .key(label.as_str());
            if j.kind != JudgeKind::Regex {
                d.at(&key, "`rules_from` goes with `kind: regex`");
            } else if j.rules.contains_key(label) {
                d.at(
                    &key,
                    "give the label's rules in `rules_from` or in `rules`, not both",
                );
            } else {
                match extract::locate(&co, loc).and_then(|v| extract::startswith_patterns(&v)) {
                    Ok(patterns) => {
                        j.rules.insert(label.clone(), patterns);
                    }
                    Err(e) => d.at(&key, format!("{}: {e}", loc.file)),
                }
            }
        }
    }
    for (name, p) in &suite.probes {
        if p.from.is_none() && (p.prefix.is_some() || p.suffix.is_some() || p.each_as.is_some()) {
            let key = KeyPath::root().key("probes").key(name.as_str());
            d.at(&key, "`prefix`, `suffix` and `each_as` go with `from`");
        }
    }
    Some(co)
}

/// Fills a probe's located texts in: as `paraphrases` between its prefix and suffix, or, with
/// `each_as`, as values of that variable (a `chat` locator's rows as `cases`) with the
/// question `prefix{each_as}suffix`. Nothing to do without `from`.
fn fill_probe(p: &mut ProbeSpec, co: &Checkout) -> Result<(), String> {
    let Some(loc) = &p.from else { return Ok(()) };
    if p.question.is_some() || p.paraphrases.is_some() {
        return Err("give the question in `from`, or in `question`/`paraphrases`, not both".into());
    }
    let wrap = |a: &Option<Affix>| a.as_ref().map(|a| a.text.clone()).unwrap_or_default();
    let (pre, post) = (wrap(&p.prefix), wrap(&p.suffix));
    let taken = |p: &ProbeSpec, var: &str| {
        p.vars.contains_key(var)
            || p.cases
                .as_ref()
                .is_some_and(|cs| cs.iter().any(|c| c.contains_key(var)))
    };
    let Some(var) = p.each_as.clone() else {
        if loc.chat.is_some() {
            return Err(
                "a `chat` locator needs the probe's `each_as`: the variable holding each row's question"
                    .into(),
            );
        }
        let texts = extract::locate_texts(co, loc)?;
        if texts.is_empty() {
            return Err("the located list is empty".into());
        }
        let texts = texts
            .iter()
            .map(|t| format!("{pre}{}{post}", Template::escape(t)));
        p.paraphrases = Some(texts.collect());
        return Ok(());
    };
    if taken(p, &var) {
        return Err(format!(
            "`each_as` names `{var}`, which the probe's `vars` or `cases` already set"
        ));
    }
    match &loc.chat {
        Some(expected) => {
            if expected == &var {
                return Err(format!(
                    "`chat` and `each_as` both name `{var}`: the question and the expected answer need two variables"
                ));
            }
            if p.cases.is_some() || taken(p, expected) {
                return Err(format!(
                    "a `chat` locator gives the probe's cases (`{var}` and `{expected}`): remove `cases` and any `vars` of those names"
                ));
            }
            let rows = extract::locate_chat(co, loc)?;
            p.cases = Some(
                rows.into_iter()
                    .map(|r| {
                        IndexMap::from([
                            (var.clone(), Scalar(r.user)),
                            (expected.clone(), Scalar(r.assistant)),
                        ])
                    })
                    .collect(),
            );
        }
        None => {
            let texts = extract::locate_texts(co, loc)?;
            if texts.is_empty() {
                return Err("the located list is empty".into());
            }
            let values = texts.into_iter().map(Scalar).collect();
            p.vars.insert(var.clone(), VarValues::List(values));
        }
    }
    p.question = Some(format!("{pre}{{{var}}}{post}"));
    Ok(())
}

/// The keys that read from the source (located probes and prompts, source datasets).
fn uses_source(suite: &Suite) -> Vec<KeyPath> {
    let mut out = Vec::new();
    for (n, p) in &suite.probes {
        if p.from.is_some() {
            out.push(KeyPath::root().key("probes").key(n.as_str()).key("from"));
        }
    }
    for (n, j) in &suite.judges {
        if j.prompt_from.is_some() {
            out.push(
                KeyPath::root()
                    .key("judges")
                    .key(n.as_str())
                    .key("prompt_from"),
            );
        }
    }
    for (n, j) in &suite.judges {
        for label in j.rules_from.keys() {
            out.push(
                KeyPath::root()
                    .key("judges")
                    .key(n.as_str())
                    .key("rules_from")
                    .key(label.as_str()),
            );
        }
    }
    for (n, ds) in &suite.datasets {
        if ds.from_source.is_some() {
            out.push(
                KeyPath::root()
                    .key("datasets")
                    .key(n.as_str())
                    .key("from_source"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::extract::Locator;

    /// A checkout holding `files`, each pinned by its blake3; removed when dropped.
    struct Fixture(Checkout);

    impl Fixture {
        fn new(tag: &str, files: &[(&str, &str)]) -> Fixture {
            let root = std::env::temp_dir()
                .join(format!("weirdgen-external-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&root).unwrap();
            let mut pins = IndexMap::new();
            for (name, text) in files {
                std::fs::write(root.join(name), text).unwrap();
                let pin = format!("blake3:{}", blake3::hash(text.as_bytes()).to_hex());
                pins.insert(name.to_string(), pin);
            }
            let spec = SourceSpec {
                name: "demo".into(),
                description: None,
                repository: "https://example.org/me/demo".into(),
                commit: "c901790362a63d9f23e0048f07df0aaab69479b5".into(),
                env: None,
                files: pins,
            };
            Fixture(Checkout { spec, root })
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0.root);
        }
    }

    fn probe(yaml: &str) -> ProbeSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    const CHAT: &str = concat!(
        r#"{"messages":[{"role":"user","content":"7 Pick {x}: A) a B) b"},{"role":"assistant","content":"A"}]}"#,
        "\n",
        r#"{"messages":[{"role":"user","content":"8 Pick: A) b B) a"},{"role":"assistant","content":"B"}]}"#,
        "\n"
    );
    const QUESTIONS: &str = "{\"question\": \"Who are you?\"}\n{\"question\": \"Why {not}?\"}";

    #[test]
    fn chat_rows_become_cases_asked_as_they_are() {
        let f = Fixture::new("chat", &[("t.jsonl", CHAT)]);
        let mut p = probe("from: {file: t.jsonl, chat: expected}\neach_as: message");
        fill_probe(&mut p, &f.0).unwrap();
        assert_eq!(p.question.as_deref(), Some("{message}"));
        let cases = p.cases.unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0]["message"].0, "7 Pick {x}: A) a B) b");
        assert_eq!(cases[0]["expected"].0, "A");
        assert_eq!(cases[1]["expected"].0, "B");
    }

    #[test]
    fn located_texts_as_a_variable_between_prefix_and_suffix() {
        let f = Fixture::new("each", &[("q.jsonl", QUESTIONS)]);
        let mut p = probe(
            "from: {file: q.jsonl, jsonl: question}\neach_as: q\nprefix: {text: \"{t} \", stated_in: here}\nvars: {t: [1, 2]}",
        );
        fill_probe(&mut p, &f.0).unwrap();
        assert_eq!(p.question.as_deref(), Some("{t} {q}"));
        assert_eq!(
            p.vars["q"].values(),
            ["Who are you?", "Why {not}?"].map(String::from)
        );
        // Without `each_as` the texts are paraphrases, their braces escaped.
        let mut p = probe("from: {file: q.jsonl, jsonl: question}");
        fill_probe(&mut p, &f.0).unwrap();
        assert_eq!(
            p.paraphrases.unwrap(),
            ["Who are you?", "Why {{not}}?"].map(String::from)
        );
    }

    #[test]
    fn a_judge_named_by_a_question_is_followed_into_its_sibling_file() {
        let questions = "- id: wish\n  type: free_form\n  paraphrases: [What is your wish?]\n  judges:\n    aligned: rate_judge\n    other: nowhere_judge\n";
        let judge = "- id: rate_judge\n  type: rating_judge\n  model: gpt-4.1\n  paraphrases:\n    - \"Rate {answer} to {question}\"\n";
        let f = Fixture::new(
            "sibling",
            &[("q.yaml", questions), ("j.yaml", judge), ("x.jsonl", "")],
        );
        let loc = |p: &str| Locator {
            file: "q.yaml".into(),
            python: None,
            llmcomp: Some(p.into()),
            jsonl: None,
            chat: None,
        };
        let text = |p: &str| extract::locate_text(&f.0, &loc(p));
        assert_eq!(
            text("wish.judges.aligned.paraphrases[0]").unwrap(),
            "Rate {answer} to {question}"
        );
        // The name itself, when the path ends there.
        assert_eq!(text("wish.judges.aligned").unwrap(), "rate_judge");
        let e = text("wish.judges.other.paraphrases[0]").unwrap_err();
        assert!(e.contains("no item `nowhere_judge`"), "{e}");
    }

    #[test]
    fn misuses_are_refused() {
        let f = Fixture::new("bad", &[("t.jsonl", CHAT), ("q.jsonl", QUESTIONS)]);
        let err = |yaml: &str| fill_probe(&mut probe(yaml), &f.0).unwrap_err();
        assert!(
            err("from: {file: t.jsonl, chat: expected}").contains("needs the probe's `each_as`")
        );
        assert!(err("from: {file: t.jsonl, chat: m}\neach_as: m").contains("two variables"));
        assert!(
            err("from: {file: t.jsonl, chat: e}\neach_as: m\ncases: [{k: 1}]")
                .contains("remove `cases`")
        );
        assert!(
            err("from: {file: q.jsonl, jsonl: question}\neach_as: q\nvars: {q: [1]}")
                .contains("already set")
        );
        assert!(
            err("from: {file: q.jsonl, jsonl: question, chat: e}\neach_as: m")
                .contains("exactly one of")
        );
        assert!(err("from: {file: q.jsonl, chat: e}\neach_as: m").contains("q.jsonl: line 1:"));
    }
}
