//! Executing a plan: datasets → fine-tunes → samples → judgments → screening.

use super::batch::{check_batchable, sample_in_batches};
use super::claim::{Lease, TTL};
use super::datasets::materialize;
use super::finetune::{Obtained, ReplicaLabel, obtain};
use super::judging::{Item, judge_all};
use super::plan::{Plan, ReplicaSource};
use super::sampling::{cell_params, fetch, unknown_words_note};
use super::{ArmOutcome, Counts, ReplicaOutcome, RunContext, RunOptions, RunOutcome};
use crate::judge::{Judge, JudgeOutput};
use crate::model::ModelRef;
use crate::store::new_holder;
use crate::suite::LoadedSuite;
use anyhow::{Context, Result};
use futures_util::StreamExt;
use indexmap::IndexMap;

/// Runs `plan` for `suite`: everything already in the store is reused, everything new is
/// committed as it arrives.
pub async fn execute(
    suite: &LoadedSuite,
    plan: &Plan,
    ctx: &RunContext,
    opts: &RunOptions,
) -> Result<RunOutcome> {
    let mut counts = Counts::default();
    // Checked before anything is written.
    if let Some(cost) = opts.max_cost
        && plan.estimate.cost > cost
    {
        anyhow::bail!(
            "the estimated price ${:.2} is above --max-cost ${cost:.2}; nothing was started",
            plan.estimate.cost
        );
    }
    let run = if opts.cache_only {
        None
    } else {
        let holder = new_holder();
        let id = ctx.store.start_run(
            &plan.suite,
            &suite.hash,
            &plan.model.to_string(),
            &holder,
            TTL,
        )?;
        Some((id, Lease::keep(&ctx.store, format!("run:{id}"), holder)))
    };

    let batch = opts.batch && !opts.cache_only;
    if batch {
        check_batchable(ctx, plan)?;
    }

    // Datasets that fine-tunes still need.
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

    // Fine-tunes, a few at a time.
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

    // Samples.
    let cells = &plan.cells;
    let tasks: Vec<(usize, usize, usize)> = arms
        .iter()
        .enumerate()
        .flat_map(|(a, arm)| {
            (0..arm.replicas.len()).flat_map(move |r| (0..cells.len()).map(move |c| (a, r, c)))
        })
        .collect();
    let batched = if batch {
        let work: Vec<(&ModelRef, &crate::suite::ProbeCell)> = tasks
            .iter()
            .map(|&(a, r, c)| (&arms[a].replicas[r].model, &cells[c]))
            .collect();
        sample_in_batches(ctx, opts, &work).await?
    } else {
        0
    };
    let total: u64 = tasks.iter().map(|&(_, _, c)| cells[c].samples as u64).sum();
    let bar = opts.progress.stage("sample", total);
    let results: Vec<Result<(Vec<String>, u64)>> = futures_util::stream::iter(tasks.iter())
        .map(|&(a, r, c)| {
            let model = &arms[a].replicas[r].model;
            let cell = &cells[c];
            let bar = &bar;
            async move {
                let params = cell_params(cell);
                let (comps, cached) = fetch(
                    ctx,
                    model,
                    &cell.messages,
                    &params,
                    cell.samples,
                    opts.cache_only,
                )
                .await
                .with_context(|| format!("probe `{}`", cell.probe))?;
                bar.inc(cell.samples as u64);
                Ok((comps.into_iter().map(|c| c.text).collect(), cached))
            }
        })
        .buffered(opts.concurrency.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut answers: Vec<Vec<Vec<Vec<String>>>> = arms
        .iter()
        .map(|arm| vec![vec![Vec::new(); cells.len()]; arm.replicas.len()])
        .collect();
    for (&(a, r, c), res) in tasks.iter().zip(results) {
        let (texts, cached) = res?;
        counts.samples_cached += cached;
        counts.samples_requested += texts.len() as u64 - cached;
        answers[a][r][c] = texts;
    }
    // Samples the batches stored this run were drawn now, not found.
    let batched = batched.min(counts.samples_cached);
    counts.samples_cached -= batched;
    counts.samples_requested += batched;
    counts.samples_batched = batched;

    // Judgments.
    let mut judgments = IndexMap::new();
    let asked: Vec<(&ModelRef, &crate::suite::ProbeCell)> = tasks
        .iter()
        .map(|&(a, r, c)| (&arms[a].replicas[r].model, &cells[c]))
        .collect();
    let mut notes: Vec<String> = unknown_words_note(ctx, &asked).into_iter().collect();
    for (name, def) in &suite.judges {
        let judge = Judge::build(def).with_context(|| format!("judge `{name}`"))?;
        let mut items = Vec::new();
        for (a, arm) in answers.iter().enumerate() {
            for (r, rep) in arm.iter().enumerate() {
                for (c, texts) in rep.iter().enumerate() {
                    if !cells[c].judges.iter().any(|j| j == name) {
                        continue;
                    }
                    for (s, t) in texts.iter().enumerate() {
                        items.push(Item {
                            arm: a as u32,
                            replica: r as u32,
                            cell: c as u32,
                            sample: s as u32,
                            probe: &cells[c],
                            answer: t,
                        });
                    }
                }
            }
        }
        let judged = judge_all(name, &judge, &items, ctx, opts, &mut counts, &mut notes).await?;
        judgments.insert(name.clone(), judged);
    }

    // Screening: replicas that fail their arm's in-distribution check are not analysed.
    for (a, planned) in plan.arms.iter().enumerate() {
        let Some(screen) = &planned.screen else {
            continue;
        };
        let label = screen.metric.label.as_deref();
        let judged = judgments
            .get(&screen.metric.judge)
            .context("screen judge")?;
        for (r, rep) in arms[a].replicas.iter_mut().enumerate() {
            let (mut sum, mut n) = (0.0, 0u64);
            for j in judged
                .iter()
                .filter(|j| j.arm as usize == a && j.replica as usize == r)
            {
                if !screen
                    .probes
                    .iter()
                    .any(|p| *p == cells[j.cell as usize].probe)
                {
                    continue;
                }
                match (&j.output, label) {
                    (JudgeOutput::Label(l), Some(want)) => {
                        sum += f64::from(u8::from(l == want));
                        n += 1;
                    }
                    (JudgeOutput::Score(v), None) => {
                        sum += v;
                        n += 1;
                    }
                    _ => {}
                }
            }
            let value = if n == 0 { 0.0 } else { sum / n as f64 };
            if value < screen.min {
                rep.screened_out = Some(value);
                counts.screened_out += 1;
            }
        }
    }

    if let Some((id, _lease)) = run {
        ctx.store.finish_run(id, &serde_json::to_value(&counts)?)?;
    }
    Ok(RunOutcome {
        suite: plan.suite.clone(),
        suite_hash: suite.hash.clone(),
        model: plan.model.clone(),
        arms,
        cells: plan.cells.clone(),
        answers,
        judgments,
        counts,
        notes,
    })
}
