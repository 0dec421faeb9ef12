//! The Batch API: many chat requests in one uploaded JSONL file, answered within 24 h at a
//! lower price. [`BatchHandle`] holds all that is needed to poll and collect, and is
//! serialisable: the caller persists it after [`OpenAiProvider::submit_batch`] and resumes
//! with any provider instance after a kill.

use super::OpenAiProvider;
use super::chat::{MAX_N, NSupport, chat_body, completions, request_seed};
use super::finetune::upload;
use super::http::{Call, Http};
use super::once::{KEY_METADATA, Listed, create_once, find_keyed};
use super::wire::{Batch, BatchOutputLine, ChatResponse, error_text};
use crate::model::{Completion, SampleRequest};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// One request of a batch, under the caller's id (e.g. a sample cell key).
#[derive(Debug, Clone)]
pub struct BatchRequest<'a> {
    pub id: String,
    pub request: SampleRequest<'a>,
}

/// One line of a batch's input file: `n` samples of request `request_id` from `first_index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchLine {
    pub custom_id: String,
    pub request_id: String,
    pub first_index: u32,
    pub n: u32,
    pub logprobs: bool,
}

/// A submitted batch; persist it to resume after a kill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchHandle {
    pub batch_id: String,
    pub input_file_id: String,
    pub lines: Vec<BatchLine>,
}

/// A batch's status, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    Validating,
    InProgress,
    Finalizing,
    Completed,
    Failed,
    Expired,
    Cancelling,
    Cancelled,
    /// A status this version does not know; kept verbatim.
    Unknown(String),
}

impl BatchState {
    /// Parses a provider's status word.
    pub fn parse(s: &str) -> BatchState {
        match s {
            "validating" => BatchState::Validating,
            "in_progress" => BatchState::InProgress,
            "finalizing" => BatchState::Finalizing,
            "completed" => BatchState::Completed,
            "failed" => BatchState::Failed,
            "expired" => BatchState::Expired,
            "cancelling" => BatchState::Cancelling,
            "cancelled" => BatchState::Cancelled,
            other => BatchState::Unknown(other.to_string()),
        }
    }

    /// Whether the batch will not change any more (its results, if any, can be collected).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            BatchState::Completed
                | BatchState::Failed
                | BatchState::Expired
                | BatchState::Cancelled
        )
    }
}

/// Where a batch stands.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchProgress {
    pub state: BatchState,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    /// The provider's messages about the batch as a whole (e.g. why it failed validation).
    pub errors: Vec<String>,
}

/// Per request id: its completions in index order, or why it has none.
pub type BatchResults = BTreeMap<String, std::result::Result<Vec<Completion>, String>>;

impl OpenAiProvider {
    /// Uploads `requests` as one batch (all for the same model) and starts it. A batch with
    /// the same input that the server already runs is reused rather than started twice.
    pub async fn submit_batch(&self, requests: &[BatchRequest<'_>]) -> Result<BatchHandle> {
        self.ensure_available()?;
        let Some(first) = requests.first() else {
            bail!("a batch needs at least one request");
        };
        let model = first.request.model;
        if let Some(other) = requests.iter().find(|r| r.request.model != model) {
            bail!(
                "a batch holds one model: `{model}` and `{}` are mixed",
                other.request.model
            );
        }
        let caps = self.capabilities(&model.model).await?;
        let per_line = if caps.n == NSupport::Honoured {
            MAX_N
        } else {
            1
        };
        let mut lines = Vec::new();
        let mut jsonl = String::new();
        let mut ids = std::collections::HashSet::new();
        for r in requests {
            if !ids.insert(r.id.as_str()) {
                bail!("request id `{}` appears twice in the batch", r.id);
            }
            let req = &r.request;
            let logprobs = req.params.top_logprobs.is_some() && caps.logprobs;
            let mut start = req.indices.start;
            while start < req.indices.end {
                let n = per_line.min(req.indices.end - start);
                let seed = Some(request_seed(&model.model, req.messages, req.params, start));
                let body = chat_body(&model.model, req.messages, req.params, &caps, n, seed);
                let custom_id = format!("{}#{start}", r.id);
                let line = json!({
                    "custom_id": custom_id, "method": "POST",
                    "url": "/v1/chat/completions", "body": body,
                });
                jsonl.push_str(&line.to_string());
                jsonl.push('\n');
                lines.push(BatchLine {
                    custom_id,
                    request_id: r.id.clone(),
                    first_index: start,
                    n,
                    logprobs,
                });
                start += n;
            }
        }
        if lines.is_empty() {
            bail!("the batch's requests ask for no samples");
        }
        let http = &self.inner.http;
        let retry = &self.inner.retry;
        let key = blake3::hash(jsonl.as_bytes()).to_hex().to_string();
        let file_name = format!("weirdgen-batch-{}.jsonl", &key[..16]);
        let input_file_id = upload(http, retry, "batch", &file_name, jsonl.into_bytes()).await?;
        let batch_id = match find_batch(http, &key).await? {
            Some(id) => id,
            None => {
                let body = json!({
                    "input_file_id": input_file_id,
                    "endpoint": "/v1/chat/completions",
                    "completion_window": "24h",
                    "metadata": { KEY_METADATA: key },
                });
                let call = Call::post_json("batches", &body, false);
                create_once(
                    http,
                    retry,
                    &call,
                    |b: Batch| b.id,
                    || find_batch(http, &key),
                )
                .await?
            }
        };
        Ok(BatchHandle {
            batch_id,
            input_file_id,
            lines,
        })
    }

    /// The batch's state and counts.
    pub async fn batch_progress(&self, handle: &BatchHandle) -> Result<BatchProgress> {
        self.ensure_available()?;
        let http = &self.inner.http;
        let b: Batch = http
            .json(&Call::get(format!("batches/{}", handle.batch_id)))
            .await?;
        let counts = b.request_counts.unwrap_or_default();
        Ok(BatchProgress {
            state: BatchState::parse(b.status.as_deref().unwrap_or("unknown")),
            total: counts.total.unwrap_or(handle.lines.len() as u64),
            completed: counts.completed.unwrap_or(0),
            failed: counts.failed.unwrap_or(0),
            errors: batch_errors(http, b.errors.as_ref()),
        })
    }

    /// Downloads the batch's output and error files and matches them to the requests by
    /// `custom_id`. Every request of the handle is in the map; one without an answer (the
    /// batch expired, failed or is still running) is an `Err` with the reason.
    pub async fn batch_results(&self, handle: &BatchHandle) -> Result<BatchResults> {
        self.ensure_available()?;
        let http = &self.inner.http;
        let b: Batch = http
            .json(&Call::get(format!("batches/{}", handle.batch_id)))
            .await?;
        let state = b.status.clone().unwrap_or_else(|| "unknown".into());
        let mut answers: HashMap<String, std::result::Result<Vec<Completion>, String>> =
            HashMap::new();
        let by_id: HashMap<&str, &BatchLine> = handle
            .lines
            .iter()
            .map(|l| (l.custom_id.as_str(), l))
            .collect();
        for file in [&b.output_file_id, &b.error_file_id].into_iter().flatten() {
            let text = http
                .text(&Call::get(format!("files/{file}/content")))
                .await
                .with_context(|| format!("downloading batch file {file}"))?;
            for (no, raw) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let line: BatchOutputLine = serde_json::from_str(raw).with_context(|| {
                    format!("line {} of batch file {file} is not a result line", no + 1)
                })?;
                let Some(meta) = line.custom_id.as_deref().and_then(|c| by_id.get(c)) else {
                    continue;
                };
                answers.insert(meta.custom_id.clone(), line_result(http, &line, meta));
            }
        }
        let mut results = BatchResults::new();
        for l in &handle.lines {
            let answer = answers
                .remove(&l.custom_id)
                .unwrap_or_else(|| Err(format!("no result for this request (batch {state})")));
            let slot = results
                .entry(l.request_id.clone())
                .or_insert_with(|| Ok(Vec::new()));
            match (slot.as_mut(), answer) {
                (Ok(done), Ok(mut more)) => done.append(&mut more),
                (Ok(_), Err(e)) => *slot = Err(format!("samples from {}: {e}", l.first_index)),
                (Err(_), _) => {}
            }
        }
        Ok(results)
    }
}

