//! `--batch` on OpenWeights: a model's missing samples as batch inference jobs
//! (`ow.inference.create`), one job per set of sampling parameters.
//!
//! Every sample is one row of the uploaded input file, carrying its own id (cell key and
//! index) that the job copies into its output row, so each answer goes back to its cell and
//! index. The input file and the job are named by hashes of their content: submitting the
//! same rows again finds the same job. A [`BatchHandle`] lists the jobs (`batch_id`: their
//! ids joined by `,`) and the rows; the runner stores it, so a killed run polls the same jobs.

use super::bridge::{Refusal, refusal_of};
use super::{OpenWeights, OwJob, PROVIDER, cost};
use crate::model::batch::{
    BatchHandle, BatchLine, BatchProgress, BatchRequest, BatchResults, BatchState, Batcher,
};
use crate::model::{Completion, SamplingParams, Usage};
use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The key of each input row that names its sample (copied into the output row).
const ROW_ID: &str = "weirdgen_id";

/// `InferenceConfig` defaults (openweights 0.13.7, `jobs/inference/validate.py`) of the
/// parameters weirdgen sets.
const DEFAULT_MAX_TOKENS: u32 = 600;
const DEFAULT_TEMPERATURE: f64 = 1.0;
const DEFAULT_TOP_P: f64 = 1.0;

/// The arguments of `ow.inference.create` for `model` (a Hugging Face id: a base model or an
/// adapter) on the uploaded `input_file_id` with `params`. Inference job ids hash the
/// arguments as given, defaults and order included: values equal to the defaults are left
/// out and the keys are sorted, so the same request always lands on the same job.
pub fn inference_params(
    model: &str,
    input_file_id: &str,
    params: &SamplingParams,
) -> Result<Map<String, Value>> {
    if params.top_logprobs.is_some() {
        bail!(
            "OpenWeights batch inference is not used for log-probabilities here: run without --batch"
        );
    }
    let mut p = Map::new();
    p.insert("input_file_id".into(), json!(input_file_id));
    p.insert("model".into(), json!(model));
    if params.max_tokens != DEFAULT_MAX_TOKENS {
        p.insert("max_tokens".into(), json!(params.max_tokens));
    }
    if params.temperature != DEFAULT_TEMPERATURE {
        p.insert("temperature".into(), json!(params.temperature));
    }
    if let Some(top_p) = params.top_p.filter(|t| *t != DEFAULT_TOP_P) {
        p.insert("top_p".into(), json!(top_p));
    }
    Ok(p)
}

/// Which job of a handle a row went to: the row id is `<job index>/<request id>#<index>`.
fn job_index(custom_id: &str) -> Option<usize> {
    custom_id.split_once('/')?.0.parse().ok()
}

/// A job's fate, as the runner sees it.
enum Fate {
    Running(BatchState),
    Done(OwJob),
    /// Failed, canceled or lost, with the reason (a failed job's log excerpt included).
    Ended(BatchState, String),
}

impl OpenWeights {
    /// Where inference job `id` stands; a job OpenWeights no longer has is ended.
    async fn fate(&self, id: &str) -> Result<Fate> {
        let job = match self.job("get", id).await {
            Ok(j) => j,
            Err(e) if refusal_of(&e) == Some(Refusal::NotFound) => {
                return Ok(Fate::Ended(
                    BatchState::Expired,
                    format!("OpenWeights no longer has inference job {id}"),
                ));
            }
            Err(e) => return Err(e),
        };
        Ok(match job.status.as_str() {
            "completed" => Fate::Done(job),
            "in_progress" => Fate::Running(BatchState::InProgress),
            "failed" | "canceled" => {
                let state = if job.status == "failed" {
                    BatchState::Failed
                } else {
                    BatchState::Cancelled
                };
                let why = self.why_ended(&job).await;
                Fate::Ended(state, format!("inference job {id} {}: {why}", job.status))
            }
            other => Fate::Running(BatchState::Unknown(other.to_string())),
        })
    }
}

#[async_trait]
impl Batcher for OpenWeights {
    /// No deployment is needed: the jobs start their own servers.
    fn needs_prepare(&self) -> bool {
        false
    }

