//! `weirdgen serve`: an OpenAI-compatible HTTP server in front of any [`Sampler`] and
//! [`Finetuner`], so that existing tools (the `openai` client, Inspect AI, llmcomp, the
//! weirdgen HTTP provider) can probe and fine-tune the models behind it.
//!
//! Endpoints (all under `/v1`): `GET /models`, `GET /models/{id}`, `POST /chat/completions`,
//! `POST /files` (multipart, purpose `fine-tune`), `GET /files`, `GET /files/{id}`,
//! `GET /files/{id}/content`, `POST|GET /fine_tuning/jobs`, `GET /fine_tuning/jobs/{id}`,
//! `GET /fine_tuning/jobs/{id}/events`, `POST /fine_tuning/jobs/{id}/cancel`. Errors have
//! OpenAI's shape. State (files, jobs) lives in memory for the server's lifetime.
//!
//! Model ids on the wire are the served models' references (`toy/world`); a bare model
//! name (`world`) is accepted when only one served model has it.
//!
//! Any text can be asked. Where the sampler can tell (a toy model), a chat answer says how
//! many words of the prompt the model does not know (it reads each as an unknown-word token)
//! in its top-level `unknown_words` field and its `x-weirdgen-unknown-words` header; the
//! weirdgen HTTP client notes them in its runs. A fine-tuning file with a word the model
//! cannot learn fails the job's validation (`invalid_training_file`), naming the line. `stop`
//! sequences cut the returned text as OpenAI's do; a prompt longer than the model's context
//! is OpenAI's 400 `context_length_exceeded`.
//!
//! Reproducibility: a chat request with `seed` S asks the sampler for sample indices
//! `0..n` with base seed S, so choice `i` is the same draw in every request with seed S,
//! whatever its `n`. A request without a seed gets a fresh one, drawn from the server's
//! generator and returned in the `x-weirdgen-seed` response header; sending it back as
//! `seed` repeats the request.

mod chat;
mod error;
mod files;
mod jobs;

use crate::model::{Finetuner, ModelRef, Sampler};
use crate::rng::Rng;
use anyhow::{Context, Result};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use error::ApiError;
use indexmap::IndexMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// The largest upload `POST /v1/files` accepts.
const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// What the server fronts, and how it behaves.
pub struct ServeState {
    sampler: Arc<dyn Sampler>,
    finetuner: Option<Arc<dyn Finetuner>>,
    models: Vec<ModelRef>,
    poll_interval: Duration,
    seed: Option<u64>,
}

impl ServeState {
    /// A server answering chat requests for `models` with `sampler` (no fine-tuning).
    pub fn new(sampler: Arc<dyn Sampler>, models: Vec<ModelRef>) -> ServeState {
        ServeState {
            sampler,
            finetuner: None,
            models,
            poll_interval: Duration::from_secs(1),
            seed: None,
        }
    }

    /// Runs fine-tuning jobs with `finetuner`; the models it returns are then served by the
    /// same sampler.
    pub fn with_finetuner(mut self, finetuner: Arc<dyn Finetuner>) -> ServeState {
        self.finetuner = Some(finetuner);
        self
    }

    /// How often a running job's status is read from the fine-tuner (default 1 s).
    pub fn with_poll_interval(mut self, interval: Duration) -> ServeState {
        self.poll_interval = interval;
        self
    }

    /// Seeds the server's generator (object ids, seeds of unseeded requests); by default it
    /// is seeded from the clock.
    pub fn with_seed(mut self, seed: u64) -> ServeState {
        self.seed = Some(seed);
        self
    }
}

/// A model the server answers for.
struct Served {
    model: ModelRef,
    created: i64,
}

/// The running server's shared state. Locks are never held across an `.await`.
struct App {
    sampler: Arc<dyn Sampler>,
    finetuner: Option<Arc<dyn Finetuner>>,
    models: Mutex<Vec<Served>>,
    files: Mutex<IndexMap<String, files::StoredFile>>,
    jobs: Mutex<IndexMap<String, jobs::Job>>,
    rng: Mutex<Rng>,
    poll_interval: Duration,
}

