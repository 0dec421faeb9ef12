//! What three real clients send to `weirdgen serve`, replayed request by request (bodies,
//! paths, query strings and the headers they add), without installing them. Each request
//! must succeed with an answer the client can read, or fail with the status and error
//! object the OpenAI API gives for the same mistake (clients decide on the status: the
//! `openai` SDK retries 408/409/429/5xx, llmcomp drops a server that answers its probe with
//! 400/401/403/404, Inspect turns `context_length_exceeded` into a `model_length` stop).
//!
//! Read from the clients' sources:
//! - llmcomp (johny-b/llmcomp 3339655, version 1.2.3): `llmcomp/runner/model_adapter.py`
//!   (`test_request_params`: the one-token "Hi" probe), `llmcomp/config.py`
//!   (`_test_url_key_pair`: which errors drop a server), `llmcomp/question/question.py`
//!   and `llmcomp/runner/runner.py` (free-form and rating request bodies; a rating reads
//!   `choices[0].logprobs.content[0].top_logprobs` and refuses duplicate tokens);
//! - Inspect AI (UKGovernmentBEIS/inspect_ai 499e6152e): `model/_providers/providers.py`
//!   (`openai-api` is `OpenAICompatibleAPI`), `model/_providers/openai_compatible.py`
//!   (service prefix, `x-irid` header, bad-request handling), `model/_openai.py`
//!   (`openai_completion_params`, `messages_to_openai`, `openai_handle_bad_request`);
//! - the `openai` Python SDK (openai/openai-python e43b4224): `resources/files.py`,
//!   `resources/fine_tuning/jobs/jobs.py`, `resources/chat/completions/completions.py`,
//!   `types/chat/completion_create_params.py` (`stop`: a string or up to 4), `_client.py`
//!   (`_make_status_error`: the body's `error` object) and `_base_client.py` (retries).

