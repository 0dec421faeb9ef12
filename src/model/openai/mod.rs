//! OpenAI-compatible providers over HTTP: chat sampling, fine-tuning and the Batch API
//! against the OpenAI API or any server that speaks it (vLLM, Ollama, llama.cpp, Together,
//! OpenRouter, `weirdgen serve`).
//!
//! Every request goes through one client per provider with a concurrency limit, optional
//! requests/tokens-per-minute buckets, a per-request timeout and retries (429, 5xx, timeouts,
//! broken connections; `Retry-After` and `x-ratelimit-reset-*` honoured). Chat requests are
//! repeated freely; uploads and creations are created at most once (see [`once`]). No key,
//! auth header or URL credential appears in an error, a `Debug` output or a returned value.

mod batch;
mod chat;
mod finetune;
mod http;
pub(crate) mod kind;
mod limits;
pub mod once;
mod retry;
mod wire;

pub use batch::{BatchHandle, BatchLine, BatchProgress, BatchRequest, BatchResults, BatchState};
pub use chat::{Capabilities, MAX_N, MaxTokensField, NSupport, SeedSupport, derived_seed};
pub use http::{Ambiguous, ApiError};
pub use retry::poll_delay;

use crate::model::config::{ProviderConfig, RetryPolicy};
use crate::model::in_flight::InFlight;
use crate::model::{Completion, FinetuneRequest, Finetuner, JobStatus, SampleRequest, Sampler};
use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use tokio::task::JoinSet;

/// A `reqwest` client builder with TLS ready: rustls on the `ring` crypto provider (installed as
/// the process default on first use; an already installed default is kept).
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A provider speaking the OpenAI API. Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct OpenAiProvider {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    http: http::Http,
    retry: RetryPolicy,
    /// Set when the configured key variable is missing: every call fails with it.
    unavailable: Option<String>,
    capabilities: Mutex<HashMap<String, Arc<OnceCell<Capabilities>>>>,
    /// Prompts (by [`prompt_key`]) whose answer said the model did not know some words.
    unknown_words: Mutex<HashMap<String, u32>>,
}

/// Names a model and conversation in [`Inner::unknown_words`].
fn prompt_key(model: &str, messages: &[crate::chat::Message]) -> String {
    let text = serde_json::to_string(&(model, messages)).expect("messages serialise");
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

impl fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("name", &self.inner.name)
            .field("http", &self.inner.http)
            .field("unavailable", &self.inner.unavailable)
            .finish_non_exhaustive()
    }
}

impl OpenAiProvider {
    /// The provider `name` as configured; its key is read now from `cfg.api_key_env`. Its
    /// requests in flight are capped by `cfg.max_concurrency` only.
    pub fn new(name: &str, cfg: &ProviderConfig) -> Result<Self> {
        Self::build(name, cfg, None)
    }

    /// Like [`OpenAiProvider::new`], every request also holding a permit of `in_flight`.
    pub(crate) fn build(
        name: &str,
        cfg: &ProviderConfig,
        in_flight: Option<Arc<InFlight>>,
    ) -> Result<Self> {
        let (key, unavailable) = match &cfg.api_key_env {
            Some(var) => match std::env::var(var) {
                Ok(k) if !k.trim().is_empty() => (Some(k.trim().to_string()), None),
                _ => (None, Some(format!("{var} is not set"))),
            },
            None => (None, None),
        };
        Self::keyed(name, cfg, key, unavailable, in_flight)
    }

    /// A server whose key weirdgen was handed rather than read from the environment (an
    /// OpenWeights deployment's): `key` is sent with every request and redacted like others.
    pub(crate) fn with_key(
        name: &str,
        cfg: &ProviderConfig,
        key: Option<String>,
        in_flight: Option<Arc<InFlight>>,
    ) -> Result<Self> {
        Self::keyed(name, cfg, key, None, in_flight)
    }

