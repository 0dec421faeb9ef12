//! `--batch`: every probe sample a run lacks is drawn through the providers' batch APIs
//! (one batch per model, in chunks), then read from the store by the normal path. Samples go
//! under the same cell keys and indices as live ones, so either path reuses the other's.
//!
//! A batch is recorded in the store as soon as it is submitted; a run killed while waiting
//! resumes polling the same batch. Requests that got no answer are reported, never sampled
//! live behind the user's back.

use super::claim::{exclusive, prepare};
use super::plan::{Plan, ReplicaSource};
use super::sampling::cell_params;
use super::{RunContext, RunOptions};
use crate::model::batch::{BatchHandle, BatchRequest, BatchState, Batcher};
use crate::model::{ModelRef, SampleRequest, SamplingParams};
use crate::store::{BatchRecord, now, sample_cell_key};
use crate::suite::ProbeCell;
use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// The most samples in one batch (the OpenAI Batch API takes up to 50,000 requests; a
/// request asks for one sample or more).
const MAX_BATCH_SAMPLES: u64 = 50_000;
/// Models whose batches are submitted and awaited at once.
const PARALLEL_MODELS: usize = 32;
/// Failed requests quoted in an error.
const QUOTED_FAILURES: usize = 5;

/// Fails before anything is spent when a model of the plan has no batch API.
pub(super) fn check_batchable(ctx: &RunContext, plan: &Plan) -> Result<()> {
    for arm in &plan.arms {
        for r in &arm.replicas {
            let model = match (&r.attached, &r.source) {
                (Some(m), _) | (None, ReplicaSource::Model(m)) => m,
                (None, ReplicaSource::Finetune { base, .. }) => base,
            };
            ctx.providers
                .batcher(model)
                .with_context(|| format!("--batch: arm `{}`", arm.name))?;
        }
    }
    Ok(())
}

/// A cell of one model with the samples it still lacks.
struct Want<'a> {
    key: String,
    cell: &'a ProbeCell,
    params: SamplingParams,
    missing: Vec<Range<u32>>,
}

