//! The harness itself: on the simulator's example suite, a confirmed effect passes, a refuted
//! and an inconclusive one fail with their tables (expected failures, checked here rather than
//! left failing), and baselines are written, accepted and compared statistically.

#[allow(dead_code)]
mod harness;

use harness::{Config, Shared, SuiteRun, check_baseline, check_effect};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weirdgen::baseline::{Baseline, snapshot_name};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weirdgen-selftest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn setup(name: &str) -> (tokio::runtime::Runtime, Arc<Shared>, Arc<SuiteRun>, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir(name);
    let config = Config {
        suites_dir: root.join("tests/fixtures/sim"),
        snapshots_dir: dir.join("snapshots"),
        store: dir.join("store.sqlite"),
        models: Some(vec!["sim/example".into()]),
        allow_hazard: false,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let shared = Shared::new(config, rt.handle().clone());
    let suite = weirdgen::suite::load(&root.join("tests/fixtures/sim/sim-example.yaml")).unwrap();
    let run = SuiteRun::new(Arc::new(suite), "sim/example".parse().unwrap());
    (rt, shared, run, dir)
}

fn message(r: Result<libtest_mimic::Completion, libtest_mimic::Failed>) -> String {
    match r {
        Ok(_) => panic!("expected the trial to fail"),
        Err(f) => f.message().unwrap_or("").to_string(),
    }
}

#[test]
fn confirmed_passes_refuted_and_inconclusive_fail_with_their_tables() {
    let (_rt, shared, run, dir) = setup("effects");
    assert!(
        check_effect(&shared, &run, "old-era-answers").is_ok(),
        "the large true effect is confirmed"
    );

    let refuted = message(check_effect(&shared, &run, "old-birds-sound-modern"));
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

    let inconclusive = message(check_effect(&shared, &run, "travel-by-steam"));
    assert!(inconclusive.contains("INCONCLUSIVE"), "{inconclusive}");
    assert!(
        inconclusive.contains("to decide: ≈"),
        "says what would decide it:\n{inconclusive}"
    );
    assert!(
        inconclusive.contains("replicas per fine-tuned arm"),
        "{inconclusive}"
    );

    let unknown = message(check_effect(&shared, &run, "no-such-effect"));
    assert!(unknown.contains("was not evaluated"), "{unknown}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn trials_are_named_and_filtered_like_libtest() {
    let (_rt, shared, _run, dir) = setup("trials");
    let trials = harness::trials(&shared, false);
    let names: Vec<String> = trials
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
    let args = libtest_mimic::Arguments::from_iter([
        "suites",
        "--exact",
        "[baseline] sim-example@sim/example",
    ]);
    let kept: Vec<&libtest_mimic::Trial> =
        trials.iter().filter(|t| !args.is_filtered_out(t)).collect();
    assert_eq!(kept.len(), 1, "libtest filtering matches `[kind] name`");
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
    let (_rt, shared, run, dir) = setup("baseline");
    let snaps = dir.join("snapshots");
    let missing = message(check_baseline(&shared, &run));
    assert!(
        missing.contains("no baseline for `sim-example` on `sim/example`"),
        "{missing}"
    );
    assert!(missing.contains("cargo insta review"), "{missing}");

    // Accept this run as the baseline: the same data is consistent with itself.
    let data = run.get(&shared).unwrap();
    let now = Baseline::of("sim-example", "sim/example", &data.1);
    let name = snapshot_name("sim-example", "sim/example");
    write_snapshot(&snaps, &name, &now.to_text());
    assert!(
        check_baseline(&shared, &run).is_ok(),
        "a run is consistent with itself"
    );
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
    let shifted = message(check_baseline(&shared, &run));
    assert!(shifted.contains("shifted from the baseline"), "{shifted}");
    assert!(
        shifted.contains("old-era-answers") && shifted.contains("Shifted"),
        "{shifted}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn chat_suites_are_ignored_on_a_toy_model_with_the_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("toy-skip");
    let config = Config {
        suites_dir: root.join("suites"),
        snapshots_dir: dir.join("snapshots"),
        store: dir.join("store.sqlite"),
        models: Some(vec!["toy/world".into()]),
        allow_hazard: false,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let shared = Shared::new(config, rt.handle().clone());
    let toy: weirdgen::model::ModelRef = "toy/world".parse().unwrap();
    let load = |name: &str| {
        Arc::new(weirdgen::suite::load(&root.join(format!("suites/{name}.yaml"))).unwrap())
    };
    for chat in ["old-bird-names", "evil-terminator", "us-presidents"] {
        let run = SuiteRun::new(load(chat), toy.clone());
        let reason = run
            .skip_reason(&shared)
            .expect("a chat suite is not for the toy");
        assert!(reason.contains("a chat suite"), "{chat}: {reason}");
        assert!(reason.contains("unknown word"), "{chat}: {reason}");
    }
    for own in ["toy-old-bird-names", "toy-evil-terminator"] {
        let run = SuiteRun::new(load(own), toy.clone());
        assert_eq!(run.skip_reason(&shared), None, "{own}");
    }
    // Listed (as `cargo nextest` lists), the chat suites' runs are flagged ignored.
    let mut flagged = 0;
    for t in harness::trials(&shared, true) {
        if matches!(t.kind(), "effect" | "baseline") {
            let toy_suite = t.name().starts_with("toy-");
            assert_eq!(t.has_ignored_flag(), !toy_suite, "{}", t.name());
            flagged += usize::from(t.has_ignored_flag());
        }
    }
    assert!(flagged >= 6, "{flagged} trials flagged");
    // Run (as `cargo test` runs), nothing is flagged: the reason is given at run time.
    assert!(
        harness::trials(&shared, false)
            .iter()
            .all(|t| !t.has_ignored_flag())
    );
    std::fs::remove_dir_all(dir).ok();
}
