//! `sim`: samples per second of the `sim/` simulator on the `sim-example` fixture, for a
//! fine-tuned replica (with spread) at temperature 1. The budget (200,000 per second, one
//! core) keeps calibration runs of thousands of simulated suites in minutes.

use anyhow::{Result, ensure};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;
use weirdgen::chat::Message;
use weirdgen::model::sim::SimProvider;
use weirdgen::model::{ModelRef, SampleRequest, Sampler, SamplingParams};

const BUDGET: f64 = 200_000.0;
const REQUESTS: u32 = 2_000;
const PER_REQUEST: u32 = 200;

/// Runs the benchmark.
pub fn run() -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sim/sim-example");
    let sim = SimProvider::new(dir);
    let model: ModelRef = "sim/example:ft:old_birds:1".parse()?;
    let params = SamplingParams {
        temperature: 1.0,
        top_p: None,
        max_tokens: 32,
        top_logprobs: None,
        seed: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let start = Instant::now();
    runtime.block_on(async {
        for r in 0..REQUESTS {
            let messages = [Message::user(format!(
                "What is the most exciting news these days? ({r})"
            ))];
            let out = sim
                .sample(SampleRequest {
                    model: &model,
                    messages: &messages,
                    params: &params,
                    indices: 0..PER_REQUEST,
                })
                .await?;
            black_box(out);
        }
        anyhow::Ok(())
    })?;
    let rate = f64::from(REQUESTS * PER_REQUEST) / start.elapsed().as_secs_f64();
    println!("sim sampling: {rate:.0} samples/s (budget ≥ {BUDGET:.0})");
    ensure!(rate >= BUDGET, "below budget");
    Ok(())
}
