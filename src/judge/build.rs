//! A suite's judge, whichever kind it is.

use super::llm::{LlmJudge, judge_model};
use super::rules::RuleJudge;
use crate::suite::JudgeDef;
use anyhow::Result;

/// A judge of a suite: rules applied on the spot, or an LLM asked through a sampler.
pub enum Judge {
    Rule(RuleJudge),
    Llm(LlmJudge),
}

impl Judge {
    /// Builds a judge of a loaded suite; an LLM judge asks the judge model its suite picked
    /// ([`crate::suite::pick_judge_model`]).
    pub fn build(def: &JudgeDef) -> Result<Judge> {
        if def.method.is_llm() {
            let model = judge_model(def)?;
            Ok(Judge::Llm(LlmJudge::new(&def.name, &def.spec, model)?))
        } else {
            Ok(Judge::Rule(RuleJudge::new(&def.name, &def.spec)?))
        }
    }

    /// Who judges, for trial names: `rules`, or the judge model.
    pub fn by(&self) -> String {
        match self {
            Judge::Rule(_) => "rules".to_string(),
            Judge::Llm(j) => j.model().to_string(),
        }
    }
}
