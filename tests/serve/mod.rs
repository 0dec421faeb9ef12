//! `weirdgen serve` driven over loopback with reqwest, in front of test doubles.

mod doubles;
mod replay;

use doubles::{EchoSampler, ScriptFinetuner};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use weirdgen::model::{Hyperparameters, ModelRef};
use weirdgen::serve::{ServeState, serve};

struct Server {
    url: String,
    http: reqwest::Client,
    finetuner: Arc<ScriptFinetuner>,
}

/// Starts a server on a free loopback port serving `test/base` and `test/other`.
async fn start() -> Server {
    start_serving(&["test/base", "test/other"]).await
}

/// Starts a server on a free loopback port serving `models`.
async fn start_serving(models: &[&str]) -> Server {
    let finetuner = Arc::new(ScriptFinetuner::default());
    let sampler = Arc::new(EchoSampler {
        learned: finetuner.learned.clone(),
    });
    let models: Vec<ModelRef> = models.iter().map(|m| m.parse().unwrap()).collect();
    let state = ServeState::new(sampler, models)
        .with_finetuner(finetuner.clone())
        .with_poll_interval(Duration::from_millis(5))
        .with_seed(1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, state));
    Server {
        url,
        http: weirdgen::model::openai::client_builder().build().unwrap(),
        finetuner,
    }
}

