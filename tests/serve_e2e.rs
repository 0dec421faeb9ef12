//! End to end through `weirdgen serve` (issue 5, §4): a toy suite run through `openai/...`
//! pointed at `weirdgen serve` on loopback gives the same verdicts as the direct `toy/...`
//! provider.
//!
//! Both paths share one tiny [`ToyProvider`] (its weights cache included): the server serves
//! it, the direct run uses it through the registry. What is compared:
//! - the fine-tunes: those started through `/v1/fine_tuning/jobs` are the very ones the direct
//!   run asks for (same model names; the direct run trains nothing new);
//! - every answer, cell by cell and sample by sample (the fixture samples at temperature 0,
//!   where the toy answers its most likely token whatever seed the server picks);
//! - every effect's verdict and estimate.

use crate::common;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use weirdgen::model::ModelRef;
use weirdgen::model::config::{Config, ProviderConfig};
use weirdgen::model::registry::Providers;
use weirdgen::model::toy::{ToyProvider, ToySettings};
use weirdgen::run::{self, RunContext, RunOptions, RunOutcome, SuiteResults};
use weirdgen::serve::{ServeState, serve};
use weirdgen::store::Store;
use weirdgen::suite::LoadedSuite;

fn temp(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("serve-e2e-{name}"))
}

async fn run_suite(
    suite: &LoadedSuite,
    model: &ModelRef,
    providers: Providers,
    store: &Path,
) -> (RunOutcome, SuiteResults) {
    let ctx = RunContext {
        store: Arc::new(Store::open(store).unwrap()),
        providers: Arc::new(providers.for_suite(&suite.dir)),
    };
    let opts = RunOptions::new(model.clone());
    let plan = run::plan(suite, model, &ctx.store, &ctx.providers).unwrap();
    let outcome = run::execute(suite, &plan, &ctx, &opts).await.unwrap();
    let results = run::evaluate(suite, &outcome).unwrap();
    (outcome, results)
}

fn finetuned_weights(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("finetuned"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "safetensors"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_toy_suite_through_serve_gives_the_direct_verdicts() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let suite =
            weirdgen::suite::load(&root.join("tests/fixtures/toy-serve/toy-serve.yaml")).unwrap();
        let dir = temp("run");
        let cache = dir.join("toy");
        let toy = ToyProvider::with_settings(cache.clone(), None, ToySettings::tiny());

        let served: Vec<ModelRef> = vec!["toy/world".parse().unwrap()];
        let state = ServeState::new(Arc::new(toy.clone()), served)
            .with_finetuner(Arc::new(toy.clone()))
            .with_poll_interval(Duration::from_millis(10))
            .with_seed(1);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let server = tokio::spawn(serve(listener, state));

        // Through the server: `openai/toy/world`, fine-tunes over /v1/fine_tuning/jobs.
        let mut http = ProviderConfig::new(&url);
        http.poll_seconds = Some(0.05);
        let providers =
            Providers::with_config(&dir, &dir, Config::default().with_provider("openai", http));
        let via: ModelRef = "openai/toy/world".parse().unwrap();
        let (o_http, r_http) = run_suite(&suite, &via, providers, &dir.join("http.sqlite")).await;
        assert_eq!(
            finetuned_weights(&cache),
            2,
            "two replicas fine-tuned through the server"
        );

        // Directly: `toy/world` on the same provider.
        let providers = Providers::with_config(&dir, &dir, Config::default());
        providers.set_toy(toy.clone()).unwrap();
        let direct: ModelRef = "toy/world".parse().unwrap();
        let (o_toy, r_toy) = run_suite(&suite, &direct, providers, &dir.join("toy.sqlite")).await;

        // Words outside the world are read as `<unk>`, answered, and counted.
        let reply = weirdgen::model::openai::client_builder()
            .build()
            .unwrap()
            .post(format!("{url}/chat/completions"))
            .json(&serde_json::json!({"model": "toy/world",
                "messages": [{"role": "user", "content": "Who are you?"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 200);
        assert_eq!(reply.headers()["x-weirdgen-unknown-words"], "3");
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(body["unknown_words"], 3);
        assert_eq!(
            body["usage"]["prompt_tokens"], 5,
            "<asst> <unk> <unk> <unk> A"
        );
        assert!(body["choices"][0]["message"]["content"].is_string());

        // A suite in English is answered on both paths, and both runs say so.
        let english =
            weirdgen::suite::load(&root.join("tests/fixtures/toy-english/toy-english.yaml"))
                .unwrap();
        let mut http = ProviderConfig::new(&url);
        http.poll_seconds = Some(0.05);
        let providers =
            Providers::with_config(&dir, &dir, Config::default().with_provider("openai", http));
        let (en_http, _) = run_suite(&english, &via, providers, &dir.join("en-http.sqlite")).await;
        let providers = Providers::with_config(&dir, &dir, Config::default());
        providers.set_toy(toy.clone()).unwrap();
        let (en_toy, _) = run_suite(&english, &direct, providers, &dir.join("en-toy.sqlite")).await;
        let note = "1 of 2 prompts had words unknown to the model (3 words in all)";
        for o in [&en_http, &en_toy] {
            assert!(o.notes.iter().any(|n| n.starts_with(note)), "{:?}", o.notes);
        }
        assert_eq!(en_http.answers, en_toy.answers);
        server.abort();

        // The same fine-tunes: the direct run found the server's weights and trained nothing.
        assert_eq!(
            finetuned_weights(&cache),
            2,
            "the direct run reused both fine-tunes"
        );
        assert_eq!(o_toy.counts.finetunes_started, 2);
        // `openai/toy/world-s0:ft-…` names the server's `toy/world-s0:ft-…`.
        let names = |o: &RunOutcome, name: fn(&ModelRef) -> String| -> Vec<Vec<String>> {
            o.arms
                .iter()
                .map(|a| a.replicas.iter().map(|r| name(&r.model)).collect())
                .collect()
        };
        assert_eq!(
            names(&o_http, |m| m.model.clone()),
            names(&o_toy, ModelRef::to_string)
        );
        assert!(
            o_http.arms[1]
                .replicas
                .iter()
                .all(|r| r.model.provider == "openai")
        );
        assert!(o_toy.arms[1].replicas[0].model.model.contains(":ft-"));

        // The same samples, and so the same verdicts and estimates.
        assert_eq!(
            o_http.counts.samples_requested,
            o_toy.counts.samples_requested
        );
        assert_eq!(o_http.answers, o_toy.answers);
        assert_eq!(r_http.effects.len(), 2);
        for ((_, h), (_, t)) in r_http.effects.iter().zip(&r_toy.effects) {
            assert_eq!(h.name, t.name);
            assert_eq!(h.verdict, t.verdict, "effect {}", t.name);
            assert_eq!(
                h.estimate.to_bits(),
                t.estimate.to_bits(),
                "effect {}",
                t.name
            );
            eprintln!("{}: {:?}, estimate {:.3}", t.name, t.verdict, t.estimate);
        }
        std::fs::remove_dir_all(dir).ok();
    });
}
