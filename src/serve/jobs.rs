//! `/v1/fine_tuning/jobs`: create, get, list, events and cancel. Each job runs in the
//! background through the [`Finetuner`](crate::model::Finetuner): the uploaded file is
//! validated (`validating_files`), the fine-tune started (`queued`), then its status is read
//! every poll interval and reported with OpenAI's words until it is final; a succeeded
//! job's model is then served.

use super::error::{ApiError, parse_body};
use super::files::{StoredFile, training_set};
use super::{App, lock, unix_now};
use crate::model::{FinetuneRequest, Hyperparameters, JobState, JobStatus, ModelRef};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Consecutive failures to read a job's status before the job is failed.
const MAX_STATUS_ERRORS: u32 = 5;
/// Seeds are drawn below this bound, as OpenAI's (0..=2147483647).
const SEED_BOUND: u64 = 1 << 31;
/// Default and largest page size of lists.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// One entry of a job's event log.
struct Event {
    id: String,
    created_at: i64,
    level: &'static str,
    message: String,
}

/// A fine-tuning job.
pub(super) struct Job {
    id: String,
    /// The base model's wire id.
    model: String,
    base: ModelRef,
    training_file: String,
    created_at: i64,
    finished_at: Option<i64>,
    status: JobState,
    fine_tuned_model: Option<String>,
    error: Option<Value>,
    /// As requested (`"auto"` where not given).
    hyperparameters: Value,
    seed: u64,
    suffix: Option<String>,
    metadata: Option<Map<String, Value>>,
    events: Vec<Event>,
    /// The fine-tuner's own id of the job, once started.
    inner_id: Option<String>,
}

impl Job {
    fn json(&self) -> Value {
        json!({
            "object": "fine_tuning.job",
            "id": self.id,
            "model": self.model,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "fine_tuned_model": self.fine_tuned_model,
            "organization_id": "weirdgen",
            "result_files": [],
            "status": self.status.as_str(),
            "validation_file": null,
            "training_file": self.training_file,
            "hyperparameters": self.hyperparameters,
            "method": { "type": "supervised",
                        "supervised": { "hyperparameters": self.hyperparameters } },
            "trained_tokens": null,
            "error": self.error,
            "seed": self.seed,
            "estimated_finish": null,
            "integrations": [],
            "metadata": self.metadata,
            "user_provided_suffix": self.suffix,
        })
    }

    fn event(&mut self, app: &App, level: &'static str, message: impl Into<String>) {
        self.events.push(Event {
            id: app.new_id("ftevent"),
            created_at: unix_now(),
            level,
            message: message.into(),
        });
    }

    /// Moves to a final state.
    fn finish(&mut self, state: JobState) {
        self.status = state;
        self.finished_at = Some(unix_now());
    }

    fn fail(&mut self, app: &App, code: &str, message: String, param: Option<&str>) {
        self.event(app, "error", format!("Fine-tuning job failed: {message}"));
        self.error = Some(json!({ "code": code, "message": message, "param": param }));
        self.finish(JobState::Failed);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHyper {
    n_epochs: Option<Value>,
    batch_size: Option<Value>,
    learning_rate_multiplier: Option<Value>,
}

#[derive(Deserialize)]
struct WireMethod {
    #[serde(rename = "type")]
    kind: String,
    supervised: Option<WireSupervised>,
}

#[derive(Deserialize)]
struct WireSupervised {
    hyperparameters: Option<WireHyper>,
}

#[derive(Deserialize)]
struct CreateJob {
    model: String,
    training_file: String,
    seed: Option<i64>,
    suffix: Option<String>,
    validation_file: Option<String>,
    /// Deprecated by OpenAI in favour of `method.supervised.hyperparameters`; still accepted.
    hyperparameters: Option<WireHyper>,
    method: Option<WireMethod>,
    metadata: Option<Map<String, Value>>,
    integrations: Option<Vec<Value>>,
}

/// A hyperparameter: absent or `"auto"` is `None`, else a number in `range`.
fn hyper<T: Copy + PartialOrd + std::fmt::Display>(
    v: &Option<Value>,
    name: &str,
    read: impl Fn(&Value) -> Option<T>,
    ok: impl Fn(T) -> bool,
    expected: &str,
) -> Result<Option<T>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "auto" => Ok(None),
        Some(v) => read(v).filter(|x| ok(*x)).map(Some).ok_or_else(|| {
            ApiError::invalid(
                format!("`{name}` must be \"auto\" or {expected}, not {v}"),
                Some(&format!("hyperparameters.{name}")),
            )
        }),
    }
}

