//! A canary key in the environment (and canary credentials in the base URL) never appear in
//! errors, `Debug` output or returned values, even when the server echoes them back.
//! One test in its own binary: it sets environment variables before any other thread runs.

mod common;

use common::fault_server::{Fault, FaultServer, Reply, Request};
use common::loopback_config;
use serde_json::json;
use std::time::Duration;
use weirdgen::chat::{Message, TrainingSet};
use weirdgen::model::config::ProviderConfig;
use weirdgen::model::openai::{BatchRequest, Capabilities, OpenAiProvider};
use weirdgen::model::{
    FinetuneRequest, Finetuner, Hyperparameters, ModelRef, SampleRequest, Sampler, SamplingParams,
};

const CANARY_KEY: &str = "sk-canary-5f1e9a7c3b2d4e6f8a0b";
const KEY_VAR: &str = "WEIRDGEN_TEST_SECRET_KEY";

/// Answers with every credential it was sent, as careless servers and proxies do.
fn echo(req: &Request) -> Reply {
    let auth = req.header("authorization").unwrap_or("(none)").to_string();
    let all: Vec<String> = req
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let echoed = format!(
        "Incorrect API key provided: {auth}. You asked {}?{} with {}",
        req.path,
        req.query,
        all.join(", ")
    );
    let body = String::from_utf8_lossy(&req.body).to_string();
    if req.method == "POST" && req.path.ends_with("/chat/completions") {
        if body.contains("fine please") {
            return Reply::json(
                200,
                &json!({"choices": [{"index": 0, "message": {"content": "all fine"}}],
                                             "usage": {"prompt_tokens": 3, "completion_tokens": 2}}),
            );
        }
        if body.contains("malformed please") {
            return Reply::json(200, &json!({"choices": echoed}));
        }
        return Reply::json(500, &json!({"error": {"message": echoed, "code": auth}}));
    }
    let status = if req.method == "GET" { 401 } else { 403 };
    Reply::json(
        status,
        &json!({"error": {"message": echoed, "param": auth, "code": "invalid_api_key"}}),
    )
}

#[test]
fn credentials_never_leak() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(FaultServer::start(echo));
    // SAFETY: this binary's only test sets the variables before its runtime's workers read
    // any environment (they have only started the listener).
    unsafe {
        std::env::set_var(KEY_VAR, CANARY_KEY);
        std::env::set_var("OPENAI_API_KEY", CANARY_KEY);
        std::env::set_var(
            "OPENAI_BASE_URL",
            format!(
                "http://user-canary:sk-canary-url-pw-4821@{}/v1",
                server.addr
            ),
        );
    }
    rt.block_on(run(&server));
}

async fn run(server: &FaultServer) {
    let mut leaks_checked: Vec<String> = Vec::new();
    let mut check = |what: &str, text: String| {
        assert!(
            !text.to_ascii_lowercase().contains("canary"),
            "{what} leaks a credential: {text:?} at {:?}",
            text.to_ascii_lowercase().find("canary")
        );
        leaks_checked.push(what.to_string());
    };

    let mut cfg = loopback_config(&format!(
        "http://proxy-canary:sk-canary-pw-77aa31@{}/v1?api-key=sk-canary-query-99bb&api-version=1",
        server.addr
    ));
    cfg.api_key_env = Some(KEY_VAR.into());
    cfg.retry.max_retries = 1;
    cfg.timeout_seconds = 0.3;
    let provider = OpenAiProvider::new("leaky", &cfg).unwrap();
    let builtin = OpenAiProvider::builtin_openai().unwrap();
    let builtin_cfg = ProviderConfig::openai_builtin();
    check("provider Debug", format!("{provider:?} {builtin:?}"));
    check("config Debug", format!("{cfg:?} {builtin_cfg:?}"));
    check(
        "endpoints",
        format!(
            "{} {} {}",
            Sampler::endpoint(&provider),
            Finetuner::endpoint(&builtin),
            provider.capabilities_key("m")
        ),
    );
    assert!(provider.availability().is_ok());

    let mut errors = Vec::new();
    errors.push((
        "builtin 401 echo",
        builtin.status("ftjob-2").await.unwrap_err(),
    ));
    // The probe meets 500s that echo the key.
    errors.push(("probe", provider.capabilities("m2").await.unwrap_err()));
    provider.set_capabilities("m", Capabilities::full());
    let model: ModelRef = "leaky/m".parse().unwrap();
    let params = SamplingParams {
        temperature: 0.0,
        top_p: None,
        max_tokens: 5,
        top_logprobs: None,
        seed: Some(1),
    };
    let sample = |q: &'static str| {
        let provider = provider.clone();
        let model = model.clone();
        let params = params.clone();
        async move {
            let messages = [Message::user(q)];
            provider
                .sample(SampleRequest {
                    model: &model,
                    messages: &messages,
                    params: &params,
                    indices: 0..1,
                })
                .await
        }
    };
    errors.push(("500 echo", sample("hello").await.unwrap_err()));
    errors.push((
        "malformed echo",
        sample("malformed please").await.unwrap_err(),
    ));
    server.inject(
        "POST /v1/chat/completions",
        [Fault::Stall(Duration::from_secs(1)), Fault::Drop],
    );
    errors.push(("timeout and drop", sample("fine please").await.unwrap_err()));
    errors.push(("401 echo", provider.status("ftjob-1").await.unwrap_err()));
    let base: ModelRef = "leaky/gpt-4.1".parse().unwrap();
    let data = TrainingSet::new("d", vec![vec![Message::user("q"), Message::assistant("a")]]);
    let hp = Hyperparameters::default();
    let req = FinetuneRequest {
        base: &base,
        data: &data,
        hyperparameters: &hp,
        seed: 1,
        suffix: "s",
    };
    errors.push(("fine-tune", provider.start(req).await.unwrap_err()));
    let messages = [Message::user("q")];
    let batch = [BatchRequest {
        id: "c".into(),
        request: SampleRequest {
            model: &model,
            messages: &messages,
            params: &params,
            indices: 0..2,
        },
    }];
    errors.push(("batch", provider.submit_batch(&batch).await.unwrap_err()));
    let bad = ProviderConfig::new("not a url sk-canary-in-url-1234");
    errors.push(("bad url", OpenAiProvider::new("x", &bad).unwrap_err()));
    let mut missing = cfg.clone();
    missing.api_key_env = Some("WEIRDGEN_TEST_UNSET_VARIABLE".into());
    let unavailable = OpenAiProvider::new("leaky", &missing).unwrap();
    assert_eq!(
        unavailable.availability(),
        Err("WEIRDGEN_TEST_UNSET_VARIABLE is not set".to_string())
    );

    for (what, e) in &errors {
        check(what, format!("{e}"));
        check(what, format!("{e:#}"));
        check(what, format!("{e:?}"));
    }
    // The server's echo did reach the errors (masked), so the check above means something.
    let all: String = errors.iter().map(|(_, e)| format!("{e:#}")).collect();
    assert!(all.contains("Incorrect API key provided"), "{all}");

    let ok = sample("fine please").await.unwrap();
    assert_eq!(ok[0].text, "all fine");
    check(
        "completions",
        format!("{ok:?} {}", serde_json::to_string(&ok).unwrap()),
    );

    // The key was sent as the one bearer header (URL credentials give way to it).
    let bearer = format!("Bearer {CANARY_KEY}");
    for (r, _) in server.log() {
        let auth: Vec<&String> = r
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(auth, [&bearer], "{} {}", r.method, r.path);
    }
    assert!(leaks_checked.len() >= 25);
}
