//! The `openweights/...` provider end to end, without a GPU, network or Python: `weirdgen`
//! runs `tests/fixtures/openweights/` with this test binary as its OpenWeights bridge (set
//! `WEIRDGEN_FAKE_OW_STATE` and it speaks the bridge's JSON lines instead of testing). The
//! fake keeps its jobs in a state folder, walks them through scripted states (pending, in
//! progress, completed, failed, lost), names them by a hash of their arguments as
//! OpenWeights does, and logs every request; its deployments point at the OpenAI imitation
//! of `tests/common`.

mod common;

use common::fault_server::FaultServer;
use common::openai_sim::{ChatBehaviour, Sim};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};
use std::time::{Duration, Instant};

const STATE_ENV: &str = "WEIRDGEN_FAKE_OW_STATE";
/// The key the runs get: it must never reach the store.
const KEY: &str = "ow_canary_key_0123456789abcdef";
/// The key OpenWeights hands out with a deployment, which its vLLM server checks.
const DEPLOY_KEY: &str = "ow_deployment_key_fedcba9876543210";

fn main() -> ExitCode {
    if let Some(dir) = std::env::var_os(STATE_ENV) {
        return fake_bridge(Path::new(&dir));
    }
    let args = libtest_mimic::Arguments::from_args();
    let trials = vec![
        trial(
            "three_replicas_make_three_jobs_and_a_rerun_buys_nothing",
            three_replicas,
        ),
        trial("a_killed_run_polls_the_same_jobs", killed_run_resumes),
        trial(
            "default_valued_parameters_find_the_same_jobs",
            defaults_dropped,
        ),
        trial("a_failed_job_is_reported_with_its_log", failed_job),
        trial(
            "a_job_refused_for_the_spending_limit_is_a_clear_error",
            spending_limit,
        ),
        trial("a_lost_job_is_submitted_again", lost_job),
        trial("plan_needs_no_account", plan_without_account),
        trial(
            "batch_inference_samples_every_cell_once_and_a_rerun_buys_nothing",
            batch_samples_once,
        ),
        trial(
            "a_killed_batch_run_polls_the_same_inference_jobs",
            killed_batch_resumes,
        ),
        trial(
            "a_failed_inference_job_is_reported_with_its_log",
            failed_inference,
        ),
        trial("settings_come_from_weirdgen_toml", settings_from_config),
        trial(
            "openweights_only_hyperparameters_are_sent_without_defaults",
            lora_hyperparameters,
        ),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}

fn trial(name: &'static str, f: fn()) -> libtest_mimic::Trial {
    libtest_mimic::Trial::test(name, move || {
        std::panic::catch_unwind(f).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
                .into()
        })
    })
}

// ----- the fake OpenWeights side -----

