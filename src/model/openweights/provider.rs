//! OpenWeights as a [`Provider`]: fine-tunes as jobs, sampling through deployments, GPU
//! hours priced apart (see [`super::cost`]).

use super::OpenWeights;
use crate::chat::Message;
use crate::model::batch::Batcher;
use crate::model::config::Price;
use crate::model::openai::kind::readiness;
use crate::model::provider::{Provider, ProviderStore, Readiness};
use crate::model::{Finetuner, ModelRef, Sampler};
use anyhow::Result;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The `openweights/...` provider of one project.
pub struct OwProvider(pub Arc<OpenWeights>);

#[async_trait]
impl Provider for OwProvider {
    fn sampler(&self) -> Result<Arc<dyn Sampler>> {
        Ok(self.0.clone())
    }

    fn finetuner(&self) -> Result<Arc<dyn Finetuner>> {
        Ok(self.0.clone())
    }

    /// Batch inference jobs (`--batch`).
    fn batcher(&self) -> Option<Arc<dyn Batcher>> {
        Some(self.0.clone())
    }

    fn max_in_flight(&self) -> Option<usize> {
        self.0.settings.max_concurrency
    }

    fn unavailable(&self) -> Option<String> {
        OpenWeights::unavailable()
    }

    /// The spending limits OpenWeights reports for the organization's keys.
    async fn account(&self) -> Result<Option<String>> {
        Ok(Some(self.0.account().await?))
    }

    /// Closes the bridge, which takes this process's deployments down.
    async fn close(&self) {
        self.0.close().await;
    }

    /// Deploys the model's base with every stored adapter of it, unless one serves it.
    async fn prepare(
        &self,
        model: &ModelRef,
        store: &dyn ProviderStore,
        question: Option<&[Message]>,
    ) -> Result<Readiness> {
        Ok(readiness(&self.0.prepare(model, store, question).await?))
    }

    /// A deployment is only known once made.
    fn recorded(&self, _model: &ModelRef, _store: &dyn ProviderStore) -> Result<Option<Readiness>> {
        Ok(None)
    }

    /// Tokens cost nothing here: OpenWeights bills GPU hours, which `weirdgen plan` estimates
    /// apart.
    fn price(&self, _model: &str) -> Option<Price> {
        Some(Price::FREE)
    }

    fn poll_delay(&self, attempt: u32) -> Duration {
        match self.0.settings.poll_seconds {
            Some(s) => Duration::from_secs_f64(s),
            None => crate::model::openai::poll_delay(attempt),
        }
    }
}