#[async_trait::async_trait]
impl crate::model::batch::Batcher for OpenAiProvider {
    async fn submit(&self, requests: &[BatchRequest<'_>]) -> Result<BatchHandle> {
        self.submit_batch(requests).await
    }

    async fn progress(&self, handle: &BatchHandle) -> Result<BatchProgress> {
        self.batch_progress(handle).await
    }

    async fn results(&self, handle: &BatchHandle) -> Result<BatchResults> {
        self.batch_results(handle).await
    }
}

/// The completions of one output line, or why there are none.
fn line_result(
    http: &Http,
    line: &BatchOutputLine,
    meta: &BatchLine,
) -> std::result::Result<Vec<Completion>, String> {
    if let Some(e) = line.error.as_ref().filter(|e| !e.is_null()) {
        return Err(http.scrub(&error_text(e)));
    }
    let Some(resp) = &line.response else {
        return Err("the result line has neither response nor error".into());
    };
    let body = resp.body.clone().unwrap_or(Value::Null);
    match resp.status_code {
        Some(200) => {}
        code => {
            let msg = body
                .get("error")
                .map_or_else(|| body.to_string(), error_text);
            return Err(http.scrub(&format!("HTTP {}: {msg}", code.unwrap_or(0))));
        }
    }
    let chat: ChatResponse =
        serde_json::from_value(body).map_err(|e| format!("malformed response body: {e}"))?;
    completions(chat, meta.n, meta.logprobs).map_err(|e| http.scrub(&e))
}

/// The batch's own error messages (`errors.data[].message`, with the line they concern).
fn batch_errors(http: &Http, errors: Option<&Value>) -> Vec<String> {
    let Some(data) = errors.and_then(|e| e.get("data")).and_then(Value::as_array) else {
        return Vec::new();
    };
    data.iter()
        .map(|e| {
            let msg = error_text(e);
            match e.get("line").and_then(Value::as_u64) {
                Some(l) => http.scrub(&format!("line {l}: {msg}")),
                None => http.scrub(&msg),
            }
        })
        .collect()
}

impl Listed for Batch {
    fn id(&self) -> &str {
        &self.id
    }
    fn metadata(&self) -> Option<&Map<String, Value>> {
        self.metadata.as_ref()
    }
    fn usable(&self) -> bool {
        let state = BatchState::parse(self.status.as_deref().unwrap_or_default());
        !matches!(
            state,
            BatchState::Failed | BatchState::Expired | BatchState::Cancelled
        )
    }
}

/// A batch carrying `metadata.weirdgen_key = key` that has not failed, expired or been
/// cancelled.
async fn find_batch(http: &Http, key: &str) -> Result<Option<String>> {
    find_keyed::<Batch>(http, Call::get("batches").query("limit", "100"), key).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_states_parse_and_finish() {
        assert_eq!(BatchState::parse("in_progress"), BatchState::InProgress);
        assert!(BatchState::parse("expired").is_final());
        assert!(!BatchState::parse("finalizing").is_final());
        assert_eq!(
            BatchState::parse("paused"),
            BatchState::Unknown("paused".into())
        );
    }
}
