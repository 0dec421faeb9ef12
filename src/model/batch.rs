//! Sampling many requests at once, answered later at a lower price (the OpenAI Batch API):
//! the narrow interface the runner's `--batch` path uses, without knowing HTTP.

use anyhow::Result;
use async_trait::async_trait;

pub use super::openai::{
    BatchHandle, BatchLine, BatchProgress, BatchRequest, BatchResults, BatchState,
};

/// Something that takes many sample requests as one batch and answers them later.
#[async_trait]
pub trait Batcher: Send + Sync {
    /// Whether the model must be readied for sampling (see
    /// [`super::provider::Provider::prepare`]) before its batches are submitted.
    fn needs_prepare(&self) -> bool {
        true
    }

    /// Submits `requests` (all for one model) as one batch. Submitting the same requests
    /// again finds the batch already running rather than starting a second one.
    async fn submit(&self, requests: &[BatchRequest<'_>]) -> Result<BatchHandle>;

    /// The batch's state and counts.
    async fn progress(&self, handle: &BatchHandle) -> Result<BatchProgress>;

    /// The completions of every request of the batch, matched by request id; a request
    /// without an answer is an `Err` with the reason.
    async fn results(&self, handle: &BatchHandle) -> Result<BatchResults>;
}