/// Draws through batches every sample of `work` (model × probe cell) that the store lacks;
/// returns how many samples were stored.
pub(super) async fn sample_in_batches(
    ctx: &RunContext,
    opts: &RunOptions,
    work: &[(&ModelRef, &ProbeCell)],
) -> Result<u64> {
    let mut by_model: IndexMap<&ModelRef, Vec<&ProbeCell>> = IndexMap::new();
    for &(model, cell) in work {
        by_model.entry(model).or_default().push(cell);
    }
    let outcomes: Vec<Result<u64>> = futures_util::stream::iter(by_model)
        .map(|(model, cells)| async move {
            batch_model(ctx, opts, model, &cells)
                .await
                .with_context(|| format!("sampling {model} through its batch API"))
        })
        .buffer_unordered(PARALLEL_MODELS)
        .collect()
        .await;
    let mut stored = 0;
    let mut errors = Vec::new();
    for o in outcomes {
        match o {
            Ok(n) => stored += n,
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(stored),
        1 => Err(errors.remove(0)),
        n => bail!(
            "{n} models could not be sampled through batches:\n{}",
            errors
                .iter()
                .map(|e| format!("  - {e:#}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// The index ranges of `0..n` the store lacks for cell `key`.
fn missing(ctx: &RunContext, key: &str, n: u32) -> Result<Vec<Range<u32>>> {
    let got = ctx.store.samples(key, 0..n)?;
    let mut out: Vec<Range<u32>> = Vec::new();
    for (i, c) in got.iter().enumerate() {
        let i = i as u32;
        if c.is_some() {
            continue;
        }
        match out.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    Ok(out)
}

/// A request's id in a batch: the first sample index and the cell key.
fn request_id(cell: &str, start: u32) -> String {
    format!("i{start}-{cell}")
}

/// The cell key and first sample index of a request id.
fn parse_request_id(id: &str) -> Option<(&str, u32)> {
    let (start, cell) = id.strip_prefix('i')?.split_once('-')?;
    Some((cell, start.parse().ok()?))
}

/// All batches of one model: those a killed run left, then new ones for what is still missing.
async fn batch_model(
    ctx: &RunContext,
    opts: &RunOptions,
    model: &ModelRef,
    cells: &[&ProbeCell],
) -> Result<u64> {
    let batcher = ctx.providers.batcher(model)?;
    let endpoint = ctx.providers.sampler(model)?.endpoint();
    let model_name = model.to_string();
    // One run at a time submits and awaits a model's batches; the next finds their samples.
    let _lease = exclusive(&ctx.store, &format!("batch:{endpoint}:{model_name}")).await?;
    let mut seen = HashSet::new();
    let mut wants: Vec<Want> = Vec::new();
    for cell in cells {
        let params = cell_params(cell);
        let key = sample_cell_key(&endpoint, &model_name, &cell.messages, &params);
        if !seen.insert(key.clone()) {
            continue;
        }
        let missing = missing(ctx, &key, cell.samples)?;
        if !missing.is_empty() {
            wants.push(Want {
                key,
                cell,
                params,
                missing,
            });
        }
    }
    if wants.is_empty() {
        return Ok(0);
    }
    if batcher.needs_prepare() {
        prepare(ctx, model, Some(&wants[0].cell.messages)).await?;
    }
    let keys: Vec<String> = wants.iter().map(|w| w.key.clone()).collect();
    let probes: HashMap<&str, &str> = keys
        .iter()
        .zip(&wants)
        .map(|(k, w)| (k.as_str(), w.cell.probe.as_str()))
        .collect();
    let mut stored = 0;
    let mut failures = Vec::new();

    // Batches an earlier (killed) run submitted for these cells: wait for them, never resubmit.
    for rec in ctx.store.pending_batches(&endpoint, &model_name)? {
        let handle: BatchHandle =
            serde_json::from_value(rec.handle.clone()).with_context(|| {
                format!("the stored handle of batch {} is unreadable", rec.batch_id)
            })?;
        let relevant = handle.lines.iter().any(|l| {
            parse_request_id(&l.request_id).is_some_and(|(cell, _)| probes.contains_key(cell))
        });
        if relevant {
            let (n, f) =
                await_batch(ctx, opts, &*batcher, model, &endpoint, &handle, &probes).await?;
            stored += n;
            failures.extend(f);
        }
    }

    // Whatever is still missing, in new batches of at most MAX_BATCH_SAMPLES samples.
    for w in &mut wants {
        w.missing = missing(ctx, &w.key, w.cell.samples)?;
    }
    let mut chunks: Vec<Vec<BatchRequest>> = Vec::new();
    let mut size = MAX_BATCH_SAMPLES;
    for w in &wants {
        for r in &w.missing {
            if size + r.len() as u64 > MAX_BATCH_SAMPLES {
                chunks.push(Vec::new());
                size = 0;
            }
            size += r.len() as u64;
            chunks.last_mut().expect("a chunk").push(BatchRequest {
                id: request_id(&w.key, r.start),
                request: SampleRequest {
                    model,
                    messages: &w.cell.messages,
                    params: &w.params,
                    indices: r.clone(),
                },
            });
        }
    }
    let mut handles = Vec::new();
    for requests in chunks {
        let handle = batcher.submit(&requests).await?;
        let t = now();
        ctx.store.put_batch(&BatchRecord {
            batch_id: handle.batch_id.clone(),
            endpoint: endpoint.clone(),
            model: model_name.clone(),
            handle: serde_json::to_value(&handle)?,
            state: "submitted".into(),
            collected: false,
            created_at: t,
            updated_at: t,
        })?;
        handles.push(handle);
    }
    let awaited: Vec<Result<(u64, Vec<String>)>> = futures_util::future::join_all(
        handles
            .iter()
            .map(|h| await_batch(ctx, opts, &*batcher, model, &endpoint, h, &probes)),
    )
    .await;
    for a in awaited {
        let (n, f) = a?;
        stored += n;
        failures.extend(f);
    }

    if !failures.is_empty() {
        let quoted: Vec<String> = failures
            .iter()
            .take(QUOTED_FAILURES)
            .map(|f| format!("  - {f}"))
            .collect();
        let more = failures.len().saturating_sub(QUOTED_FAILURES);
        bail!(
            "{} batch request(s) got no answer ({stored} samples were stored):\n{}{}\n\
             Run again to ask them in a new batch, or without --batch to ask them live",
            failures.len(),
            quoted.join("\n"),
            if more > 0 {
                format!("\n  ... and {more} more")
            } else {
                String::new()
            }
        );
    }
    Ok(stored)
}

/// The provider's word for a batch state.
fn state_word(s: &BatchState) -> &str {
    match s {
        BatchState::Validating => "validating",
        BatchState::InProgress => "in_progress",
        BatchState::Finalizing => "finalizing",
        BatchState::Completed => "completed",
        BatchState::Failed => "failed",
        BatchState::Expired => "expired",
        BatchState::Cancelling => "cancelling",
        BatchState::Cancelled => "cancelled",
        BatchState::Unknown(w) => w,
    }
}

/// Polls a batch until it ends, stores every answered request's samples and marks the batch
/// collected. Returns the samples stored and why the other requests got none (naming the
/// probe of each cell key in `probes`).
async fn await_batch(
    ctx: &RunContext,
    opts: &RunOptions,
    batcher: &dyn Batcher,
    model: &ModelRef,
    endpoint: &str,
    handle: &BatchHandle,
    probes: &HashMap<&str, &str>,
) -> Result<(u64, Vec<String>)> {
    let id = &handle.batch_id;
    let bar = opts
        .progress
        .stage(&format!("batch {model}"), handle.lines.len() as u64);
    let mut attempt = 0u32;
    let mut last = String::new();
    let progress = loop {
        let p = batcher
            .progress(handle)
            .await
            .with_context(|| format!("polling batch {id}"))?;
        let word = state_word(&p.state);
        if word != last {
            ctx.store.update_batch(id, word, false)?;
            last = word.to_string();
        }
        bar.set_length(p.total.max(1));
        bar.set_position(p.completed + p.failed);
        bar.set_message(last.clone());
        if p.state.is_final() {
            break p;
        }
        tokio::time::sleep(ctx.providers.poll_delay(model, attempt)).await;
        attempt += 1;
    };
    bar.finish_and_clear();
    let results = batcher
        .results(handle)
        .await
        .with_context(|| format!("collecting the results of batch {id}"))?;
    let model_name = model.to_string();
    let mut stored = 0u64;
    let mut failures = Vec::new();
    if progress.state != BatchState::Completed {
        let why = if progress.errors.is_empty() {
            String::new()
        } else {
            format!(": {}", progress.errors.join("; "))
        };
        failures.push(format!("batch {id} ended `{last}`{why}"));
    }
    for (rid, result) in results {
        let Some((cell, start)) = parse_request_id(&rid) else {
            failures.push(format!("batch {id}: an answer to unknown request `{rid}`"));
            continue;
        };
        let probe = probes
            .get(cell)
            .map_or("a cell of another run".to_string(), |p| {
                format!("probe `{p}`")
            });
        let asked: u32 = handle
            .lines
            .iter()
            .filter(|l| l.request_id == rid)
            .map(|l| l.n)
            .sum();
        match result {
            Ok(comps) if comps.len() == asked as usize => {
                ctx.store
                    .put_samples(cell, endpoint, &model_name, start, &comps)?;
                stored += comps.len() as u64;
            }
            Ok(comps) => failures.push(format!(
                "{probe}, samples {start}..{} (batch {id}): {} completions where {asked} were asked",
                start + asked,
                comps.len()
            )),
            Err(e) => failures.push(format!(
                "{probe}, samples {start}..{} (batch {id}): {e}",
                start + asked
            )),
        }
    }
    ctx.store.update_batch(id, &last, true)?;
    Ok((stored, failures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_round_trip_and_never_start_like_refused_lines() {
        let id = request_id("bad0c3", 17);
        assert!(id.starts_with('i'));
        assert_eq!(parse_request_id(&id), Some(("bad0c3", 17)));
        assert_eq!(parse_request_id("x17-abc"), None);
        assert_eq!(parse_request_id("i-abc"), None);
    }
}
