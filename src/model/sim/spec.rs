//! The simulator's spec file (`<name>.sim.yaml`): parsing, validation and lookup.

use super::dist::Dist;
use anyhow::{Context, Result, anyhow, bail};
use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;
use std::path::Path;

/// The model key of the base model in a spec's `models`.
pub(crate) const BASE: &str = "base";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    replica_sd: f64,
    #[serde(default)]
    finetune_polls: u32,
    #[serde(default)]
    latency_ms: u64,
    models: IndexMap<String, ModelFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    #[serde(default)]
    default: Option<IndexMap<String, f64>>,
    #[serde(default)]
    probes: Vec<ProbeFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeFile {
    #[serde(rename = "match")]
    pattern: String,
    answers: IndexMap<String, f64>,
}

/// A loaded, validated simulator spec.
#[derive(Debug)]
pub(crate) struct SimSpec {
    /// SD of the per-answer logit shift of a fine-tuned replica.
    pub replica_sd: f64,
    /// How many status polls a fine-tune stays `running` before it succeeds.
    pub finetune_polls: u32,
    /// Simulated latency of every sampling request, like a remote provider's.
    pub latency_ms: u64,
    models: IndexMap<String, SimModel>,
}

#[derive(Debug)]
struct SimModel {
    default: Option<Dist>,
    probes: Vec<SimProbe>,
}

#[derive(Debug)]
struct SimProbe {
    pattern: String,
    regex: Regex,
    answers: Dist,
}

/// Where an answer distribution came from: it names the replica-spread stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source<'a> {
    /// A probe entry, by its `match` pattern.
    Probe(&'a str),
    /// A model's `default`.
    Default,
}

impl SimSpec {
    /// Reads and validates the spec file at `path`.
    pub fn load(path: &Path) -> Result<SimSpec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the sim spec {}", path.display()))?;
        SimSpec::parse(&text, path)
    }

    /// Parses and validates a spec; errors name `file` and the line and column (syntax and
    /// types) or the key path (values).
    pub fn parse(text: &str, file: &Path) -> Result<SimSpec> {
        let raw: SpecFile = serde_yaml::from_str(text).map_err(|e| yaml_error(file, &e))?;
        validate(raw).map_err(|e| anyhow!("{}: {e:#}", file.display()))
    }

    /// The answer distribution for `question` (the last user message) of the base model
    /// (`dataset` = `None`) or of a fine-tune on `dataset`. A fine-tune whose dataset has an
    /// entry in `models` tries that entry's probes in order, then its `default`; then (and
    /// for the base model and unlisted datasets) `base`'s probes, then `base`'s `default`.
    pub fn resolve(&self, dataset: Option<&str>, question: &str) -> Result<(&Dist, Source<'_>)> {
        let own = dataset.and_then(|d| self.models.get(d));
        let base = &self.models[BASE];
        for model in own.into_iter().chain([base]) {
            if let Some(p) = model.probes.iter().find(|p| p.regex.is_match(question)) {
                return Ok((&p.answers, Source::Probe(&p.pattern)));
            }
            if let Some(d) = &model.default {
                return Ok((d, Source::Default));
            }
        }
        let tried: Vec<String> = own
            .and(dataset)
            .into_iter()
            .chain([BASE])
            .map(|m| format!("`{m}`"))
            .collect();
        bail!(
            "no probe of {} matches the question {question:?}, and none has a `default`",
            tried.join(" or ")
        )
    }
}

fn validate(raw: SpecFile) -> Result<SimSpec> {
    if !(raw.replica_sd.is_finite() && raw.replica_sd >= 0.0) {
        bail!(
            "replica_sd: must be a finite number ≥ 0, not {}",
            raw.replica_sd
        );
    }
    if !raw.models.contains_key(BASE) {
        bail!(
            "models: no `{BASE}` entry (the base model, which fine-tunes of unlisted datasets follow)"
        );
    }
    let mut models = IndexMap::new();
    for (name, m) in raw.models {
        let path = format!("models.{name}");
        let default = match m.default {
            Some(d) => Some(dist(d).with_context(|| format!("{path}.default"))?),
            None => None,
        };
        let mut probes = Vec::new();
        for (i, p) in m.probes.into_iter().enumerate() {
            let at = format!("{path}.probes[{i}]");
            let regex = Regex::new(&p.pattern)
                .with_context(|| format!("{at}.match: bad regular expression `{}`", p.pattern))?;
            let answers = dist(p.answers).with_context(|| format!("{at}.answers"))?;
            probes.push(SimProbe {
                pattern: p.pattern,
                regex,
                answers,
            });
        }
        models.insert(name, SimModel { default, probes });
    }
    Ok(SimSpec {
        replica_sd: raw.replica_sd,
        finetune_polls: raw.finetune_polls,
        latency_ms: raw.latency_ms,
        models,
    })
}

fn dist(answers: IndexMap<String, f64>) -> Result<Dist> {
    if answers.is_empty() {
        bail!("no answers");
    }
    for (a, p) in &answers {
        if !(p.is_finite() && *p >= 0.0) {
            bail!("the probability of {a:?} must be a finite number ≥ 0, not {p}");
        }
    }
    if answers.values().sum::<f64>() <= 0.0 {
        bail!("the probabilities sum to 0");
    }
    let (texts, weights) = answers.into_iter().unzip();
    Ok(Dist::new(texts, weights))
}

/// `file:line:column: message` for a YAML syntax or type error.
fn yaml_error(file: &Path, e: &serde_yaml::Error) -> anyhow::Error {
    anyhow!(crate::yaml_error::describe(&file.display().to_string(), e))
}