fn hyperparameters(h: Option<&WireHyper>) -> Result<(Hyperparameters, Value), ApiError> {
    let none = WireHyper {
        n_epochs: None,
        batch_size: None,
        learning_rate_multiplier: None,
    };
    let h = h.unwrap_or(&none);
    let as_u32 = |v: &Value| v.as_u64().and_then(|x| u32::try_from(x).ok());
    let hp = Hyperparameters {
        epochs: hyper(
            &h.n_epochs,
            "n_epochs",
            as_u32,
            |x| (1..=50).contains(&x),
            "an integer in 1..=50",
        )?,
        batch_size: hyper(
            &h.batch_size,
            "batch_size",
            as_u32,
            |x| (1..=256).contains(&x),
            "an integer in 1..=256",
        )?,
        learning_rate_multiplier: hyper(
            &h.learning_rate_multiplier,
            "learning_rate_multiplier",
            Value::as_f64,
            |x| x > 0.0 && x.is_finite(),
            "a positive number",
        )?,
        extra: Default::default(),
    };
    let echo = |v: Option<Value>| v.unwrap_or_else(|| json!("auto"));
    let echoed = json!({
        "n_epochs": echo(hp.epochs.map(Value::from)),
        "batch_size": echo(hp.batch_size.map(Value::from)),
        "learning_rate_multiplier": echo(hp.learning_rate_multiplier.map(Value::from)),
    });
    Ok((hp, echoed))
}

fn check_suffix(suffix: &Option<String>) -> Result<(), ApiError> {
    if let Some(s) = suffix {
        let ok = s.chars().count() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(ApiError::invalid(
                "`suffix` holds at most 64 letters, digits, `-`, `_` and `.`",
                Some("suffix"),
            ));
        }
    }
    Ok(())
}

/// `POST /v1/fine_tuning/jobs`.
pub(super) async fn create(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if app.finetuner.is_none() {
        return Err(ApiError::invalid("this server does not fine-tune", None)
            .with_code("fine_tuning_unavailable"));
    }
    let req: CreateJob = parse_body(&body)?;
    let base = app.model_or_404(&req.model)?;
    let file = lock(&app.files).get(&req.training_file).cloned();
    let Some(file) = file else {
        return Err(ApiError::invalid(
            format!(
                "invalid training_file: no file `{}` was uploaded",
                req.training_file
            ),
            Some("training_file"),
        )
        .with_code("invalid_training_file"));
    };
    if req.validation_file.is_some() {
        return Err(ApiError::invalid(
            "`validation_file` is not supported by weirdgen serve",
            Some("validation_file"),
        )
        .with_code("unsupported_parameter"));
    }
    if req.integrations.as_ref().is_some_and(|i| !i.is_empty()) {
        return Err(ApiError::invalid(
            "`integrations` are not supported by weirdgen serve",
            Some("integrations"),
        )
        .with_code("unsupported_parameter"));
    }
    let method_hp = match &req.method {
        None => None,
        Some(m) if m.kind == "supervised" => m
            .supervised
            .as_ref()
            .and_then(|s| s.hyperparameters.as_ref()),
        Some(m) => {
            return Err(ApiError::invalid(
                format!(
                    "method `{}` is not supported: weirdgen serve fine-tunes `supervised`",
                    m.kind
                ),
                Some("method.type"),
            ));
        }
    };
    if method_hp.is_some() && req.hyperparameters.is_some() {
        return Err(ApiError::invalid(
            "give hyperparameters in `method.supervised.hyperparameters` or in the deprecated `hyperparameters`, not both",
            Some("hyperparameters"),
        ));
    }
    let (hp, echoed) = hyperparameters(method_hp.or(req.hyperparameters.as_ref()))?;
    let seed = match req.seed {
        Some(s) if (0..SEED_BOUND as i64).contains(&s) => s as u64,
        Some(s) => {
            return Err(ApiError::invalid(
                format!("`seed` must lie in 0..=2147483647, not {s}"),
                Some("seed"),
            ));
        }
        None => app.new_seed(SEED_BOUND),
    };
    check_suffix(&req.suffix)?;

    let mut job = Job {
        id: app.new_id("ftjob"),
        model: base.to_string(),
        base,
        training_file: file.id.clone(),
        created_at: unix_now(),
        finished_at: None,
        status: JobState::ValidatingFiles,
        fine_tuned_model: None,
        error: None,
        hyperparameters: echoed,
        seed,
        suffix: req.suffix,
        metadata: req.metadata,
        events: Vec::new(),
        inner_id: None,
    };
    job.event(
        &app,
        "info",
        format!("Validating training file: {}", file.id),
    );
    let (id, out, base) = (job.id.clone(), job.json(), job.base.clone());
    lock(&app.jobs).insert(id.clone(), job);
    tokio::spawn(run_job(app.clone(), id, file, base, hp));
    Ok(Json(out))
}

