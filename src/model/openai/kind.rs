//! The `openai` kind: an OpenAI-compatible endpoint configured in `weirdgen.toml` (the
//! built-in `openai` provider included). Its abilities (n > 1, logprobs, seed, ...) are read
//! from the store ([`ProviderStore`]), or probed once and recorded there, so no later run
//! probes them again.

use super::{Capabilities, OpenAiProvider, retry};
use crate::chat::Message;
use crate::model::batch::Batcher;
use crate::model::config::{Price, ProviderConfig};
use crate::model::kinds::Setup;
use crate::model::provider::{Provider, ProviderStore, Readiness};
use crate::model::{Finetuner, ModelRef, Sampler};
use anyhow::{Context, Result, anyhow};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// Why the table of provider `name` cannot work: it must reach an endpoint or run a command.
pub(crate) fn check(name: &str, config: &ProviderConfig) -> Option<String> {
    (config.base_url.is_none() && config.command.is_none())
        .then(|| format!("provider `{name}` needs a `base_url`, a `command`, or both"))
}

/// The provider as configured; its key is read now.
pub(crate) fn build(setup: &Setup<'_>) -> Result<Arc<dyn Provider>> {
    let name = setup.name;
    let http = match setup.config.base_url {
        Some(_) => OpenAiProvider::build(name, setup.config, Some(setup.in_flight.clone()))
            .map(Arc::new)
            .map_err(|e| format!("{e:#}")),
        None => Err(format!(
            "provider `{name}` has no `base_url`: it can fine-tune (command) but not answer"
        )),
    };
    Ok(Arc::new(Configured {
        http,
        config: setup.config.clone(),
    }))
}

/// An OpenAI-compatible provider and its configuration.
struct Configured {
    /// The client, or why there is none.
    http: std::result::Result<Arc<OpenAiProvider>, String>,
    config: ProviderConfig,
}

impl Configured {
    fn http(&self) -> Result<Arc<OpenAiProvider>> {
        self.http.clone().map_err(|e| anyhow!("{e}"))
    }
}

pub(crate) fn readiness(caps: &Capabilities) -> Readiness {
    Readiness {
        logprobs: caps.logprobs && caps.top_logprobs > 0,
    }
}

/// The abilities recorded in `cache` for `model` at `p`'s endpoint, if any (an unreadable
/// record counts as none: it is probed again and replaced).
fn stored(
    p: &OpenAiProvider,
    model: &ModelRef,
    cache: &dyn ProviderStore,
) -> Result<Option<Capabilities>> {
    let key = p.capabilities_key(&model.model);
    Ok(cache
        .capabilities(&key)?
        .and_then(|v| Capabilities::from_json(&v).ok()))
}

#[async_trait]
impl Provider for Configured {
    fn sampler(&self) -> Result<Arc<dyn Sampler>> {
        Ok(self.http()?)
    }

    fn finetuner(&self) -> Result<Arc<dyn Finetuner>> {
        Ok(self.http()?)
    }

    fn batcher(&self) -> Option<Arc<dyn Batcher>> {
        self.http.clone().ok().map(|p| p as Arc<dyn Batcher>)
    }

    fn unavailable(&self) -> Option<String> {
        match &self.http {
            Ok(p) => p.availability().err(),
            Err(e) => Some(e.clone()),
        }
    }

    /// Uses the abilities recorded for this endpoint and model, or probes them (three short
    /// requests, asking `question` if given) and records them.
    async fn prepare(
        &self,
        model: &ModelRef,
        cache: &dyn ProviderStore,
        question: Option<&[Message]>,
    ) -> Result<Readiness> {
        let p = self.http()?;
        let caps = match stored(&p, model, cache)? {
            Some(caps) => {
                p.set_capabilities(&model.model, caps.clone());
                caps
            }
            None => {
                let caps = p
                    .capabilities_asking(&model.model, question)
                    .await
                    .with_context(|| format!("probing what {model} supports"))?;
                cache.put_capabilities(&p.capabilities_key(&model.model), &caps.to_json())?;
                caps
            }
        };
        Ok(readiness(&caps))
    }

    fn recorded(&self, model: &ModelRef, cache: &dyn ProviderStore) -> Result<Option<Readiness>> {
        let p = self.http()?;
        Ok(stored(&p, model, cache)?.map(|c| readiness(&c)))
    }

    fn price(&self, model: &str) -> Option<Price> {
        self.config.price(model)
    }

    /// `poll_seconds` if configured, else a backoff fit for the OpenAI API.
    fn poll_delay(&self, attempt: u32) -> Duration {
        match self.config.poll_seconds {
            Some(s) => Duration::from_secs_f64(s),
            None => retry::poll_delay(attempt),
        }
    }

    fn max_in_flight(&self) -> Option<usize> {
        self.config.max_concurrency
    }
}
