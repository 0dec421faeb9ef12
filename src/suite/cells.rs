//! Probe expansion: every probe becomes cells (one assignment of its variables and one
//! wording), each with its messages and sampling settings.

use super::query::probe_judges;
use super::template::Template;
use super::types::{ProbeSpec, Suite};
use crate::chat::Message;
use serde::Serialize;
use std::collections::BTreeMap;

/// One probe cell: what is sent to every arm, `samples` times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeCell {
    pub probe: String,
    /// Index into the probe's paraphrases (0 for a single `question`).
    pub paraphrase: u32,
    /// This cell's variable values.
    pub vars: BTreeMap<String, String>,
    /// `[system?] + user`, placeholders filled.
    pub messages: Vec<Message>,
    /// The user message's text.
    pub question: String,
    pub samples: u32,
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub max_tokens: u32,
    /// The judges that score this cell's answers.
    pub judges: Vec<String>,
}

/// Every probe's cells: probes in file order; within a probe, `cases` × the `vars` grid (the
/// first variable slowest), then paraphrases.
pub(crate) fn expand(suite: &Suite) -> Vec<ProbeCell> {
    let mut out = Vec::new();
    for (name, p) in &suite.probes {
        let texts: Vec<&str> = match (&p.question, &p.paraphrases) {
            (Some(q), _) => vec![q.as_str()],
            (None, Some(ps)) => ps.iter().map(String::as_str).collect(),
            (None, None) => Vec::new(),
        };
        let judges: Vec<String> = probe_judges(suite, p)
            .into_iter()
            .map(str::to_string)
            .collect();
        for vars in assignments(p) {
            for (i, text) in texts.iter().enumerate() {
                let question = fill(text, &vars);
                let mut messages = Vec::with_capacity(2);
                if let Some(s) = &p.system {
                    messages.push(Message::system(fill(s, &vars)));
                }
                messages.push(Message::user(question.clone()));
                out.push(ProbeCell {
                    probe: name.clone(),
                    paraphrase: i as u32,
                    vars: vars.clone(),
                    messages,
                    question,
                    samples: p.samples.unwrap_or(suite.sampling.samples),
                    temperature: p.temperature.unwrap_or(suite.sampling.temperature),
                    top_p: p.top_p.or(suite.sampling.top_p),
                    max_tokens: p.max_tokens.unwrap_or(suite.sampling.max_tokens),
                    judges: judges.clone(),
                });
            }
        }
    }
    out
}

/// The probe's variable assignments: each case (in order) crossed with the grid of `vars`.
fn assignments(p: &ProbeSpec) -> Vec<BTreeMap<String, String>> {
    let mut grid = vec![BTreeMap::new()];
    for (name, values) in &p.vars {
        let values = values.values();
        grid = grid
            .into_iter()
            .flat_map(|g| {
                values.iter().map(move |v| {
                    let mut g = g.clone();
                    g.insert(name.clone(), v.clone());
                    g
                })
            })
            .collect();
    }
    let cases: Vec<BTreeMap<String, String>> = match &p.cases {
        Some(cs) => cs
            .iter()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
            .collect(),
        None => vec![BTreeMap::new()],
    };
    cases
        .iter()
        .flat_map(|c| {
            grid.iter().map(move |g| {
                let mut a = c.clone();
                a.extend(g.iter().map(|(k, v)| (k.clone(), v.clone())));
                a
            })
        })
        .collect()
}

/// `text` with the variables filled in. Loading has checked the template, so a failure is
/// impossible for a loaded suite; the raw text is kept if it happens anyway.
fn fill(text: &str, vars: &BTreeMap<String, String>) -> String {
    Template::parse(text)
        .ok()
        .and_then(|t| t.render(|n| vars.get(n).map(String::as_str)).ok())
        .unwrap_or_else(|| text.to_string())
}
