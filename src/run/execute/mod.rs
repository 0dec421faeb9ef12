//! Executing a plan, stage by stage: datasets → fine-tunes → samples → judgments → screening.
//!
//! | file | stage |
//! |---|---|
//! | `finetunes.rs` | each replica's model: given, reused or fine-tuned now |
//! | `samples.rs` | every probe cell's samples, live or through a batch API |
//! | `judgments.rs` | every judge over the answers it is declared for |
//! | `screen.rs` | replicas that fail their arm's in-distribution check |

mod finetunes;
mod judgments;
mod samples;
mod screen;

use super::batch::check_batchable;
use super::claim::{Lease, TTL};
use super::plan::Plan;
use super::{Counts, RunContext, RunOptions, RunOutcome};
use crate::store::new_holder;
use crate::suite::LoadedSuite;
use anyhow::Result;

/// The run's first line: the suite, the model, and the requests in flight at once to the
/// model's provider (`opts.concurrency`, lowered by the provider's `max_concurrency` if set).
pub fn header(plan: &Plan, ctx: &RunContext, opts: &RunOptions) -> Result<String> {
    ctx.providers.set_in_flight(opts.concurrency);
    let in_flight = ctx.providers.in_flight(&plan.model)?;
    let capped = if in_flight < opts.concurrency.max(1) {
        format!(
            " (--concurrency {}, capped by provider `{}`'s max_concurrency)",
            opts.concurrency, plan.model.provider
        )
    } else {
        String::new()
    };
    Ok(format!(
        "run `{}` on {}: {in_flight} requests in flight at once{capped}",
        plan.suite, plan.model
    ))
}

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
    let estimate = plan.estimate.cost_for(opts.batch);
    if let Some(cost) = opts.max_cost
        && estimate > cost
    {
        anyhow::bail!(
            "the estimated price ${estimate:.2} is above --max-cost ${cost:.2}; nothing was started"
        );
    }
    ctx.providers.set_in_flight(opts.concurrency);
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

    let mut arms = finetunes::obtain_all(suite, plan, ctx, opts, &mut counts).await?;
    let answers = samples::sample_all(plan, &arms, ctx, opts, batch, &mut counts).await?;
    let (judgments, notes) =
        judgments::judge_answers(suite, plan, &arms, &answers, ctx, opts, &mut counts).await?;
    screen::screen(plan, &judgments, &mut arms, &mut counts)?;

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
