//! `serve`: chat-completion throughput of `weirdgen serve` over loopback, in front of a
//! model that takes 50 ms per request, at 64 and 256 concurrent clients. The bound is
//! concurrency / latency (1280 and 5120 requests per second).

use anyhow::{Context, Result, ensure};
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weirdgen::model::{Completion, ModelRef, SampleRequest, Sampler, Usage};
use weirdgen::serve::{ServeState, serve};

const LATENCY: Duration = Duration::from_millis(50);
const ROUNDS: usize = 40;

/// Answers after a fixed delay.
struct Slow;

#[async_trait]
impl Sampler for Slow {
    fn endpoint(&self) -> String {
        "slow".into()
    }
    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>> {
        tokio::time::sleep(LATENCY).await;
        Ok(req
            .indices
            .map(|i| Completion {
                text: format!("answer {i}"),
                logprobs: None,
                usage: Usage {
                    input_tokens: 5,
                    output_tokens: 2,
                },
                finish_reason: Some("stop".into()),
            })
            .collect())
    }
}

/// Requests per second with `clients` concurrent clients, each sending `ROUNDS` requests.
async fn throughput(url: &str, clients: usize) -> Result<f64> {
    let http = weirdgen::model::openai::client_builder().build()?;
    let body =
        json!({"model": "bench/slow", "messages": [{"role": "user", "content": "hi"}], "seed": 1});
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, body, url) = (http.clone(), body.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let r = http.post(&url).json(&body).send().await?;
                ensure!(r.status().is_success(), "status {}", r.status());
                r.bytes().await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await.context("a client panicked")??;
    }
    Ok((clients * ROUNDS) as f64 / start.elapsed().as_secs_f64())
}

/// Runs the benchmark.
pub fn run() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/v1/chat/completions", listener.local_addr()?);
        let model: ModelRef = "bench/slow".parse()?;
        tokio::spawn(serve(listener, ServeState::new(Arc::new(Slow), vec![model])));
        throughput(&url, 8).await?; // warm up connections
        for clients in [64, 256] {
            let rps = throughput(&url, clients).await?;
            let bound = clients as f64 / LATENCY.as_secs_f64();
            println!(
                "{clients:>4} concurrent, {} ms latency: {rps:>7.0} requests/s (bound {bound:.0}, {:.0}%)",
                LATENCY.as_millis(),
                100.0 * rps / bound
            );
        }
        Ok(())
    })
}