    async fn submit(&self, requests: &[BatchRequest<'_>]) -> Result<BatchHandle> {
        let Some(first) = requests.first() else {
            bail!("a batch needs at least one request");
        };
        let model = first.request.model;
        if model.provider != PROVIDER {
            bail!("`{model}` is not an OpenWeights model");
        }
        if let Some(other) = requests.iter().find(|r| r.request.model != model) {
            bail!(
                "a batch holds one model: `{model}` and `{}` are mixed",
                other.request.model
            );
        }
        // One job per set of sampling parameters, in the order they first appear.
        let mut groups: Vec<(&SamplingParams, String)> = Vec::new();
        let mut lines = Vec::new();
        for r in requests {
            let req = &r.request;
            let g = match groups.iter().position(|(p, _)| *p == req.params) {
                Some(g) => g,
                None => {
                    groups.push((req.params, String::new()));
                    groups.len() - 1
                }
            };
            for i in req.indices.clone() {
                let custom_id = format!("{g}/{}#{i}", r.id);
                let row = json!({ "messages": req.messages, ROW_ID: custom_id });
                groups[g].1.push_str(&row.to_string());
                groups[g].1.push('\n');
                lines.push(BatchLine {
                    custom_id,
                    request_id: r.id.clone(),
                    first_index: i,
                    n: 1,
                    logprobs: false,
                });
            }
        }
        if lines.is_empty() {
            bail!("the batch's requests ask for no samples");
        }
        self.show_account().await;
        let vram = cost::vram_gb(&model.model);
        let hardware = self.settings.allowed_hardware();
        let (mut jobs, mut files) = (Vec::new(), Vec::new());
        for (params, jsonl) in groups {
            let file = self
                .bridge
                .call(
                    "upload",
                    json!({ "content": jsonl, "purpose": "conversations" }),
                )
                .await
                .context("uploading the batch's prompts to OpenWeights")?;
            let file_id = file["file_id"]
                .as_str()
                .context("OpenWeights answered an upload without a file id")?
                .to_string();
            let args = inference_params(&model.model, &file_id, params)?;
            let v = self
                .bridge
                .call(
                    "submit_inference",
                    json!({ "params": args, "requires_vram_gb": vram, "allowed_hardware": hardware }),
                )
                .await
                .with_context(|| format!("submitting batch inference of {model} to OpenWeights"))?;
            let job: OwJob =
                serde_json::from_value(v).context("OpenWeights answered a job without id")?;
            jobs.push(job.id);
            files.push(file_id);
        }
        Ok(BatchHandle {
            batch_id: jobs.join(","),
            input_file_id: files.join(","),
            lines,
        })
    }

    /// Running while any job runs; then completed if every job completed, else the state of
    /// the first that did not, with every ended job's reason.
    async fn progress(&self, handle: &BatchHandle) -> Result<BatchProgress> {
        let mut rows = vec![0u64; handle.batch_id.split(',').count()];
        for l in &handle.lines {
            if let Some(slot) = job_index(&l.custom_id).and_then(|g| rows.get_mut(g)) {
                *slot += 1;
            }
        }
        let mut p = BatchProgress {
            state: BatchState::Completed,
            total: handle.lines.len() as u64,
            completed: 0,
            failed: 0,
            errors: Vec::new(),
        };
        let mut running: Option<BatchState> = None;
        let mut ended: Option<BatchState> = None;
        for (id, n) in handle.batch_id.split(',').zip(rows) {
            match self.fate(id).await? {
                Fate::Done(_) => p.completed += n,
                Fate::Running(s) => {
                    if running.is_none() || s == BatchState::InProgress {
                        running = Some(s);
                    }
                }
                Fate::Ended(s, why) => {
                    p.failed += n;
                    p.errors.push(why);
                    ended.get_or_insert(s);
                }
            }
        }
        p.state = running.or(ended).unwrap_or(BatchState::Completed);
        Ok(p)
    }

    /// Downloads each completed job's output and matches its rows to the samples by id.
    async fn results(&self, handle: &BatchHandle) -> Result<BatchResults> {
        let mut answers: HashMap<String, std::result::Result<String, String>> = HashMap::new();
        for (g, id) in handle.batch_id.split(',').enumerate() {
            let mine = handle
                .lines
                .iter()
                .filter(|l| job_index(&l.custom_id) == Some(g));
            let file = match self.fate(id).await? {
                Fate::Done(job) => job.file,
                Fate::Ended(..) => {
                    // Why the job ended is reported once, from its progress.
                    let why = format!("inference job {id} did not complete");
                    for l in mine {
                        answers.insert(l.custom_id.clone(), Err(why.clone()));
                    }
                    continue;
                }
                Fate::Running(_) => {
                    for l in mine {
                        answers.insert(l.custom_id.clone(), Err(format!("job {id} is running")));
                    }
                    continue;
                }
            };
            let file = file.with_context(|| {
                format!("OpenWeights inference job {id} completed without an output file")
            })?;
            let v = self
                .bridge
                .call("fetch", json!({ "file_id": file }))
                .await
                .with_context(|| format!("downloading the output of inference job {id}"))?;
            let text = v["text"]
                .as_str()
                .context("OpenWeights answered a download without text")?;
            let rows = rows_by_id(text, ROW_ID)
                .with_context(|| format!("the output {file} of inference job {id}"))?;
            for (row_id, row) in rows {
                answers.insert(row_id, completion_text(&row));
            }
        }
        let mut results = BatchResults::new();
        for l in &handle.lines {
            let answer = answers
                .remove(&l.custom_id)
                .unwrap_or_else(|| Err("no row in the job's output for this sample".into()));
            let slot = results
                .entry(l.request_id.clone())
                .or_insert_with(|| Ok(Vec::new()));
            match (slot.as_mut(), answer) {
                (Ok(done), Ok(text)) => done.push(Completion {
                    text,
                    logprobs: None,
                    usage: Usage::default(),
                    finish_reason: None,
                }),
                (Ok(_), Err(e)) => *slot = Err(format!("sample {}: {e}", l.first_index)),
                (Err(_), _) => {}
            }
        }
        Ok(results)
    }
}

/// The answer of an output row: its `completion` (a string, as one completion is asked
/// per row).
fn completion_text(row: &Value) -> std::result::Result<String, String> {
    match &row["completion"] {
        Value::String(s) => Ok(s.clone()),
        Value::Array(a) if a.len() == 1 && a[0].is_string() => {
            Ok(a[0].as_str().unwrap_or_default().to_string())
        }
        other => Err(format!("the output row's completion is not text: {other}")),
    }
}

/// The rows of a JSONL output file by their `key` (rows without it are skipped).
fn rows_by_id(text: &str, key: &str) -> Result<Vec<(String, Value)>> {
    let mut rows = Vec::new();
    for (no, raw) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let row: Value =
            serde_json::from_str(raw).with_context(|| format!("line {} is not JSON", no + 1))?;
        if let Some(id) = row[key].as_str() {
            rows.push((id.to_string(), row));
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(t: f64, max: u32, top_p: Option<f64>) -> SamplingParams {
        SamplingParams {
            temperature: t,
            top_p,
            max_tokens: max,
            top_logprobs: None,
            seed: None,
        }
    }

    #[test]
    fn inference_arguments_leave_defaults_out_in_a_fixed_order() {
        let bare =
            inference_params("a/b", "conversations:file-1", &params(1.0, 600, Some(1.0))).unwrap();
        let keys: Vec<&str> = bare.keys().map(String::as_str).collect();
        assert_eq!(keys, ["input_file_id", "model"]);
        let p = inference_params("a/b", "f", &params(0.7, 16, Some(0.9))).unwrap();
        let keys: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "input_file_id",
                "max_tokens",
                "model",
                "temperature",
                "top_p"
            ]
        );
        assert_eq!(p["max_tokens"], json!(16));
        let mut lp = params(1.0, 16, None);
        lp.top_logprobs = Some(5);
        assert!(inference_params("a/b", "f", &lp).is_err());
    }

    #[test]
    fn completions_are_text() {
        assert_eq!(
            completion_text(&json!({"completion": "hi"})),
            Ok("hi".into())
        );
        assert_eq!(
            completion_text(&json!({"completion": ["hi"]})),
            Ok("hi".into())
        );
        assert!(completion_text(&json!({"completion": null})).is_err());
        assert_eq!(job_index("2/i0-abc#3"), Some(2));
    }
}
