//! HTTP provider throughput: chat requests per second against a loopback server that answers
//! each request after 50 ms, at 64 and 256 requests in flight (a run's `--concurrency`, the
//! provider setting no cap of its own), against the bound `concurrency / latency` (1280 and
//! 5120 requests per second).

use anyhow::{Context, Result, bail};
use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weirdgen::chat::Message;
use weirdgen::model::config::{Config, ProviderConfig};
use weirdgen::model::openai::Capabilities;
use weirdgen::model::provider::ProviderStore;
use weirdgen::model::registry::Providers;
use weirdgen::model::{ModelRef, SampleRequest, Sampler, SamplingParams};

/// The simulated model latency.
const LATENCY: Duration = Duration::from_millis(50);
/// (requests in flight, requests timed, least share of the bound required).
const RUNS: [(usize, usize, f64); 2] = [(64, 64 * 40, 0.80), (256, 256 * 20, 0.90)];

/// Every model supports everything: nothing is probed.
struct Known;

impl ProviderStore for Known {
    fn capabilities(&self, _key: &str) -> Result<Option<Value>> {
        Ok(Some(Capabilities::full().to_json()))
    }

    fn put_capabilities(&self, _key: &str, _value: &Value) -> Result<()> {
        Ok(())
    }

    fn finetunes(&self) -> Result<Vec<weirdgen::model::provider::StoredFinetune>> {
        Ok(Vec::new())
    }
}

async fn chat(Json(body): Json<Value>) -> Json<Value> {
    tokio::time::sleep(LATENCY).await;
    let q = body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Json(json!({
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": q}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5},
    }))
}

/// Sends `count` one-sample requests through `provider`, all at once (the run's figure of
/// requests in flight bounds them), checking every answer; returns the wall time.
async fn send(provider: &Arc<dyn Sampler>, count: usize) -> Result<Duration> {
    let model: ModelRef = "bench/m".parse()?;
    let params = SamplingParams {
        temperature: 1.0,
        top_p: None,
        max_tokens: 5,
        top_logprobs: None,
        seed: None,
    };
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let (provider, model, params) = (provider.clone(), model.clone(), params.clone());
        tasks.spawn(async move {
            let q = format!("question {i}");
            let messages = [Message::user(q.clone())];
            let req = SampleRequest {
                model: &model,
                messages: &messages,
                params: &params,
                indices: 0..1,
            };
            let c = provider.sample(req).await?;
            if c.len() != 1 || c[0].text != q {
                bail!("wrong answer to request {i}: {c:?}");
            }
            Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(t.elapsed())
}

async fn bench() -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/v1/chat/completions", post(chat));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut failures = Vec::new();
    for (concurrency, count, share) in RUNS {
        let mut cfg = ProviderConfig::new(format!("http://{addr}/v1"));
        cfg.timeout_seconds = 30.0;
        let dir = std::env::temp_dir().join("weirdgen-bench-http-unused");
        let providers =
            Providers::with_config(&dir, &dir, Config::default().with_provider("bench", cfg));
        providers.set_in_flight(concurrency);
        let model: ModelRef = "bench/m".parse()?;
        providers.prepare(&model, &Known, None).await?;
        let provider = providers.sampler(&model)?;
        // Warm up: open the connections.
        send(&provider, concurrency).await.context("warm-up")?;
        let elapsed = send(&provider, count).await?;
        let rps = count as f64 / elapsed.as_secs_f64();
        let bound = concurrency as f64 / LATENCY.as_secs_f64();
        println!(
            "concurrency {concurrency:>3}: {count} requests in {:.2} s = {rps:.0} req/s; bound {bound:.0} req/s; {:.0} % of bound (budget ≥ {:.0} %)",
            elapsed.as_secs_f64(),
            100.0 * rps / bound,
            100.0 * share
        );
        if rps < share * bound {
            failures.push(format!("concurrency {concurrency}: {rps:.0} req/s"));
        }
    }
    server.abort();
    if !failures.is_empty() {
        bail!("below budget: {}", failures.join("; "));
    }
    Ok(())
}

/// Runs the benchmark on a two-worker runtime shared by client and server.
pub fn run() -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(bench())
}
