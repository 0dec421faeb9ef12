//! Judging every answer: rule judges on the spot, LLM judges through the store.

use super::{Counts, Judged, RunContext, RunOptions};
use crate::judge::{Judge, JudgeInput, JudgeOutput};
use crate::store::judgment_key;
use crate::suite::ProbeCell;
use anyhow::{Context, Result, bail};
use futures_util::StreamExt;

/// One answer to judge and where it belongs.
pub(super) struct Item<'a> {
    pub arm: u32,
    pub replica: u32,
    pub cell: u32,
    pub sample: u32,
    pub probe: &'a ProbeCell,
    pub answer: &'a str,
}

/// Judges `items` with `judge`, returning one judgment per item in order.
pub(super) async fn judge_all(
    name: &str,
    judge: &Judge,
    items: &[Item<'_>],
    ctx: &RunContext,
    opts: &RunOptions,
    counts: &mut Counts,
) -> Result<Vec<Judged>> {
    let judged = |it: &Item, output: JudgeOutput| Judged {
        arm: it.arm,
        replica: it.replica,
        cell: it.cell,
        sample: it.sample,
        output,
    };
    match judge {
        Judge::Rule(rule) => Ok(items
            .iter()
            .map(|it| {
                let input = JudgeInput {
                    question: &it.probe.question,
                    answer: it.answer,
                    vars: &it.probe.vars,
                };
                judged(it, rule.judge(&input))
            })
            .collect()),
        Judge::Llm(llm) => {
            let sampler = ctx.providers.sampler(llm.model())?;
            let hash = llm.definition_hash();
            let bar = opts
                .progress
                .stage(&format!("judge {name}"), items.len() as u64);
            let results: Vec<Result<(JudgeOutput, bool)>> = futures_util::stream::iter(
                items.iter(),
            )
            .map(|it| {
                let (sampler, hash, bar) = (&sampler, &hash, &bar);
                async move {
                    let key = judgment_key(hash, &it.probe.question, &it.probe.vars, it.answer);
                    if let Some(out) = ctx.store.judgment(&key)? {
                        bar.inc(1);
                        return Ok((out, true));
                    }
                    if opts.cache_only {
                        bail!("a judgment of `{name}` is not in the store: run the suite first");
                    }
                    let input = JudgeInput {
                        question: &it.probe.question,
                        answer: it.answer,
                        vars: &it.probe.vars,
                    };
                    let reply = llm
                        .judge(&**sampler, &input)
                        .await
                        .with_context(|| format!("judge `{name}` ({})", llm.model()))?;
                    ctx.store
                        .put_judgment(&key, name, &reply.output, Some(&reply.raw))?;
                    bar.inc(1);
                    Ok((reply.output, false))
                }
            })
            .buffered(opts.concurrency.max(1))
            .collect()
            .await;
            bar.finish_and_clear();
            let mut out = Vec::with_capacity(items.len());
            for (it, r) in items.iter().zip(results) {
                let (o, cached) = r?;
                if cached {
                    counts.judgments_cached += 1;
                } else {
                    counts.judgments_requested += 1;
                }
                out.push(judged(it, o));
            }
            Ok(out)
        }
    }
}
