//! The seam every provider plugs into: [`Provider`], what serves the model references
//! `<name>/...` of one provider. [`super::registry::Providers`] resolves a reference's provider
//! once and asks it everything: sampler, finetuner, batches, readiness, price, poll delay and
//! limits. A new provider implements this trait in one file and is listed in
//! [`super::kinds::KINDS`].

use super::batch::Batcher;
use super::config::Price;
use super::{Finetuner, ModelRef, Sampler};
use crate::chat::Message;
use anyhow::Result;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// One provider. Only sampling, fine-tuning, price and polling must be said; the rest has
/// defaults fit for a provider that needs no preparation and has no batch API.
#[async_trait]
pub trait Provider: Send + Sync {
    /// What answers the provider's models; an error where it cannot answer (e.g. a provider
    /// configured only to fine-tune).
    fn sampler(&self) -> Result<Arc<dyn Sampler>>;

    /// What fine-tunes the provider's models (a `command` in `weirdgen.toml` takes its place).
    fn finetuner(&self) -> Result<Arc<dyn Finetuner>>;

    /// The batch interface, for providers that have one.
    fn batcher(&self) -> Option<Arc<dyn Batcher>> {
        None
    }

    /// Why the provider cannot be used here (e.g. a missing API key), if it cannot.
    fn unavailable(&self) -> Option<String> {
        None
    }

    /// Why `model` cannot answer `messages` meaningfully, where the provider can tell without
    /// a request.
    fn cannot_ask(&self, _model: &ModelRef, _messages: &[Message]) -> Option<String> {
        None
    }

    /// What the provider's account says of spending (e.g. a spending limit), where it has
    /// an account to ask.
    async fn account(&self) -> Result<Option<String>> {
        Ok(None)
    }

    /// Ends what the provider started for this process (e.g. a helper process and the
    /// servers it deployed), gracefully.
    async fn close(&self) {}

    /// Readies `model` for sampling (e.g. learns what the endpoint supports, from `cache` or
    /// by asking `question`, and records it in `cache`).
    async fn prepare(
        &self,
        _model: &ModelRef,
        _cache: &dyn ProviderStore,
        _question: Option<&[Message]>,
    ) -> Result<Readiness> {
        Ok(Readiness::FULL)
    }

    /// What is known of `model` without a request: `None` when [`Provider::prepare`] would
    /// have to ask the server.
    fn recorded(&self, _model: &ModelRef, _cache: &dyn ProviderStore) -> Result<Option<Readiness>> {
        Ok(Some(Readiness::FULL))
    }

    /// The price of the model called `model` on this provider (`ft:<base>` prices the
    /// fine-tunes of `<base>`), if known.
    fn price(&self, model: &str) -> Option<Price>;

    /// How long to wait before polling a fine-tune or batch again, at the `attempt`-th poll.
    fn poll_delay(&self, attempt: u32) -> Duration;

    /// Requests in flight at once to this provider, at most, if the provider sets a cap: it
    /// lowers the run's figure (`--concurrency`), never raises it.
    fn max_in_flight(&self) -> Option<usize> {
        None
    }

    /// How many fine-tunes run at once.
    fn finetunes_at_once(&self) -> usize {
        8
    }
}

/// What a run needs to know of a model before it uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// Whether completions carry top log-probabilities when asked (a rating judge reads its
    /// expected value from them; without them its rating is parsed from the reply text).
    pub logprobs: bool,
}

impl Readiness {
    /// A model that supports everything a run asks for.
    pub const FULL: Readiness = Readiness { logprobs: true };
}

/// What a provider keeps and reads in the store between runs: what it learned of its
/// endpoints (JSON values by key), and the fine-tunes the store holds.
pub trait ProviderStore: Send + Sync {
    /// The value recorded under `key`, if any.
    fn capabilities(&self, key: &str) -> Result<Option<serde_json::Value>>;
    /// Records `value` under `key`, replacing any.
    fn put_capabilities(&self, key: &str, value: &serde_json::Value) -> Result<()>;
    /// The fine-tunes the store holds, of every provider (e.g. for a provider that serves
    /// every adapter of a base model on one server).
    fn finetunes(&self) -> Result<Vec<StoredFinetune>>;
}

/// A fine-tune as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinetune {
    /// The finetuner's endpoint (see [`super::Finetuner::endpoint`]).
    pub endpoint: String,
    /// The base model, as `provider/model`.
    pub base_model: String,
    /// The job's state (`succeeded` once the model exists).
    pub state: String,
    /// The fine-tuned model, as `provider/model`, once known.
    pub model: Option<String>,
}

impl<T: ProviderStore + ?Sized> ProviderStore for Arc<T> {
    fn capabilities(&self, key: &str) -> Result<Option<serde_json::Value>> {
        (**self).capabilities(key)
    }

    fn put_capabilities(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        (**self).put_capabilities(key, value)
    }

    fn finetunes(&self) -> Result<Vec<StoredFinetune>> {
        (**self).finetunes()
    }
}
