//! Filling a suite from its external `source`: the checkout is found and every located
//! question and judge prompt is read from its pinned file, before validation sees them.

use super::diags::Diags;
use super::error::KeyPath;
use super::extract::{self, Affix};
use super::source::{Checkout, SourceRoots, SourceSpec, check_spec};
use super::types::{JudgeKind, Suite};
use crate::suite::template::Template;
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
        let Some(loc) = &p.from else { continue };
        let key = KeyPath::root().key("probes").key(name.as_str()).key("from");
        if p.question.is_some() || p.paraphrases.is_some() {
            d.at(
                &key,
                "give the question in `from`, or in `question`/`paraphrases`, not both",
            );
            continue;
        }
        match extract::locate_texts(&co, loc) {
            Ok(texts) if texts.is_empty() => d.at(&key, "the located list is empty"),
            Ok(texts) => {
                let wrap =
                    |a: &Option<Affix>| a.as_ref().map(|a| a.text.clone()).unwrap_or_default();
                let (pre, post) = (wrap(&p.prefix), wrap(&p.suffix));
                p.paraphrases = Some(
                    texts
                        .iter()
                        .map(|t| format!("{pre}{}{post}", Template::escape(t)))
                        .collect(),
                );
            }
            Err(e) => d.at(&key, e),
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
        if p.from.is_none() && (p.prefix.is_some() || p.suffix.is_some()) {
            let key = KeyPath::root().key("probes").key(name.as_str());
            d.at(&key, "`prefix` and `suffix` go with `from`");
        }
    }
    Some(co)
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
