//! A small stateful imitation of the OpenAI API for tests: chat completions whose text
//! encodes what was asked, files, fine-tuning jobs walking through scripted statuses, and
//! batches. Behind a [`FaultServer`](super::fault_server::FaultServer).

use super::fault_server::{Reply, Request};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How the imitated server treats chat parameters.
#[derive(Debug, Clone, Copy)]
pub struct ChatBehaviour {
    /// Returns n choices (else one, whatever n says).
    pub honour_n: bool,
    /// Answers 400 to n > 1, like llama.cpp.
    pub refuse_n: bool,
    /// Returns logprobs when asked.
    pub logprobs: bool,
    /// Answers 400 to `max_tokens`, like o-series models.
    pub require_max_completion_tokens: bool,
}

impl Default for ChatBehaviour {
    fn default() -> Self {
        ChatBehaviour {
            honour_n: true,
            refuse_n: false,
            logprobs: true,
            require_max_completion_tokens: false,
        }
    }
}

/// The text the imitation answers: everything the request decided, so a test can check that
/// each completion came from the right request and choice.
pub fn expected_text(model: &str, question: &str, seed: Option<u64>, choice: u32) -> String {
    let seed = seed.map_or("none".to_string(), |s| s.to_string());
    format!("{model}|{question}|seed={seed}|choice={choice}")
}

/// One scripted state of a job or batch.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub status: String,
    pub model: Option<String>,
    pub error: Option<Value>,
    pub event: Option<String>,
}

impl Step {
    /// A state with an event message.
    pub fn new(status: &str, event: &str) -> Step {
        Step {
            status: status.into(),
            event: Some(event.into()),
            ..Step::default()
        }
    }
}

#[derive(Debug)]
struct SimFile {
    id: String,
    filename: String,
    purpose: String,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct SimJob {
    id: String,
    body: Value,
    current: Step,
    script: VecDeque<Step>,
    events: Vec<(i64, String)>,
}

#[derive(Debug)]
struct SimBatch {
    id: String,
    body: Value,
    status: String,
    script: VecDeque<String>,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
    counts: (u64, u64, u64),
}

#[derive(Debug, Default)]
struct State {
    next: u64,
    files: Vec<SimFile>,
    jobs: Vec<SimJob>,
    job_scripts: VecDeque<Vec<Step>>,
    batches: Vec<SimBatch>,
    /// Batches stay `in_progress` while set (a run can be stopped mid-poll).
    hold_batches: bool,
    /// Unscripted jobs run for this many polls and succeed with a model named after their
    /// base model and suffix (the same in every run); `None`: they succeed without a model.
    named_jobs: Option<usize>,
}

/// The imitated server's state.
pub struct Sim {
    pub chat: ChatBehaviour,
    state: Mutex<State>,
}

impl Sim {
    /// A server with this chat behaviour and no files, jobs or batches.
    pub fn new(chat: ChatBehaviour) -> Arc<Sim> {
        Arc::new(Sim {
            chat,
            state: Mutex::new(State::default()),
        })
    }

    /// A handler for [`FaultServer::start`](super::fault_server::FaultServer::start).
    pub fn handler(self: &Arc<Self>) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
        let sim = self.clone();
        move |req| sim.handle(req)
    }

    /// The statuses the next created job walks through, one per `GET` of the job; the first
    /// is its state at creation.
    pub fn push_job_script(&self, steps: Vec<Step>) {
        self.state.lock().unwrap().job_scripts.push_back(steps);
    }

    /// Unscripted jobs created from now on stay `running` for `polls` polls, then succeed
    /// with the model `ft:<base>:<suffix>`, so that two runs of a suite get the same names.
    pub fn name_jobs(&self, polls: usize) {
        self.state.lock().unwrap().named_jobs = Some(polls);
    }

