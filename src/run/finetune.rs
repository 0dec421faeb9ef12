//! Obtaining each replica's model: attached, fixed, reused from the store, resumed, or
//! fine-tuned now. A job is keyed by its inputs, so a rerun never starts a second job for
//! the same replica, and a killed run picks up polling where it stopped. A job is worked on
//! under a lease (see [`super::claim`]): of several runs on one store, one starts and polls
//! it while the others wait for its model.

use super::claim::{Claimed, claim, exclusive};
use super::plan::{PlannedReplica, ReplicaSource};
use super::{RunContext, RunOptions};
use crate::chat::TrainingSet;
use crate::model::{FinetuneRequest, JobState, ModelRef};
use crate::store::{JobRecord, job_key, now};
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;

/// Whether a replica's model was trained now or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Obtained {
    Started,
    Reused,
    Given,
}

/// Identifies a fine-tune for its `suffix` and messages.
pub(super) struct ReplicaLabel<'a> {
    pub suite: &'a str,
    pub hazard: Option<&'a str>,
    pub arm: &'a str,
    pub replica: usize,
}

fn suffix(label: &ReplicaLabel) -> String {
    let raw = format!("{}-{}-{}", label.suite, label.arm, label.replica);
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    clean.chars().take(40).collect()
}

/// The model of one replica.
pub(super) async fn obtain(
    ctx: &RunContext,
    opts: &RunOptions,
    label: &ReplicaLabel<'_>,
    replica: &PlannedReplica,
    datasets: &IndexMap<String, TrainingSet>,
) -> Result<(ModelRef, Obtained)> {
    if let Some(m) = &replica.attached {
        return Ok((m.clone(), Obtained::Given));
    }
    let (base, dataset, hp, seed) = match &replica.source {
        ReplicaSource::Model(m) => return Ok((m.clone(), Obtained::Given)),
        ReplicaSource::Finetune {
            base,
            dataset,
            hyperparameters,
            seed,
        } => (base, dataset, hyperparameters, *seed),
    };
    let data = datasets
        .get(dataset)
        .with_context(|| format!("dataset `{dataset}` was not built"))?;
    let finetuner = ctx.providers.finetuner(base)?;
    let endpoint = finetuner.endpoint();
    let key = job_key(&endpoint, &base.to_string(), &data.hash, hp, seed);
    let existing = ctx.store.job(&key)?;
    if let Some(done) = settled(existing.as_ref(), label)? {
        return Ok(done);
    }
    if existing.as_ref().is_none_or(|r| r.job_id.is_none()) {
        if opts.cache_only {
            bail!(
                "arm `{}` replica {} has not been fine-tuned yet: run the suite first",
                label.arm,
                label.replica
            );
        }
        if let Some(h) = label.hazard.filter(|_| !opts.allow_hazard) {
            bail!(
                "suite `{}` is tagged `hazard: {h}`: its fine-tunes start only with --allow-hazard \
                 (CLI) or WEIRDGEN_ALLOW_HAZARD=1 (test harness)",
                label.suite
            );
        }
    }
    // One task of one process works on the job; the others wait for its outcome.
    let _lease = match claim(&ctx.store, &format!("job:{key}"), || {
        settled(ctx.store.job(&key)?.as_ref(), label)
    })
    .await?
    {
        Claimed::Done(done) => return Ok(done),
        Claimed::Mine(lease) => lease,
    };
    let sfx = suffix(label);
    let req = FinetuneRequest {
        base,
        data,
        hyperparameters: hp,
        seed,
        suffix: &sfx,
    };
    let (record, how) = match ctx.store.job(&key)? {
        Some(mut rec) if rec.job_id.is_some() => {
            // Started by a run that was killed or whose process died: taken up, not failed.
            let old = rec.job_id.clone().unwrap_or_default();
            let id = finetuner.resume(&old, req).await.with_context(|| {
                format!(
                    "resuming the fine-tune of arm `{}` replica {} ({old})",
                    label.arm, label.replica
                )
            })?;
            rec.job_id = Some(id);
            rec.updated_at = now();
            ctx.store.put_job(&rec)?;
            (rec, Obtained::Reused)
        }
        found => {
            let t = now();
            let mut rec = JobRecord {
                key: key.clone(),
                endpoint: endpoint.clone(),
                base_model: base.to_string(),
                dataset_name: dataset.clone(),
                dataset_hash: data.hash.clone(),
                hyperparameters: hp.clone(),
                seed,
                job_id: None,
                state: "starting".into(),
                model: None,
                error: None,
                created_at: found.map_or(t, |r| r.created_at),
                updated_at: t,
            };
            ctx.store.put_job(&rec)?;
            let id = {
                // Replicas of one dataset start one after the other, so that its training
                // file is uploaded once and then found on the server.
                let _upload =
                    exclusive(&ctx.store, &format!("upload:{endpoint}:{}", data.hash)).await?;
                finetuner.start(req).await.with_context(|| {
                    format!(
                        "starting the fine-tune of arm `{}` replica {}",
                        label.arm, label.replica
                    )
                })?
            };
            rec.job_id = Some(id);
            rec.state = "queued".into();
            rec.updated_at = now();
            ctx.store.put_job(&rec)?;
            (rec, Obtained::Started)
        }
    };
    poll(ctx, &*finetuner, base, record, label, how).await
}

