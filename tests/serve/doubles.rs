//! Test doubles behind the server: a sampler whose answers show what it was asked, and a
//! fine-tuner whose jobs follow a script and whose models answer with what they were
//! trained on.

use anyhow::{Result, bail};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use weirdgen::chat::{Message, Role};
use weirdgen::model::{
    Completion, FinetuneRequest, Finetuner, Hyperparameters, JobState, JobStatus, ModelRef,
    PromptTooLong, SampleRequest, Sampler, TokenLogprobs, Usage,
};

/// What fine-tuned models learned: model → the first assistant answer of their data.
pub type Learned = Arc<Mutex<HashMap<ModelRef, String>>>;

/// Answers `"<model> seed=<seed> i=<index> says <last user message>"`, one word per token,
/// cut at `max_tokens`; a fine-tuned model answers what it learned. Every token has 20
/// alternatives when log-probabilities are asked for. It knows only words without capital
/// letters (the others are unknown words) and reads at most [`ECHO_CONTEXT`] words.
pub struct EchoSampler {
    pub learned: Learned,
}

/// The longest prompt, in words, the echo model reads.
pub const ECHO_CONTEXT: u32 = 200;

fn words(messages: &[Message]) -> impl Iterator<Item = &str> {
    messages.iter().flat_map(|m| m.content.split_whitespace())
}

#[async_trait]
impl Sampler for EchoSampler {
    fn endpoint(&self) -> String {
        "echo".into()
    }

    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>> {
        let last = req
            .messages
            .iter()
            .rfind(|m| m.role == Role::User)
            .map_or("", |m| m.content.as_str());
        if last == "please fail" {
            bail!("the echo model refuses");
        }
        let input_tokens = words(req.messages).count() as u32;
        if input_tokens > ECHO_CONTEXT {
            return Err(PromptTooLong(format!(
                "{input_tokens} words, more than the echo model's {ECHO_CONTEXT}"
            ))
            .into());
        }
        let learned = self.learned.lock().unwrap().get(req.model).cloned();
        let seed = req.params.seed.unwrap_or(0);
        Ok(req
            .indices
            .clone()
            .map(|i| {
                let full = match &learned {
                    Some(answer) => answer.clone(),
                    None => format!("{} seed={seed} i={i} says {last}", req.model),
                };
                let words: Vec<&str> = full.split_whitespace().collect();
                let cut = words.len() > req.params.max_tokens as usize;
                let words = &words[..words.len().min(req.params.max_tokens as usize)];
                let logprobs = req.params.top_logprobs.map(|_| {
                    words
                        .iter()
                        .map(|w| TokenLogprobs {
                            token: w.to_string(),
                            logprob: -0.25,
                            top: (0..20)
                                .map(|k| (format!("{w}#{k}"), -0.25 - k as f64))
                                .collect(),
                        })
                        .collect()
                });
                Completion {
                    text: words.join(" "),
                    logprobs,
                    usage: Usage {
                        input_tokens,
                        output_tokens: words.len() as u32,
                    },
                    finish_reason: Some(if cut { "length" } else { "stop" }.into()),
                }
            })
            .collect())
    }

    fn unknown_words(&self, _model: &ModelRef, messages: &[Message]) -> Option<u32> {
        Some(
            words(messages)
                .filter(|w| w.chars().any(char::is_uppercase))
                .count() as u32,
        )
    }
}

/// A started job of the script fine-tuner.
pub struct ScriptJob {
    pub base: ModelRef,
    pub hyperparameters: Hyperparameters,
    pub seed: u64,
    pub suffix: String,
    pub conversations: usize,
    answer: String,
    polls: usize,
    cancelled: bool,
}

/// The one word the script fine-tuner cannot learn (refused before a job starts).
pub const UNLEARNABLE: &str = "Zyzzyva";

/// Jobs go queued → running (2 polls) → succeeded with model `<base>:ft-<suffix>-<seed>`.
/// Data whose first answer is `FAIL` fails with `loss diverged at step 2`; suffix `hang`
/// runs until cancelled; data holding [`UNLEARNABLE`] is refused.
#[derive(Default)]
pub struct ScriptFinetuner {
    pub jobs: Mutex<Vec<ScriptJob>>,
    pub learned: Learned,
    pub cancels: Mutex<Vec<String>>,
}

#[async_trait]
impl Finetuner for ScriptFinetuner {
    fn endpoint(&self) -> String {
        "script".into()
    }

    fn check_conversation(&self, _base: &ModelRef, conversation: &[Message]) -> Result<()> {
        if words(conversation).any(|w| w == UNLEARNABLE) {
            bail!("unknown word `{UNLEARNABLE}` for the script model");
        }
        Ok(())
    }

    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String> {
        let answer = req
            .data
            .conversations
            .iter()
            .flatten()
            .find(|m| m.role == Role::Assistant)
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let mut jobs = self.jobs.lock().unwrap();
        jobs.push(ScriptJob {
            base: req.base.clone(),
            hyperparameters: req.hyperparameters.clone(),
            seed: req.seed,
            suffix: req.suffix.to_string(),
            conversations: req.data.conversations.len(),
            answer,
            polls: 0,
            cancelled: false,
        });
        Ok(format!("inner-{}", jobs.len() - 1))
    }

    async fn status(&self, job_id: &str) -> Result<JobStatus> {
        let i: usize = job_id.trim_start_matches("inner-").parse()?;
        let mut jobs = self.jobs.lock().unwrap();
        let job = &mut jobs[i];
        job.polls += 1;
        let events: Vec<String> = (1..=job.polls.min(3))
            .map(|s| format!("step {s}: loss {:.1}", 2.0 / s as f64))
            .collect();
        let (state, model, error) = if job.cancelled {
            (JobState::Cancelled, None, None)
        } else if job.answer == "FAIL" && job.polls >= 2 {
            (
                JobState::Failed,
                None,
                Some("loss diverged at step 2".to_string()),
            )
        } else if job.suffix == "hang" || job.polls < 3 {
            let s = if job.polls == 1 {
                JobState::Queued
            } else {
                JobState::Running
            };
            (s, None, None)
        } else {
            let m = ModelRef::new(
                job.base.provider.clone(),
                format!("{}:ft-{}-{}", job.base.model, job.suffix, job.seed),
            );
            self.learned
                .lock()
                .unwrap()
                .insert(m.clone(), job.answer.clone());
            (JobState::Succeeded, Some(m), None)
        };
        Ok(JobStatus {
            state,
            model,
            error,
            events,
        })
    }

    async fn cancel(&self, job_id: &str) -> Result<()> {
        let i: usize = job_id.trim_start_matches("inner-").parse()?;
        self.jobs.lock().unwrap()[i].cancelled = true;
        self.cancels.lock().unwrap().push(job_id.to_string());
        Ok(())
    }
}