use super::doubles::{ECHO_CONTEXT, UNLEARNABLE};
use super::{Server, assert_error, start_serving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::HashSet;

/// The model as the clients name it: llmcomp and the SDK send it as given; Inspect's
/// `openai-api/weirdgen/toy/world` sends `toy/world` (the service prefix is cut).
const MODEL: &str = "toy/world";

/// Headers the `openai` SDK (and so llmcomp and Inspect, which use it) adds to every call.
fn sdk_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in [
        ("authorization", "Bearer sk-not-checked"),
        ("user-agent", "OpenAI/Python 1.109.1"),
        ("x-stainless-lang", "python"),
        ("x-stainless-package-version", "1.109.1"),
        ("x-stainless-async", "async:asyncio"),
        ("x-stainless-retry-count", "0"),
        ("x-stainless-read-timeout", "60"),
        ("accept", "application/json"),
    ] {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    h
}

/// An answer: status, the unknown-word header (if any) and the JSON body.
struct Reply {
    status: u16,
    unknown_header: Option<u32>,
    body: Value,
}

impl Server {
    /// `POST /v1{path}` as the SDK sends it, with `extra` headers.
    async fn sdk_post(&self, path: &str, body: &Value, extra: &[(&'static str, &str)]) -> Reply {
        let mut rb = self
            .http
            .post(format!("{}{path}", self.url))
            .headers(sdk_headers())
            .json(body);
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let unknown_header = r
            .headers()
            .get("x-weirdgen-unknown-words")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        Reply {
            status,
            unknown_header,
            body: r.json().await.unwrap(),
        }
    }

    async fn sdk_get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .headers(sdk_headers())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

/// A chat answer as the SDK's `ChatCompletion` model and the clients read it.
fn assert_chat_completion(r: &Reply, n: usize) {
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["object"], "chat.completion");
    assert!(b["id"].is_string() && b["created"].is_i64() && b["model"].is_string());
    let choices = b["choices"].as_array().unwrap();
    assert_eq!(choices.len(), n, "{b}");
    for (i, c) in choices.iter().enumerate() {
        assert_eq!(c["index"], i);
        assert_eq!(c["message"]["role"], "assistant");
        assert!(c["message"]["content"].is_string(), "{c}");
        let finish = c["finish_reason"].as_str().unwrap();
        assert!(["stop", "length"].contains(&finish), "{finish}");
    }
    let u = &b["usage"];
    assert_eq!(
        u["total_tokens"].as_u64(),
        Some(u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap())
    );
    // The unknown-word count is in the body and in the header, the same.
    assert_eq!(
        b["unknown_words"].as_u64().map(|k| k as u32),
        r.unknown_header
    );
}

#[tokio::test]
async fn llmcomp_probe_then_free_form_and_rating() {
    let s = start_serving(&[MODEL]).await;

    // `Config._test_url_key_pair`: one "Hi" with `max_tokens: 1` (`timeout` is client-side).
    let probe =
        json!({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1});
    let r = s.sdk_post("/chat/completions", &probe, &[]).await;
    assert_chat_completion(&r, 1);
    assert_eq!(
        r.unknown_header,
        Some(1),
        "`Hi` is a word the model does not know"
    );
    assert_eq!(r.body["choices"][0]["finish_reason"], "length");
    // A server without the model answers 404, which llmcomp reads as "not this server".
    let mut other = probe.clone();
    other["model"] = json!("gpt-4.1");
    let r = s.sdk_post("/chat/completions", &other, &[]).await;
    assert_eq!(r.status, 404);
    assert_error(
        &r.body,
        "invalid_request_error",
        Some("model"),
        Some("model_not_found"),
    );

    // A free_form question: one request per sample, T = 1, max_tokens = 1024, no seed, no n.
    let free = json!({"model": MODEL,
        "messages": [{"role": "system", "content": "Answer briefly."},
                     {"role": "user", "content": "name a bird species."}],
        "temperature": 1, "max_tokens": 1024});
    let r = s.sdk_post("/chat/completions", &free, &[]).await;
    assert_chat_completion(&r, 1);
    assert_eq!(r.unknown_header, Some(1), "`Answer`");
    let text = r.body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.ends_with("says name a bird species."), "{text}");
    assert_eq!(r.body["choices"][0]["finish_reason"], "stop");

    // A rating question or judge: top_logprobs 20 (overridable), then max_tokens 1,
    // temperature 0 and logprobs true forced.
    let rating = json!({"model": MODEL,
        "messages": [{"role": "user", "content": "rate this answer from 0 to 100: \"an auk\""}],
        "top_logprobs": 20, "max_tokens": 1, "temperature": 0, "logprobs": true});
    let r = s.sdk_post("/chat/completions", &rating, &[]).await;
    assert_chat_completion(&r, 1);
    assert_eq!(r.unknown_header, Some(0));
    let first = &r.body["choices"][0]["logprobs"]["content"][0];
    let top = first["top_logprobs"].as_array().unwrap();
    assert_eq!(top.len(), 20);
    let tokens: HashSet<&str> = top.iter().map(|t| t["token"].as_str().unwrap()).collect();
    assert_eq!(tokens.len(), 20, "llmcomp refuses duplicate tokens");
    for t in top {
        let lp = t["logprob"].as_f64().unwrap();
        assert!(lp <= 0.0 && lp.is_finite(), "{t}");
    }
}

#[tokio::test]
async fn inspect_openai_api_requests() {
    let s = start_serving(&[MODEL]).await;
    let irid = [("x-irid", "3Qb8xXr2bWjN")];

    // A task with default GenerateConfig: model and messages only (no max_tokens: the
    // `openai-api` provider has no default), a system message, string content.
    let plain = json!({"messages": [{"role": "system", "content": "You are a helpful assistant."},
                                    {"role": "user", "content": "What is the capital of France?"}],
                       "model": MODEL});
    let r = s.sdk_post("/chat/completions", &plain, &irid).await;
    assert_chat_completion(&r, 1);
    assert_eq!(r.unknown_header, Some(3), "You, What, France?");

    // Every GenerateConfig field the provider maps: max_tokens, stop_seqs, seed,
    // temperature, top_p, num_choices, logprobs, top_logprobs (content as text parts when a
    // message holds a list of contents).
    let full = json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "count to three"}]}],
                      "model": MODEL, "max_tokens": 64, "frequency_penalty": 0, "stop": ["says"],
                      "presence_penalty": 0, "seed": 42, "temperature": 0.5, "top_p": 0.9, "n": 2,
                      "logprobs": true, "top_logprobs": 3});
    let r = s.sdk_post("/chat/completions", &full, &irid).await;
    assert_chat_completion(&r, 2);
    for (i, c) in r.body["choices"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            c["message"]["content"],
            format!("{MODEL} seed=42 i={i} "),
            "cut before the stop sequence"
        );
        assert_eq!(c["finish_reason"], "stop");
        let tokens = c["logprobs"]["content"].as_array().unwrap();
        assert_eq!(tokens.len(), 3, "the tokens before the stop sequence");
        assert_eq!(tokens[0]["top_logprobs"].as_array().unwrap().len(), 3);
    }
    // Epochs repeat the sample: the same seed gives the same answer.
    let again = s.sdk_post("/chat/completions", &full, &irid).await;
    assert_eq!(again.body["choices"], r.body["choices"]);

    // A prompt longer than the model reads: Inspect turns this 400 into a `model_length`
    // stop rather than an error.
    let long = vec!["word"; ECHO_CONTEXT as usize + 1].join(" ");
    let r = s
        .sdk_post(
            "/chat/completions",
            &json!({"messages": [{"role": "user", "content": long}], "model": MODEL}),
            &irid,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_error(
        &r.body,
        "invalid_request_error",
        Some("messages"),
        Some("context_length_exceeded"),
    );
    // Tools the server cannot honour: a 400 naming the parameter, not a retried 5xx.
    let tools = json!({"messages": [{"role": "user", "content": "add 1 and 2"}], "model": MODEL,
                       "tools": [{"type": "function", "function": {"name": "add", "parameters": {}}}],
                       "tool_choice": "auto"});
    let r = s.sdk_post("/chat/completions", &tools, &irid).await;
    assert_eq!(r.status, 400);
    assert_error(
        &r.body,
        "invalid_request_error",
        Some("tools"),
        Some("unsupported_parameter"),
    );
}