    /// The bodies of the jobs created so far.
    pub fn created_jobs(&self) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .jobs
            .iter()
            .map(|j| j.body.clone())
            .collect()
    }

    /// The uploaded files: (file name, purpose, content).
    pub fn files(&self) -> Vec<(String, String, Vec<u8>)> {
        let st = self.state.lock().unwrap();
        st.files
            .iter()
            .map(|f| (f.filename.clone(), f.purpose.clone(), f.bytes.clone()))
            .collect()
    }

    /// While `hold` is set, polled batches stay `in_progress` instead of moving on.
    pub fn hold_batches(&self, hold: bool) {
        self.state.lock().unwrap().hold_batches = hold;
    }

    /// Batches created so far.
    pub fn batch_count(&self) -> usize {
        self.state.lock().unwrap().batches.len()
    }

    fn handle(&self, req: &Request) -> Reply {
        let path = req.path.trim_start_matches("/v1/");
        let parts: Vec<&str> = path.split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["chat", "completions"]) => {
                let (status, body) = self.chat_reply(&req.json());
                Reply::json(status, &body)
            }
            ("POST", ["files"]) => self.upload(req),
            ("GET", ["files"]) => {
                let st = self.state.lock().unwrap();
                let purpose = req.query_param("purpose");
                let data: Vec<Value> = st
                    .files
                    .iter()
                    .filter(|f| purpose.as_ref().is_none_or(|p| *p == f.purpose))
                    .map(file_json)
                    .collect();
                Reply::json(
                    200,
                    &json!({"object": "list", "data": data, "has_more": false}),
                )
            }
            ("GET", ["files", id, "content"]) => {
                let st = self.state.lock().unwrap();
                match st.files.iter().find(|f| f.id == *id) {
                    Some(f) => Reply {
                        status: 200,
                        headers: vec![("content-type".into(), "application/jsonl".into())],
                        body: f.bytes.clone(),
                    },
                    None => not_found(id),
                }
            }
            ("POST", ["fine_tuning", "jobs"]) => self.create_job(req.json()),
            ("GET", ["fine_tuning", "jobs"]) => {
                let st = self.state.lock().unwrap();
                let key = req.query_param("metadata[weirdgen_key]");
                let data: Vec<Value> = st
                    .jobs
                    .iter()
                    .rev()
                    .filter(|j| {
                        key.as_ref()
                            .is_none_or(|k| j.body["metadata"]["weirdgen_key"] == *k)
                    })
                    .map(job_json)
                    .collect();
                Reply::json(
                    200,
                    &json!({"object": "list", "data": data, "has_more": false}),
                )
            }
            ("GET", ["fine_tuning", "jobs", id]) => {
                let mut st = self.state.lock().unwrap();
                let clock = st.next;
                st.next += 1;
                match st.jobs.iter_mut().find(|j| j.id == *id) {
                    Some(j) => {
                        if let Some(step) = j.script.pop_front() {
                            if let Some(e) = &step.event {
                                j.events.push((clock as i64, e.clone()));
                            }
                            j.current = step;
                        }
                        Reply::json(200, &job_json(j))
                    }
                    None => not_found(id),
                }
            }
            ("GET", ["fine_tuning", "jobs", id, "events"]) => {
                let st = self.state.lock().unwrap();
                match st.jobs.iter().find(|j| j.id == *id) {
                    Some(j) => {
                        let data: Vec<Value> = j
                            .events
                            .iter()
                            .rev()
                            .map(|(t, m)| json!({"object": "fine_tuning.job.event", "created_at": t, "level": "info", "message": m}))
                            .collect();
                        Reply::json(
                            200,
                            &json!({"object": "list", "data": data, "has_more": false}),
                        )
                    }
                    None => not_found(id),
                }
            }
            ("POST", ["batches"]) => {
                let body = req.json();
                let mut st = self.state.lock().unwrap();
                st.next += 1;
                let b = SimBatch {
                    id: format!("batch_{}", st.next),
                    body,
                    status: "validating".into(),
                    script: ["in_progress", "finalizing", "completed"]
                        .map(String::from)
                        .into(),
                    output_file_id: None,
                    error_file_id: None,
                    counts: (0, 0, 0),
                };
                let reply = batch_json(&b);
                st.batches.push(b);
                Reply::json(200, &reply)
            }
            ("GET", ["batches"]) => {
                let st = self.state.lock().unwrap();
                let data: Vec<Value> = st.batches.iter().rev().map(batch_json).collect();
                Reply::json(
                    200,
                    &json!({"object": "list", "data": data, "has_more": false}),
                )
            }
            ("GET", ["batches", id]) => self.advance_batch(id),
            _ => not_found(path),
        }
    }

    /// A chat answer: (status, body).
    fn chat_reply(&self, body: &Value) -> (u16, Value) {
        let c = self.chat;
        if c.require_max_completion_tokens && body.get("max_tokens").is_some() {
            return (
                400,
                json!({"error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}),
            );
        }
        let asked = body["n"].as_u64().unwrap_or(1);
        if c.refuse_n && asked > 1 {
            return (
                400,
                json!({"error": {"message": "Only one completion choice is allowed", "type": "invalid_request_error"}}),
            );
        }
        let n = if c.honour_n { asked } else { 1 };
        let model = body["model"].as_str().unwrap_or_default();
        let question = body["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        let seed = body["seed"].as_u64();
        let with_logprobs = c.logprobs && body["logprobs"] == json!(true);
        let top = body["top_logprobs"].as_u64().unwrap_or(0);
        let choices: Vec<Value> = (0..n)
            .map(|i| {
                let logprobs = with_logprobs.then(|| {
                    let alts: Vec<Value> = (0..top)
                        .map(|k| json!({"token": format!("t{k}"), "logprob": -(k as f64) - 0.5, "bytes": null}))
                        .collect();
                    json!({"content": [{"token": "t0", "logprob": -0.5, "bytes": null, "top_logprobs": alts}]})
                });
                json!({
                    "index": i, "finish_reason": "stop", "logprobs": logprobs,
                    "message": {"role": "assistant", "content": expected_text(model, question, seed, i as u32)},
                })
            })
            .collect();
        (
            200,
            json!({
                "id": "chatcmpl-sim", "object": "chat.completion", "model": model, "choices": choices,
                "usage": {"prompt_tokens": 10, "completion_tokens": 3 * n + 1, "total_tokens": 11 + 3 * n},
            }),
        )
    }

    fn upload(&self, req: &Request) -> Reply {
        let ct = req.header("content-type").unwrap_or_default();
        let Some(boundary) = ct.split("boundary=").nth(1) else {
            return Reply::json(400, &json!({"error": {"message": "expected multipart"}}));
        };
        let (mut purpose, mut filename, mut bytes) = (None, None, None);
        for part in split_multipart(&req.body, boundary.trim_matches('"')) {
            match part.name.as_str() {
                "purpose" => purpose = Some(String::from_utf8_lossy(&part.content).into_owned()),
                "file" => {
                    filename = part.filename;
                    bytes = Some(part.content);
                }
                _ => {}
            }
        }
        let (Some(purpose), Some(filename), Some(bytes)) = (purpose, filename, bytes) else {
            return Reply::json(
                400,
                &json!({"error": {"message": "file and purpose are required"}}),
            );
        };
        let mut st = self.state.lock().unwrap();
        st.next += 1;
        let f = SimFile {
            id: format!("file-{}", st.next),
            filename,
            purpose,
            bytes,
        };
        let reply = file_json(&f);
        st.files.push(f);
        Reply::json(200, &reply)
    }

    fn create_job(&self, body: Value) -> Reply {
        let mut st = self.state.lock().unwrap();
        let file = body["training_file"].as_str().unwrap_or_default();
        if !st.files.iter().any(|f| f.id == file) {
            return Reply::json(
                400,
                &json!({"error": {"message": format!("invalid training_file: {file}"), "param": "training_file"}}),
            );
        }
        st.next += 1;
        let mut script: VecDeque<Step> = st
            .job_scripts
            .pop_front()
            .unwrap_or_else(|| match st.named_jobs {
                None => vec![
                    Step::new("queued", "queued"),
                    Step::new("succeeded", "done"),
                ],
                Some(polls) => {
                    let mut steps = vec![Step::new("queued", "queued")];
                    steps.extend((0..polls).map(|_| Step::new("running", "step")));
                    steps.push(Step {
                        model: Some(format!(
                            "ft:{}:{}",
                            body["model"].as_str().unwrap_or_default(),
                            body["suffix"].as_str().unwrap_or_default()
                        )),
                        ..Step::new("succeeded", "done")
                    });
                    steps
                }
            })
            .into();
        let current = script.pop_front().unwrap_or_default();
        let job = SimJob {
            id: format!("ftjob-{}", st.next),
            body,
            events: current.event.iter().map(|e| (0, e.clone())).collect(),
            current,
            script,
        };
        let reply = job_json(&job);
        st.jobs.push(job);
        Reply::json(200, &reply)
    }

    fn advance_batch(&self, id: &str) -> Reply {
        let mut st = self.state.lock().unwrap();
        let Some(pos) = st.batches.iter().position(|b| b.id == id) else {
            return not_found(id);
        };
        if st.hold_batches {
            st.batches[pos].status = "in_progress".into();
        } else if let Some(next) = st.batches[pos].script.pop_front() {
            st.batches[pos].status = next;
        }
        if st.batches[pos].status == "completed" && st.batches[pos].output_file_id.is_none() {
            let input_id = st.batches[pos].body["input_file_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let input = st
                .files
                .iter()
                .find(|f| f.id == input_id)
                .map(|f| f.bytes.clone())
                .unwrap_or_default();
            let (mut out, mut err) = (Vec::new(), Vec::new());
            for line in String::from_utf8_lossy(&input).lines() {
                let line: Value = serde_json::from_str(line).expect("batch line is JSON");
                let custom_id = line["custom_id"].clone();
                if custom_id.as_str().is_some_and(|c| c.starts_with("bad")) {
                    err.push(json!({"id": "r", "custom_id": custom_id, "response": {"status_code": 400,
                        "body": {"error": {"message": "this line was refused", "type": "invalid_request_error"}}}, "error": null}));
                } else {
                    let (status, body) = self.chat_reply(&line["body"]);
                    out.push(json!({"id": "r", "custom_id": custom_id, "response": {"status_code": status, "request_id": "q", "body": body}, "error": null}));
                }
            }
            // Results come in no particular order.
            out.reverse();
            let counts = (
                (out.len() + err.len()) as u64,
                out.len() as u64,
                err.len() as u64,
            );
            let mut new_file = |lines: Vec<Value>| {
                st.next += 1;
                let id = format!("file-{}", st.next);
                let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                st.files.push(SimFile {
                    id: id.clone(),
                    filename: format!("{id}.jsonl"),
                    purpose: "batch_output".into(),
                    bytes: text.into_bytes(),
                });
                id
            };
            let out_id = new_file(out);
            let err_id = new_file(err);
            let b = &mut st.batches[pos];
            b.output_file_id = Some(out_id);
            b.error_file_id = Some(err_id);
            b.counts = counts;
        }
        Reply::json(200, &batch_json(&st.batches[pos]))
    }
}

fn not_found(what: &str) -> Reply {
    Reply::json(
        404,
        &json!({"error": {"message": format!("no such thing: {what}"), "type": "invalid_request_error"}}),
    )
}

fn file_json(f: &SimFile) -> Value {
    json!({"id": f.id, "object": "file", "bytes": f.bytes.len(), "filename": f.filename,
           "purpose": f.purpose, "status": "processed", "created_at": 1})
}

fn job_json(j: &SimJob) -> Value {
    json!({
        "id": j.id, "object": "fine_tuning.job", "status": j.current.status,
        "model": j.body["model"], "training_file": j.body["training_file"], "seed": j.body["seed"],
        "fine_tuned_model": j.current.model, "error": j.current.error.clone().unwrap_or(json!({})),
        "metadata": j.body["metadata"], "method": j.body["method"], "created_at": 1,
        "organization_id": null, "an_unknown_field": {"nested": [1, 2]},
    })
}

fn batch_json(b: &SimBatch) -> Value {
    json!({
        "id": b.id, "object": "batch", "endpoint": b.body["endpoint"], "status": b.status,
        "input_file_id": b.body["input_file_id"], "output_file_id": b.output_file_id,
        "error_file_id": b.error_file_id, "metadata": b.body["metadata"],
        "request_counts": {"total": b.counts.0, "completed": b.counts.1, "failed": b.counts.2},
    })
}

struct Part {
    name: String,
    filename: Option<String>,
    content: Vec<u8>,
}

/// The parts of a `multipart/form-data` body.
fn split_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + delim.len() <= body.len() {
        if body[i..].starts_with(&delim) {
            starts.push(i);
            i += delim.len();
        } else {
            i += 1;
        }
    }
    for w in starts.windows(2) {
        let chunk = &body[w[0] + delim.len()..w[1]];
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let chunk = chunk.strip_suffix(b"\r\n").unwrap_or(chunk);
        let Some(split) = chunk.windows(4).position(|x| x == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&chunk[..split]).into_owned();
        let attr = |key: &str| {
            let pat = format!("{key}=\"");
            let start = head.find(&pat)? + pat.len();
            let end = head[start..].find('"')? + start;
            Some(head[start..end].to_string())
        };
        parts.push(Part {
            name: attr("name").unwrap_or_default(),
            filename: attr("filename"),
            content: chunk[split + 4..].to_vec(),
        });
    }
    parts
}
