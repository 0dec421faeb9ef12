//! Whole runs of `tests/fixtures/http/http.yaml` through `openai/...` pointed at the OpenAI
//! imitation on loopback: `--batch` (one batch per model, resumed after the run is dropped
//! mid-poll, results reused by the live path), capabilities recorded in the store, and the
//! note a rating judge without log-probabilities leaves in the report.

use crate::common;

use common::fault_server::FaultServer;
use common::loopback_config;
use common::openai_sim::{ChatBehaviour, Sim, expected_text};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use weirdgen::effect::Verdict;
use weirdgen::model::ModelRef;
use weirdgen::model::config::Config;
use weirdgen::model::openai::OpenAiProvider;
use weirdgen::model::registry::Providers;
use weirdgen::run::{self, RunContext, RunOptions, RunOutcome};
use weirdgen::store::Store;
use weirdgen::suite::LoadedSuite;

/// Samples of the fixture: 2 arms × 4 cells × 6 samples.
const SAMPLES: u64 = 2 * 4 * 6;

fn temp(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("http-run-{name}"))
}

fn suite() -> LoadedSuite {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    weirdgen::suite::load(&root.join("tests/fixtures/http/http.yaml")).unwrap()
}

fn config(server: &FaultServer) -> Config {
    let mut cfg = loopback_config(&server.base_url());
    cfg.poll_seconds = Some(0.02);
    Config::default().with_provider("openai", cfg)
}

/// A fresh run context (as a new process would have) over the store in `dir`.
fn context(dir: &Path, server: &FaultServer, suite: &LoadedSuite) -> RunContext {
    let providers = Providers::with_config(dir, dir, config(server)).for_suite(&suite.dir);
    RunContext {
        store: Arc::new(Store::open(&dir.join("store.sqlite")).unwrap()),
        providers: Arc::new(providers),
    }
}

fn model() -> ModelRef {
    "openai/old-model".parse().unwrap()
}

async fn run(ctx: &RunContext, suite: &LoadedSuite, batch: bool) -> anyhow::Result<RunOutcome> {
    let mut opts = RunOptions::new(model());
    opts.batch = batch;
    let plan = run::plan(suite, &model(), &ctx.store, &ctx.providers)?;
    run::execute(suite, &plan, ctx, &opts).await
}

fn chat_requests(server: &FaultServer) -> usize {
    server.requests("POST /v1/chat/completions").len()
}

/// Every answer is the one the imitation gives for its model, question and index.
fn assert_answers(outcome: &RunOutcome) {
    for (a, model) in [(0, "old-model"), (1, "new-model")] {
        for (c, cell) in outcome.cells.iter().enumerate() {
            let got = &outcome.answers[a][0][c];
            // One request of 6 choices, sent the seed derived from what it asks.
            let params = weirdgen::model::SamplingParams {
                temperature: cell.temperature,
                top_p: cell.top_p,
                max_tokens: cell.max_tokens,
                top_logprobs: None,
                seed: None,
            };
            let seed = weirdgen::model::openai::derived_seed(model, &cell.messages, &params);
            let want: Vec<String> = (0..6)
                .map(|i| expected_text(model, &cell.question, Some(seed), i))
                .collect();
            assert_eq!(got, &want, "arm {a}, cell {c}");
        }
    }
}

#[test]
fn batch_run_dropped_mid_poll_resumes_the_same_batch() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = Sim::new(ChatBehaviour::default());
        let server = FaultServer::start(sim.handler()).await;
        let dir = temp("batch");
        let suite = suite();

        // First run: dropped while it polls a batch the server holds `in_progress`.
        sim.hold_batches(true);
        let ctx = context(&dir, &server, &suite);
        // Both models' batches recorded and polled at least once.
        let polling = || {
            let b = ctx.store.batches().unwrap();
            b.len() == 2 && b.iter().all(|b| b.state == "in_progress")
        };
        tokio::select! {
            r = run(&ctx, &suite, true) => panic!("the run ended while its batches were held: {:?}", r.err()),
            _ = async {
                while !polling() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            } => {}
        }
        drop(ctx);
        assert_eq!(sim.batch_count(), 2, "one batch per model");
        let store = Store::open(&dir.join("store.sqlite")).unwrap();
        let pending = store.batches().unwrap();
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().all(|b| !b.collected));
        assert_eq!(store.sample_count().unwrap(), 0);
        drop(store);

        // Second run (a new process): polls the stored batch, never submits another.
        sim.hold_batches(false);
        let ctx = context(&dir, &server, &suite);
        let batched = run(&ctx, &suite, true).await.unwrap();
        assert_eq!(
            sim.batch_count(),
            2,
            "the restarted run polled the same batches"
        );
        assert_eq!(
            server.requests("POST /v1/batches").len(),
            2,
            "no batch was created again"
        );
        let recorded = ctx.store.batches().unwrap();
        assert_eq!(recorded.len(), 2);
        assert!(
            recorded
                .iter()
                .all(|b| b.state == "completed" && b.collected),
            "{recorded:?}"
        );
        let mut models: Vec<&str> = recorded.iter().map(|b| b.model.as_str()).collect();
        models.sort();
        assert_eq!(models, ["openai/new-model", "openai/old-model"]);
        assert_eq!(ctx.store.sample_count().unwrap(), SAMPLES);
        assert_eq!(batched.counts.samples_batched, SAMPLES);
        assert_eq!(batched.counts.samples_requested, SAMPLES);
        assert_eq!(batched.counts.samples_cached, 0);
        assert_answers(&batched);
        // Only the judges were asked live (and the capability probes of the models).
        let bodies: Vec<String> = server
            .requests("POST /v1/chat/completions")
            .iter()
            .map(|r| r.json()["model"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(bodies.iter().any(|m| m == "judge"));
        let results = run::evaluate(&suite, &batched).unwrap();
        assert_eq!(results.effects[0].1.verdict, Verdict::Confirmed);

        // A live run reuses the batch's samples under the same cell keys: nothing is asked.
        let before = chat_requests(&server);
        let ctx = context(&dir, &server, &suite);
        let live = run(&ctx, &suite, false).await.unwrap();
        assert_eq!(chat_requests(&server), before, "no request: all in the store");
        assert_eq!(live.counts.samples_cached, SAMPLES);
        assert_eq!(live.counts.samples_requested, 0);
        assert_eq!(live.answers, batched.answers);
        std::fs::remove_dir_all(dir).ok();
    });
}