/// How the fake behaves, written by a test as `script.json` in the state folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Script {
    /// The states a job walks through, one per `get`; the last one stays.
    steps: Vec<String>,
    /// Seeds whose jobs fail after starting.
    failing_seeds: Vec<u64>,
    /// Seeds whose jobs disappear at their first `get` (once).
    lost_seeds: Vec<u64>,
    /// The log of a failed job.
    log: String,
    /// Refuse submissions with this kind (`spending_limit`).
    refuse: Option<String>,
    /// The URL deployments answer at.
    deploy_url: String,
    /// The states an inference job walks through (as `steps`; empty: `steps`).
    inference_steps: Vec<String>,
    /// Inference jobs fail after starting.
    failing_inference: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FakeJob {
    params: Value,
    steps: Vec<String>,
    at: usize,
    /// An inference job's output file.
    #[serde(default)]
    output: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FakeState {
    jobs: BTreeMap<String, FakeJob>,
    lost: BTreeSet<u64>,
    /// Uploaded and produced files by id.
    #[serde(default)]
    files: BTreeMap<String, String>,
}

fn read_json<T: for<'a> Deserialize<'a> + Default>(path: &Path) -> T {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn fake_bridge(dir: &Path) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if std::env::var("OPENWEIGHTS_API_KEY").unwrap_or_default() != KEY {
        writeln!(
            out,
            "{}",
            json!({"ready": false, "kind": "auth", "error": "ApiTokenError: unknown key"})
        )
        .unwrap();
        return ExitCode::FAILURE;
    }
    writeln!(
        out,
        "{}",
        json!({"ready": true, "protocol": 1, "openweights": "0.13.7"})
    )
    .unwrap();
    out.flush().unwrap();
    let mut deployed = 0;
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        deployed += usize::from(line.contains(r#""op":"deploy""#));
        let req: Value = serde_json::from_str(&line).unwrap();
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("requests.jsonl"))
            .unwrap();
        writeln!(log, "{line}").unwrap();
        let script: Script = read_json(&dir.join("script.json"));
        let mut state: FakeState = read_json(&dir.join("state.json"));
        let reply = match handle(&mut state, &script, &req["op"], &req["args"]) {
            Ok(result) => json!({"id": req["id"], "ok": true, "result": result}),
            Err((kind, error)) => {
                json!({"id": req["id"], "ok": false, "kind": kind, "error": error})
            }
        };
        let tmp = dir.join("state.json.tmp");
        std::fs::write(&tmp, serde_json::to_string(&state).unwrap()).unwrap();
        std::fs::rename(&tmp, dir.join("state.json")).unwrap();
        writeln!(out, "{reply}").unwrap();
        out.flush().unwrap();
    }
    // stdin closed: as the real bridge does, take this process's deployments down.
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("requests.jsonl"))
        .unwrap();
    writeln!(
        log,
        "{}",
        json!({"op": "<closed>", "args": {"down": deployed}})
    )
    .unwrap();
    ExitCode::SUCCESS
}

fn hash12(v: &Value) -> String {
    blake3::hash(v.to_string().as_bytes()).to_hex()[..12].to_string()
}

fn view(id: &str, job: &FakeJob) -> Value {
    let status = &job.steps[job.at];
    let model = job.params["model"].as_str().unwrap_or("");
    let name = model.rsplit('/').next().unwrap_or(model);
    let inference = job.output.is_some();
    json!({
        "id": id,
        "type": if inference { "inference" } else { "fine-tuning" },
        "status": status, "model": model,
        "finetuned_model_id": if inference { Value::Null } else { json!(format!("fakeorg/{name}-{id}")) },
        "error": if status == "failed" { json!("Process exited with return code 1") } else { Value::Null },
        "file": if status == "completed" { json!(job.output) } else { Value::Null },
        "submitted_by": "someone",
    })
}

/// What an inference job writes: each input row with a `completion`.
fn answer_rows(input: &str, model: &str) -> String {
    input
        .lines()
        .map(|l| {
            let mut row: Value = serde_json::from_str(l).unwrap();
            row["completion"] = json!(format!("{model} says the telegraph"));
            row.to_string() + "\n"
        })
        .collect()
}