    fn keyed(
        name: &str,
        cfg: &ProviderConfig,
        key: Option<String>,
        unavailable: Option<String>,
        in_flight: Option<Arc<InFlight>>,
    ) -> Result<Self> {
        let base = cfg
            .base_url
            .as_deref()
            .ok_or_else(|| anyhow!("provider `{name}` has no `base_url` to send requests to"))?;
        let http = http::Http::new(base, cfg, key, in_flight)
            .with_context(|| format!("provider `{name}`"))?;
        Ok(OpenAiProvider {
            inner: Arc::new(Inner {
                name: name.to_string(),
                http,
                retry: cfg.retry,
                unavailable,
                capabilities: Mutex::new(HashMap::new()),
                unknown_words: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The built-in `openai` provider (`OPENAI_API_KEY`, `OPENAI_BASE_URL`).
    pub fn builtin_openai() -> Result<Self> {
        Self::new("openai", &ProviderConfig::openai_builtin())
    }

    /// The provider's name (the `provider/` of its model references).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// `Ok` when the provider can be called, else why not (e.g. `OPENAI_API_KEY is not set`),
    /// for the harness to ignore trials with that reason.
    pub fn availability(&self) -> std::result::Result<(), String> {
        match &self.inner.unavailable {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }

    fn ensure_available(&self) -> Result<()> {
        self.availability()
            .map_err(|reason| anyhow!("provider `{}`: {reason}", self.inner.name))
    }

    /// The key under which the capabilities of `model` are stored
    /// (`Store::put_capabilities`): the endpoint and the model.
    pub fn capabilities_key(&self, model: &str) -> String {
        format!("{} {model}", self.endpoint_name())
    }

    /// What `model` honours at this endpoint: known ones, else probed once (three short
    /// requests) and remembered for the life of the provider.
    pub async fn capabilities(&self, model: &str) -> Result<Capabilities> {
        self.capabilities_asking(model, None).await
    }

    /// Like [`OpenAiProvider::capabilities`], probing with `question` (a conversation the
    /// model is about to be asked) instead of short English requests, when it must probe.
    pub async fn capabilities_asking(
        &self,
        model: &str,
        question: Option<&[crate::chat::Message]>,
    ) -> Result<Capabilities> {
        self.ensure_available()?;
        let cell = self
            .inner
            .capabilities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(model.to_string())
            .or_default()
            .clone();
        cell.get_or_try_init(|| chat::probe(&self.inner.http, model, question))
            .await
            .cloned()
    }

    /// Uses `caps` for `model` instead of probing (e.g. read back from the store).
    pub fn set_capabilities(&self, model: &str, caps: Capabilities) {
        let cell = Arc::new(OnceCell::new_with(Some(caps)));
        self.inner
            .capabilities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(model.to_string(), cell);
    }

    /// Remembers the unknown words the server counted in a prompt, if it counted any.
    fn note_unknown(&self, model: &str, messages: &[crate::chat::Message], unknown: Option<u32>) {
        if let Some(k) = unknown.filter(|&k| k > 0) {
            self.inner
                .unknown_words
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(prompt_key(model, messages), k);
        }
    }

    fn endpoint_name(&self) -> String {
        format!("{}@{}", self.inner.name, self.inner.http.shown_base())
    }
}

#[async_trait]
impl Sampler for OpenAiProvider {
    fn endpoint(&self) -> String {
        self.endpoint_name()
    }

    /// Requests of up to [`MAX_N`] choices where the server honours `n`, else one request per
    /// sample, all at once within the provider's limits. Sample `i` is sent with seed
    /// `seed + i` (a request of n choices from sample `i` with seed `seed + i`), where `seed`
    /// is the parameters' or else [`derived_seed`] of the request.
    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>> {
        if req.indices.is_empty() {
            return Ok(Vec::new());
        }
        if req.model.provider != self.inner.name {
            bail!(
                "provider `{}` cannot sample `{}`",
                self.inner.name,
                req.model
            );
        }
        let model = &req.model.model;
        let caps = self.capabilities(model).await?;
        let per_request = if caps.n == NSupport::Honoured {
            MAX_N
        } else {
            1
        };
        let want_logprobs = req.params.top_logprobs.is_some() && caps.logprobs;
        if req.indices.len() as u32 <= per_request {
            // One request: asked here, without a task of its own.
            let n = req.indices.len() as u32;
            let seed = Some(chat::request_seed(
                model,
                req.messages,
                req.params,
                req.indices.start,
            ));
            let body = chat::chat_body(model, req.messages, req.params, &caps, n, seed);
            let call = chat::chat_call(&body, req.messages, req.params.max_tokens, n);
            let (comps, unknown) = chat::chat(&self.inner.http, &call, n, want_logprobs).await?;
            self.note_unknown(model, req.messages, unknown);
            return Ok(comps);
        }
        let mut tasks = JoinSet::new();
        let mut start = req.indices.start;
        let mut part = 0usize;
        while start < req.indices.end {
            let n = per_request.min(req.indices.end - start);
            let seed = Some(chat::request_seed(model, req.messages, req.params, start));
            let body = chat::chat_body(model, req.messages, req.params, &caps, n, seed);
            let call = chat::chat_call(&body, req.messages, req.params.max_tokens, n);
            let inner = self.inner.clone();
            tasks.spawn(async move {
                let r = chat::chat(&inner.http, &call, n, want_logprobs).await;
                (part, r)
            });
            start += n;
            part += 1;
        }
        let mut parts: Vec<Option<Vec<Completion>>> = vec![None; part];
        let mut unknown = None;
        while let Some(joined) = tasks.join_next().await {
            let (i, r) = joined.context("a sampling task panicked")?;
            let (comps, k) = r?;
            parts[i] = Some(comps);
            unknown = unknown.or(k);
        }
        self.note_unknown(model, req.messages, unknown);
        Ok(parts.into_iter().flatten().flatten().collect())
    }

    /// The unknown words `weirdgen serve` counted in this prompt when this process asked it
    /// (`None`: none counted, or not asked here).
    fn unknown_words(
        &self,
        model: &crate::model::ModelRef,
        messages: &[crate::chat::Message],
    ) -> Option<u32> {
        self.inner
            .unknown_words
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&prompt_key(&model.model, messages))
            .copied()
    }
}

#[async_trait]
impl Finetuner for OpenAiProvider {
    fn endpoint(&self) -> String {
        self.endpoint_name()
    }

    /// Uploads the data and creates the job, or finds the job already created for the same
    /// inputs (see [`once`]): calling it again after a kill does not start a second job.
    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String> {
        self.ensure_available()?;
        finetune::start(&self.inner.http, &self.inner.retry, &req)
            .await
            .with_context(|| {
                format!(
                    "starting the fine-tune of {} on {}",
                    req.base, req.data.name
                )
            })
    }

    /// The job's state, trained model, the provider's error message and events.
    async fn status(&self, job_id: &str) -> Result<JobStatus> {
        self.ensure_available()?;
        finetune::status(&self.inner.http, &self.inner.name, job_id).await
    }
}
