//! The fine-tune stage: each replica's model, given, reused or fine-tuned now, a few at a
//! time.

use crate::model::ModelRef;
use crate::run::datasets::materialize;
use crate::run::finetune::{Obtained, ReplicaLabel, obtain};
use crate::run::plan::{Plan, ReplicaSource};
use crate::run::{ArmOutcome, Counts, ReplicaOutcome, RunContext, RunOptions};
use crate::suite::LoadedSuite;
use anyhow::Result;
use futures_util::StreamExt;

/// The arms with the model of each replica (none screened out yet), building the datasets
/// that fine-tunes still need.
pub(super) async fn obtain_all(
    suite: &LoadedSuite,
    plan: &Plan,
    ctx: &RunContext,
    opts: &RunOptions,
    counts: &mut Counts,
) -> Result<Vec<ArmOutcome>> {
    let mut needed: Vec<String> = Vec::new();
    for arm in &plan.arms {
        for r in &arm.replicas {
            if let (ReplicaSource::Finetune { dataset, .. }, None) = (&r.source, &r.attached)
                && !needed.contains(dataset)
            {
                needed.push(dataset.clone());
            }
        }
    }
    let datasets = materialize(suite, &needed, ctx, opts).await?;

    let jobs: Vec<(usize, usize)> = plan
        .arms
        .iter()
        .enumerate()
        .flat_map(|(a, arm)| (0..arm.replicas.len()).map(move |r| (a, r)))
        .collect();
    let finetunes = plan
        .arms
        .iter()
        .flat_map(|a| &a.replicas)
        .filter(|r| matches!(r.source, ReplicaSource::Finetune { .. }) && r.attached.is_none())
        .count();
    let bar = opts.progress.stage("fine-tune", finetunes as u64);
    let parallel = ctx.providers.finetune_concurrency(&plan.model).max(1);
    let hazard = suite.suite.hazard.as_deref();
    let obtained: Vec<Result<(ModelRef, Obtained)>> = futures_util::stream::iter(jobs.iter())
        .map(|&(a, r)| {
            let arm = &plan.arms[a];
            let label = ReplicaLabel {
                suite: &plan.suite,
                hazard,
                arm: &arm.name,
                replica: r,
            };
            let (datasets, bar) = (&datasets, &bar);
            async move {
                let got = obtain(ctx, opts, &label, &arm.replicas[r], datasets).await;
                if matches!(got, Ok((_, Obtained::Started | Obtained::Reused))) {
                    bar.inc(1);
                }
                got
            }
        })
        .buffered(parallel)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut arms: Vec<ArmOutcome> = plan
        .arms
        .iter()
        .map(|a| ArmOutcome {
            name: a.name.clone(),
            fixed: a.fixed,
            replicas: Vec::new(),
        })
        .collect();
    for (&(a, _), got) in jobs.iter().zip(obtained) {
        let (model, how) = got?;
        match how {
            Obtained::Started => counts.finetunes_started += 1,
            Obtained::Reused => counts.finetunes_reused += 1,
            Obtained::Given => {}
        }
        arms[a].replicas.push(ReplicaOutcome {
            model,
            screened_out: None,
        });
    }
    Ok(arms)
}
