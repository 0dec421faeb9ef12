//! The judge stage: every judge of the suite over the answers of the cells it is declared
//! for.

use super::samples::{Answers, tasks};
use crate::judge::Judge;
use crate::model::ModelRef;
use crate::run::judging::{Item, judge_all};
use crate::run::plan::Plan;
use crate::run::sampling::unknown_words_note;
use crate::run::{ArmOutcome, Counts, Judged, RunContext, RunOptions};
use crate::suite::{LoadedSuite, ProbeCell};
use anyhow::{Context, Result};
use indexmap::IndexMap;

/// The judgments by judge name, and the notes a reader of the results must know.
pub(super) async fn judge_answers(
    suite: &LoadedSuite,
    plan: &Plan,
    arms: &[ArmOutcome],
    answers: &Answers,
    ctx: &RunContext,
    opts: &RunOptions,
    counts: &mut Counts,
) -> Result<(IndexMap<String, Vec<Judged>>, Vec<String>)> {
    let cells = &plan.cells;
    let mut judgments = IndexMap::new();
    let asked: Vec<(&ModelRef, &ProbeCell)> = tasks(arms, cells.len())
        .into_iter()
        .map(|(a, r, c)| (&arms[a].replicas[r].model, &cells[c]))
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
        let judged = judge_all(name, &judge, &items, ctx, opts, counts, &mut notes).await?;
        judgments.insert(name.clone(), judged);
    }
    Ok((judgments, notes))
}
