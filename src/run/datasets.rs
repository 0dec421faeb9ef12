//! Building the datasets that need a model: distilled answers and mixes that contain them.

use super::{RunContext, RunOptions, sampling};
use crate::chat::{Message, TrainingSet};
use crate::model::{ModelRef, SamplingParams};
use crate::suite::{DistillSpec, LoadedSuite, ResolvedDataset};
use anyhow::{Context, Result};
use futures_util::StreamExt;
use indexmap::IndexMap;

/// Every dataset in `names` (and the parts they mix) as a training set.
pub(super) async fn materialize(
    suite: &LoadedSuite,
    names: &[String],
    ctx: &RunContext,
    opts: &RunOptions,
) -> Result<IndexMap<String, TrainingSet>> {
    let mut done: IndexMap<String, TrainingSet> = IndexMap::new();
    for name in build_order(suite, names)? {
        let ts = match &suite.datasets[name.as_str()] {
            ResolvedDataset::Ready(ts) => ts.clone(),
            ResolvedDataset::Distill { prompts, spec } => {
                distill(&name, prompts, spec, ctx, opts).await?
            }
            ResolvedDataset::Mix(parts) => {
                let convs = parts
                    .iter()
                    .flat_map(|p| done[p.as_str()].conversations.iter().cloned())
                    .collect();
                TrainingSet::new(name.as_str(), convs)
            }
        };
        done.insert(name, ts);
    }
    Ok(done)
}

/// The datasets to build, each after the parts it mixes (the loader rejects cycles).
fn build_order(suite: &LoadedSuite, names: &[String]) -> Result<Vec<String>> {
    fn visit(suite: &LoadedSuite, name: &str, out: &mut Vec<String>, depth: usize) -> Result<()> {
        anyhow::ensure!(depth <= 64, "dataset `{name}`: mixes nest too deeply");
        if out.iter().any(|n| n == name) {
            return Ok(());
        }
        let ds = suite
            .datasets
            .get(name)
            .with_context(|| format!("unknown dataset `{name}`"))?;
        if let ResolvedDataset::Mix(parts) = ds {
            for p in parts {
                visit(suite, p, out, depth + 1)?;
            }
        }
        out.push(name.to_string());
        Ok(())
    }
    let mut out = Vec::new();
    for n in names {
        visit(suite, n, &mut out, 0)?;
    }
    Ok(out)
}

/// Answers the prompts with the distillation model (through the store) and returns the
/// conversations with the answers appended.
async fn distill(
    name: &str,
    prompts: &[Vec<Message>],
    spec: &DistillSpec,
    ctx: &RunContext,
    opts: &RunOptions,
) -> Result<TrainingSet> {
    let model = match spec.model.as_deref() {
        None | Some("base") => opts.model.clone(),
        Some(m) => m.parse::<ModelRef>()?,
    };
    let params = SamplingParams {
        temperature: spec.answer_temperature(),
        top_p: None,
        max_tokens: spec.answer_max_tokens(),
        top_logprobs: None,
        seed: None,
    };
    let bar = opts.progress.stage("distill", prompts.len() as u64);
    let answers: Vec<Result<String>> = futures_util::stream::iter(prompts)
        .map(|p| answer(ctx, &model, p, &params, opts.cache_only, &bar))
        .buffered(opts.concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut convs = Vec::with_capacity(prompts.len());
    for (p, a) in prompts.iter().zip(answers) {
        let a = a.with_context(|| format!("dataset `{name}`: distilling answers from {model}"))?;
        let mut conv = p.clone();
        conv.push(Message::assistant(a));
        convs.push(conv);
    }
    Ok(TrainingSet::new(name, convs))
}

async fn answer(
    ctx: &RunContext,
    model: &ModelRef,
    prompt: &[Message],
    params: &SamplingParams,
    cache_only: bool,
    bar: &indicatif::ProgressBar,
) -> Result<String> {
    let (comps, _) = sampling::fetch(ctx, model, prompt, params, 1, cache_only).await?;
    bar.inc(1);
    Ok(comps.into_iter().next().map(|c| c.text).unwrap_or_default())
}
