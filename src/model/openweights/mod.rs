//! The `openweights/<base model>` provider: fine-tunes and sampling on the user's GPU cluster
//! through OpenWeights (longtermrisk/openweights, pinned to 0.13.7).
//!
//! weirdgen talks to OpenWeights through its official Python client, in a bridge process
//! speaking JSON lines ([`bridge`]). A replica's fine-tune becomes one OpenWeights
//! fine-tuning job whose arguments are normalised ([`params`]): OpenWeights names jobs by a
//! hash of their content, so submitting a fine-tune again returns the same job and buys
//! nothing. The job id is recorded in the store like any other fine-tune's, so a killed run
//! polls the same jobs again. Trained replicas are LoRA adapters on the Hugging Face Hub,
//! named `openweights/<hf org>/<repo>`; probes reach them, and the base model, through one
//! OpenAI-compatible vLLM deployment per base model ([`deploy`]), whose URL never enters a
//! cache key, or with `--batch` through batch inference jobs (`batch.rs`). [`cost`] estimates
//! GPU hours and dollars for `weirdgen plan`; [`settings`] reads `weirdgen.toml` and the
//! environment. The bridge is closed at the end of a run and takes its deployments down.

mod batch;
pub mod bridge;
pub mod cost;
pub mod deploy;
pub mod params;
mod provider;
pub mod settings;

pub use provider::OwProvider;
pub use settings::Settings;

use crate::model::in_flight::InFlight;
use crate::model::openai::OpenAiProvider;
use crate::model::{FinetuneRequest, Finetuner, JobState, JobStatus, ModelRef};
use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use bridge::{Bridge, Refusal, refusal_of};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The provider's name: the `openweights/` of model references.
pub const PROVIDER: &str = "openweights";
/// The OpenWeights version the bridge pins (job ids depend on it).
pub const OPENWEIGHTS_VERSION: &str = "0.13.7";
/// The environment variable with a fixed wait between polls, in seconds.
pub const POLL_ENV: &str = "WEIRDGEN_OW_POLL_SECONDS";
/// Lines and characters of a failed job's log kept in its error.
const LOG_TAIL_LINES: usize = 20;
const LOG_TAIL_CHARS: usize = 2000;

/// The OpenWeights provider of one project.
pub struct OpenWeights {
    bridge: Bridge,
    settings: Settings,
    /// The run's figure of requests in flight, which every request to a deployment respects.
    in_flight: Arc<InFlight>,
    /// Deployed models (`provider/model`) and the client of the server serving them.
    served: tokio::sync::Mutex<HashMap<String, OpenAiProvider>>,
    account_shown: OnceCell<()>,
}

/// A job as the bridge reports it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct OwJob {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub finetuned_model_id: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
    /// An inference job's output file, once it completed.
    #[serde(default)]
    pub file: Option<String>,
}

impl OpenWeights {
    /// The provider with `settings`, its bridge files under `work_dir`.
    pub fn new(work_dir: &Path, in_flight: Arc<InFlight>, settings: Settings) -> OpenWeights {
        OpenWeights {
            bridge: Bridge::from_env(work_dir, settings.python.as_deref()),
            settings,
            in_flight,
            served: tokio::sync::Mutex::new(HashMap::new()),
            account_shown: OnceCell::new(),
        }
    }

    /// Why the provider cannot be used here, if it cannot (no key in the environment).
    pub fn unavailable() -> Option<String> {
        match std::env::var(bridge::KEY_ENV) {
            Ok(k) if !k.trim().is_empty() => None,
            _ => Some(format!(
                "{} is not set (OpenWeights setup: see the README)",
                bridge::KEY_ENV
            )),
        }
    }

    async fn job(&self, op: &str, job_id: &str) -> Result<OwJob> {
        let v = self.bridge.call(op, json!({ "job_id": job_id })).await?;
        serde_json::from_value(v).context("OpenWeights answered a job without id or status")
    }

    /// What OpenWeights reports of the key's spending limit, one line per key.
    pub async fn account(&self) -> Result<String> {
        Ok(account_text(&self.bridge.call("account", json!({})).await?))
    }

    /// Prints the key's spending limit once per process (to stderr; nothing is stored).
    async fn show_account(&self) {
        self.account_shown
            .get_or_init(|| async {
                match self.account().await {
                    Ok(text) => eprintln!("{text}"),
                    Err(e) => eprintln!("OpenWeights: spending limit unknown ({e:#})"),
                }
            })
            .await;
    }

