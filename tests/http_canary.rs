//! A canary key never leaks from a whole run (issue 5, §4): `weirdgen run` (the binary, as a
//! subprocess) samples `tests/fixtures/http/http.yaml` through `openai/...` and asks two LLM
//! judges, against a loopback server that injects 429s, 500s, truncated JSON and dropped
//! connections and echoes the key it was sent in its error bodies (one of them longer than the
//! excerpt kept of it, the key straddling the cut) and in one model's 200 answers. Afterwards
//! the key is in none of: the store file and its WAL, the snapshot, the text/markdown/HTML/JSON
//! reports, `weirdgen jobs`, the run's bundle (`weirdgen bundle`, every file of it), and
//! everything the commands printed.
//! One test in its own binary: it sets `OPENAI_API_KEY` and `OPENAI_BASE_URL` for the process.

mod common;

use common::fault_server::{Fault, FaultServer, Reply, Request};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// A chat answer: models answer with their name; the judge labels or rates the answer.
fn answer(req: &Request) -> Reply {
    if !(req.method == "POST" && req.path == "/v1/chat/completions") {
        let auth = req.header("authorization").unwrap_or_default();
        return Reply::json(
            404,
            &json!({"error": {"message": format!("no route for {}; your key was {auth}", req.path)}}),
        );
    }
    let body = req.json();
    let model = body["model"].as_str().unwrap_or_default();
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    let rating = prompt.contains("Rate from 0 to 100");
    let text = match model {
        "judge" if rating => "73".to_string(),
        "judge" if prompt.contains("old-model") => "It names a telegraph.\nANSWER: OLD".into(),
        "judge" => "It names a smartphone.\nANSWER: MODERN".into(),
        // A 200 answer that echoes the key it was sent.
        "new-model" => format!(
            "new-model says: the telegraph (sent with {})",
            req.header("authorization").unwrap_or_default()
        ),
        m => format!("{m} says: the telegraph"),
    };
    let n = body["n"].as_u64().unwrap_or(1);
    let top = body["top_logprobs"].as_u64().unwrap_or(0);
    let logprobs = (body["logprobs"] == json!(true)).then(|| {
        let alts: Vec<Value> = [("73", -0.1), ("70", -2.5), ("x", -3.0)]
            .iter()
            .take(top as usize)
            .map(|(t, l)| json!({"token": t, "logprob": l, "bytes": null}))
            .collect();
        json!({"content": [{"token": "73", "logprob": -0.1, "bytes": null, "top_logprobs": alts}]})
    });
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            json!({"index": i, "finish_reason": "stop", "logprobs": logprobs,
                   "message": {"role": "assistant", "content": text}})
        })
        .collect();
    Reply::json(
        200,
        &json!({"id": "c", "object": "chat.completion", "model": model, "choices": choices,
                "usage": {"prompt_tokens": 9, "completion_tokens": 3 * n, "total_tokens": 9 + 3 * n}}),
    )
}

fn temp() -> common::TempDir {
    common::TempDir::new("canary")
}

