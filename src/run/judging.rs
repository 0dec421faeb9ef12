//! Judging every answer: rule judges on the spot, LLM judges through the store, each
//! judgment asked under a lease (see [`super::claim`]) so that concurrent runs ask it once.

use super::claim::{Claimed, claim, prepare};
use super::{Counts, Judged, RunContext, RunOptions};
use crate::judge::llm::LlmJudge;
use crate::judge::{Judge, JudgeInput, JudgeOutput};
use crate::model::registry::Readiness;
use crate::store::judgment_key;
use crate::suite::ProbeCell;
use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use tokio::sync::OnceCell;

/// One answer to judge and where it belongs.
pub(super) struct Item<'a> {
    pub arm: u32,
    pub replica: u32,
    pub cell: u32,
    pub sample: u32,
    pub probe: &'a ProbeCell,
    pub answer: &'a str,
}

/// Judges `items` with `judge`, returning one judgment per item in order. What the reader
/// of the results must know (a rating judge without log-probabilities) goes to `notes`.
pub(super) async fn judge_all(
    name: &str,
    judge: &Judge,
    items: &[Item<'_>],
    ctx: &RunContext,
    opts: &RunOptions,
    counts: &mut Counts,
    notes: &mut Vec<String>,
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
            // Readied (abilities read from the store or probed) before the first call.
            let ready: OnceCell<Readiness> = OnceCell::new();
            let hash = llm.definition_hash();
            let bar = opts
                .progress
                .stage(&format!("judge {name}"), items.len() as u64);
            let results: Vec<Result<(JudgeOutput, bool, bool)>> = futures_util::stream::iter(
                items.iter(),
            )
            .map(|it| {
                let (sampler, hash, bar, ready) = (&sampler, &hash, &bar, &ready);
                async move {
                    let key = judgment_key(hash, &it.probe.question, &it.probe.vars, it.answer);
                    if let Some(out) = ctx.store.judgment(&key)? {
                        bar.inc(1);
                        return Ok((out, true, false));
                    }
                    if opts.cache_only {
                        bail!("a judgment of `{name}` is not in the store: run the suite first");
                    }
                    // One task of one process asks the judge; the others read its judgment.
                    let _lease = match claim(&ctx.store, &format!("judgment:{key}"), || {
                        ctx.store.judgment(&key)
                    })
                    .await?
                    {
                        Claimed::Done(out) => {
                            bar.inc(1);
                            return Ok((out, true, false));
                        }
                        Claimed::Mine(lease) => lease,
                    };
                    ready
                        .get_or_try_init(|| prepare(ctx, llm.model(), None))
                        .await
                        .with_context(|| format!("judge `{name}`"))?;
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
                    Ok((reply.output, false, reply.from_text))
                }
            })
            .buffered(opts.concurrency.max(1))
            .collect()
            .await;
            bar.finish_and_clear();
            let mut out = Vec::with_capacity(items.len());
            let mut from_text = 0u64;
            for (it, r) in items.iter().zip(results) {
                let (o, cached, text) = r?;
                if cached {
                    counts.judgments_cached += 1;
                } else {
                    counts.judgments_requested += 1;
                }
                from_text += u64::from(text);
                out.push(judged(it, o));
            }
            let ready = match ready.get() {
                Some(r) => Some(*r),
                None => ctx.providers.recorded(llm.model(), &ctx.store)?,
            };
            if let Some(note) = logprobs_note(name, llm, ready, from_text, items.len()) {
                notes.push(note);
            }
            Ok(out)
        }
    }
}

/// What to tell the reader when a rating judge could not read log-probabilities.
fn logprobs_note(
    name: &str,
    llm: &LlmJudge,
    ready: Option<Readiness>,
    from_text: u64,
    total: usize,
) -> Option<String> {
    if !llm.reads_logprobs() {
        return None;
    }
    let model = llm.model();
    if ready.is_some_and(|r| !r.logprobs) {
        Some(format!(
            "judge `{name}`: {model} gives no log-probabilities at its endpoint, so its ratings \
             were parsed from the number in each reply's text, not taken as the expected value \
             over the top-20 tokens"
        ))
    } else if from_text > 0 {
        Some(format!(
            "judge `{name}`: {from_text} of {total} ratings were parsed from the reply's text \
             ({model} returned no log-probabilities for them)"
        ))
    } else {
        None
    }
}