/// Locks a mutex, recovering the data if a holder panicked (every update is a single step).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Seconds since the Unix epoch.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl App {
    /// A fresh object id such as `file-3f9a…`.
    fn new_id(&self, prefix: &str) -> String {
        let mut rng = lock(&self.rng);
        format!(
            "{prefix}-{:016x}{:08x}",
            rng.next_u64(),
            rng.next_u64() as u32
        )
    }

    /// A fresh random seed below `bound`.
    fn new_seed(&self, bound: u64) -> u64 {
        lock(&self.rng).below(bound)
    }

    /// The served model a wire id names: its reference, or a model name only one served
    /// model has.
    fn find_model(&self, id: &str) -> Option<ModelRef> {
        let models = lock(&self.models);
        if let Some(m) = models.iter().find(|s| s.model.to_string() == id) {
            return Some(m.model.clone());
        }
        let mut by_name = models.iter().filter(|s| s.model.model == id);
        match (by_name.next(), by_name.next()) {
            (Some(m), None) => Some(m.model.clone()),
            _ => None,
        }
    }

    /// `find_model` or OpenAI's 404 `model_not_found`.
    fn model_or_404(&self, id: &str) -> Result<ModelRef, ApiError> {
        self.find_model(id).ok_or_else(|| {
            ApiError::not_found(
                format!("The model `{id}` does not exist or you do not have access to it."),
                Some("model"),
                "model_not_found",
            )
        })
    }

    /// Starts serving a (fine-tuned) model.
    fn add_model(&self, model: ModelRef) {
        let mut models = lock(&self.models);
        if !models.iter().any(|s| s.model == model) {
            models.push(Served {
                model,
                created: unix_now(),
            });
        }
    }
}

/// The server's routes over `state`.
pub fn router(state: ServeState) -> Router {
    let seed = state.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let now = unix_now();
    let app = Arc::new(App {
        sampler: state.sampler,
        finetuner: state.finetuner,
        models: Mutex::new(
            state
                .models
                .into_iter()
                .map(|model| Served {
                    model,
                    created: now,
                })
                .collect(),
        ),
        files: Mutex::new(IndexMap::new()),
        jobs: Mutex::new(IndexMap::new()),
        rng: Mutex::new(Rng::new(seed)),
        poll_interval: state.poll_interval,
    });
    Router::new()
        .route("/v1/models", get(chat::list_models))
        .route("/v1/models/{*id}", get(chat::get_model))
        .route("/v1/chat/completions", post(chat::completions))
        .route(
            "/v1/files",
            post(files::upload)
                .get(files::list)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/v1/files/{id}", get(files::get))
        .route("/v1/files/{id}/content", get(files::content))
        .route("/v1/fine_tuning/jobs", post(jobs::create).get(jobs::list))
        .route("/v1/fine_tuning/jobs/{id}", get(jobs::get))
        .route("/v1/fine_tuning/jobs/{id}/events", get(jobs::events))
        .route("/v1/fine_tuning/jobs/{id}/cancel", post(jobs::cancel))
        .fallback(unknown_url)
        .method_not_allowed_fallback(unknown_url)
        .with_state(app)
}

async fn unknown_url(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(
        format!(
            "Unknown request URL: {method} {}. Please check the URL and method.",
            uri.path()
        ),
        None,
        "unknown_url",
    )
}

/// Serves the API on `listener` until the future is dropped or the listener fails.
pub async fn serve(listener: TcpListener, state: ServeState) -> Result<()> {
    axum::serve(listener, router(state))
        .await
        .context("the HTTP server stopped")
}

/// Where `weirdgen serve` listens.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    /// Address to bind. Anything but loopback exposes the models, without authentication.
    pub host: String,
    /// Port to bind; 0 picks any free port.
    pub port: u16,
}

/// Binds `args.host:args.port`, prints the bound address (`http://127.0.0.1:PORT/v1`) and
/// serves until Ctrl-C.
pub async fn run(args: &ServeArgs, state: ServeState) -> Result<()> {
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: serving on {addr}, reachable from other machines, without authentication"
        );
    }
    println!("weirdgen serve: listening on http://{addr}/v1");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the HTTP server stopped")
}
