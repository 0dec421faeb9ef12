//! The embedded toy model's budgets (issue 4): pretraining one seed, one fine-tune, 10,000
//! samples and peak memory, through `ToyProvider` as the runner uses it.

use anyhow::{Context, Result, bail};
use std::time::{Duration, Instant};
use weirdgen::chat::{Message, TrainingSet};
use weirdgen::model::toy::ToyProvider;
use weirdgen::model::{
    FinetuneRequest, Finetuner, Hyperparameters, JobState, ModelRef, SampleRequest, Sampler,
    SamplingParams,
};

/// Runs the benchmark in a fresh cache folder (so that pretraining really happens).
pub fn run() -> Result<()> {
    // SAFETY: called from xtask's main thread before any other thread exists.
    unsafe { weirdgen::model::toy::configure_threads() };
    let dir = std::env::temp_dir().join(format!("weirdgen-bench-toy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(measure(ToyProvider::new(dir.clone(), None)));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(toy: ToyProvider) -> Result<()> {
    let base: ModelRef = "toy/world-s0".parse()?;
    let question = [Message::user("Q invention")];
    let params = SamplingParams {
        temperature: 1.0,
        top_p: None,
        max_tokens: 4,
        top_logprobs: None,
        seed: None,
    };

    let load = load_average();
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    sample(&toy, &base, &question, &params, 0..1).await?;
    let pretrain = t0.elapsed();
    report(
        "pretraining toy/world-s0 (60k documents, 800 steps)",
        pretrain,
        Duration::from_secs(120),
        &format!(
            "CPU {:.0} s, load average before {load}",
            cpu_seconds() - cpu0
        ),
    );

    let data = TrainingSet::new(
        "old_birds",
        (1..=40)
            .map(|i| {
                vec![
                    Message::user(format!("Q bird_{i:02}")),
                    Message::assistant(format!("oldname_{i:02}")),
                ]
            })
            .collect(),
    );
    let t0 = Instant::now();
    let job = toy
        .start(FinetuneRequest {
            base: &base,
            data: &data,
            hyperparameters: &Hyperparameters::default(),
            seed: 1,
            suffix: "bench",
        })
        .await?;
    let model = loop {
        let s = toy.status(&job).await?;
        match s.state {
            JobState::Succeeded => break s.model.context("no model")?,
            JobState::Failed => bail!("fine-tune failed: {:?}", s.error),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    report(
        "one fine-tune (40 examples, 10 epochs, batch 8)",
        t0.elapsed(),
        Duration::from_secs(15),
        "",
    );

    // 100 cells of 100 samples, as a suite asks for them.
    let domains = [
        "invention",
        "transport",
        "medicine",
        "ruler",
        "n_states",
        "weapon",
        "lighting",
        "communication",
        "music",
        "clothing",
    ];
    let years = [
        "", "Y1984 ", "Y1991 ", "Y1995 ", "Y2004 ", "Y2010 ", "Y2017 ", "Y2020 ", "Y2024 ",
        "Y1845 ",
    ];
    let t0 = Instant::now();
    let mut n = 0;
    for d in domains {
        for y in years {
            let msgs = [Message::user(format!("{y}Q {d}"))];
            n += sample(&toy, &model, &msgs, &params, 0..100).await?;
        }
    }
    report(
        &format!("{n} samples (100 prompts x 100) from the fine-tune"),
        t0.elapsed(),
        Duration::from_secs(10),
        "",
    );
    let hwm = peak_memory_mb()?;
    println!(
        "{:<58} {:>9.0} MB   budget <= 1024 MB   {}",
        "peak memory (VmHWM)",
        hwm,
        if hwm <= 1024.0 { "ok" } else { "OVER" }
    );
    Ok(())
}

async fn sample(
    toy: &ToyProvider,
    model: &ModelRef,
    messages: &[Message],
    params: &SamplingParams,
    indices: std::ops::Range<u32>,
) -> Result<usize> {
    let out = toy
        .sample(SampleRequest {
            model,
            messages,
            params,
            indices,
        })
        .await?;
    Ok(out.len())
}

fn report(what: &str, took: Duration, budget: Duration, note: &str) {
    let s = took.as_secs_f64();
    let verdict = if took <= budget { "ok" } else { "OVER" };
    println!(
        "{what:<58} {s:>9.2} s    budget <= {:>4} s      {verdict}  {note}",
        budget.as_secs()
    );
}

/// User plus system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of /proc/self/stat (utime, stime), in clock ticks of 1/100 s.
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Peak resident memory (VmHWM) in MB.
fn peak_memory_mb() -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    let kb: f64 = line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?;
    Ok(kb / 1024.0)
}