/// The outcome of a job the store holds as finished: its model when it succeeded, an error
/// naming `weirdgen jobs --forget` when it failed; `None` while it is to be started or polled.
fn settled(rec: Option<&JobRecord>, label: &ReplicaLabel) -> Result<Option<(ModelRef, Obtained)>> {
    match rec {
        Some(rec) if rec.state == "succeeded" && rec.model.is_some() => {
            let m = rec.model.as_deref().unwrap_or_default().parse()?;
            Ok(Some((m, Obtained::Reused)))
        }
        Some(rec) if rec.state == "failed" || rec.state == "cancelled" => bail!(
            "the fine-tune of arm `{}` replica {} ({}) {}: {}. Forget it with `weirdgen jobs --forget {}` to start it again",
            label.arm,
            label.replica,
            rec.job_id.as_deref().unwrap_or("no job id"),
            rec.state,
            rec.error
                .as_deref()
                .unwrap_or("no message from the provider"),
            &rec.key[..12]
        ),
        _ => Ok(None),
    }
}

async fn poll(
    ctx: &RunContext,
    finetuner: &dyn crate::model::Finetuner,
    base: &ModelRef,
    mut rec: JobRecord,
    label: &ReplicaLabel<'_>,
    how: Obtained,
) -> Result<(ModelRef, Obtained)> {
    let id = rec.job_id.clone().expect("polled jobs have an id");
    let mut attempt = 0u32;
    loop {
        let st = finetuner.status(&id).await.with_context(|| {
            format!(
                "polling fine-tune {id} (arm `{}` replica {})",
                label.arm, label.replica
            )
        })?;
        if st.state.as_str() != rec.state || st.error != rec.error {
            rec.state = st.state.as_str().to_string();
            rec.error = st.error.clone();
            rec.model = st.model.as_ref().map(|m| m.to_string());
            rec.updated_at = now();
            ctx.store.put_job(&rec)?;
        }
        match st.state {
            JobState::Succeeded => {
                let m = st
                    .model
                    .with_context(|| format!("fine-tune {id} succeeded without a model"))?;
                return Ok((m, how));
            }
            JobState::Failed | JobState::Cancelled => bail!(
                "the fine-tune of arm `{}` replica {} ({id}) {}: {}",
                label.arm,
                label.replica,
                st.state.as_str(),
                st.error
                    .as_deref()
                    .unwrap_or("no message from the provider")
            ),
            _ => {
                tokio::time::sleep(ctx.providers.poll_delay(base, attempt)).await;
                attempt += 1;
            }
        }
    }
}
