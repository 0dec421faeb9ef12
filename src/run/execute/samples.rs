//! The sample stage: every probe cell's samples for every replica, through a batch API
//! first when asked, then live (what is stored is read back).

use crate::model::ModelRef;
use crate::run::batch::sample_in_batches;
use crate::run::plan::Plan;
use crate::run::sampling::{cell_params, fetch};
use crate::run::{ArmOutcome, Counts, RunContext, RunOptions};
use crate::suite::ProbeCell;
use anyhow::{Context, Result};
use futures_util::StreamExt;

/// `answers[arm][replica][cell]`: each cell's sample texts in index order.
pub(super) type Answers = Vec<Vec<Vec<Vec<String>>>>;

/// Every (arm, replica, cell) of the run, in order.
pub(super) fn tasks(arms: &[ArmOutcome], cells: usize) -> Vec<(usize, usize, usize)> {
    arms.iter()
        .enumerate()
        .flat_map(|(a, arm)| {
            (0..arm.replicas.len()).flat_map(move |r| (0..cells).map(move |c| (a, r, c)))
        })
        .collect()
}

/// The samples of every cell for every replica of `arms`.
pub(super) async fn sample_all(
    plan: &Plan,
    arms: &[ArmOutcome],
    ctx: &RunContext,
    opts: &RunOptions,
    batch: bool,
    counts: &mut Counts,
) -> Result<Answers> {
    let cells = &plan.cells;
    let tasks = tasks(arms, cells.len());
    let batched = if batch {
        let work: Vec<(&ModelRef, &ProbeCell)> = tasks
            .iter()
            .map(|&(a, r, c)| (&arms[a].replicas[r].model, &cells[c]))
            .collect();
        sample_in_batches(ctx, opts, &work).await?
    } else {
        0
    };
    let total: u64 = tasks.iter().map(|&(_, _, c)| cells[c].samples as u64).sum();
    let bar = opts.progress.stage("sample", total);
    // Each cell makes at least one request: as many cells as requests may be in flight.
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
    let mut answers: Answers = arms
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
    Ok(answers)
}
