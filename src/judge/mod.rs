//! Turning a response into a label or a score. A judge that cannot decide gives
//! [`JudgeOutput::Missing`], never a negative.
//!
//! Deterministic judges live in [`RuleJudge`]; [`agreement`] measures a judge against its
//! suite's `examples`; [`definition_hash`] keys cached judgments.

mod agreement;
mod build;
mod definition;
mod rules;
#[cfg(test)]
mod rules_tests;
mod text;

pub use crate::suite::MISSING;
pub use agreement::{
    Agreement, DEFAULT_TOLERANCE, Disagreement, agreement, example_vars, examples_agreement,
    output_label, rule_agreement,
};
pub use build::Judge;
pub use definition::definition_hash;
pub use rules::RuleJudge;

pub mod llm;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a judge says of one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeOutput {
    Label(String),
    Score(f64),
    /// The judge could not decide (no rule matched and no `otherwise`, unparseable LLM
    /// output, too little numeric mass), with the reason.
    Missing(String),
}

/// One answer to judge, with its context.
#[derive(Debug, Clone, Copy)]
pub struct JudgeInput<'a> {
    /// The question as asked (the last user message).
    pub question: &'a str,
    pub answer: &'a str,
    /// The probe cell's variables.
    pub vars: &'a BTreeMap<String, String>,
}
