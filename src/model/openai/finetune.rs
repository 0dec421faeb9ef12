//! Files and fine-tuning jobs, each created at most once (see [`super::once`]).

use super::http::{Body, Call, Http};
use super::once::{KEY_METADATA, Listed, create_once, find_keyed, is_missing_endpoint};
use super::wire::{FileObject, Job, JobEvent, List, error_text};
use crate::model::config::RetryPolicy;
use crate::model::{FinetuneRequest, JobState, JobStatus, ModelRef};
use anyhow::{Result, bail};
use reqwest::Method;
use serde_json::{Map, Value, json};

impl Listed for Job {
    fn id(&self) -> &str {
        &self.id
    }
    fn metadata(&self) -> Option<&Map<String, Value>> {
        self.metadata.as_ref()
    }
    fn usable(&self) -> bool {
        let state = JobState::parse(self.status.as_deref().unwrap_or_default());
        !matches!(state, JobState::Failed | JobState::Cancelled)
    }
}

/// The hash naming a fine-tune's inputs (base model, data, hyperparameters, seed, suffix).
fn job_key(req: &FinetuneRequest<'_>) -> String {
    let v = json!({
        "format": 1,
        "base": req.base.model,
        "dataset": req.data.hash,
        "hyperparameters": req.hyperparameters,
        "seed": req.seed,
        "suffix": req.suffix,
    });
    blake3::hash(v.to_string().as_bytes()).to_hex().to_string()
}

/// The id of an uploaded file named `file_name` with `bytes`: an existing one when the
/// server already holds it, else a new upload.
pub(crate) async fn upload(
    http: &Http,
    retry: &RetryPolicy,
    purpose: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<String> {
    let len = bytes.len() as u64;
    if let Some(id) = find_file(http, purpose, file_name, len).await? {
        return Ok(id);
    }
    let call = Call {
        method: Method::POST,
        path: "files".into(),
        query: Vec::new(),
        body: Body::File {
            purpose: purpose.into(),
            file_name: file_name.into(),
            bytes,
        },
        tokens: 0,
        idempotent: false,
    };
    create_once(
        http,
        retry,
        &call,
        |f: FileObject| f.id,
        || find_file(http, purpose, file_name, len),
    )
    .await
}

/// An uploaded file with this name and size that is not in error, if the server lists one.
async fn find_file(
    http: &Http,
    purpose: &str,
    file_name: &str,
    len: u64,
) -> Result<Option<String>> {
    let call = Call::get("files").query("purpose", purpose);
    let files = match http.json::<List<FileObject>>(&call).await {
        Ok(l) => l.data,
        Err(e) if is_missing_endpoint(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(files
        .into_iter()
        .find(|f| {
            f.filename.as_deref() == Some(file_name)
                && f.bytes.is_none_or(|b| b == len)
                && !matches!(f.status.as_deref(), Some("error" | "deleted"))
        })
        .map(|f| f.id))
}

/// A job carrying `metadata.weirdgen_key = key` that has not failed or been cancelled.
pub(crate) async fn find_job(http: &Http, key: &str) -> Result<Option<String>> {
    let call = Call::get("fine_tuning/jobs")
        .query("limit", "100")
        .query(&format!("metadata[{KEY_METADATA}]"), key);
    find_keyed::<Job>(http, call, key).await
}

/// Starts the fine-tune of `req` (or finds the one already started for the same inputs).
pub(crate) async fn start(
    http: &Http,
    retry: &RetryPolicy,
    req: &FinetuneRequest<'_>,
) -> Result<String> {
    if req.seed > 2_147_483_647 {
        bail!(
            "fine-tuning seed {} is out of the API's range 0..=2147483647",
            req.seed
        );
    }
    let key = job_key(req);
    if let Some(id) = find_job(http, &key).await? {
        return Ok(id);
    }
    let name: String = req
        .data
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let file_name = format!(
        "weirdgen-{name}-{}.jsonl",
        &req.data.hash[..16.min(req.data.hash.len())]
    );
    let file_id = upload(
        http,
        retry,
        "fine-tune",
        &file_name,
        req.data.to_jsonl().into_bytes(),
    )
    .await?;
    let hp = req.hyperparameters;
    let mut hyper = serde_json::Map::new();
    if let Some(e) = hp.epochs {
        hyper.insert("n_epochs".into(), json!(e));
    }
    if let Some(b) = hp.batch_size {
        hyper.insert("batch_size".into(), json!(b));
    }
    if let Some(l) = hp.learning_rate_multiplier {
        hyper.insert("learning_rate_multiplier".into(), json!(l));
    }
    let mut body = json!({
        "model": req.base.model,
        "training_file": file_id,
        "seed": req.seed,
        "metadata": { KEY_METADATA: key },
        "method": { "type": "supervised", "supervised": { "hyperparameters": hyper } },
    });
    if !req.suffix.is_empty() {
        body["suffix"] = json!(req.suffix);
    }
    let call = Call::post_json("fine_tuning/jobs", &body, false);
    create_once(http, retry, &call, |j: Job| j.id, || find_job(http, &key)).await
}

/// The state, model, error and events of job `id`.
pub(crate) async fn status(http: &Http, provider: &str, id: &str) -> Result<JobStatus> {
    let job: Job = http
        .json(&Call::get(format!("fine_tuning/jobs/{id}")))
        .await?;
    let events_call = Call::get(format!("fine_tuning/jobs/{id}/events")).query("limit", "100");
    let mut events = match http.json::<List<JobEvent>>(&events_call).await {
        Ok(l) => l.data,
        Err(e) if is_missing_endpoint(&e) => Vec::new(),
        Err(e) => return Err(e),
    };
    // The API lists events newest first.
    if events.iter().all(|e| e.created_at.is_some()) {
        events.sort_by_key(|e| e.created_at);
    } else {
        events.reverse();
    }
    let state = JobState::parse(job.status.as_deref().unwrap_or("unknown"));
    let error = job
        .error
        .as_ref()
        .filter(|e| !e.is_null() && e.as_object().is_none_or(|o| o.get("message").is_some()))
        .map(|e| http.scrub(&error_text(e)))
        .filter(|s| !s.trim().is_empty());
    let model = job
        .fine_tuned_model
        .filter(|m| !m.is_empty())
        .map(|m| ModelRef::new(provider, m));
    Ok(JobStatus {
        state,
        model,
        error,
        events: events
            .into_iter()
            .filter_map(|e| e.message)
            .map(|m| http.scrub(&m))
            .collect(),
    })
}
