//! LLM judges: a judge model picks a label from a fixed set (`llm_label`) or rates an answer
//! on an integer scale (`llm_rating`).
//!
//! - A label judge is asked at temperature 0; the label is read from the final non-empty line
//!   of its reply (`ANSWER: EVIL`); anything else is missing.
//! - A rating judge is asked for one token with its top-20 log-probabilities; integer tokens
//!   within the range are kept, renormalised and averaged, exactly as llmcomp does
//!   (`llmcomp.rs`). Too little numeric mass (at most `min_numeric_mass`) is missing. A provider without log-probabilities gets its number read from the text, and
//!   the reply says so ([`JudgeReply::from_text`]).

mod llmcomp;
mod parse;
#[cfg(test)]
mod tests;

use crate::chat::Message;
use crate::judge::{JudgeInput, JudgeOutput};
use crate::model::{Completion, ModelRef, SampleRequest, Sampler, SamplingParams, Usage};
use crate::suite::template::Template;
use crate::suite::{JudgeDef, JudgeKind, JudgeMethod, JudgeModel, JudgeSpec, LlmRead};
use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::json;

pub use crate::suite::JUDGE_MODEL_ENV;

/// Reply budget of a label judge (room to explain before the final line).
const LABEL_MAX_TOKENS: u32 = 1024;
/// Top alternatives a rating judge asks for (the most OpenAI returns).
const RATING_TOP_LOGPROBS: u32 = 20;
/// Bumped when requests or parsing change, so cached judgments are not reused.
const DEFINITION_FORMAT: u32 = 2;

/// The model that runs the LLM judge `def`, as its suite picked it
/// ([`crate::suite::pick_judge_model`]); an error when there is none or it does not parse.
pub fn judge_model(def: &JudgeDef) -> Result<ModelRef> {
    let m = def.model.as_ref().ok_or_else(|| {
        anyhow!(
            "judge `{}` needs a judge model: set the suite's `judge_model`, the judge's `model` or {JUDGE_MODEL_ENV}",
            def.name
        )
    })?;
    parse_judge_model(m)
}

/// A picked judge model, parsed; an error names where it was given.
fn parse_judge_model(m: &JudgeModel) -> Result<ModelRef> {
    m.reference
        .parse()
        .with_context(|| format!("in {}", m.from))
}

/// An LLM judge ready to ask its judge model.
#[derive(Debug, Clone)]
pub struct LlmJudge {
    name: String,
    prompt: Template,
    mode: LlmRead,
    model: ModelRef,
    hash: String,
}

/// A judge's verdict on one answer, with what the judge model said.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeReply {
    pub output: JudgeOutput,
    /// The judge model's reply text (kept for audit).
    pub raw: String,
    /// A rating read from the reply's text because the provider gave no log-probabilities
    /// (to be reported: it is not the expected value the judge is defined by).
    pub from_text: bool,
    /// Tokens the judge call used.
    pub usage: Usage,
}

impl LlmJudge {
    /// Checks an `llm_label` or `llm_rating` spec and binds it to its judge model (resolved
    /// by the caller, e.g. with [`judge_model`]).
    pub fn new(name: &str, spec: &JudgeSpec, judge_model: ModelRef) -> Result<LlmJudge> {
        Self::build(spec, judge_model)
            .map(|mut j| {
                j.name = name.to_string();
                j
            })
            .with_context(|| format!("judge `{name}`"))
    }