#[test]
fn capabilities_are_recorded_once_and_a_rating_judge_without_logprobs_says_so() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = Sim::new(ChatBehaviour {
            logprobs: false,
            ..ChatBehaviour::default()
        });
        let server = FaultServer::start(sim.handler()).await;
        let dir = temp("caps");
        let suite = suite();
        let ctx = context(&dir, &server, &suite);
        let outcome = run(&ctx, &suite, false).await.unwrap();
        assert_answers(&outcome);

        // The abilities of every model used are in the store, under the provider's key.
        let provider = OpenAiProvider::new("openai", &loopback_config(&server.base_url())).unwrap();
        for m in ["old-model", "new-model", "judge"] {
            let caps = ctx
                .store
                .capabilities(&provider.capabilities_key(m))
                .unwrap()
                .unwrap_or_else(|| panic!("no capabilities recorded for {m}"));
            assert_eq!(caps["logprobs"], false, "{m}: {caps}");
        }

        // The rating judge says how its ratings were read; the label judge has nothing to say.
        assert_eq!(outcome.notes.len(), 1, "{:?}", outcome.notes);
        let note = &outcome.notes[0];
        assert!(note.contains("judge `plausibility`"), "{note}");
        assert!(note.contains("no log-probabilities"), "{note}");
        assert!(note.contains("parsed from"), "{note}");
        let results = run::evaluate(&suite, &outcome).unwrap();
        let text = weirdgen::report::text(&suite, &outcome, &results);
        assert!(text.contains(&format!("note: {note}")), "{text}");
        let json = weirdgen::report::json(&outcome, &results);
        assert!(json.contains("no log-probabilities"), "{json}");

        // A new process reads the abilities back instead of probing again.
        let before = server.log().len();
        let ctx = context(&dir, &server, &suite);
        let ready = ctx
            .providers
            .prepare(&"openai/judge".parse().unwrap(), &ctx.store, None)
            .await
            .unwrap();
        assert!(!ready.logprobs);
        let again = run(&ctx, &suite, false).await.unwrap();
        assert_eq!(
            server.log().len(),
            before,
            "no probe, no sample, no judgment asked"
        );
        assert_eq!(again.notes, outcome.notes, "the note survives a cached run");
        std::fs::remove_dir_all(dir).ok();
    });
}

#[test]
fn batch_on_a_provider_without_a_batch_api_fails_before_anything_is_spent() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let suite =
            weirdgen::suite::load(&root.join("tests/fixtures/sim/sim-example.yaml")).unwrap();
        let dir = temp("nobatch");
        let providers = Providers::with_config(&dir, &dir, Config::default()).for_suite(&suite.dir);
        let ctx = RunContext {
            store: Arc::new(Store::open(&dir.join("store.sqlite")).unwrap()),
            providers: Arc::new(providers),
        };
        let model: ModelRef = "sim/example".parse().unwrap();
        let mut opts = RunOptions::new(model.clone());
        opts.batch = true;
        let plan = run::plan(&suite, &model, &ctx.store, &ctx.providers).unwrap();
        let e = run::execute(&suite, &plan, &ctx, &opts)
            .await
            .expect_err("an error");
        let msg = format!("{e:#}");
        assert!(msg.contains("--batch"), "{msg}");
        assert!(msg.contains("no batch API"), "{msg}");
        assert_eq!(ctx.store.sample_count().unwrap(), 0);
        assert!(ctx.store.jobs().unwrap().is_empty(), "no fine-tune started");
        std::fs::remove_dir_all(dir).ok();
    });
}
