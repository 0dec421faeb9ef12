//! `weirdgen plan` prices LLM judges on the model the run would use: `WEIRDGEN_JUDGE_MODEL`
//! first, as in the run itself (both read the judge model the suite picked at load:
//! `weirdgen::judge::llm::judge_model`).

use crate::common;
use std::process::Command;

fn plan(judge_env: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weirdgen"));
    let store = common::TempDir::new("plan-judge");
    cmd.args(["plan", "tests/fixtures/http/http.yaml", "--store"])
        .arg(store.join("store.sqlite"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("WEIRDGEN_JUDGE_MODEL");
    if let Some(m) = judge_env {
        cmd.env("WEIRDGEN_JUDGE_MODEL", m);
    }
    let out = cmd.output().expect("run weirdgen plan");
    let _ = std::fs::remove_dir_all(&store);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn judge_line(plan: &str) -> &str {
    plan.lines()
        .find(|l| l.trim_start().starts_with("LLM judge calls:"))
        .expect("a judge line")
}

#[test]
fn plan_prices_the_judge_model_the_run_uses() {
    let suite_default = plan(None);
    assert!(
        judge_line(&suite_default).ends_with(" on openai/judge"),
        "{suite_default}"
    );
    let pinned = plan(Some("openai/gpt-4.1-nano"));
    assert!(
        judge_line(&pinned).ends_with(" on openai/gpt-4.1-nano"),
        "{pinned}"
    );
    // The suite's judge has no known price; the pinned one has, and is no longer listed unpriced.
    let unpriced = |p: &str| p.contains("no price known") && p.contains("openai/judge");
    assert!(unpriced(&suite_default), "{suite_default}");
    assert!(!unpriced(&pinned), "{pinned}");
}