/// Applies `f` to job `id` unless the job is final (a cancelled job stays cancelled);
/// whether it was applied.
fn update(app: &App, id: &str, f: impl FnOnce(&mut Job)) -> bool {
    let mut jobs = lock(&app.jobs);
    match jobs.get_mut(id) {
        Some(j) if !j.status.is_final() => {
            f(j);
            true
        }
        _ => false,
    }
}

/// Notes on a cancelled job that the fine-tuner could not stop it.
fn not_stopped(app: &App, id: &str, e: anyhow::Error) {
    if let Some(j) = lock(&app.jobs).get_mut(id) {
        j.event(
            app,
            "warn",
            format!("The fine-tune could not be stopped: {e:#}"),
        );
    }
}

/// Carries a job from validation to a final state.
async fn run_job(app: Arc<App>, id: String, file: StoredFile, base: ModelRef, hp: Hyperparameters) {
    let Some(finetuner) = app.finetuner.clone() else {
        return;
    };
    let checked = training_set(&file).and_then(|(data, lines)| {
        for (conversation, line) in data.conversations.iter().zip(lines) {
            finetuner
                .check_conversation(&base, conversation)
                .map_err(|e| format!("{} line {line}: {e:#}", file.filename))?;
        }
        Ok(data)
    });
    let data = match checked {
        Ok(d) => d,
        Err(msg) => {
            update(&app, &id, |j| {
                j.fail(&app, "invalid_training_file", msg, Some("training_file"))
            });
            return;
        }
    };
    let ready = update(&app, &id, |j| {
        j.status = JobState::Queued;
        j.event(&app, "info", "Files validated, moving job to queued state");
    });
    let Some((base, seed, suffix)) = ready
        .then(|| {
            let jobs = lock(&app.jobs);
            jobs.get(&id)
                .map(|j| (j.base.clone(), j.seed, j.suffix.clone().unwrap_or_default()))
        })
        .flatten()
    else {
        return;
    };
    let started = finetuner
        .start(FinetuneRequest {
            base: &base,
            data: &data,
            hyperparameters: &hp,
            seed,
            suffix: &suffix,
        })
        .await;
    let inner = match started {
        Ok(inner) => inner,
        Err(e) => {
            update(&app, &id, |j| {
                j.fail(&app, "job_start_failed", format!("{e:#}"), None)
            });
            return;
        }
    };
    let running = update(&app, &id, |j| {
        j.inner_id = Some(inner.clone());
        j.event(&app, "info", "Fine-tuning job started");
    });
    if !running {
        // Cancelled while starting: stop what was started.
        if let Err(e) = finetuner.cancel(&inner).await {
            not_stopped(&app, &id, e);
        }
        return;
    }
    let (mut seen, mut errors) = (0, 0);
    loop {
        tokio::time::sleep(app.poll_interval).await;
        match finetuner.status(&inner).await {
            Ok(st) => {
                errors = 0;
                let mut open = true;
                let applied = update(&app, &id, |j| {
                    for e in st.events.iter().skip(seen) {
                        j.event(&app, "info", e.clone());
                    }
                    seen = st.events.len();
                    open = apply_status(&app, j, &st);
                });
                if !applied || !open {
                    return;
                }
            }
            Err(e) => {
                errors += 1;
                let msg = format!("{e:#}");
                let applied = update(&app, &id, |j| {
                    if errors >= MAX_STATUS_ERRORS {
                        let m = format!(
                            "the job's status could not be read {errors} times in a row: {msg}"
                        );
                        j.fail(&app, "status_unavailable", m, None);
                    } else {
                        j.event(
                            &app,
                            "warn",
                            format!("Could not read the job's status: {msg}"),
                        );
                    }
                });
                if !applied || errors >= MAX_STATUS_ERRORS {
                    return;
                }
            }
        }
    }
}