    fn build(spec: &JudgeSpec, model: ModelRef) -> Result<LlmJudge> {
        let kind = spec.kind.name();
        let JudgeMethod::Llm { read, .. } = JudgeMethod::of(spec) else {
            bail!("a `{kind}` judge is not an LLM judge");
        };
        ensure!(
            spec.rules.is_empty()
                && spec.otherwise.is_none()
                && spec.key_var.is_none()
                && !spec.case_sensitive,
            "`rules`, `otherwise`, `key_var` and `case_sensitive` belong to deterministic judges, not `{kind}`"
        );
        let prompt = spec
            .prompt
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| anyhow!("a `{kind}` judge needs a `prompt`"))?;
        let template = Template::parse(prompt).context("in `prompt`")?;
        ensure!(
            template.placeholders().contains(&"answer"),
            "the `prompt` never shows the answer: put `{{answer}}` in it"
        );
        ensure!(
            spec.kind == JudgeKind::LlmFreeForm || spec.max_tokens.is_none(),
            "`max_tokens` belongs to `llm_free_form` judges"
        );
        let no_range = spec.min.is_none() && spec.max.is_none() && spec.min_numeric_mass.is_none();
        match &read {
            LlmRead::FreeForm { max_tokens, .. } => {
                ensure!(
                    no_range,
                    "`min`, `max` and `min_numeric_mass` belong to `llm_rating` judges"
                );
                ensure!(*max_tokens > 0, "`max_tokens` must be at least 1");
            }
            LlmRead::Label { labels } => {
                ensure!(
                    no_range,
                    "`min`, `max` and `min_numeric_mass` belong to `llm_rating` judges"
                );
                ensure!(spec.labels.is_some(), "an `llm_label` judge needs `labels`");
                ensure!(labels.len() >= 2, "`labels` needs at least two labels");
                let mut seen = Vec::new();
                for l in labels {
                    ensure!(
                        !l.trim().is_empty() && !l.contains(['*', '`', '\n']),
                        "label `{l}` must be non-empty, on one line, without `*` or backticks"
                    );
                    let n = parse::normalise(l);
                    ensure!(
                        !seen.contains(&n),
                        "label `{l}` is given twice (labels match in any case)"
                    );
                    seen.push(n);
                }
            }
            LlmRead::Rating {
                min,
                max,
                min_numeric_mass,
            } => {
                ensure!(
                    spec.labels.is_none(),
                    "`labels` belong to `llm_label` judges"
                );
                ensure!(min < max, "`min` ({min}) must be below `max` ({max})");
                ensure!(
                    *min_numeric_mass > 0.0 && *min_numeric_mass <= 1.0,
                    "`min_numeric_mass` must lie in (0, 1], not {min_numeric_mass}"
                );
            }
        }
        let mode = read;
        let hash = definition_hash(prompt, &mode, &model);
        Ok(LlmJudge {
            name: String::new(),
            prompt: template,
            mode,
            model,
            hash,
        })
    }

    /// The judge model.
    pub fn model(&self) -> &ModelRef {
        &self.model
    }

    /// Whether the judge reads log-probabilities (a rating judge): without them its rating
    /// is parsed from the reply's text.
    pub fn reads_logprobs(&self) -> bool {
        matches!(self.mode, LlmRead::Rating { .. })
    }

    /// The judge's name in its suite.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A hash of everything that decides the judge's output: kind, prompt, labels or range
    /// and numeric-mass rule (defaults resolved), judge model, and how it is asked and read.
    /// Not the description or the examples. Judgments are cached under it.
    pub fn definition_hash(&self) -> String {
        self.hash.clone()
    }

    /// What to ask the judge model about `input`: one user message (the prompt filled with
    /// `question`, `answer` and the probe's variables; `question` and `answer` win over
    /// variables of the same name) and the sampling parameters. An error names a
    /// placeholder with no value.
    pub fn request(&self, input: &JudgeInput) -> Result<(Vec<Message>, SamplingParams)> {
        let text = self
            .prompt
            .render(|n| match n {
                "question" => Some(input.question),
                "answer" => Some(input.answer),
                other => input.vars.get(other).map(String::as_str),
            })
            .map_err(|n| {
                anyhow!(
                    "judge `{}`: no value for `{{{n}}}` in its prompt",
                    self.name
                )
            })?;
        let params = match self.mode {
            LlmRead::Label { .. } => SamplingParams {
                temperature: 0.0,
                top_p: None,
                max_tokens: LABEL_MAX_TOKENS,
                top_logprobs: None,
                seed: None,
            },
            LlmRead::Rating { .. } => SamplingParams {
                temperature: 0.0,
                top_p: None,
                max_tokens: 1,
                top_logprobs: Some(RATING_TOP_LOGPROBS),
                seed: None,
            },
            LlmRead::FreeForm { max_tokens, .. } => SamplingParams {
                temperature: 0.0,
                top_p: None,
                max_tokens,
                top_logprobs: None,
                seed: None,
            },
        };
        Ok((vec![Message::user(text)], params))
    }

    /// Reads the judge model's reply (pure).
    pub fn parse(&self, completion: &Completion) -> JudgeReply {
        let (output, from_text) = match &self.mode {
            LlmRead::FreeForm {
                normalise: false, ..
            } => (JudgeOutput::Label(completion.text.clone()), false),
            LlmRead::FreeForm {
                normalise: true, ..
            } => (
                JudgeOutput::Label(crate::suite::normal_label(&completion.text)),
                false,
            ),
            LlmRead::Label { labels } => (
                parse::label(
                    &completion.text,
                    labels,
                    completion.finish_reason.as_deref(),
                ),
                false,
            ),
            LlmRead::Rating {
                min,
                max,
                min_numeric_mass,
            } => {
                let top = completion
                    .logprobs
                    .as_ref()
                    .and_then(|t| t.first())
                    .map(|t| t.top.as_slice())
                    .filter(|t| !t.is_empty());
                match top {
                    Some(top) => (
                        parse::rating_from_logprobs(top, *min, *max, *min_numeric_mass),
                        false,
                    ),
                    None => (parse::rating_from_text(&completion.text, *min, *max), true),
                }
            }
        };
        JudgeReply {
            output,
            raw: completion.text.clone(),
            from_text,
            usage: completion.usage,
        }
    }

    /// Asks the judge model about `input` through `sampler` and reads its reply. An error
    /// means no judgment was made (the sampler failed); an unreadable reply is
    /// [`JudgeOutput::Missing`].
    pub async fn judge(&self, sampler: &dyn Sampler, input: &JudgeInput<'_>) -> Result<JudgeReply> {
        let (messages, params) = self.request(input)?;
        let completions = sampler
            .sample(SampleRequest {
                model: &self.model,
                messages: &messages,
                params: &params,
                indices: 0..1,
            })
            .await
            .with_context(|| format!("judge `{}` asking {}", self.name, self.model))?;
        match completions.as_slice() {
            [c] => Ok(self.parse(c)),
            other => bail!(
                "judge `{}`: {} returned {} completions for one request",
                self.name,
                self.model,
                other.len()
            ),
        }
    }
}

fn definition_hash(prompt: &str, mode: &LlmRead, model: &ModelRef) -> String {
    let (kind, read) = match mode {
        // `normalise` joins the hash only when set, so llmcomp-style judgments stay cached.
        LlmRead::FreeForm {
            max_tokens,
            normalise,
            ..
        } => (
            JudgeKind::LlmFreeForm,
            if *normalise {
                json!({ "max_tokens": max_tokens, "normalise": true })
            } else {
                json!({ "max_tokens": max_tokens })
            },
        ),
        LlmRead::Label { labels } => (
            JudgeKind::LlmLabel,
            json!({ "labels": labels, "max_tokens": LABEL_MAX_TOKENS }),
        ),
        LlmRead::Rating {
            min,
            max,
            min_numeric_mass,
        } => (
            JudgeKind::LlmRating,
            json!({ "min": min, "max": max, "min_numeric_mass": min_numeric_mass,
                    "top_logprobs": RATING_TOP_LOGPROBS }),
        ),
    };
    let v = json!({
        "format": DEFINITION_FORMAT, "kind": kind.name(), "prompt": prompt, "read": read,
        "model": model.to_string(),
    });
    blake3::hash(v.to_string().as_bytes()).to_hex().to_string()
}