    /// Closes the bridge, which takes the deployments this process started down.
    pub async fn close(&self) {
        self.bridge.close().await;
    }

    /// The tail of job `id`'s last log, if OpenWeights has one.
    async fn log_excerpt(&self, id: &str) -> Option<String> {
        let v = self
            .bridge
            .call("logs", json!({ "job_id": id }))
            .await
            .ok()?;
        v["text"].as_str().map(tail).filter(|t| !t.is_empty())
    }

    /// Why failed or canceled `job` ended: its error and the tail of its log.
    async fn why_ended(&self, job: &OwJob) -> String {
        let reason = job.error.as_ref().and_then(error_text);
        let why = match (reason, self.log_excerpt(&job.id).await) {
            (Some(r), Some(l)) => format!("{r}; log ends:\n{l}"),
            (None, Some(l)) => format!("log ends:\n{l}"),
            (Some(r), None) => r,
            (None, None) => "OpenWeights gives no reason and no log".into(),
        };
        crate::model::redact::scrub(&why, &[])
    }

    /// Cancels job `id` if it is pending or running; returns its state afterwards.
    pub async fn cancel_job(&self, id: &str) -> Result<String> {
        Ok(self.job("cancel", id).await?.status)
    }
}

/// The spending limits of the account's keys, as one line per key. OpenWeights' cost report
/// lists every limit of the organization and the spend of every key that ran jobs; the key
/// in use is marked when the bridge could tell it (from the claims of its session token).
fn account_text(v: &Value) -> String {
    let limits = v["limits"].as_array().cloned().unwrap_or_default();
    let total = v["total_usd"].as_f64().unwrap_or(0.0);
    let this_limited = limits.iter().any(|l| l["this_key"] == json!(true));
    let mut lines: Vec<String> = limits
        .iter()
        .map(|l| {
            format!(
                "OpenWeights: key `{}` has spent ${:.2} of its ${:.2} spending limit{}",
                crate::terminal::printable(l["key"].as_str().unwrap_or("?")),
                l["spent_usd"].as_f64().unwrap_or(0.0),
                l["limit_usd"].as_f64().unwrap_or(0.0),
                if l["this_key"] == json!(true) {
                    " (the key weirdgen uses)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if v["this_key_known"] == json!(true) && !this_limited {
        lines.insert(
            0,
            format!(
                "OpenWeights: the key weirdgen uses has no spending limit (the organization has spent ${total:.2} in all)"
            ),
        );
    } else if limits.is_empty() {
        lines.push(format!(
            "OpenWeights: no spending limit is set on any key of this organization (spent ${total:.2} in all)"
        ));
    }
    lines.join("\n")
}

/// The last [`LOG_TAIL_LINES`] non-empty lines of `text`, at most [`LOG_TAIL_CHARS`] characters.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let joined = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    let n = joined.chars().count();
    if n > LOG_TAIL_CHARS {
        let cut: String = joined.chars().skip(n - LOG_TAIL_CHARS).collect();
        format!("…{cut}")
    } else {
        joined
    }
}

/// The text of an `outputs.error` value.
fn error_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The provider of a `[providers.openweights]` table (kind `openweights`).
pub fn build(
    setup: &crate::model::kinds::Setup<'_>,
) -> Result<Arc<dyn crate::model::provider::Provider>> {
    let settings = Settings::resolve(Some(setup.config))?;
    let ow = OpenWeights::new(
        &setup.work_dir.join(PROVIDER),
        setup.in_flight.clone(),
        settings,
    );
    Ok(Arc::new(OwProvider(Arc::new(ow))))
}

#[async_trait]
impl Finetuner for OpenWeights {
    fn endpoint(&self) -> String {
        format!("{PROVIDER}@{OPENWEIGHTS_VERSION}")
    }

    /// Uploads the data (a content-hashed file) and submits the job; OpenWeights returns the
    /// existing job when the same one was submitted before.
    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String> {
        if req.base.provider != PROVIDER {
            bail!("`{}` is not an OpenWeights model", req.base);
        }
        self.show_account().await;
        let file = self
            .bridge
            .call(
                "upload",
                json!({ "content": req.data.to_jsonl(), "purpose": "conversations" }),
            )
            .await
            .with_context(|| format!("uploading dataset `{}` to OpenWeights", req.data.name))?;
        let file_id = file["file_id"]
            .as_str()
            .context("OpenWeights answered an upload without a file id")?;
        let params =
            params::finetune_params(&req.base.model, file_id, req.hyperparameters, req.seed)?;
        // OpenWeights picks the hardware from the VRAM asked for, unless the user chose a GPU.
        let vram = cost::vram_gb(&req.base.model);
        let hardware = self.settings.allowed_hardware();
        let v = self
            .bridge
            .call(
                "submit_finetune",
                json!({
                    "params": params,
                    "requires_vram_gb": vram,
                    "allowed_hardware": hardware,
                }),
            )
            .await
            .with_context(|| format!("submitting the fine-tune of {} to OpenWeights", req.base))?;
        let job: OwJob =
            serde_json::from_value(v).context("OpenWeights answered a job without id")?;
        Ok(job.id)
    }

    /// Pending and in-progress jobs are queued and running; a failed job's error carries the
    /// tail of its log; a completed job's model is its adapter on the Hugging Face Hub.
    async fn status(&self, job_id: &str) -> Result<JobStatus> {
        let job = match self.job("get", job_id).await {
            Ok(j) => j,
            Err(e) if refusal_of(&e) == Some(Refusal::NotFound) => bail!(
                "OpenWeights no longer has job {job_id} (deleted?): run again to submit it again"
            ),
            Err(e) => return Err(e),
        };
        let mut status = JobStatus {
            state: JobState::Unknown(job.status.clone()),
            model: None,
            error: None,
            events: Vec::new(),
        };
        status.state = match job.status.as_str() {
            "pending" => JobState::Queued,
            "in_progress" => JobState::Running,
            "completed" => {
                let id = job
                    .finetuned_model_id
                    .filter(|m| m.contains('/'))
                    .with_context(|| {
                        format!("OpenWeights job {job_id} completed without a model id")
                    })?;
                status.model = Some(ModelRef::new(PROVIDER, id));
                JobState::Succeeded
            }
            "failed" | "canceled" => {
                status.error = Some(self.why_ended(&job).await);
                if job.status == "failed" {
                    JobState::Failed
                } else {
                    JobState::Cancelled
                }
            }
            _ => status.state,
        };
        Ok(status)
    }

    /// The same job when OpenWeights still has it; a lost job is submitted again (its
    /// content hash gives it the same id).
    async fn resume(&self, job_id: &str, req: FinetuneRequest<'_>) -> Result<String> {
        match self.job("get", job_id).await {
            Ok(j) => Ok(j.id),
            Err(e) if refusal_of(&e) == Some(Refusal::NotFound) => self.start(req).await,
            Err(e) => Err(e),
        }
    }

    async fn cancel(&self, job_id: &str) -> Result<()> {
        self.cancel_job(job_id).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tails_and_account_lines() {
        let log: String = (1..=30).map(|i| format!("line {i}\n\n")).collect();
        let t = tail(&log);
        assert!(t.starts_with("line 11\n") && t.ends_with("line 30"), "{t}");
        let v = json!({"total_usd": 3.0, "limits": [
            {"key": "weirdgen", "limit_usd": 50.0, "spent_usd": 12.25}]});
        assert_eq!(
            account_text(&v),
            "OpenWeights: key `weirdgen` has spent $12.25 of its $50.00 spending limit"
        );
        let v = json!({"total_usd": 3.0, "this_key_known": true, "limits": [
            {"key": "weirdgen", "limit_usd": 50.0, "spent_usd": 12.25, "this_key": true}]});
        assert!(account_text(&v).ends_with("spending limit (the key weirdgen uses)"));
        let v = json!({"total_usd": 3.0, "this_key_known": true, "limits": [
            {"key": "other", "limit_usd": 5.0, "spent_usd": 1.0}]});
        let t = account_text(&v);
        assert!(
            t.starts_with("OpenWeights: the key weirdgen uses has no spending limit"),
            "{t}"
        );
        assert!(
            t.contains("key `other` has spent $1.00 of its $5.00"),
            "{t}"
        );
        assert!(
            account_text(&json!({"total_usd": 1.5, "limits": []})).contains("no spending limit")
        );
    }
}