/// Records the fine-tuner's status on the job; whether the job is still open.
fn apply_status(app: &App, j: &mut Job, st: &JobStatus) -> bool {
    match &st.state {
        JobState::Succeeded => match &st.model {
            Some(m) => {
                app.add_model(m.clone());
                j.fine_tuned_model = Some(m.to_string());
                j.event(app, "info", format!("New fine-tuned model created: {m}"));
                j.event(app, "info", "The job has successfully completed");
                j.finish(JobState::Succeeded);
            }
            None => j.fail(
                app,
                "job_failed",
                "the fine-tune succeeded without naming a model".into(),
                None,
            ),
        },
        JobState::Failed => {
            let msg = st
                .error
                .clone()
                .unwrap_or_else(|| "the fine-tune failed without a message".into());
            j.fail(app, "job_failed", msg, None);
        }
        JobState::Cancelled => {
            j.event(app, "info", "The fine-tune was cancelled");
            j.finish(JobState::Cancelled);
        }
        other => j.status = other.clone(),
    }
    !j.status.is_final()
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        format!("Could not find fine-tuning job: {id}"),
        Some("fine_tuning_job_id"),
        "job_not_found",
    )
}

/// `GET /v1/fine_tuning/jobs/{id}`.
pub(super) async fn get(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    lock(&app.jobs)
        .get(&id)
        .map(|j| Json(j.json()))
        .ok_or_else(|| not_found(&id))
}

/// `after` and `limit` of a list request.
#[derive(Deserialize)]
pub(super) struct Page {
    after: Option<String>,
    limit: Option<usize>,
}

/// One page of `items` (newest first): those after the item with id `after`, at most
/// `limit`, and whether more follow.
fn page(items: Vec<(String, Value)>, p: &Page) -> Result<Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            format!("`limit` must lie in 1..={MAX_LIMIT}"),
            Some("limit"),
        ));
    }
    let start = match &p.after {
        None => 0,
        Some(a) => {
            items.iter().position(|(id, _)| id == a).ok_or_else(|| {
                ApiError::invalid(
                    format!("`after`: no object `{a}` in this list"),
                    Some("after"),
                )
            })? + 1
        }
    };
    let rest = items.len().saturating_sub(start);
    let data: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|(_, v)| v)
        .collect();
    Ok(Json(
        json!({ "object": "list", "data": data, "has_more": rest > limit }),
    ))
}

fn page_query(
    q: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Page, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::invalid(format!("bad query: {}", e.body_text()), None))
}

/// `GET /v1/fine_tuning/jobs?after=&limit=`, newest first.
pub(super) async fn list(
    State(app): State<Arc<App>>,
    q: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let p = page_query(q)?;
    let items = lock(&app.jobs)
        .values()
        .rev()
        .map(|j| (j.id.clone(), j.json()))
        .collect();
    page(items, &p)
}

/// `GET /v1/fine_tuning/jobs/{id}/events?after=&limit=`, newest first.
pub(super) async fn events(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    q: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let p = page_query(q)?;
    let items = {
        let jobs = lock(&app.jobs);
        let job = jobs.get(&id).ok_or_else(|| not_found(&id))?;
        job.events
            .iter()
            .rev()
            .map(|e| {
                let v = json!({
                    "object": "fine_tuning.job.event", "id": e.id, "created_at": e.created_at,
                    "level": e.level, "message": e.message, "type": "message", "data": {},
                });
                (e.id.clone(), v)
            })
            .collect()
    };
    page(items, &p)
}

/// `POST /v1/fine_tuning/jobs/{id}/cancel`: the job is cancelled at once and the fine-tuner
/// asked to stop it (when it cannot, the job's events say so).
pub(super) async fn cancel(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let inner = {
        let mut jobs = lock(&app.jobs);
        let job = jobs.get_mut(&id).ok_or_else(|| not_found(&id))?;
        if job.status.is_final() {
            return Err(ApiError::invalid(
                format!(
                    "job {id} is already {}; only a job that has not finished can be cancelled",
                    job.status.as_str()
                ),
                Some("fine_tuning_job_id"),
            ));
        }
        job.event(&app, "info", "Job cancelled by the user");
        job.finish(JobState::Cancelled);
        job.inner_id.clone()
    };
    if let (Some(inner), Some(f)) = (inner, &app.finetuner)
        && let Err(e) = f.cancel(&inner).await
    {
        not_stopped(&app, &id, e);
    }
    let jobs = lock(&app.jobs);
    Ok(Json(jobs.get(&id).map(Job::json).unwrap_or(Value::Null)))
}
