//! A run killed mid-way and started again finishes with no duplicate samples and the same
//! statistics as a run that was never interrupted.

use crate::common;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn weirdgen(store: &Path, out: &Path) -> Command {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut c = Command::new(env!("CARGO_BIN_EXE_weirdgen"));
    c.current_dir(root)
        .args(["--suites", "tests/fixtures/resume", "--store"])
        .arg(store)
        .args([
            "run",
            "resume",
            "--concurrency",
            "2",
            "--format",
            "json",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn samples_in(store: &Path) -> u64 {
    match weirdgen::store::Store::open(store) {
        Ok(s) => s.sample_count().unwrap_or(0),
        Err(_) => 0,
    }
}

/// The effects of a JSON report, without what may legitimately differ between runs.
fn effects(report: &Path) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    doc["effects"].clone()
}

fn temp(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("resume-{name}"))
}

#[test]
fn killed_and_restarted_run_matches_an_uninterrupted_one() {
    // 5 replicas (base + 4 fine-tunes) × 12 cells × 10 samples.
    let expected_samples = 5 * 12 * 10;

    let whole = temp("whole");
    let status = weirdgen(&whole.join("store.sqlite"), &whole.join("report.json"))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(samples_in(&whole.join("store.sqlite")), expected_samples);

    let killed = temp("killed");
    let store = killed.join("store.sqlite");
    let mut child = weirdgen(&store, &killed.join("first.json"))
        .spawn()
        .unwrap();
    let start = Instant::now();
    // Kill as soon as some, but not all, samples are stored.
    loop {
        let n = samples_in(&store);
        if n > 0 {
            assert!(
                n < expected_samples,
                "the run finished before it could be killed"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no sample was stored within a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = samples_in(&store);
    assert!(
        partial < expected_samples,
        "killed with {partial} samples stored"
    );

    let status = weirdgen(&store, &killed.join("second.json"))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        samples_in(&store),
        expected_samples,
        "no sample stored twice, none missing"
    );
    assert_eq!(
        effects(&killed.join("second.json")),
        effects(&whole.join("report.json"))
    );

    // The restarted run reused the fine-tunes and samples the killed run had finished.
    let jobs = weirdgen::store::Store::open(&store)
        .unwrap()
        .jobs()
        .unwrap();
    assert_eq!(jobs.len(), 4, "one job per replica, never a second one");
    assert!(jobs.iter().all(|j| j.state == "succeeded"));
    std::fs::remove_dir_all(whole).ok();
    std::fs::remove_dir_all(killed).ok();
}
