//! A server that plants escape sequences and echoes the key (issue 11, §4 and §5): fine-tune
//! events, a fine-tuned model's name and a job's error carry ANSI and OSC sequences and the
//! API key. Through the binary, `weirdgen run` (whose fine-tune fails) and `weirdgen jobs`
//! print no control character, and the key is in no file and no output.

use crate::common;

use common::fault_server::FaultServer;
use common::openai_sim::{ChatBehaviour, Sim, Step};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp() -> common::TempDir {
    common::TempDir::new("hostile-server")
}

/// Runs the binary in `dir` with the test's provider config and key.
fn weirdgen(dir: &Path, key: &str, args: &[&str]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(env!("CARGO_BIN_EXE_weirdgen"))
        .current_dir(dir)
        .env("WEIRDGEN_CONFIG", dir.join("weirdgen.toml"))
        .env("HOSTILE_TEST_KEY", key)
        .env_remove("OPENAI_API_KEY")
        .arg("--suites")
        .arg(root.join("tests/fixtures/http"))
        .arg("--store")
        .arg(dir.join("store.sqlite"))
        .args(args)
        .output()
        .unwrap()
}

/// Whether `text` holds a character that a terminal would act on (all but newline and tab).
fn has_controls(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
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

#[test]
fn escapes_never_reach_the_terminal_and_the_echoed_key_is_nowhere() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = weirdgen::rng::Rng::new(nanos ^ u64::from(std::process::id()));
    // Not shaped like a known key: only the exact secret can mask it.
    let key = format!("hostile{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    let tail = key["hostile".len()..].to_string();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = Sim::new(ChatBehaviour::default());
    let server = rt.block_on(FaultServer::start(sim.handler()));
    let model = format!("ft:base-model:\u{1b}[31mred\u{1b}[0m:{key}");
    let error = format!(
        "\u{1b}]8;;http://evil.example\u{7}click\u{1b}]8;;\u{7} training \u{1b}[2J\u{9b}31mfailed for {key}"
    );
    for script in [
        vec![
            Step::new("queued", "\u{1b}]0;pwned\u{7}queued"),
            Step {
                status: "succeeded".into(),
                model: Some(model),
                ..Step::new("succeeded", "done")
            },
        ],
        vec![
            Step::new("queued", "queued"),
            Step {
                status: "failed".into(),
                error: Some(json!({"message": error, "code": "training_failed"})),
                ..Step::new("failed", "\u{1b}]2;title\u{1b}\\failed")
            },
        ],
    ] {
        sim.push_job_script(script);
    }

    let dir = temp();
    std::fs::write(
        dir.join("weirdgen.toml"),
        format!(
            "[providers.hostile]\nbase_url = \"{}\"\napi_key_env = \"HOSTILE_TEST_KEY\"\npoll_seconds = 0.05\n",
            server.base_url()
        ),
    )
    .unwrap();

    let run = weirdgen(&dir, &key, &["run", "http-finetune"]);
    let jobs = weirdgen(&dir, &key, &["jobs"]);
    let printed = [&run, &jobs]
        .iter()
        .map(|o| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .collect::<Vec<_>>();
    let (run_text, jobs_text) = (&printed[0], &printed[1]);

    // The server really sent it all: two jobs, one failed with the planted error.
    assert_eq!(sim.created_jobs().len(), 2, "{run_text}");
    assert!(
        !run.status.success(),
        "the failed fine-tune fails the run: {run_text}"
    );
    assert!(jobs.status.success(), "{jobs_text}");
    assert!(
        run_text.contains("click training failed for ***"),
        "the run names the job's error: {run_text}"
    );
    assert!(
        jobs_text.contains("click training failed for ***") && jobs_text.contains("red:***"),
        "`weirdgen jobs` shows the error and the model: {jobs_text}"
    );
    for text in [run_text, jobs_text] {
        assert!(
            !has_controls(text),
            "a control character was printed: {text:?}"
        );
        for needle in [key.as_str(), tail.as_str()] {
            assert!(!text.contains(needle), "the key was printed: {text}");
        }
    }
    let db = std::fs::read(dir.join("store.sqlite")).unwrap();
    assert!(
        db.windows(b"red".len()).any(|w| w == b"red"),
        "the store holds the model name (the scan reads real bytes)"
    );
    for f in files(&dir) {
        let bytes = std::fs::read(&f).unwrap();
        for needle in [key.as_str(), tail.as_str()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "the key is in {}",
                f.display()
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
