//! What lets anyone check a run against its sources: the exact messages of every probe cell
//! (`plan --format json`), datasets as uploaded (`dataset`), and where sources are found.

use super::args::Cli;
use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};
use std::path::PathBuf;
use weirdgen::model::config::Config;
use weirdgen::run::Plan;
use weirdgen::suite::{LoadedSuite, ResolvedDataset, SourceRoots};

/// Source folders from `--source NAME=PATH` and `[sources]` in weirdgen.toml.
pub fn source_roots(cli: &Cli) -> Result<SourceRoots> {
    let mut roots = SourceRoots::default();
    for s in &cli.sources {
        let (name, path) = s
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| anyhow!("--source `{s}`: write NAME=PATH, e.g. paper=../checkout"))?;
        roots.flags.insert(name.to_string(), PathBuf::from(path));
    }
    if let Ok(config) = Config::load(std::path::Path::new(".")) {
        roots.config = config.sources;
    }
    Ok(roots)
}

/// The text uploaded for dataset `name` of the suite.
pub fn dataset_text(suite: &LoadedSuite, name: &str) -> Result<String> {
    match suite.datasets.get(name) {
        Some(ResolvedDataset::Ready(t)) => Ok(t.to_jsonl()),
        Some(_) => bail!(
            "dataset `{name}` is built when the suite runs (distilled, or a mix with a distilled part)"
        ),
        None => bail!(
            "suite `{}` has no dataset `{name}` (it has: {})",
            suite.suite.name,
            suite
                .datasets
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The plan as JSON: counts, the source and its pinned files, every dataset's upload hash,
/// every judge's prompt template and request settings, and every probe cell with the exact
/// messages sent.
pub fn plan_json(suite: &LoadedSuite, plan: &Plan) -> Value {
    let e = &plan.estimate;
    let source = suite.source.as_ref().map(|co| {
        json!({
            "name": co.spec.name, "repository": co.spec.repository, "commit": co.spec.commit,
            "root": co.root, "files": co.spec.files,
        })
    });
    let datasets: serde_json::Map<String, Value> = suite
        .datasets
        .iter()
        .map(|(name, ds)| {
            let v = match ds {
                ResolvedDataset::Ready(t) => json!({
                    "conversations": t.conversations.len(),
                    "verbatim": t.verbatim.is_some(),
                    "upload_blake3": blake3::hash(t.to_jsonl().as_bytes()).to_hex().to_string(),
                }),
                _ => json!({ "built_at_run_time": true }),
            };
            (name.clone(), v)
        })
        .collect();
    let judges: serde_json::Map<String, Value> = suite
        .judges
        .iter()
        .map(|(name, def)| {
            let j = &def.spec;
            (
                name.clone(),
                json!({
                    "kind": j.kind, "model": def.model.as_ref().map(|m| &m.reference),
                    "prompt": j.prompt, "max_tokens": j.max_tokens, "labels": j.labels,
                }),
            )
        })
        .collect();
    json!({
        "suite": plan.suite,
        "model": plan.model.to_string(),
        "source": source,
        "arms": plan.arms.iter().map(|a| json!({"name": a.name, "replicas": a.replicas.len(), "fixed": a.fixed})).collect::<Vec<_>>(),
        "datasets": datasets,
        "judges": judges,
        "estimate": {
            "finetunes": e.finetunes, "samples": e.samples, "judge_calls": e.judge_calls,
            "cost": e.cost,
        },
        "cells": plan.cells,
    })
}
