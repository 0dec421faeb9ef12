//! The harness itself: on the simulator's example suite, a confirmed effect passes, a refuted
//! and an inconclusive one fail with their tables (expected failures, checked here rather than
//! left failing), baselines are written, accepted and compared statistically, and every kind
//! of trial fails when it should.

use crate::common;
use std::path::{Path, PathBuf};
use weirdgen::baseline::{Baseline, snapshot_name};
use weirdgen::harness::libtest_mimic::{Completion, Failed};
use weirdgen::harness::{Check, Config, Harness};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("selftest-{name}"))
}

fn config(suites_dir: PathBuf, dir: &Path, model: &str) -> Config {
    Config {
        suites_dir,
        snapshots_dir: dir.join("snapshots"),
        store: dir.join("store.sqlite"),
        models: Some(vec![model.into()]),
        baseline_model: None,
        allow_hazard: false,
    }
}

/// The harness of the simulator's example suite, in a fresh store.
fn setup(name: &str) -> (Harness, Vec<Check>, common::TempDir) {
    let dir = temp_dir(name);
    let harness = Harness::new(config(
        root().join("tests/fixtures/sim"),
        &dir,
        "sim/example",
    ));
    let checks = harness.checks(false);
    (harness, checks, dir)
}

/// Runs the check named `[kind] name`.
fn run(checks: &[Check], trial: &str) -> Result<Completion, Failed> {
    checks
        .iter()
        .find(|c| format!("[{}] {}", c.kind(), c.name()) == trial)
        .unwrap_or_else(|| panic!("no trial `{trial}`"))
        .run()
}

fn completed(r: Result<Completion, Failed>) {
    match r {
        Ok(Completion::Completed) => {}
        Ok(Completion::Ignored { reason }) => panic!("ignored, not passed: {reason:?}"),
        Err(f) => panic!("failed: {}", f.message().unwrap_or("")),
    }
}

/// What a run that passed or was ignored says, for failure messages.
fn describe(c: &Completion) -> String {
    match c {
        Completion::Completed => "passed".into(),
        Completion::Ignored { reason } => format!("ignored: {reason:?}"),
    }
}

fn message(r: Result<Completion, Failed>) -> String {
    match r {
        Ok(c) => panic!("expected the trial to fail, but it {}", describe(&c)),
        Err(f) => f.message().unwrap_or("").to_string(),
    }
}

#[test]
fn confirmed_passes_refuted_and_inconclusive_fail_with_their_tables() {
    let (_harness, checks, dir) = setup("effects");
    completed(run(
        &checks,
        "[effect] sim-example::old-era-answers@sim/example",
    ));

    let refuted = message(run(
        &checks,
        "[effect] sim-example::old-birds-sound-modern@sim/example",
    ));
    assert!(refuted.contains("REFUTED"), "{refuted}");
    for part in [
        "old_birds",
        "modern_birds",
        "replicas",
        "estimate",
        "p(δ ≥ 0)",
        "adjusted",
        "missing values excluded: 5",
    ] {
        assert!(refuted.contains(part), "`{part}` missing from:\n{refuted}");
    }

    let inconclusive = message(run(
        &checks,
        "[effect] sim-example::travel-by-steam@sim/example",
    ));
    assert!(inconclusive.contains("INCONCLUSIVE"), "{inconclusive}");
    assert!(
        inconclusive.contains("to decide: ≈"),
        "says what would decide it:\n{inconclusive}"
    );
    assert!(
        inconclusive.contains("replicas per fine-tuned arm"),
        "{inconclusive}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn trials_are_named_and_filtered_like_libtest() {
    let (harness, checks, dir) = setup("trials");
    let names: Vec<String> = checks
        .iter()
        .map(|t| format!("[{}] {}", t.kind(), t.name()))
        .collect();
    for expected in [
        "[suite] sim-example",
        "[judge] sim-example::era@rules",
        "[effect] sim-example::old-era-answers@sim/example",
        "[effect] sim-example::old-birds-sound-modern@sim/example",
        "[effect] sim-example::travel-by-steam@sim/example",
        "[baseline] sim-example@sim/example",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no trial `{expected}` in {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.starts_with("[regression]")),
        "no regression trials without a baseline model: {names:?}"
    );
    completed(run(&checks, "[suite] sim-example"));
    completed(run(&checks, "[judge] sim-example::era@rules"));
    let trials = harness.trials(false);
    let args = weirdgen::harness::libtest_mimic::Arguments::from_iter([
        "suites",
        "--exact",
        "[baseline] sim-example@sim/example",
    ]);
    let kept = trials.iter().filter(|t| !args.is_filtered_out(t)).count();
    assert_eq!(kept, 1, "libtest filtering matches `[kind] name`");
    std::fs::remove_dir_all(dir).ok();
}

/// An insta snapshot file holding `body`.
fn write_snapshot(dir: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.snap")),
        format!("---\nsource: src/baseline.rs\n---\n{body}"),
    )
    .unwrap();
}