type Refused = (&'static str, String);

fn handle(st: &mut FakeState, script: &Script, op: &Value, args: &Value) -> Result<Value, Refused> {
    let job_id = args["job_id"].as_str().unwrap_or("").to_string();
    match op.as_str().unwrap_or("") {
        "upload" => {
            let id = format!("conversations:file-{}", hash12(&args["content"]));
            let content = args["content"].as_str().unwrap_or("").to_string();
            st.files.insert(id.clone(), content);
            Ok(json!({ "file_id": id }))
        }
        "submit_inference" => {
            if let Some(kind) = &script.refuse {
                return Err((
                    "spending_limit",
                    format!("APIError: API key spending limit reached ({kind})"),
                ));
            }
            let params = args["params"].clone();
            let id = format!("inferencejobs-{}", hash12(args));
            let Some(input) = st.files.get(params["input_file_id"].as_str().unwrap_or("")) else {
                return Err(("error", "ValueError: no such input file".into()));
            };
            let model = params["model"].as_str().unwrap_or("").to_string();
            let output = format!("result:file-{}", hash12(&json!([id, input])));
            let rows = answer_rows(input, &model);
            st.files.insert(output.clone(), rows);
            let steps = match (script.failing_inference, script.inference_steps.is_empty()) {
                (true, _) => vec!["pending".into(), "in_progress".into(), "failed".into()],
                (false, true) => script.steps.clone(),
                (false, false) => script.inference_steps.clone(),
            };
            let job = st.jobs.entry(id.clone()).or_insert_with(|| FakeJob {
                params,
                steps: steps.clone(),
                at: 0,
                output: Some(output),
            });
            if matches!(job.steps[job.at].as_str(), "failed" | "canceled") {
                job.steps = steps;
                job.at = 0;
            }
            Ok(view(&id, job))
        }
        "fetch" => match st.files.get(args["file_id"].as_str().unwrap_or("")) {
            Some(text) => Ok(json!({ "text": text })),
            None => Err(("not_found", "no such file".into())),
        },
        "submit_finetune" => {
            if let Some(kind) = &script.refuse {
                return Err((
                    "spending_limit",
                    format!("APIError: API key spending limit reached ({kind})"),
                ));
            }
            let params = args["params"].clone();
            let id = format!("ftjob-{}", hash12(&params));
            let seed = params["seed"].as_u64().unwrap_or(3407);
            let steps = if script.failing_seeds.contains(&seed) {
                vec!["pending".into(), "in_progress".into(), "failed".into()]
            } else {
                script.steps.clone()
            };
            let job = st.jobs.entry(id.clone()).or_insert_with(|| FakeJob {
                params,
                steps: steps.clone(),
                at: 0,
                output: None,
            });
            if matches!(job.steps[job.at].as_str(), "failed" | "canceled") {
                job.steps = steps;
                job.at = 0;
            }
            Ok(view(&id, job))
        }
        "get" => {
            let Some(job) = st.jobs.get_mut(&job_id) else {
                return Err(("not_found", format!("no job {job_id}")));
            };
            let seed = job.params["seed"].as_u64().unwrap_or(3407);
            if script.lost_seeds.contains(&seed) && st.lost.insert(seed) {
                st.jobs.remove(&job_id);
                return Err(("not_found", format!("no job {job_id}")));
            }
            let v = view(&job_id, job);
            job.at = (job.at + 1).min(job.steps.len() - 1);
            Ok(v)
        }
        "logs" => match st.jobs.get(&job_id) {
            Some(j) if j.steps[j.at] == "failed" => Ok(json!({"text": script.log})),
            _ => Ok(json!({"text": null})),
        },
        "cancel" => {
            let Some(job) = st.jobs.get_mut(&job_id) else {
                return Err(("not_found", format!("no job {job_id}")));
            };
            if matches!(job.steps[job.at].as_str(), "pending" | "in_progress") {
                job.steps = vec!["canceled".into()];
                job.at = 0;
            }
            Ok(view(&job_id, job))
        }
        "deploy" => Ok(
            json!({"base_url": script.deploy_url, "api_key": DEPLOY_KEY, "job_id": format!("apijob-{}", hash12(args))}),
        ),
        "account" => Ok(json!({
            "total_usd": 4.5, "this_key_known": true,
            "limits": [{"key": "weirdgen", "limit_usd": 50.0, "spent_usd": 4.5, "this_key": true}],
        })),
        other => Err(("error", format!("unknown op {other}"))),
    }
}

// ----- the tests' side -----

/// A test's folder: the store, the fake's state, and the OpenAI imitation behind deployments.
struct Setup {
    dir: PathBuf,
    fake: PathBuf,
    _rt: tokio::runtime::Runtime,
    server: FaultServer,
}

impl Setup {
    fn new(name: &str, script: Script) -> Setup {
        let dir = std::env::temp_dir().join(format!("weirdgen-ow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let fake = dir.join("fake");
        std::fs::create_dir_all(&fake).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = Sim::new(ChatBehaviour::default());
        let server = rt.block_on(FaultServer::start(sim.handler()));
        let s = Setup {
            dir,
            fake,
            _rt: rt,
            server,
        };
        s.script(Script {
            deploy_url: s.server.base_url(),
            ..script
        });
        s
    }

    fn script(&self, script: Script) {
        std::fs::write(
            self.fake.join("script.json"),
            serde_json::to_string(&script).unwrap(),
        )
        .unwrap();
    }

    fn weirdgen(&self, args: &[&str]) -> Command {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut c = Command::new(env!("CARGO_BIN_EXE_weirdgen"));
        c.current_dir(root)
            .env("WEIRDGEN_OW_BRIDGE", std::env::current_exe().unwrap())
            .env(STATE_ENV, &self.fake)
            .env("OPENWEIGHTS_API_KEY", KEY)
            .env("WEIRDGEN_OW_POLL_SECONDS", "0.01")
            .env_remove("WEIRDGEN_CONFIG")
            .args(["--suites", "tests/fixtures/openweights", "--store"])
            .arg(self.dir.join("store.sqlite"))
            .args(args);
        c
    }

    fn run(&self, suite: &str) -> Output {
        self.weirdgen(&["run", suite]).output().unwrap()
    }

    /// The requests the fake received with `op`.
    fn requests(&self, op: &str) -> Vec<Value> {
        std::fs::read_to_string(self.fake.join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["op"] == op)
            .collect()
    }

    fn store(&self) -> weirdgen::store::Store {
        weirdgen::store::Store::open(&self.dir.join("store.sqlite")).unwrap()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn walk() -> Vec<String> {
    ["pending", "in_progress", "in_progress", "completed"]
        .map(String::from)
        .to_vec()
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "weirdgen failed: {err}");
    err
}

fn seeds(submits: &[Value]) -> BTreeSet<u64> {
    submits
        .iter()
        .map(|r| r["args"]["params"]["seed"].as_u64().unwrap())
        .collect()
}

fn three_replicas() {
    let s = Setup::new(
        "three",
        Script {
            steps: walk(),
            ..Script::default()
        },
    );
    let err = ok(&s.run("ow-birds"));
    assert!(
        err.contains("key `weirdgen` has spent $4.50 of its $50.00 spending limit"),
        "{err}"
    );
    let submits = s.requests("submit_finetune");
    assert_eq!(submits.len(), 3, "one job per replica");
    assert_eq!(seeds(&submits), BTreeSet::from([1, 2, 3]), "distinct seeds");
    for r in &submits {
        assert_eq!(r["args"]["params"]["epochs"], json!(2));
        assert_eq!(r["args"]["params"]["merge_before_push"], json!(false));
        assert_eq!(r["args"]["params"]["loss"], json!("sft"));
    }
    // One deployment serves the base model and its three adapters.
    let deploys = s.requests("deploy");
    assert_eq!(deploys.len(), 1, "{deploys:?}");
    assert_eq!(deploys[0]["args"]["model"], json!("unsloth/Qwen3-4B"));
    let adapters = deploys[0]["args"]["lora_adapters"].as_array().unwrap();
    assert_eq!(adapters.len(), 3);
    // Samples went through the OpenAI-compatible client to the deployment.
    let asked: BTreeSet<String> = s
        .server
        .requests("POST /v1/chat/completions")
        .iter()
        .map(|r| r.json()["model"].as_str().unwrap().to_string())
        .collect();
    let mut expected: BTreeSet<String> = adapters
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    expected.insert("unsloth/Qwen3-4B".into());
    assert_eq!(asked, expected);
    let bearer = format!("Bearer {DEPLOY_KEY}");
    assert!(
        s.server
            .requests("POST /v1/chat/completions")
            .iter()
            .all(|r| r.header("authorization") == Some(bearer.as_str())),
        "every request to the deployment carries its key"
    );
    let jobs = s.store().jobs().unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| {
        j.state == "succeeded"
            && j.model
                .as_deref()
                .unwrap()
                .starts_with("openweights/fakeorg/")
    }));
    let bytes = std::fs::read(s.dir.join("store.sqlite")).unwrap();
    for k in [KEY, DEPLOY_KEY] {
        assert!(
            !bytes.windows(k.len()).any(|w| w == k.as_bytes()),
            "a key reached the store"
        );
    }

    // A rerun, with deployments now at another URL that must not be asked: everything is
    // found in the store, by keys that do not name the URL.
    let chats = s.server.requests("POST /v1/chat/completions").len();
    s.script(Script {
        steps: walk(),
        deploy_url: "http://127.0.0.1:9/v1".into(),
        ..Script::default()
    });
    ok(&s.run("ow-birds"));
    assert_eq!(
        s.requests("submit_finetune").len(),
        3,
        "a rerun submits nothing"
    );
    assert_eq!(s.requests("deploy").len(), 1, "a rerun deploys nothing");
    assert_eq!(s.server.requests("POST /v1/chat/completions").len(), chats);
    // The first run closed its bridge (the rerun needed none), which took the run's
    // deployment down.
    let closed = s.requests("<closed>");
    assert_eq!(closed.len(), 1, "the bridge was closed, not killed");
    assert_eq!(closed[0]["args"]["down"], json!(1));

    // The spending limit is shown by `weirdgen plan` and `weirdgen jobs`.
    let limit = "OpenWeights: key `weirdgen` has spent $4.50 of its $50.00 spending limit (the key weirdgen uses)";
    for args in [&["plan", "ow-birds"][..], &["jobs"]] {
        let out = s.weirdgen(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(limit),
            "{args:?}: {text}"
        );
    }
}

fn killed_run_resumes() {
    let mut steps = vec!["pending".to_string()];
    steps.extend(std::iter::repeat_n("in_progress".to_string(), 300));
    steps.push("completed".into());
    let s = Setup::new(
        "killed",
        Script {
            steps,
            ..Script::default()
        },
    );
    let mut child = s
        .weirdgen(&["run", "ow-birds"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill only once every job id is recorded in the store and polling has begun: the
    // fake sees a submission before the run records its answer, so counting the fake's
    // requests alone races the store write on a loaded machine.
    let stored_ids = || -> BTreeSet<String> {
        s.store()
            .jobs()
            .unwrap()
            .iter()
            .filter_map(|j| j.job_id.clone())
            .collect()
    };
    let start = Instant::now();
    while stored_ids().len() < 3 || s.requests("get").len() < 6 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "three job ids were not stored and polled within a minute"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let ids = stored_ids();
    assert_eq!(ids.len(), 3, "the three job ids are in the store");
    let polled_before = s.requests("get").len();
    // Cancelling one through weirdgen reaches OpenWeights and the store.
    let one = ids.iter().next().unwrap().clone();
    let out = s.weirdgen(&["jobs", "--cancel", &one]).output().unwrap();
    ok(&out);
    assert_eq!(s.requests("cancel").len(), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("is now cancelled"));
    let listed = s.weirdgen(&["jobs"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("cancelled"));
    // The resumed run polls the same jobs and submits none; the cancelled one is reported.
    let out = s.run("ow-birds");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cancelled"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        s.requests("submit_finetune").len(),
        3,
        "a resumed run submits nothing"
    );
    let gets = s.requests("get");
    assert!(gets.len() > polled_before);
    assert!(
        gets.iter()
            .all(|g| ids.contains(g["args"]["job_id"].as_str().unwrap()))
    );
}

fn defaults_dropped() {
    let s = Setup::new(
        "defaults",
        Script {
            steps: walk(),
            ..Script::default()
        },
    );
    ok(&s.run("ow-birds"));
    ok(&s.run("ow-birds-defaults"));
    let submits = s.requests("submit_finetune");
    assert_eq!(
        submits.len(),
        6,
        "weirdgen asks for the second suite's fine-tunes"
    );
    let params: Vec<&Value> = submits.iter().map(|r| &r["args"]["params"]).collect();
    assert_eq!(params[..3], params[3..], "with the same arguments");
    let state: FakeState = read_json(&s.fake.join("state.json"));
    assert_eq!(
        state.jobs.len(),
        3,
        "so OpenWeights has three jobs, not six"
    );
    let ids: BTreeSet<Option<String>> = s
        .store()
        .jobs()
        .unwrap()
        .into_iter()
        .map(|j| j.job_id)
        .collect();
    assert_eq!(ids.len(), 3, "both suites' replicas point at the same jobs");
}

fn failed_job() {
    let log =
        "loading unsloth/Qwen3-4B\nstep 1/10 loss 2.1\ntorch.OutOfMemoryError: CUDA out of memory";
    let s = Setup::new(
        "failed",
        Script {
            steps: walk(),
            failing_seeds: vec![2],
            log: log.into(),
            ..Script::default()
        },
    );
    let out = s.run("ow-birds");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("replica 1") && err.contains("failed"), "{err}");
    assert!(err.contains("Process exited with return code 1"), "{err}");
    assert!(
        err.contains("CUDA out of memory"),
        "the log's end is in the error: {err}"
    );
    let failed: Vec<_> = s
        .store()
        .jobs()
        .unwrap()
        .into_iter()
        .filter(|j| j.state == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("CUDA out of memory")
    );
}

fn spending_limit() {
    let s = Setup::new(
        "limit",
        Script {
            steps: walk(),
            refuse: Some("limit $50".into()),
            ..Script::default()
        },
    );
    let out = s.run("ow-birds");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the spending limit of this API key is reached"),
        "{err}"
    );
    assert!(err.contains("API key spending limit reached"), "{err}");
    assert!(
        err.contains("$50.00 spending limit"),
        "the limit is shown: {err}"
    );
    assert_eq!(s.requests("deploy").len(), 0);
}

fn lost_job() {
    let s = Setup::new(
        "lost",
        Script {
            steps: walk(),
            lost_seeds: vec![1],
            ..Script::default()
        },
    );
    let out = s.run("ow-birds");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no longer has job"), "{err}");
    ok(&s.run("ow-birds"));
    let submits = s.requests("submit_finetune");
    assert_eq!(submits.len(), 4, "only the lost job is submitted again");
    assert_eq!(submits[3]["args"]["params"]["seed"], json!(1));
    assert_eq!(
        submits[3]["args"],
        submits
            .iter()
            .find(|r| r["args"]["params"]["seed"] == json!(1))
            .unwrap()["args"]
    );
}

fn plan_without_account() {
    let s = Setup::new("plan", Script::default());
    let out = s
        .weirdgen(&["plan", "ow-birds"])
        .env_remove("OPENWEIGHTS_API_KEY")
        .env("WEIRDGEN_OW_BRIDGE", "/nonexistent/bridge")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("fine-tunes: 3"), "{text}");
    assert!(
        text.contains("GPU on OpenWeights (estimates): 3 fine-tuning job(s), 1 deployment(s)"),
        "{text}"
    );
    assert!(
        text.contains("1x A40"),
        "a 4B model needs 23 GB: a 48 GB card: {text}"
    );
    assert!(text.contains("OPENWEIGHTS_API_KEY is not set"), "{text}");
    assert!(
        text.contains("with --batch (estimates): 3 fine-tuning job(s), 4 batch inference job(s)"),
        "batch inference is priced too: {text}"
    );
    // The estimate includes the GPU dollars, so `--max-cost` stops the run before any job.
    let out = s
        .weirdgen(&["run", "ow-birds", "--max-cost", "0.01"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("above --max-cost $0.01"), "{err}");
    assert!(s.requests("submit_finetune").is_empty() && s.requests("upload").is_empty());
    // Under --batch the inference jobs' price is the one checked ($0.33 live, $0.51 batch).
    let out = s
        .weirdgen(&["run", "ow-birds", "--batch", "--max-cost", "0.40"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("$0.51 is above --max-cost $0.40"), "{err}");
    assert!(s.requests("upload").is_empty());
}

/// The rows of the input files the inference jobs were submitted with.
fn inference_rows(s: &Setup) -> Vec<Value> {
    let state: FakeState = read_json(&s.fake.join("state.json"));
    s.requests("submit_inference")
        .iter()
        .flat_map(|r| {
            let file = r["args"]["params"]["input_file_id"].as_str().unwrap();
            state.files[file]
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The number of samples `weirdgen plan` counts for `suite`.
fn planned_samples(s: &Setup, suite: &str) -> usize {
    let out = s.weirdgen(&["plan", suite]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let re = regex::Regex::new(r"samples: (\d+)").unwrap();
    re.captures(&text).expect(&text)[1].parse().unwrap()
}

fn batch_samples_once() {
    let s = Setup::new(
        "batch",
        Script {
            steps: walk(),
            ..Script::default()
        },
    );
    ok(&s
        .weirdgen(&["run", "ow-birds", "--batch"])
        .output()
        .unwrap());
    let submits = s.requests("submit_inference");
    let models: BTreeSet<&str> = submits
        .iter()
        .map(|r| r["args"]["params"]["model"].as_str().unwrap())
        .collect();
    assert_eq!(submits.len(), 4, "one job per model: {submits:?}");
    assert_eq!(models.len(), 4, "the base and three adapters");
    assert!(models.contains("unsloth/Qwen3-4B"));
    for r in &submits {
        let p = &r["args"]["params"];
        assert_eq!(p["max_tokens"], json!(16), "the suite's limit is sent");
        assert!(p.get("temperature").is_none(), "the default stays unsent");
    }
    // Every sample of every cell is one row, asked once.
    let rows = inference_rows(&s);
    let ids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["weirdgen_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), rows.len(), "no sample asked twice");
    assert_eq!(rows.len(), planned_samples(&s, "ow-birds"));
    assert!(s.requests("deploy").is_empty(), "no deployment for a batch");
    assert!(s.server.requests("POST /v1/chat/completions").is_empty());
    assert_eq!(s.requests("fetch").len(), 4);

    // A rerun, batch or live, finds every sample in the store.
    let uploads = s.requests("upload").len();
    ok(&s
        .weirdgen(&["run", "ow-birds", "--batch"])
        .output()
        .unwrap());
    ok(&s.run("ow-birds"));
    assert_eq!(
        s.requests("submit_inference").len(),
        4,
        "a rerun buys nothing"
    );
    assert_eq!(s.requests("upload").len(), uploads);
    assert!(s.requests("deploy").is_empty());
    assert!(s.server.requests("POST /v1/chat/completions").is_empty());
}

fn killed_batch_resumes() {
    let mut inference_steps = vec!["pending".to_string()];
    inference_steps.extend(std::iter::repeat_n("in_progress".to_string(), 60));
    inference_steps.push("completed".into());
    let s = Setup::new(
        "killedbatch",
        Script {
            steps: walk(),
            inference_steps,
            ..Script::default()
        },
    );
    let mut child = s
        .weirdgen(&["run", "ow-birds", "--batch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the four jobs are recorded in the store and polled.
    let start = Instant::now();
    let polled = || {
        s.requests("get")
            .iter()
            .filter(|g| {
                g["args"]["job_id"]
                    .as_str()
                    .unwrap()
                    .starts_with("inferencejobs-")
            })
            .count()
    };
    while s.store().batches().unwrap().len() < 4 || polled() < 8 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "four inference jobs were not stored and polled within a minute"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(s.requests("submit_inference").len(), 4);
    let batches = s.store().batches().unwrap();
    assert!(batches.iter().all(|b| !b.collected));
    let listed = s.weirdgen(&["jobs"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("inferencejobs-"),
        "{}",
        String::from_utf8_lossy(&listed.stdout)
    );
    ok(&s
        .weirdgen(&["run", "ow-birds", "--batch"])
        .output()
        .unwrap());
    assert_eq!(
        s.requests("submit_inference").len(),
        4,
        "the resumed run submits no second inference job"
    );
    assert!(s.store().batches().unwrap().iter().all(|b| b.collected));
    assert_eq!(inference_rows(&s).len(), planned_samples(&s, "ow-birds"));
}

fn failed_inference() {
    let log = "loading unsloth/Qwen3-4B\nvllm: ValueError: max_model_len exceeds the model's limit";
    let s = Setup::new(
        "failedbatch",
        Script {
            steps: walk(),
            failing_inference: true,
            log: log.into(),
            ..Script::default()
        },
    );
    let out = s
        .weirdgen(&["run", "ow-birds", "--batch"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inference job inferencejobs-"), "{err}");
    assert!(err.contains("failed"), "{err}");
    assert!(err.contains("Process exited with return code 1"), "{err}");
    assert!(
        err.contains("max_model_len exceeds"),
        "the log's end is in the error: {err}"
    );
    assert!(s.server.requests("POST /v1/chat/completions").is_empty());
}

fn settings_from_config() {
    let s = Setup::new(
        "settings",
        Script {
            steps: walk(),
            ..Script::default()
        },
    );
    let config = s.dir.join("weirdgen.toml");
    std::fs::write(
        &config,
        "[providers.openweights]\nkind = \"openweights\"\ngpu = \"A100\"\npoll_seconds = 0.01\n",
    )
    .unwrap();
    let with_config = |args: &[&str]| {
        let mut c = s.weirdgen(args);
        c.env("WEIRDGEN_CONFIG", &config)
            .env_remove("WEIRDGEN_OW_POLL_SECONDS");
        c
    };
    let plan = with_config(&["plan", "ow-birds"]).output().unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("1x A100 (80 GB"), "the file's GPU: {text}");
    // The environment variable overrides the file.
    let plan = with_config(&["plan", "ow-birds"])
        .env("WEIRDGEN_OW_GPU", "H100S")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("1x H100S"), "the variable's GPU: {text}");
    // Jobs ask for the chosen GPU; polls follow the file's interval (the default backoff
    // would wait 5 s per poll).
    let start = Instant::now();
    ok(&with_config(&["run", "ow-birds"]).output().unwrap());
    assert!(start.elapsed() < Duration::from_secs(30));
    for r in s.requests("submit_finetune") {
        assert_eq!(r["args"]["allowed_hardware"], json!(["1x A100"]));
    }
    // A bad value is an error naming the file, line and column.
    std::fs::write(
        &config,
        "[providers.openweights]\nkind = \"openweights\"\ngpu = \"TPU\"\n",
    )
    .unwrap();
    let out = with_config(&["run", "ow-birds"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("weirdgen.toml:3:7: unknown GPU `TPU`"),
        "{err}"
    );
}

fn lora_hyperparameters() {
    let s = Setup::new(
        "lora",
        Script {
            steps: walk(),
            ..Script::default()
        },
    );
    let plan = s.weirdgen(&["plan", "ow-birds-lora"]).output().unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("lr xdefault, r 32)"), "{text}");
    ok(&s.run("ow-birds-lora"));
    let submits = s.requests("submit_finetune");
    assert_eq!(submits.len(), 3);
    for r in &submits {
        assert_eq!(r["args"]["params"]["r"], json!(32));
        assert!(
            r["args"]["params"].get("lora_alpha").is_none(),
            "the default is not sent: {r}"
        );
    }
    ok(&s.run("ow-birds-lora"));
    assert_eq!(
        s.requests("submit_finetune").len(),
        3,
        "a rerun buys nothing"
    );
    // The same fine-tune without the rank is another job.
    ok(&s.run("ow-birds"));
    let state: FakeState = read_json(&s.fake.join("state.json"));
    let finetunes = state
        .jobs
        .keys()
        .filter(|k| k.starts_with("ftjob-"))
        .count();
    assert_eq!(finetunes, 6);
}
