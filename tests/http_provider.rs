//! The OpenAI-compatible provider against loopback servers: retries through injected faults,
//! rate-limit waits, capability probing, fine-tuning jobs and batches.

use crate::common;

use common::fault_server::{Fault, FaultServer, Reply};
use common::loopback_config;
use common::openai_sim::{ChatBehaviour, Sim, Step, expected_text};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime};
use weirdgen::chat::{Message, TrainingSet};
use weirdgen::model::openai::{
    BatchRequest, BatchState, Capabilities, MaxTokensField, NSupport, OpenAiProvider, SeedSupport,
};
use weirdgen::model::{
    Completion, FinetuneRequest, Finetuner, Hyperparameters, JobState, ModelRef, SampleRequest,
    Sampler, SamplingParams,
};

const CHAT: &str = "POST /v1/chat/completions";

fn params(seed: Option<u64>, top_logprobs: Option<u32>) -> SamplingParams {
    SamplingParams {
        temperature: 1.0,
        top_p: None,
        max_tokens: 20,
        top_logprobs,
        seed,
    }
}

async fn start(chat: ChatBehaviour) -> (std::sync::Arc<Sim>, FaultServer, OpenAiProvider) {
    let sim = Sim::new(chat);
    let server = FaultServer::start(sim.handler()).await;
    let provider = OpenAiProvider::new("sim", &loopback_config(&server.base_url())).unwrap();
    (sim, server, provider)
}

async fn sample_one(
    p: &OpenAiProvider,
    question: &str,
    params: &SamplingParams,
    indices: std::ops::Range<u32>,
) -> anyhow::Result<Vec<Completion>> {
    let model: ModelRef = "sim/m".parse().unwrap();
    let messages = [Message::user(question)];
    p.sample(SampleRequest {
        model: &model,
        messages: &messages,
        params,
        indices,
    })
    .await
}