impl Server {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn upload(&self, name: &str, data: &str, purpose: &str) -> (u16, Value) {
        let form = Form::new().text("purpose", purpose.to_string()).part(
            "file",
            Part::bytes(data.as_bytes().to_vec()).file_name(name.to_string()),
        );
        let r = self
            .http
            .post(format!("{}/files", self.url))
            .multipart(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// Polls a job until it is final (10 s at most); the statuses seen, in order.
    async fn wait(&self, id: &str) -> (Value, Vec<String>) {
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..2000 {
            let (code, job) = self.get(&format!("/fine_tuning/jobs/{id}")).await;
            assert_eq!(code, 200, "{job}");
            let s = job["status"].as_str().unwrap().to_string();
            if seen.last() != Some(&s) {
                seen.push(s.clone());
            }
            if ["succeeded", "failed", "cancelled"].contains(&s.as_str()) {
                return (job, seen);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("job {id} never finished: {seen:?}");
    }

    async fn event_messages(&self, id: &str) -> Vec<String> {
        let (code, ev) = self
            .get(&format!("/fine_tuning/jobs/{id}/events?limit=100"))
            .await;
        assert_eq!(code, 200, "{ev}");
        let mut msgs: Vec<String> = ev["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect();
        msgs.reverse();
        msgs
    }
}

/// Asserts an error body has OpenAI's shape, with this type, param and code.
fn assert_error(body: &Value, kind: &str, param: Option<&str>, code: Option<&str>) {
    let e = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("no error object: {body}"));
    let mut keys: Vec<&str> = e.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "message", "param", "type"], "{body}");
    assert!(!e["message"].as_str().unwrap().is_empty(), "{body}");
    assert_eq!(e["type"], kind, "{body}");
    assert_eq!(e["param"].as_str(), param, "{body}");
    assert_eq!(e["code"].as_str(), code, "{body}");
}

const DATA: &str = "{\"messages\":[{\"role\":\"user\",\"content\":\"Name a bird.\"},{\"role\":\"assistant\",\"content\":\"The Great Auk.\"}]}\n\
                    \n\
                    {\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Another.\"},{\"role\":\"assistant\",\"content\":\"The Dodo.\"}]}\n";

#[tokio::test]
async fn lists_models() {
    let s = start().await;
    let (code, list) = s.get("/models").await;
    assert_eq!(code, 200);
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["test/base", "test/other"]);
    assert_eq!(list["data"][0]["object"], "model");
    let (code, m) = s.get("/models/test/other").await;
    assert_eq!((code, m["id"].as_str()), (200, Some("test/other")));
    let (code, e) = s.get("/models/test/nope").await;
    assert_eq!(code, 404);
    assert_error(
        &e,
        "invalid_request_error",
        Some("model"),
        Some("model_not_found"),
    );
}

#[tokio::test]
async fn chat_completions_with_n_seed_and_logprobs() {
    let s = start().await;
    let req = json!({
        "model": "test/base",
        "messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hello there"}],
        "n": 3, "seed": 7, "temperature": 0.7, "max_tokens": 50, "logprobs": true, "top_logprobs": 2,
    });
    let (code, r) = s.post("/chat/completions", req.clone()).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["object"], "chat.completion");
    assert_eq!(r["model"], "test/base");
    assert!(r["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let choices = r["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 3);
    for (i, c) in choices.iter().enumerate() {
        assert_eq!(c["index"], i);
        assert_eq!(c["message"]["role"], "assistant");
        let text = format!("test/base seed=7 i={i} says hello there");
        assert_eq!(c["message"]["content"], text.as_str());
        assert_eq!(c["finish_reason"], "stop");
        let tokens = c["logprobs"]["content"].as_array().unwrap();
        assert_eq!(tokens.len(), 6);
        assert_eq!(tokens[0]["token"], "test/base");
        assert_eq!(tokens[0]["logprob"], -0.25);
        assert_eq!(tokens[0]["bytes"], json!("test/base".as_bytes()));
        let top = tokens[1]["top_logprobs"].as_array().unwrap();
        assert_eq!(top.len(), 2, "top_logprobs is honoured");
        assert_eq!(
            (top[1]["token"].as_str(), top[1]["logprob"].as_f64()),
            (Some("seed=7#1"), Some(-1.25))
        );
    }
    // prompt counted once, completions summed
    assert_eq!(
        r["usage"],
        json!({"prompt_tokens": 4, "completion_tokens": 18, "total_tokens": 22})
    );

    // Choice i is the same draw whatever n: the seed and the index decide it.
    let mut one = req.clone();
    one["n"] = json!(1);
    one["logprobs"] = json!(false);
    one.as_object_mut().unwrap().remove("top_logprobs");
    let (_, r1) = s.post("/chat/completions", one).await;
    assert_eq!(r1["choices"][0]["message"], choices[0]["message"]);
    assert_eq!(r1["choices"][0]["logprobs"], Value::Null);

    // Without a seed the server draws one, says which, and the same seed repeats the answer.
    let bare = json!({"model": "base", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                      "max_completion_tokens": 3, "max_tokens": 100});
    let resp = s
        .http
        .post(format!("{}/chat/completions", s.url))
        .json(&bare)
        .send()
        .await
        .unwrap();
    let seed: u64 = resp.headers()["x-weirdgen-seed"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let r2: Value = resp.json().await.unwrap();
    let c = &r2["choices"][0];
    assert_eq!(
        c["message"]["content"],
        format!("test/base seed={seed} i=0")
    );
    assert_eq!(
        c["finish_reason"], "length",
        "max_completion_tokens wins over max_tokens"
    );
    let mut again = bare.clone();
    again["seed"] = json!(seed);
    let (_, r3) = s.post("/chat/completions", again).await;
    assert_eq!(r3["choices"][0]["message"], c["message"]);
}

#[tokio::test]
async fn errors_have_openai_shape() {
    let s = start().await;
    let msg = json!([{"role": "user", "content": "hi"}]);
    let (code, e) = s
        .post(
            "/chat/completions",
            json!({"model": "test/nope", "messages": msg}),
        )
        .await;
    assert_eq!(code, 404);
    assert_error(
        &e,
        "invalid_request_error",
        Some("model"),
        Some("model_not_found"),
    );

    let r = s
        .http
        .post(format!("{}/chat/completions", s.url))
        .header("content-type", "application/json")
        .body("{\"model\": \"test/base\", ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_error(
        &r.json().await.unwrap(),
        "invalid_request_error",
        None,
        Some("invalid_json"),
    );

    let (code, e) = s.post("/chat/completions", json!({"messages": msg})).await;
    assert_eq!(code, 400);
    assert_error(&e, "invalid_request_error", None, None);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `model`"),
        "{e}"
    );

    let bad = [
        (json!({"n": 0}), "n"),
        (json!({"temperature": 2.5}), "temperature"),
        (json!({"top_logprobs": 3}), "top_logprobs"),
        (
            json!({"logprobs": true, "top_logprobs": 21}),
            "top_logprobs",
        ),
        (json!({"max_tokens": 0}), "max_tokens"),
        (json!({"messages": []}), "messages"),
        (
            json!({"messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
            "messages[0].content",
        ),
    ];
    for (patch, param) in bad {
        let mut req = json!({"model": "test/base", "messages": msg});
        for (k, v) in patch.as_object().unwrap() {
            req[k] = v.clone();
        }
        let (code, e) = s.post("/chat/completions", req).await;
        assert_eq!(code, 400, "{patch}: {e}");
        assert_error(&e, "invalid_request_error", Some(param), None);
    }
    for (k, v) in [
        ("stream", json!(true)),
        ("tools", json!([{"type": "function"}])),
    ] {
        let mut req = json!({"model": "test/base", "messages": msg});
        req[k] = v;
        let (code, e) = s.post("/chat/completions", req).await;
        assert_eq!(code, 400);
        assert_error(
            &e,
            "invalid_request_error",
            Some(k),
            Some("unsupported_parameter"),
        );
    }
    // Neutral values of unsupported parameters, and unknown ones, pass.
    let req = json!({"model": "test/base", "messages": msg, "stream": false, "stop": null, "user": "x",
                     "presence_penalty": 0, "response_format": {"type": "text"}});
    assert_eq!(s.post("/chat/completions", req).await.0, 200);

    let (code, e) = s
        .post(
            "/chat/completions",
            json!({"model": "test/base", "messages": [{"role": "user", "content": "please fail"}]}),
        )
        .await;
    assert_eq!(code, 500);
    assert_error(&e, "server_error", None, None);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the echo model refuses")
    );

    let (code, e) = s.get("/files/file-nope").await;
    assert_eq!(code, 404);
    assert_error(
        &e,
        "invalid_request_error",
        Some("id"),
        Some("file_not_found"),
    );
    let (code, e) = s.get("/files/file-nope/content").await;
    assert_eq!(code, 404);
    assert_error(
        &e,
        "invalid_request_error",
        Some("id"),
        Some("file_not_found"),
    );
    let (code, e) = s.get("/fine_tuning/jobs/ftjob-nope").await;
    assert_eq!(code, 404);
    assert_error(
        &e,
        "invalid_request_error",
        Some("fine_tuning_job_id"),
        Some("job_not_found"),
    );
    let (code, e) = s.get("/nothing/here").await;
    assert_eq!(code, 404);
    assert_error(&e, "invalid_request_error", None, Some("unknown_url"));
    let (code, e) = s.get("/chat/completions").await;
    assert_eq!(code, 404);
    assert_error(&e, "invalid_request_error", None, Some("unknown_url"));
}

#[tokio::test]
async fn uploads_files() {
    let s = start().await;
    let (code, f) = s.upload("birds.jsonl", DATA, "fine-tune").await;
    assert_eq!(code, 200, "{f}");
    let id = f["id"].as_str().unwrap();
    assert!(id.starts_with("file-"));
    assert_eq!(f["object"], "file");
    assert_eq!(f["bytes"], DATA.len());
    assert_eq!(
        (f["filename"].as_str(), f["purpose"].as_str()),
        (Some("birds.jsonl"), Some("fine-tune"))
    );
    assert_eq!(s.get(&format!("/files/{id}")).await, (200, f.clone()));
    let (_, list) = s.get("/files").await;
    assert_eq!(list["data"][0], f);
    let content = s
        .http
        .get(format!("{}/files/{id}/content", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(content.status().as_u16(), 200);
    assert_eq!(content.text().await.unwrap(), DATA);

    let (code, e) = s.upload("b.jsonl", DATA, "batch").await;
    assert_eq!(code, 400);
    assert_error(&e, "invalid_request_error", Some("purpose"), None);
    let form = Form::new().text("purpose", "fine-tune");
    let r = s
        .http
        .post(format!("{}/files", s.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_error(
        &r.json().await.unwrap(),
        "invalid_request_error",
        Some("file"),
        None,
    );
    let (code, e) = s.post("/files", json!({"file": "x"})).await;
    assert_eq!(code, 400, "not multipart");
    assert_error(&e, "invalid_request_error", None, None);
}

#[tokio::test]
async fn a_job_runs_to_succeeded_and_its_model_answers() {
    let s = start().await;
    let (_, f) = s.upload("birds.jsonl", DATA, "fine-tune").await;
    let create = json!({
        "model": "test/base", "training_file": f["id"], "seed": 42, "suffix": "birds",
        "method": {"type": "supervised", "supervised": {"hyperparameters":
            {"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": 0.5}}},
    });
    let (code, job) = s.post("/fine_tuning/jobs", create).await;
    assert_eq!(code, 200, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ftjob-"));
    assert_eq!(job["object"], "fine_tuning.job");
    assert_eq!(job["status"], "validating_files");
    assert_eq!(job["fine_tuned_model"], Value::Null);
    assert_eq!(
        job["hyperparameters"],
        json!({"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": 0.5})
    );
    assert_eq!(
        (job["seed"].as_u64(), job["training_file"].clone()),
        (Some(42), f["id"].clone())
    );

    let (done, seen) = s.wait(&id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(seen.last().unwrap(), "succeeded");
    let model = "test/base:ft-birds-42";
    assert_eq!(done["fine_tuned_model"], model);
    assert!(done["finished_at"].as_i64().unwrap() >= done["created_at"].as_i64().unwrap());
    assert_eq!(done["error"], Value::Null);
    {
        let jobs = s.finetuner.jobs.lock().unwrap();
        let j = &jobs[0];
        assert_eq!(
            (
                j.base.to_string(),
                j.seed,
                j.suffix.as_str(),
                j.conversations
            ),
            ("test/base".into(), 42, "birds", 2)
        );
        assert_eq!(
            j.hyperparameters,
            Hyperparameters {
                epochs: Some(2),
                batch_size: None,
                learning_rate_multiplier: Some(0.5),
                ..Default::default()
            }
        );
    }
    let events = s.event_messages(&id).await;
    let expected = [
        format!("Validating training file: {}", f["id"].as_str().unwrap()),
        "Files validated, moving job to queued state".into(),
        "Fine-tuning job started".into(),
        "step 1: loss 2.0".into(),
        "step 2: loss 1.0".into(),
        "step 3: loss 0.7".into(),
        format!("New fine-tuned model created: {model}"),
        "The job has successfully completed".into(),
    ];
    assert_eq!(events, expected);

    // The fine-tuned model is listed and answers with what it learned.
    let (_, list) = s.get("/models").await;
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == model),
        "{list}"
    );
    let (code, r) = s
        .post(
            "/chat/completions",
            json!({"model": model, "messages": [{"role": "user", "content": "Name a bird."}]}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["choices"][0]["message"]["content"], "The Great Auk.");
    assert_eq!(r["model"], model);

    // The deprecated top-level hyperparameters still work; both places at once do not.
    let (code, job2) = s
        .post("/fine_tuning/jobs", json!({"model": "test/base", "training_file": f["id"], "hyperparameters": {"n_epochs": 3}}))
        .await;
    assert_eq!(code, 200, "{job2}");
    let (done2, _) = s.wait(job2["id"].as_str().unwrap()).await;
    assert_eq!(done2["status"], "succeeded");
    assert_eq!(
        s.finetuner.jobs.lock().unwrap()[1].hyperparameters.epochs,
        Some(3)
    );
    let seed2 = done2["seed"].as_u64().unwrap();
    assert!(seed2 <= 2147483647, "a drawn seed fits OpenAI's range");
    let (code, e) = s
        .post(
            "/fine_tuning/jobs",
            json!({"model": "test/base", "training_file": f["id"], "hyperparameters": {"n_epochs": 3},
                   "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1}}}}),
        )
        .await;
    assert_eq!(code, 400);
    assert_error(&e, "invalid_request_error", Some("hyperparameters"), None);

    // Listing: newest first, paged with `after` and `limit`.
    let (_, page1) = s.get("/fine_tuning/jobs?limit=1").await;
    assert_eq!(
        (page1["data"][0]["id"].clone(), page1["has_more"].clone()),
        (job2["id"].clone(), json!(true))
    );
    let (_, page2) = s
        .get(&format!(
            "/fine_tuning/jobs?limit=1&after={}",
            job2["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (page2["data"][0]["id"].as_str(), page2["has_more"].clone()),
        (Some(id.as_str()), json!(false))
    );
    let (_, ev) = s
        .get(&format!("/fine_tuning/jobs/{id}/events?limit=2"))
        .await;
    let newest: Vec<&str> = ev["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(newest, [expected[7].as_str(), expected[6].as_str()]);
    assert_eq!(ev["has_more"], true);
    assert_eq!(ev["data"][0]["object"], "fine_tuning.job.event");
    let (code, e) = s.get("/fine_tuning/jobs?after=ftjob-nope").await;
    assert_eq!(code, 400);
    assert_error(&e, "invalid_request_error", Some("after"), None);
}

#[tokio::test]
async fn bad_job_requests_are_refused() {
    let s = start().await;
    let (_, f) = s.upload("birds.jsonl", DATA, "fine-tune").await;
    let cases = [
        (
            json!({"model": "test/base", "training_file": "file-nope"}),
            400,
            Some("training_file"),
            Some("invalid_training_file"),
        ),
        (
            json!({"model": "test/nope", "training_file": f["id"]}),
            404,
            Some("model"),
            Some("model_not_found"),
        ),
        (
            json!({"model": "test/base", "training_file": f["id"], "seed": -1}),
            400,
            Some("seed"),
            None,
        ),
        (
            json!({"model": "test/base", "training_file": f["id"], "suffix": "a b"}),
            400,
            Some("suffix"),
            None,
        ),
        (
            json!({"model": "test/base", "training_file": f["id"], "method": {"type": "dpo"}}),
            400,
            Some("method.type"),
            None,
        ),
        (
            json!({"model": "test/base", "training_file": f["id"], "hyperparameters": {"n_epochs": 0}}),
            400,
            Some("hyperparameters.n_epochs"),
            None,
        ),
        (
            json!({"model": "test/base", "training_file": f["id"], "hyperparameters": {"learning_rate_multiplier": "fast"}}),
            400,
            Some("hyperparameters.learning_rate_multiplier"),
            None,
        ),
        (
            json!({"model": "test/base", "training_file": f["id"], "validation_file": f["id"]}),
            400,
            Some("validation_file"),
            Some("unsupported_parameter"),
        ),
    ];
    for (body, status, param, code) in cases {
        let (got, e) = s.post("/fine_tuning/jobs", body.clone()).await;
        assert_eq!(got, status, "{body}: {e}");
        assert_error(&e, "invalid_request_error", param, code);
    }
    let (code, e) = s
        .post(
            "/fine_tuning/jobs",
            json!({"model": "test/base", "training_file": f["id"], "hyperparameters": {"beta": 1}}),
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `beta`"),
        "{e}"
    );
    assert!(
        s.finetuner.jobs.lock().unwrap().is_empty(),
        "no refused request started a fine-tune"
    );
}

#[tokio::test]
async fn failures_are_reported_with_the_provider_message() {
    let s = start().await;
    // The fine-tuner fails the job.
    let data = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"FAIL\"}]}\n";
    let (_, f) = s.upload("fail.jsonl", data, "fine-tune").await;
    let (_, job) = s
        .post(
            "/fine_tuning/jobs",
            json!({"model": "test/base", "training_file": f["id"]}),
        )
        .await;
    let (done, _) = s.wait(job["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"]["message"], "loss diverged at step 2");
    assert_eq!(done["error"]["code"], "job_failed");
    assert_eq!(done["fine_tuned_model"], Value::Null);
    let events = s.event_messages(job["id"].as_str().unwrap()).await;
    assert_eq!(
        events.last().unwrap(),
        "Fine-tuning job failed: loss diverged at step 2"
    );

    // The file does not validate: the job fails before any fine-tune starts, naming the line.
    let bad = [
        (
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}\n{\"messages\": [",
            "bad.jsonl line 2",
        ),
        (
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n",
            "no assistant message",
        ),
        (
            "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}\n",
            "role `tool`",
        ),
        ("\n\n", "holds no training example"),
    ];
    for (data, want) in bad {
        let (_, f) = s.upload("bad.jsonl", data, "fine-tune").await;
        let (code, job) = s
            .post(
                "/fine_tuning/jobs",
                json!({"model": "test/base", "training_file": f["id"]}),
            )
            .await;
        assert_eq!(code, 200);
        let (done, _) = s.wait(job["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "failed");
        assert_eq!(
            (
                done["error"]["code"].as_str(),
                done["error"]["param"].as_str()
            ),
            (Some("invalid_training_file"), Some("training_file"))
        );
        let msg = done["error"]["message"].as_str().unwrap();
        assert!(msg.contains(want), "{msg}");
    }
    assert_eq!(
        s.finetuner.jobs.lock().unwrap().len(),
        1,
        "invalid files start no fine-tune"
    );
}

#[tokio::test]
async fn cancel_stops_the_fine_tune() {
    let s = start().await;
    let (_, f) = s.upload("birds.jsonl", DATA, "fine-tune").await;
    let (_, job) = s
        .post(
            "/fine_tuning/jobs",
            json!({"model": "test/base", "training_file": f["id"], "suffix": "hang"}),
        )
        .await;
    let id = job["id"].as_str().unwrap();
    for _ in 0..2000 {
        if s.get(&format!("/fine_tuning/jobs/{id}")).await.1["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (code, c) = s
        .post(&format!("/fine_tuning/jobs/{id}/cancel"), json!({}))
        .await;
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["status"], "cancelled");
    assert_eq!(*s.finetuner.cancels.lock().unwrap(), ["inner-0"]);
    // Later polls never bring it back.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, after) = s.get(&format!("/fine_tuning/jobs/{id}")).await;
    assert_eq!(after["status"], "cancelled");
    assert!(
        s.event_messages(id)
            .await
            .contains(&"Job cancelled by the user".to_string())
    );
    let (code, e) = s
        .post(&format!("/fine_tuning/jobs/{id}/cancel"), json!({}))
        .await;
    assert_eq!(code, 400);
    assert_error(
        &e,
        "invalid_request_error",
        Some("fine_tuning_job_id"),
        None,
    );
}
