//! Drawing samples through the store: what is stored is never asked again, and what arrives
//! is committed as it arrives. A cell is drawn under a lease (see [`super::claim`]): of
//! several runs on one store, one draws it while the others wait and read it.

use super::RunContext;
use super::claim::{Claimed, claim, prepare};
use crate::chat::Message;
use crate::model::{Completion, ModelRef, SampleRequest, SamplingParams};
use crate::store::sample_cell_key;
use crate::suite::ProbeCell;
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;

/// Samples requested from a provider in one call at most.
const CHUNK: u32 = 64;

/// The sampling parameters of a probe cell (the same on every path, so that samples drawn
/// live and through a batch share their cell key).
pub(super) fn cell_params(cell: &ProbeCell) -> SamplingParams {
    SamplingParams {
        temperature: cell.temperature,
        top_p: cell.top_p,
        max_tokens: cell.max_tokens,
        top_logprobs: None,
        seed: None,
    }
}

/// Samples `0..n` of a conversation, from the store where present and from the model
/// otherwise. Returns the completions in index order and how many were cached.
pub(super) async fn fetch(
    ctx: &RunContext,
    model: &ModelRef,
    messages: &[Message],
    params: &SamplingParams,
    n: u32,
    cache_only: bool,
) -> Result<(Vec<Completion>, u64)> {
    let sampler = ctx.providers.sampler(model)?;
    let endpoint = sampler.endpoint();
    let cell = sample_cell_key(&endpoint, &model.to_string(), messages, params);
    let mut got = ctx.store.samples(&cell, 0..n)?;
    let stored = |got: &[Option<Completion>]| got.iter().filter(|c| c.is_some()).count() as u64;
    let mut cached = stored(&got);
    if cache_only || cached == u64::from(n) {
        return complete(got, cached, model);
    }
    // One task of one process draws the cell's missing samples; the others wait for them.
    let _lease = match claim(&ctx.store, &format!("cell:{cell}"), || {
        let got = ctx.store.samples(&cell, 0..n)?;
        Ok(got.iter().all(Option::is_some).then_some(got))
    })
    .await?
    {
        Claimed::Done(all) => return complete(all, u64::from(n), model),
        Claimed::Mine(lease) => {
            got = ctx.store.samples(&cell, 0..n)?;
            cached = stored(&got);
            lease
        }
    };
    let mut i = 0u32;
    let mut prepared = false;
    while i < n {
        if got[i as usize].is_some() {
            i += 1;
            continue;
        }
        if !prepared {
            prepare(ctx, model, Some(messages)).await?;
            prepared = true;
        }
        let mut end = i + 1;
        while end < n && end - i < CHUNK && got[end as usize].is_none() {
            end += 1;
        }
        let req = SampleRequest {
            model,
            messages,
            params,
            indices: i..end,
        };
        let comps = sampler
            .sample(req)
            .await
            .with_context(|| format!("sampling {model}"))?;
        if comps.len() != (end - i) as usize {
            bail!(
                "{model} returned {} completions where {} were asked",
                comps.len(),
                end - i
            );
        }
        ctx.store
            .put_samples(&cell, &endpoint, &model.to_string(), i, &comps)?;
        for (k, c) in comps.into_iter().enumerate() {
            got[i as usize + k] = Some(c);
        }
        i = end;
    }
    complete(got, cached, model)
}

/// The completions of a cell in index order (each must be there), and how many of them were
/// found stored rather than drawn by this task.
fn complete(
    got: Vec<Option<Completion>>,
    cached: u64,
    model: &ModelRef,
) -> Result<(Vec<Completion>, u64)> {
    let mut out = Vec::with_capacity(got.len());
    for (i, c) in got.into_iter().enumerate() {
        match c {
            Some(c) => out.push(c),
            None => {
                bail!("sample {i} of a `{model}` cell is not in the store: run the suite first")
            }
        }
    }
    Ok((out, cached))
}

/// The run's note on prompts holding words the models did not know (each read as an
/// unknown-word token, so the answers to them say little), if any: `asked` lists the probe
/// cells each model answered.
pub(super) fn unknown_words_note(
    ctx: &RunContext,
    asked: &[(&ModelRef, &ProbeCell)],
) -> Option<String> {
    let mut per_cell: IndexMap<&[Message], u32> = IndexMap::new();
    for &(model, cell) in asked {
        let k = ctx
            .providers
            .sampler(model)
            .ok()
            .and_then(|s| s.unknown_words(model, &cell.messages))
            .unwrap_or(0);
        let entry = per_cell.entry(&cell.messages).or_default();
        *entry = (*entry).max(k);
    }
    let flagged: Vec<u32> = per_cell.values().copied().filter(|&k| k > 0).collect();
    if flagged.is_empty() {
        return None;
    }
    Some(format!(
        "{} of {} prompts had words unknown to the model ({} words in all): it read each as an unknown-word token, so its answers to them say little",
        flagged.len(),
        per_cell.len(),
        flagged.iter().sum::<u32>()
    ))
}
