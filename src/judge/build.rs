//! A suite's judge, whichever kind it is.

use super::llm::{LlmJudge, judge_model_for};
use super::rules::RuleJudge;
use crate::suite::{JudgeKind, JudgeSpec};
use anyhow::Result;

/// A judge of a suite: rules applied on the spot, or an LLM asked through a sampler.
pub enum Judge {
    Rule(RuleJudge),
    Llm(LlmJudge),
}

/// Whether a judge kind asks an LLM.
pub fn is_llm(kind: JudgeKind) -> bool {
    matches!(
        kind,
        JudgeKind::LlmLabel | JudgeKind::LlmRating | JudgeKind::LlmFreeForm
    )
}

impl Judge {
    /// Builds the judge `name`; an LLM judge's model is `WEIRDGEN_JUDGE_MODEL`, else the
    /// judge's `model`, else the suite's `judge_model`.
    pub fn build(name: &str, spec: &JudgeSpec, suite_judge_model: Option<&str>) -> Result<Judge> {
        if is_llm(spec.kind) {
            let model = judge_model_for(name, spec, suite_judge_model)?;
            Ok(Judge::Llm(LlmJudge::new(name, spec, model)?))
        } else {
            Ok(Judge::Rule(RuleJudge::new(name, spec)?))
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
