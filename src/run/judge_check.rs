//! A judge's agreement with its `examples`, measured before its numbers are trusted.

use super::RunContext;
use crate::judge::{
    Judge, JudgeInput, JudgeOutput, example_vars, examples_agreement, rule_agreement,
};
use crate::store::judgment_key;
use crate::suite::LoadedSuite;
use anyhow::{Context, Result};
use std::fmt::Write as _;

/// The outcome of checking a judge against its examples.
#[derive(Debug, Clone, PartialEq)]
pub enum ExampleCheck {
    /// The judge model cannot be reached here (e.g. no API key), with the reason.
    Unavailable(String),
    /// Agreement measured: whether it reaches the suite's bar, and the figures.
    Checked { passed: bool, report: String },
}

/// Runs judge `name` of `suite` over its examples (LLM judgments through the store) and
/// compares its accuracy and Cohen's kappa with the suite's `judge_agreement`.
pub async fn check_judge_examples(
    suite: &LoadedSuite,
    name: &str,
    ctx: &RunContext,
) -> Result<ExampleCheck> {
    let def = suite
        .judges
        .get(name)
        .with_context(|| format!("no judge `{name}`"))?;
    let spec = &def.spec;
    let judge = Judge::build(def)?;
    let agreement = match &judge {
        Judge::Rule(rule) => rule_agreement(rule, spec)?,
        Judge::Llm(llm) => {
            if let Some(reason) = ctx.providers.unavailable(llm.model()) {
                return Ok(ExampleCheck::Unavailable(reason));
            }
            let sampler = ctx.providers.sampler(llm.model())?;
            let hash = llm.definition_hash();
            let mut outputs: Vec<JudgeOutput> = Vec::with_capacity(spec.examples.len());
            for ex in &spec.examples {
                let question = ex.question.clone().unwrap_or_default();
                let vars = example_vars(ex);
                let key = judgment_key(&hash, &question, &vars, &ex.answer);
                if let Some(out) = ctx.store.judgment(&key)? {
                    outputs.push(out);
                    continue;
                }
                let input = JudgeInput {
                    question: &question,
                    answer: &ex.answer,
                    vars: &vars,
                };
                let reply = llm.judge(&*sampler, &input).await?;
                ctx.store
                    .put_judgment(&key, name, &reply.output, Some(&reply.raw))?;
                outputs.push(reply.output);
            }
            examples_agreement(&spec.examples, &outputs)?
        }
    };
    let passed = agreement.meets(&suite.suite.judge_agreement);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "judge `{name}` ({}) on {} examples: accuracy {:.3} (at least {}), Cohen's kappa {} (at least {})",
        judge.by(),
        agreement.n,
        agreement.accuracy,
        suite.suite.judge_agreement.min_accuracy,
        agreement
            .kappa
            .map_or("undefined".to_string(), |k| format!("{k:.3}")),
        suite.suite.judge_agreement.min_kappa
    );
    for d in &agreement.disagreements {
        let ex = &spec.examples[d.index];
        let _ = writeln!(
            report,
            "  examples[{}]: expected {}, got {} — answer: {:?}",
            d.index, d.expected, d.got, ex.answer
        );
    }
    Ok(ExampleCheck::Checked { passed, report })
}