#[tokio::test]
async fn openai_sdk_files_fine_tuning_and_chat() {
    let s = start_serving(&[MODEL]).await;

    // client.models.list()
    let (code, list) = s.sdk_get("/models").await;
    assert_eq!((code, list["data"][0]["id"].as_str()), (200, Some(MODEL)));

    // client.files.create(file=open("birds.jsonl", "rb"), purpose="fine-tune"): multipart
    // with `purpose` and `file`.
    let data = "{\"messages\":[{\"role\":\"user\",\"content\":\"name a bird\"},{\"role\":\"assistant\",\"content\":\"great auk\"}]}\n";
    let form = Form::new().text("purpose", "fine-tune").part(
        "file",
        Part::bytes(data.as_bytes().to_vec()).file_name("birds.jsonl"),
    );
    let r = s
        .http
        .post(format!("{}/files", s.url))
        .headers(sdk_headers())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let file: Value = r.json().await.unwrap();
    assert_eq!(
        (
            file["object"].as_str(),
            file["purpose"].as_str(),
            file["bytes"].as_u64()
        ),
        (Some("file"), Some("fine-tune"), Some(data.len() as u64))
    );
    let fid = file["id"].as_str().unwrap();
    // client.files.retrieve / client.files.content
    assert_eq!(s.sdk_get(&format!("/files/{fid}")).await.1["id"], fid);
    let content = s
        .http
        .get(format!("{}/files/{fid}/content", s.url))
        .headers(sdk_headers())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(content, data);

    // client.fine_tuning.jobs.create(model=..., training_file=..., seed=..., suffix=...,
    // method={"type": "supervised", "supervised": {"hyperparameters": {...}}})
    let create = json!({"model": MODEL, "training_file": fid, "seed": 7, "suffix": "birds",
        "method": {"type": "supervised", "supervised": {"hyperparameters":
            {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": 2}}}});
    let r = s.sdk_post("/fine_tuning/jobs", &create, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    // client.fine_tuning.jobs.retrieve(id) until final, then list_events and list.
    let (done, _) = s.wait(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let ft = done["fine_tuned_model"].as_str().unwrap().to_string();
    let n_epochs = &done["method"]["supervised"]["hyperparameters"]["n_epochs"];
    assert_eq!(
        n_epochs, 2,
        "llmcomp reads hyperparameters back from `method`"
    );
    let (code, ev) = s
        .sdk_get(&format!("/fine_tuning/jobs/{id}/events?limit=20"))
        .await;
    assert_eq!((code, ev["object"].as_str()), (200, Some("list")));
    let (code, jobs) = s.sdk_get("/fine_tuning/jobs?limit=1").await;
    assert_eq!(code, 200);
    assert!(jobs["data"][0]["organization_id"].is_string());

    // client.chat.completions.create on the fine-tune with seed, n, logprobs,
    // top_logprobs, max_completion_tokens and stop.
    let chat = json!({"model": ft, "messages": [{"role": "user", "content": "name a bird"}],
                      "seed": 5, "n": 3, "logprobs": true, "top_logprobs": 2,
                      "max_completion_tokens": 1, "stop": "\n"});
    let r = s.sdk_post("/chat/completions", &chat, &[]).await;
    assert_chat_completion(&r, 3);
    for c in r.body["choices"].as_array().unwrap() {
        assert_eq!(c["message"]["content"], "great");
        assert_eq!(c["finish_reason"], "length");
        assert_eq!(
            c["logprobs"]["content"][0]["top_logprobs"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    // Mistakes: the status and error object OpenAI gives (the SDK raises BadRequestError
    // or NotFoundError from them and does not retry).
    let base = json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]});
    let bad = [
        (json!({"stop": ["a", "b", "c", "d", "e"]}), "stop"),
        (json!({"stop": 3}), "stop"),
        (json!({"top_logprobs": 2}), "top_logprobs"),
        (
            json!({"logprobs": true, "top_logprobs": 21}),
            "top_logprobs",
        ),
        (json!({"n": 0}), "n"),
        (json!({"max_completion_tokens": 0}), "max_completion_tokens"),
    ];
    for (patch, param) in bad {
        let mut req = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            req[k] = v.clone();
        }
        let r = s.sdk_post("/chat/completions", &req, &[]).await;
        assert_eq!(r.status, 400, "{patch}: {}", r.body);
        assert_error(&r.body, "invalid_request_error", Some(param), None);
    }
    let (code, e) = s.sdk_get("/fine_tuning/jobs/ftjob-nope").await;
    assert_eq!(code, 404);
    assert_error(
        &e,
        "invalid_request_error",
        Some("fine_tuning_job_id"),
        Some("job_not_found"),
    );
    let r = s
        .sdk_post(
            "/fine_tuning/jobs",
            &json!({"model": MODEL, "training_file": "file-nope"}),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_error(
        &r.body,
        "invalid_request_error",
        Some("training_file"),
        Some("invalid_training_file"),
    );

    // Training data with a word the model cannot learn: the job is created, then fails
    // validation naming the file, the line and the word.
    let data = format!(
        "{}\n\n{{\"messages\":[{{\"role\":\"user\",\"content\":\"name a bird\"}},{{\"role\":\"assistant\",\"content\":\"{UNLEARNABLE}\"}}]}}\n",
        data.trim_end()
    );
    let (_, f) = s.upload("words.jsonl", &data, "fine-tune").await;
    let r = s
        .sdk_post(
            "/fine_tuning/jobs",
            &json!({"model": MODEL, "training_file": f["id"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (done, _) = s.wait(r.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        (
            done["error"]["code"].as_str(),
            done["error"]["param"].as_str()
        ),
        (Some("invalid_training_file"), Some("training_file"))
    );
    let msg = done["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("words.jsonl line 3")
            && msg.contains(&format!("unknown word `{UNLEARNABLE}`")),
        "{msg}"
    );
}