/// Runs the binary with `args` in `dir`; returns its stdout and stderr together.
fn weirdgen(dir: &Path, args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_weirdgen"))
        .current_dir(dir)
        .arg("--suites")
        .arg(root.join("tests/fixtures/http"))
        .arg("--store")
        .arg(dir.join("store.sqlite"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "$ weirdgen {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_canary_key_appears_nowhere_after_a_run_with_failures() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = weirdgen::rng::Rng::new(nanos ^ u64::from(std::process::id()));
    let canary = format!("sk-canary-{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    // The part of the key a careless redaction might leave.
    let tail = canary["sk-canary-".len()..].to_string();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(FaultServer::start(answer));
    // SAFETY: this binary's only test sets the variables before anything reads the
    // environment (the runtime's workers have only started the listener).
    unsafe {
        std::env::set_var("OPENAI_API_KEY", &canary);
        std::env::set_var("OPENAI_BASE_URL", server.base_url());
    }
    // Errors that quote the key back, as careless servers and proxies do.
    let echo = json!({"error": {"message": format!("Incorrect API key provided: {canary}"), "code": canary}});
    server.inject(
        "POST /v1/chat/completions",
        [
            Fault::Answer(Reply::json(429, &echo).with_header("retry-after", "0")),
            Fault::Answer(Reply::json(500, &echo)),
            Fault::TruncatedJson,
            Fault::Drop,
            Fault::Answer(Reply::json(502, &echo).with_header("x-echo", &canary)),
            Fault::CutBody,
            Fault::Answer(Reply::text(503, &format!("upstream said: Bearer {canary}"))),
            // A text body longer than the excerpt kept of it, the key straddling the cut.
            Fault::Answer(Reply::text(
                500,
                &format!("{}{canary}{}", "x".repeat(290), "y".repeat(40)),
            )),
        ],
    );

    let dir = temp();
    // Held open through the runs, so the last command's exit does not fold the WAL into the
    // main file and delete it: both are scanned.
    let store = Arc::new(weirdgen::store::Store::open(&dir.join("store.sqlite")).unwrap());
    let mut printed = String::new();
    printed += &weirdgen(
        &dir,
        &["run", "http", "--format", "json", "--out", "report.json"],
    );
    for (format, file) in [
        ("text", "report.txt"),
        ("markdown", "report.md"),
        ("html", "report.html"),
    ] {
        printed += &weirdgen(&dir, &["report", "http", "--format", format, "--out", file]);
    }
    printed += &weirdgen(&dir, &["report", "http"]);
    printed += &weirdgen(&dir, &["jobs"]);
    // The run's bundle, from the store, and its replay.
    printed += &weirdgen(&dir, &["bundle", "http", "--out", "bundle"]);
    printed += &weirdgen(&dir, &["replay", "bundle"]);

    // The key was really sent, and every fault was met.
    let log = server.log();
    assert!(
        log.iter().any(|(r, _)| {
            r.header("authorization") == Some(format!("Bearer {canary}").as_str())
        })
    );
    let faults = log.iter().filter(|(_, f)| f.is_some()).count();
    assert_eq!(faults, 8, "every injected fault met a request");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["effects"][0]["verdict"], "confirmed", "{report}");
    assert!(
        report["counts"]["judgments_requested"].as_u64().unwrap() > 0,
        "{report}"
    );

    // The snapshot of the run (as the harness writes it), from the store alone.
    let snapshot = rt.block_on(async {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let suite = weirdgen::suite::load(&root.join("tests/fixtures/http/http.yaml")).unwrap();
        let model: weirdgen::model::ModelRef = "openai/old-model".parse().unwrap();
        let ctx = weirdgen::run::RunContext {
            store: store.clone(),
            providers: Arc::new(
                weirdgen::model::registry::Providers::new(&dir, &root.join("tests/fixtures/http"))
                    .for_suite(&suite.dir),
            ),
        };
        let mut opts = weirdgen::run::RunOptions::new(model.clone());
        opts.cache_only = true;
        let plan = weirdgen::run::plan(&suite, &model, &ctx.store, &ctx.providers).unwrap();
        let outcome = weirdgen::run::execute(&suite, &plan, &ctx, &opts)
            .await
            .unwrap();
        let results = weirdgen::run::evaluate(&suite, &outcome).unwrap();
        weirdgen::baseline::Baseline::of("http", &model.to_string(), &results).to_text()
    });
    let snap_dir = dir.join("snapshots");
    std::fs::create_dir_all(&snap_dir).unwrap();
    std::fs::write(
        snap_dir.join(format!(
            "{}.snap",
            weirdgen::baseline::snapshot_name("http", "openai/old-model")
        )),
        snapshot,
    )
    .unwrap();
    std::fs::write(dir.join("printed.txt"), &printed).unwrap();

    let all = files(&dir);
    let names: Vec<String> = all
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    for expected in [
        "store.sqlite",
        "store.sqlite-wal",
        "report.json",
        "report.txt",
        "report.md",
        "report.html",
        "http@openai__old-model.snap",
        "printed.txt",
        "manifest.json",
        "suite.json",
        "answers.jsonl",
        "judgments.jsonl",
        "results.json",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} was not written: {names:?}"
        );
    }
    let db = [
        std::fs::read(dir.join("store.sqlite")).unwrap(),
        std::fs::read(dir.join("store.sqlite-wal")).unwrap(),
    ]
    .concat();
    assert!(
        contains(&db, "old-model says: the telegraph"),
        "the store file holds the samples (the scan reads real bytes)"
    );
    assert!(
        contains(&db, "new-model says: the telegraph (sent with Bearer ***)"),
        "the answer that echoed the key is stored with the key masked"
    );
    let answers = std::fs::read(dir.join("bundle/answers.jsonl")).unwrap();
    assert!(
        contains(&answers, "old-model says: the telegraph"),
        "the bundle holds the samples (the scan reads real bytes)"
    );
    for f in &all {
        let bytes = std::fs::read(f).unwrap();
        for needle in [canary.as_str(), tail.as_str()] {
            assert!(
                !contains(&bytes, needle),
                "the canary key is in {}",
                f.display()
            );
        }
    }
    for needle in [canary.as_str(), tail.as_str()] {
        assert!(!printed.contains(needle), "the canary key was printed");
    }
    drop(store);
    drop(rt);
    std::fs::remove_dir_all(dir).ok();
}
