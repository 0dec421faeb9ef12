//! Models: references (`provider/model`), the [`Sampler`] and [`Finetuner`] traits, and the
//! providers behind them.

pub mod batch;
pub mod command;
pub mod config;
pub mod in_flight;
pub mod kinds;
pub mod openai;
pub mod openweights;
pub mod provider;
pub(crate) mod redact;
mod reference;
pub mod registry;
pub mod sim;
pub mod toy;

pub use reference::ModelRef;

use crate::chat::{Message, TrainingSet};
use anyhow::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Sampling parameters of one request (the part of a probe that reaches the model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    pub temperature: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    pub max_tokens: u32,
    /// Ask for this many top alternatives per generated token (OpenAI `top_logprobs`, ≤ 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// A base seed; providers that honour seeds combine it with the sample index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// One request for completions `indices` of a conversation.
///
/// The sample index is part of the request so that sample `i` of a cell is the same
/// draw whichever batch it is requested in: raising a probe's sample count asks only for
/// the new indices.
#[derive(Debug, Clone)]
pub struct SampleRequest<'a> {
    pub model: &'a ModelRef,
    pub messages: &'a [Message],
    pub params: &'a SamplingParams,
    pub indices: Range<u32>,
}

/// Log-probabilities of one generated token and its top alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprobs {
    pub token: String,
    pub logprob: f64,
    /// The most likely tokens at this position with their log-probabilities.
    pub top: Vec<(String, f64)>,
}

/// Token counts reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// One sampled answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    /// Per generated token, where the provider returns log-probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<TokenLogprobs>>,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

/// The model cannot be asked this conversation at all (e.g. a word outside a toy world's
/// vocabulary): asking again will not help. Samplers return it inside `anyhow::Error`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaskablePrompt(pub String);

impl std::fmt::Display for UnaskablePrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnaskablePrompt {}

/// The conversation is longer than the model's context. Samplers return it inside
/// `anyhow::Error`.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptTooLong(pub String);

impl std::fmt::Display for PromptTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PromptTooLong {}

/// Something that answers chat messages.
#[async_trait]
pub trait Sampler: Send + Sync {
    /// Names the endpoint in cache keys: provider and base URL, never a credential.
    fn endpoint(&self) -> String;

    /// One completion per index of `req.indices`, in order. An error fails the whole
    /// request; nothing partial is returned as if it were complete.
    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>>;

    /// How many words of `messages` `model` does not know (it reads each as an unknown-word
    /// token, so its answer says little), where this sampler can tell: a toy model from its
    /// vocabulary, the HTTP client from what `weirdgen serve` answered to the same prompt.
    /// `None` where it cannot tell.
    fn unknown_words(&self, _model: &ModelRef, _messages: &[Message]) -> Option<u32> {
        None
    }
}

/// Fine-tuning hyperparameters, named as in the OpenAI API; `None` is the provider's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate_multiplier: Option<f64>,
    /// Hyperparameters of one provider only, by its names (OpenWeights' LoRA rank `r`, ...),
    /// with the provider's defaults left out.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One fine-tune to start.
#[derive(Debug, Clone, Copy)]
pub struct FinetuneRequest<'a> {
    pub base: &'a ModelRef,
    pub data: &'a TrainingSet,
    pub hyperparameters: &'a Hyperparameters,
    pub seed: u64,
    /// A short human-readable tag for the resulting model (OpenAI `suffix`).
    pub suffix: &'a str,
}

/// The state of a fine-tuning job, as providers report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    ValidatingFiles,
    Queued,
    Running,
    Pausing,
    Paused,
    Succeeded,
    Failed,
    Cancelled,
    /// A status this version of weirdgen does not know; kept verbatim.
    Unknown(String),
}

impl JobState {
    /// Whether the job will not change state any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    /// The provider's word for the state (`succeeded`, `queued`, ... or the unknown word).
    pub fn as_str(&self) -> &str {
        match self {
            JobState::ValidatingFiles => "validating_files",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Pausing => "pausing",
            JobState::Paused => "paused",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Unknown(s) => s,
        }
    }

    /// Parses a provider's status word; words it does not know become [`JobState::Unknown`].
    pub fn parse(s: &str) -> JobState {
        match s {
            "validating_files" => JobState::ValidatingFiles,
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "pausing" => JobState::Pausing,
            "paused" => JobState::Paused,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            other => JobState::Unknown(other.to_string()),
        }
    }
}

/// What a provider says about a job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub state: JobState,
    /// The trained model, once the job succeeded.
    pub model: Option<ModelRef>,
    /// The provider's message when the job failed.
    pub error: Option<String>,
    /// Event messages, oldest first.
    pub events: Vec<String>,
}

/// Something that fine-tunes a model on a dataset.
#[async_trait]
pub trait Finetuner: Send + Sync {
    /// Names the endpoint in job keys: provider and base URL, never a credential.
    fn endpoint(&self) -> String;

    /// Starts a job and returns its id. Not idempotent: callers record the id before polling.
    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String>;

    /// Why `base` cannot be fine-tuned on `conversation`, where the provider can tell
    /// before starting (a toy model learns only its world's words). By default it cannot.
    fn check_conversation(&self, _base: &ModelRef, _conversation: &[Message]) -> Result<()> {
        Ok(())
    }

    /// The job's current state.
    async fn status(&self, job_id: &str) -> Result<JobStatus>;

    /// Takes up job `job_id` after the process that started it died, and returns the id to
    /// poll. A provider that keeps its jobs (a server) goes on with the same job, the default;
    /// one whose jobs die with the process that ran them starts `req` again.
    async fn resume(&self, job_id: &str, req: FinetuneRequest<'_>) -> Result<String> {
        let _ = req;
        Ok(job_id.to_string())
    }

    /// Asks the provider to stop a job. By default a provider cannot: the error says so and
    /// the job may run on.
    async fn cancel(&self, job_id: &str) -> Result<()> {
        anyhow::bail!(
            "{} cannot cancel fine-tuning jobs (job {job_id})",
            self.endpoint()
        )
    }
}