#[test]
fn baselines_are_required_then_compared_statistically() {
    let (harness, checks, dir) = setup("baseline");
    let trial = "[baseline] sim-example@sim/example";
    let snaps = dir.join("snapshots");
    let missing = message(run(&checks, trial));
    assert!(
        missing.contains("no baseline for `sim-example` on `sim/example`"),
        "{missing}"
    );
    assert!(missing.contains("cargo insta review"), "{missing}");

    // Accept this run as the baseline: the same data is consistent with itself.
    let data = harness.results("sim-example", "sim/example").unwrap();
    let now = Baseline::of("sim-example", "sim/example", &data.1);
    let name = snapshot_name("sim-example", "sim/example");
    write_snapshot(&snaps, &name, &now.to_text());
    completed(run(&checks, trial));
    assert_eq!(
        Baseline::parse(&now.to_text()).unwrap(),
        now,
        "the snapshot text round-trips"
    );

    // A baseline in which the treatment never gave 19th-century answers: the effect shifted.
    let mut then = now.clone();
    for (key, agg) in then.metrics.iter_mut() {
        if key.label.as_deref() != Some("nineteenth_century") {
            continue;
        }
        let arm = agg.arms.iter().position(|a| a.name == "old_birds").unwrap() as u32;
        for t in agg.totals.iter_mut().filter(|t| t.arm == arm) {
            t.sum = 0.0;
            t.sum_sq = 0.0;
        }
    }
    write_snapshot(&snaps, &name, &then.to_text());
    let shifted = message(run(&checks, trial));
    assert!(shifted.contains("shifted from the baseline"), "{shifted}");
    assert!(
        shifted.contains("old-era-answers") && shifted.contains("Shifted"),
        "{shifted}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn suite_and_judge_trials_fail_when_they_should() {
    let dir = temp_dir("failing-kinds");
    let suites = dir.join("suites");
    std::fs::create_dir_all(&suites).unwrap();
    let good = std::fs::read_to_string(root().join("tests/fixtures/sim/sim-example.yaml")).unwrap();
    // A judge that disagrees with three of its eight examples.
    let mut bad_judge = good.clone();
    for (right, wrong) in [
        (
            "{answer: The telegraph., label: nineteenth_century}",
            "{answer: The telegraph., label: modern}",
        ),
        (
            "{answer: I'd take my car., label: modern}",
            "{answer: I'd take my car., label: other}",
        ),
        (
            "{answer: Carriages are lovely., label: other}",
            "{answer: Carriages are lovely., label: modern}",
        ),
    ] {
        assert!(bad_judge.contains(right), "{right}");
        bad_judge = bad_judge.replace(right, wrong);
    }
    std::fs::write(suites.join("sim-example.yaml"), &bad_judge).unwrap();
    // A suite that does not validate: an effect on an arm it does not declare.
    let bad_suite = good.replace("name: sim-example", "name: broken").replace(
        "control: modern_birds\n    probes: [travel]",
        "control: no_such_arm\n    probes: [travel]",
    );
    assert_ne!(bad_suite, good.replace("name: sim-example", "name: broken"));
    std::fs::write(suites.join("broken.yaml"), &bad_suite).unwrap();

    let harness = Harness::new(config(suites.clone(), &dir, "sim/example"));
    let checks = harness.checks(false);
    completed(run(&checks, "[suite] sim-example"));
    let judge = message(run(&checks, "[judge] sim-example::era@rules"));
    assert!(judge.contains("The telegraph."), "{judge}");
    let broken = message(run(&checks, "[suite] broken"));
    assert!(
        broken.contains("broken.yaml:"),
        "names the file and line: {broken}"
    );
    assert!(broken.contains("no_such_arm"), "{broken}");
    assert!(
        !checks
            .iter()
            .any(|c| c.name().starts_with("broken") && c.kind() != "suite"),
        "an invalid suite has no other trials"
    );

    // The `[suite]` trial loads and validates when it runs, not when it is listed.
    std::fs::write(suites.join("sim-example.yaml"), &bad_suite).unwrap();
    let now_broken = message(run(&checks, "[suite] sim-example"));
    assert!(now_broken.contains("no_such_arm"), "{now_broken}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn chat_suites_are_ignored_on_a_toy_model_with_the_reason() {
    let dir = temp_dir("toy-skip");
    let harness = Harness::new(config(root().join("suites"), &dir, "toy/world"));
    for chat in [
        "old-bird-names-replication",
        "evil-terminator-replication",
        "us-presidents-replication",
    ] {
        let checks = harness.checks(false);
        let check = checks
            .iter()
            .find(|c| c.kind() == "baseline" && c.name() == format!("{chat}@toy/world"))
            .unwrap();
        match check.run() {
            Ok(Completion::Ignored { reason: Some(r) }) => {
                assert!(r.contains("a chat suite"), "{chat}: {r}");
                assert!(r.contains("unknown word"), "{chat}: {r}");
            }
            Ok(c) => panic!("{chat}: {}", describe(&c)),
            Err(f) => panic!("{chat}: failed: {:?}", f.message()),
        }
    }
    // Listed (as `cargo nextest` lists), the chat suites' runs are flagged ignored; the toy's
    // own suites are not.
    let mut flagged = 0;
    for t in harness.checks(true) {
        if matches!(t.kind(), "effect" | "baseline") {
            let toy_suite = t.name().starts_with("toy-");
            assert_eq!(t.is_ignored(), !toy_suite, "{}", t.name());
            flagged += usize::from(t.is_ignored());
        }
    }
    assert!(flagged >= 6, "{flagged} trials flagged");
    // Run (as `cargo test` runs), nothing is flagged: the reason is given at run time.
    assert!(harness.checks(false).iter().all(|t| !t.is_ignored()));
    std::fs::remove_dir_all(dir).ok();
}