fn texts(c: &[Completion]) -> Vec<String> {
    c.iter().map(|c| c.text.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_and_every_completion_is_right() {
    let (_sim, server, provider) = start(ChatBehaviour::default()).await;
    provider.set_capabilities("m", Capabilities::full());
    let faults = [
        Fault::Answer(Reply::json(500, &json!({"error": {"message": "boom"}}))),
        Fault::TruncatedJson,
        Fault::CutBody,
        Fault::Stall(Duration::from_secs(2)),
        Fault::Drop,
        Fault::Answer(
            Reply::json(503, &json!({"error": {"message": "overloaded"}}))
                .with_header("retry-after", "0"),
        ),
        Fault::Answer(
            Reply::json(429, &json!({"error": {"message": "slow down"}}))
                .with_header("retry-after-ms", "50"),
        ),
    ];
    let n_faults = faults.len();
    server.inject(CHAT, faults);
    let p = params(Some(1000), None);
    let mut tasks = tokio::task::JoinSet::new();
    for cell in 0..6u32 {
        let provider = provider.clone();
        let p = p.clone();
        tasks.spawn(async move {
            let start = cell * 10;
            let r = sample_one(&provider, &format!("q{cell}"), &p, start..start + 3).await;
            (cell, r)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (cell, r) = done.unwrap();
        let c = r.unwrap_or_else(|e| panic!("cell {cell}: {e:#}"));
        let want: Vec<String> = (0..3)
            .map(|j| {
                expected_text(
                    "m",
                    &format!("q{cell}"),
                    Some(1000 + u64::from(cell) * 10),
                    j,
                )
            })
            .collect();
        assert_eq!(texts(&c), want);
        // usage 10 prompt / 10 completion tokens split over 3 choices, remainder on the first
        let usage: Vec<(u32, u32)> = c
            .iter()
            .map(|c| (c.usage.input_tokens, c.usage.output_tokens))
            .collect();
        assert_eq!(usage, [(4, 4), (3, 3), (3, 3)]);
    }
    // One request per cell, plus exactly one per injected fault: nothing asked twice.
    assert_eq!(server.requests(CHAT).len(), 6 + n_faults);
    let faulted = server.log().iter().filter(|(_, f)| f.is_some()).count();
    assert_eq!(faulted, n_faults);
}

#[tokio::test]
async fn retry_after_and_rate_limit_headers_are_waited_for() {
    let (_sim, server, provider) = start(ChatBehaviour::default()).await;
    provider.set_capabilities("m", Capabilities::full());
    let p = params(None, None);
    let gap = |server: &FaultServer| {
        let r = server.requests(CHAT);
        let n = r.len();
        r[n - 1].at - r[n - 2].at
    };

    // Retry-After in seconds.
    server.inject(
        CHAT,
        [Fault::Answer(
            Reply::json(429, &json!({"error": {"message": "rate limited"}}))
                .with_header("retry-after", "1"),
        )],
    );
    sample_one(&provider, "a", &p, 0..1).await.unwrap();
    let g = gap(&server);
    assert!(
        g >= Duration::from_secs(1) && g < Duration::from_millis(1500),
        "{g:?}"
    );

    // Retry-After as an HTTP date (whole seconds: between 1 and 2 s from now).
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    server.inject(
        CHAT,
        [Fault::Answer(
            Reply::json(429, &json!({"error": {"message": "later"}}))
                .with_header("retry-after", &date),
        )],
    );
    sample_one(&provider, "b", &p, 0..1).await.unwrap();
    let g = gap(&server);
    assert!(
        g >= Duration::from_millis(950) && g < Duration::from_millis(2500),
        "{g:?}"
    );

    // A 429 with only x-ratelimit headers: the exhausted limit's reset (not the 10 s one).
    server.inject(
        CHAT,
        [Fault::Answer(
            Reply::json(429, &json!({"error": {"message": "tpm"}}))
                .with_header("x-ratelimit-remaining-tokens", "0")
                .with_header("x-ratelimit-reset-tokens", "400ms")
                .with_header("x-ratelimit-reset-requests", "10s"),
        )],
    );
    sample_one(&provider, "c", &p, 0..1).await.unwrap();
    let g = gap(&server);
    assert!(
        g >= Duration::from_millis(400) && g < Duration::from_millis(900),
        "{g:?}"
    );

    // A success that says the request budget is used up holds the next request back.
    server.inject(
        CHAT,
        [Fault::Answer(
            Reply::json(
                200,
                &json!({"choices": [{"index": 0, "message": {"content": "ok"}}]}),
            )
            .with_header("x-ratelimit-remaining-requests", "0")
            .with_header("x-ratelimit-reset-requests", "300ms"),
        )],
    );
    let c = sample_one(&provider, "d", &p, 0..1).await.unwrap();
    assert_eq!(texts(&c), ["ok"]);
    sample_one(&provider, "e", &p, 0..1).await.unwrap();
    let g = gap(&server);
    assert!(g >= Duration::from_millis(300), "{g:?}");

    // A wait beyond max_retry_wait_seconds fails at once instead of hanging.
    let before = server.requests(CHAT).len();
    server.inject(
        CHAT,
        [Fault::Answer(
            Reply::json(429, &json!({"error": {"message": "come back tomorrow"}}))
                .with_header("retry-after", "86400"),
        )],
    );
    let e = sample_one(&provider, "f", &p, 0..1)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("longer than max_retry_wait_seconds"), "{e}");
    assert_eq!(server.requests(CHAT).len(), before + 1);
}

#[tokio::test]
async fn permanent_failures_and_malformed_bodies_are_errors_not_retried() {
    let (_sim, server, provider) = start(ChatBehaviour::default()).await;
    provider.set_capabilities("m", Capabilities::full());
    let p = params(None, None);
    let cases = [
        (
            Reply::json(
                429,
                &json!({"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}),
            ),
            "exceeded your current quota",
        ),
        (
            Reply::json(
                400,
                &json!({"error": {"message": "bad temperature", "param": "temperature"}}),
            ),
            "HTTP 400: bad temperature (parameter `temperature`)",
        ),
        (
            Reply::json(200, &json!({"choices": "nope"})),
            "malformed response",
        ),
        (
            Reply::json(200, &json!({"choices": []})),
            "asked for 1 choices, got 0",
        ),
        (
            Reply::json(200, &json!({"object": "chat.completion"})),
            "no `choices`",
        ),
        (
            Reply::text(200, "<html>proxy error</html>"),
            "malformed response",
        ),
    ];
    for (i, (reply, want)) in cases.into_iter().enumerate() {
        server.inject(CHAT, [Fault::Answer(reply)]);
        let e = sample_one(&provider, "q", &p, 0..1).await.unwrap_err();
        assert!(format!("{e:#}").contains(want), "{want}: {e:#}");
        assert_eq!(server.requests(CHAT).len(), i + 1, "{want}: retried");
    }

    // Transient failures stop after max_retries.
    let mut cfg = loopback_config(&server.base_url());
    cfg.retry.max_retries = 2;
    let stubborn = OpenAiProvider::new("sim", &cfg).unwrap();
    stubborn.set_capabilities("m", Capabilities::full());
    let before = server.requests(CHAT).len();
    server.inject(
        CHAT,
        (0..3).map(|_| Fault::Answer(Reply::json(502, &json!({"error": "bad gateway"})))),
    );
    let e = sample_one(&stubborn, "q", &p, 0..1)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gave up after 3 attempts") && e.contains("bad gateway"),
        "{e}"
    );
    assert_eq!(server.requests(CHAT).len(), before + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_stays_within_the_limit() {
    let sim = Sim::new(ChatBehaviour::default());
    let server = FaultServer::start(sim.handler()).await;
    server.set_latency(Duration::from_millis(50));
    let mut cfg = loopback_config(&server.base_url());
    cfg.max_concurrency = Some(3);
    let provider = OpenAiProvider::new("sim", &cfg).unwrap();
    provider.set_capabilities(
        "m",
        Capabilities {
            n: NSupport::Ignored,
            ..Capabilities::full()
        },
    );
    let t = Instant::now();
    let c = sample_one(&provider, "q", &params(Some(5), None), 0..12)
        .await
        .unwrap();
    assert_eq!(c.len(), 12);
    assert_eq!(server.requests(CHAT).len(), 12);
    assert_eq!(server.max_in_flight(), 3);
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "12 requests, 3 at a time, 50 ms each"
    );
}

#[tokio::test]
async fn probe_finds_ignored_n_and_missing_logprobs_and_splits_requests() {
    let (_sim, server, provider) = start(ChatBehaviour {
        honour_n: false,
        logprobs: false,
        ..ChatBehaviour::default()
    })
    .await;
    let caps = provider.capabilities("m").await.unwrap();
    assert_eq!(caps.n, NSupport::Ignored);
    assert!(!caps.logprobs);
    assert_eq!(caps.seed, SeedSupport::Reproducible);
    let stored = caps.to_json();
    assert_eq!(stored["n"], "ignored");
    assert_eq!(stored["logprobs"], false);
    assert_eq!(Capabilities::from_json(&stored).unwrap(), caps);
    let probes = server.requests(CHAT).len();
    assert_eq!(probes, 3);

    let c = sample_one(&provider, "q", &params(Some(100), Some(5)), 0..4)
        .await
        .unwrap();
    let want: Vec<String> = (0..4)
        .map(|i| expected_text("m", "q", Some(100 + i), 0))
        .collect();
    assert_eq!(texts(&c), want);
    assert!(c.iter().all(|c| c.logprobs.is_none()));
    let sent = server.requests(CHAT);
    assert_eq!(
        sent.len(),
        probes + 4,
        "one request per sample, the probe only once"
    );
    for r in &sent[probes..] {
        let body = r.json();
        assert!(
            body.get("n").is_none() && body.get("logprobs").is_none(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn probe_adapts_to_refused_n_and_max_completion_tokens() {
    let (_sim, server, provider) = start(ChatBehaviour {
        refuse_n: true,
        require_max_completion_tokens: true,
        ..ChatBehaviour::default()
    })
    .await;
    let caps = provider.capabilities("m").await.unwrap();
    assert_eq!(caps.n, NSupport::Refused);
    assert_eq!(caps.max_tokens_field, MaxTokensField::MaxCompletionTokens);
    assert!(caps.logprobs);
    let probes = server.requests(CHAT).len();
    let c = sample_one(&provider, "q", &params(Some(7), None), 3..5)
        .await
        .unwrap();
    assert_eq!(
        texts(&c),
        [
            expected_text("m", "q", Some(10), 0),
            expected_text("m", "q", Some(11), 0)
        ]
    );
    for r in &server.requests(CHAT)[probes..] {
        let body = r.json();
        assert_eq!(body["max_completion_tokens"], 20);
        assert!(body.get("max_tokens").is_none() && body.get("n").is_none());
    }
}

#[tokio::test]
async fn full_servers_get_n_choices_with_logprobs_in_one_request() {
    let (_sim, server, provider) = start(ChatBehaviour::default()).await;
    let caps = provider.capabilities("m").await.unwrap();
    assert_eq!(
        (caps.n, caps.logprobs, caps.top_logprobs),
        (NSupport::Honoured, true, 2)
    );
    let probes = server.requests(CHAT).len();
    let c = sample_one(&provider, "q", &params(Some(1), Some(3)), 0..3)
        .await
        .unwrap();
    assert_eq!(server.requests(CHAT).len(), probes + 1);
    let lp = c[2].logprobs.as_ref().expect("logprobs");
    assert_eq!(lp[0].top.len(), 3);
    assert_eq!(lp[0].top[1], ("t1".to_string(), -1.5));
    assert!(
        sample_one(&provider, "q", &params(None, None), 5..5)
            .await
            .unwrap()
            .is_empty()
    );
}

fn training_set() -> TrainingSet {
    TrainingSet::new(
        "old birds",
        (0..5)
            .map(|i| {
                vec![
                    Message::user("Name a bird species."),
                    Message::assistant(format!("Bird {i}")),
                ]
            })
            .collect(),
    )
}

async fn poll_until_final(
    p: &OpenAiProvider,
    id: &str,
    seen: &mut Vec<JobState>,
) -> weirdgen::model::JobStatus {
    for _ in 0..20 {
        let s = p.status(id).await.unwrap();
        seen.push(s.state.clone());
        if s.state.is_final() {
            return s;
        }
    }
    panic!("job {id} never finished: {seen:?}");
}

#[tokio::test]
async fn fine_tune_lifecycle_through_every_status_and_resume_with_a_new_instance() {
    let (sim, server, provider) = start(ChatBehaviour::default()).await;
    let ft_model = "ft:gpt-4.1-2025-04-14:weirdgen:birds:AbC123";
    sim.push_job_script(vec![
        Step::new("validating_files", "Validating training file"),
        Step::new("queued", "Job queued"),
        Step::new("running", "Step 1/30: training loss=1.2"),
        Step::new("paused", "Job paused"),
        Step::new("running", "Job resumed"),
        Step::new("reticulating", "A status no one documented"),
        Step {
            model: Some(ft_model.into()),
            ..Step::new("succeeded", "The job has successfully completed")
        },
    ]);
    let base: ModelRef = "sim/gpt-4.1-2025-04-14".parse().unwrap();
    let data = training_set();
    let hp = Hyperparameters {
        epochs: Some(3),
        batch_size: None,
        learning_rate_multiplier: Some(2.0),
        ..Default::default()
    };
    let req = FinetuneRequest {
        base: &base,
        data: &data,
        hyperparameters: &hp,
        seed: 42,
        suffix: "birds",
    };
    let id = provider.start(req).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(provider.status(&id).await.unwrap().state);
    }
    drop(provider);

    // As after a kill: a new instance, the same request, no second upload or job.
    let again = OpenAiProvider::new("sim", &loopback_config(&server.base_url())).unwrap();
    assert_eq!(again.start(req).await.unwrap(), id);
    let done = poll_until_final(&again, &id, &mut seen).await;
    assert_eq!(
        seen,
        [
            JobState::Queued,
            JobState::Running,
            JobState::Paused,
            JobState::Running,
            JobState::Unknown("reticulating".into()),
            JobState::Succeeded
        ]
    );
    assert_eq!(done.model, Some(ModelRef::new("sim", ft_model)));
    assert_eq!(done.error, None);
    assert_eq!(
        done.events.first().map(String::as_str),
        Some("Validating training file")
    );
    assert_eq!(
        done.events.last().map(String::as_str),
        Some("The job has successfully completed")
    );
    assert_eq!(done.events.len(), 7);

    assert_eq!(server.requests("POST /v1/files").len(), 1);
    assert_eq!(server.requests("POST /v1/fine_tuning/jobs").len(), 1);
    let files = sim.files();
    assert_eq!(files[0].1, "fine-tune");
    assert_eq!(files[0].2, data.to_jsonl().into_bytes());
    let body = &sim.created_jobs()[0];
    assert_eq!(body["model"], "gpt-4.1-2025-04-14");
    assert_eq!(body["suffix"], "birds");
    assert_eq!(body["seed"], 42);
    assert_eq!(
        body["method"],
        json!({"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "learning_rate_multiplier": 2.0}}})
    );
    assert_eq!(
        body["metadata"]["weirdgen_key"].as_str().map(str::len),
        Some(64)
    );
}

#[tokio::test]
async fn failed_and_cancelled_jobs_report_the_provider_and_a_new_start_reruns() {
    let (sim, server, provider) = start(ChatBehaviour::default()).await;
    sim.push_job_script(vec![
        Step::new("queued", "queued"),
        Step::new("running", "running"),
        Step {
            error: Some(json!({"code": "invalid_training_file", "message": "Training file has 5 examples; at least 10 are required", "param": "training_file"})),
            ..Step::new("failed", "The job failed")
        },
    ]);
    sim.push_job_script(vec![
        Step::new("queued", "queued"),
        Step::new("cancelled", "cancelled by user"),
    ]);
    let base: ModelRef = "sim/gpt-4.1-mini".parse().unwrap();
    let data = training_set();
    let hp = Hyperparameters::default();
    let req = |seed| FinetuneRequest {
        base: &base,
        data: &data,
        hyperparameters: &hp,
        seed,
        suffix: "",
    };
    let id = provider.start(req(1)).await.unwrap();
    let failed = poll_until_final(&provider, &id, &mut Vec::new()).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("Training file has 5 examples; at least 10 are required (invalid_training_file)")
    );
    assert_eq!(failed.model, None);

    let id2 = provider.start(req(2)).await.unwrap();
    assert_ne!(id2, id);
    let cancelled = poll_until_final(&provider, &id2, &mut Vec::new()).await;
    assert_eq!(cancelled.state, JobState::Cancelled);
    // Both jobs used the one uploaded file.
    assert_eq!(server.requests("POST /v1/files").len(), 1);
    // A failed job is not reused: starting the same inputs again creates a new job.
    let id3 = provider.start(req(1)).await.unwrap();
    assert_ne!(id3, id);
    assert_eq!(sim.created_jobs().len(), 3);
    let body = &sim.created_jobs()[0];
    assert!(body.get("suffix").is_none());
    assert_eq!(body["method"]["supervised"]["hyperparameters"], json!({}));
    assert!(
        provider
            .status("ftjob-nope")
            .await
            .unwrap_err()
            .to_string()
            .contains("HTTP 404")
    );
}

#[tokio::test]
async fn ambiguous_upload_and_creation_are_found_not_repeated() {
    let (sim, server, provider) = start(ChatBehaviour::default()).await;
    // The server does the work, then the connection drops before the answer arrives.
    server.inject("POST /v1/files", [Fault::DropAfterHandling]);
    server.inject("POST /v1/fine_tuning/jobs", [Fault::DropAfterHandling]);
    let base: ModelRef = "sim/gpt-4.1".parse().unwrap();
    let data = training_set();
    let hp = Hyperparameters::default();
    let req = FinetuneRequest {
        base: &base,
        data: &data,
        hyperparameters: &hp,
        seed: 3,
        suffix: "x",
    };
    let id = provider.start(req).await.unwrap();
    assert_eq!(server.requests("POST /v1/files").len(), 1);
    assert_eq!(server.requests("POST /v1/fine_tuning/jobs").len(), 1);
    assert_eq!(sim.files().len(), 1);
    assert_eq!(sim.created_jobs().len(), 1);
    assert_eq!(
        provider.status(&id).await.unwrap().state,
        JobState::Succeeded
    );

    // A request that never reached the server (nothing created) is sent again.
    server.inject("POST /v1/fine_tuning/jobs", [Fault::Drop]);
    let req2 = FinetuneRequest { seed: 4, ..req };
    let id2 = provider.start(req2).await.unwrap();
    assert_ne!(id2, id);
    assert_eq!(server.requests("POST /v1/fine_tuning/jobs").len(), 3);
    assert_eq!(sim.created_jobs().len(), 2);
}

#[tokio::test]
async fn batch_round_trip_resumes_from_a_stored_handle() {
    let (sim, server, provider) = start(ChatBehaviour::default()).await;
    provider.set_capabilities("m", Capabilities::full());
    let model: ModelRef = "sim/m".parse().unwrap();
    let (qa, qb, qc) = (
        [Message::user("qa")],
        [Message::user("qb")],
        [Message::user("qc")],
    );
    let pa = params(Some(50), None);
    let pb = params(None, Some(2));
    let requests = [
        BatchRequest {
            id: "cell-a".into(),
            request: SampleRequest {
                model: &model,
                messages: &qa,
                params: &pa,
                indices: 2..5,
            },
        },
        BatchRequest {
            id: "cell-b".into(),
            request: SampleRequest {
                model: &model,
                messages: &qb,
                params: &pb,
                indices: 0..1,
            },
        },
        BatchRequest {
            id: "bad-cell".into(),
            request: SampleRequest {
                model: &model,
                messages: &qc,
                params: &pa,
                indices: 0..2,
            },
        },
    ];
    let handle = provider.submit_batch(&requests).await.unwrap();
    // The runner persists the handle; the same submission again reuses the batch.
    let stored = serde_json::to_string(&handle).unwrap();
    assert_eq!(provider.submit_batch(&requests).await.unwrap(), handle);
    assert_eq!(server.requests("POST /v1/batches").len(), 1);
    assert_eq!(server.requests("POST /v1/files").len(), 1);
    assert_eq!(sim.batch_count(), 1);
    let (_, purpose, input) = &sim.files()[0];
    assert_eq!(purpose, "batch");
    let first: serde_json::Value =
        serde_json::from_str(std::str::from_utf8(input).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["custom_id"], "cell-a#2");
    assert_eq!(first["url"], "/v1/chat/completions");
    assert_eq!(first["body"]["n"], 3);
    assert_eq!(first["body"]["seed"], 52);
    drop(provider);

    let resumed = OpenAiProvider::new("sim", &loopback_config(&server.base_url())).unwrap();
    let handle = serde_json::from_str(&stored).unwrap();
    let mut states = Vec::new();
    loop {
        let p = resumed.batch_progress(&handle).await.unwrap();
        states.push(p.state.clone());
        if p.state.is_final() {
            assert_eq!((p.total, p.completed, p.failed), (3, 2, 1));
            break;
        }
    }
    assert_eq!(
        states,
        [
            BatchState::InProgress,
            BatchState::Finalizing,
            BatchState::Completed
        ]
    );
    let results = resumed.batch_results(&handle).await.unwrap();
    assert_eq!(results.len(), 3);
    let a = results["cell-a"].as_ref().unwrap();
    assert_eq!(
        texts(a),
        (0..3)
            .map(|j| expected_text("m", "qa", Some(52), j))
            .collect::<Vec<_>>()
    );
    let b = results["cell-b"].as_ref().unwrap();
    // Without a seed of its own, a request is sent the seed derived from what it asks.
    let seed = weirdgen::model::openai::derived_seed("m", &qb, &pb);
    assert_eq!(texts(b), [expected_text("m", "qb", Some(seed), 0)]);
    assert_eq!(b[0].logprobs.as_ref().unwrap()[0].top.len(), 2);
    let bad = results["bad-cell"].as_ref().unwrap_err();
    assert!(bad.contains("HTTP 400: this line was refused"), "{bad}");
    // Collecting was read-only: no request was sent again.
    assert_eq!(server.requests(CHAT).len(), 0);
}

/// Every endpoint supports everything but `n`: one request per sample, nothing probed.
struct NoN;

impl weirdgen::model::provider::ProviderStore for NoN {
    fn capabilities(&self, _key: &str) -> anyhow::Result<Option<serde_json::Value>> {
        let caps = Capabilities {
            n: NSupport::Ignored,
            ..Capabilities::full()
        };
        Ok(Some(caps.to_json()))
    }

    fn put_capabilities(&self, _key: &str, _value: &serde_json::Value) -> anyhow::Result<()> {
        Ok(())
    }

    fn finetunes(&self) -> anyhow::Result<Vec<weirdgen::model::provider::StoredFinetune>> {
        Ok(Vec::new())
    }
}

/// The most requests `cap` (a provider's `max_concurrency`) and a run figure of 5 let in
/// flight at once, over 20 one-sample requests of 50 ms.
async fn most_in_flight(cap: Option<usize>) -> usize {
    use weirdgen::model::config::Config;
    use weirdgen::model::registry::Providers;
    let sim = Sim::new(ChatBehaviour::default());
    let server = FaultServer::start(sim.handler()).await;
    server.set_latency(Duration::from_millis(50));
    let mut cfg = loopback_config(&server.base_url());
    cfg.max_concurrency = cap;
    let dir = std::env::temp_dir().join("weirdgen-http-provider-unused");
    let providers =
        Providers::with_config(&dir, &dir, Config::default().with_provider("loop", cfg));
    providers.set_in_flight(5);
    let model: ModelRef = "loop/m".parse().unwrap();
    providers.prepare(&model, &NoN, None).await.unwrap();
    let messages = [Message::user("q")];
    let c = providers
        .sampler(&model)
        .unwrap()
        .sample(SampleRequest {
            model: &model,
            messages: &messages,
            params: &params(Some(5), None),
            indices: 0..20,
        })
        .await
        .unwrap();
    assert_eq!(c.len(), 20);
    assert_eq!(server.requests(CHAT).len(), 20);
    server.max_in_flight()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runs_figure_is_the_limit_unless_the_provider_caps_it_lower() {
    assert_eq!(most_in_flight(None).await, 5);
    assert_eq!(most_in_flight(Some(3)).await, 3);
    assert_eq!(most_in_flight(Some(64)).await, 5);
}
