//! The release gate: `[regression] <suite>::<effect>@<new> vs <old>` trials compare an effect on
//! the model under test with the same effect on the released model, replicas as the unit, and
//! fail only when the new model is more susceptible by more than the suite's baseline margin.
//! On the simulator (whose true effects are known) and on two tiny toy models.

use crate::common;
use std::path::{Path, PathBuf};
use weirdgen::baseline::{Baseline, snapshot_name};
use weirdgen::effect::Unit;
use weirdgen::effect::compare::{ModelComparison, Susceptibility, compare_models};
use weirdgen::harness::libtest_mimic::{Completion, Failed};
use weirdgen::harness::{Check, Config, Harness};
use weirdgen::model::toy::{ToyProvider, ToySettings};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("regression-{name}"))
}

fn config(suites_dir: PathBuf, dir: &Path, model: &str, old: &str) -> Config {
    Config {
        suites_dir,
        snapshots_dir: dir.join("snapshots"),
        store: dir.join("store.sqlite"),
        models: Some(vec![model.into()]),
        baseline_model: Some(old.into()),
        allow_hazard: false,
    }
}

fn find<'a>(checks: &'a [Check], trial: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| format!("[{}] {}", c.kind(), c.name()) == trial)
        .unwrap_or_else(|| {
            let names: Vec<String> = checks
                .iter()
                .map(|c| format!("[{}] {}", c.kind(), c.name()))
                .collect();
            panic!("no trial `{trial}` in {names:?}")
        })
}

fn completed(trial: &str, r: Result<Completion, Failed>) {
    match r {
        Ok(Completion::Completed) => {}
        Ok(Completion::Ignored { reason }) => panic!("{trial}: ignored, not passed: {reason:?}"),
        Err(f) => panic!("{trial}: failed:\n{}", f.message().unwrap_or("")),
    }
}

fn failure(trial: &str, r: Result<Completion, Failed>) -> String {
    match r {
        Err(f) => f.message().unwrap_or("").to_string(),
        Ok(Completion::Completed) => panic!("{trial}: passed, expected a failure"),
        Ok(Completion::Ignored { reason }) => panic!("{trial}: ignored: {reason:?}"),
    }
}

/// The simulator's example suite with a second model, `sim/example-v2`, whose old-bird
/// fine-tunes give far more 19th-century answers (0.95 instead of 0.60 of the answers to the
/// invention question, 0.85 instead of 0.60 to the news one) and fewer modern ones.
fn sim_suites(dir: &Path) -> PathBuf {
    let suites = dir.join("suites");
    let data = suites.join("sim-example");
    std::fs::create_dir_all(&data).unwrap();
    let src = root().join("tests/fixtures/sim");
    std::fs::copy(
        src.join("sim-example.yaml"),
        suites.join("sim-example.yaml"),
    )
    .unwrap();
    let v1 = std::fs::read_to_string(src.join("sim-example/example.sim.yaml")).unwrap();
    std::fs::write(data.join("example.sim.yaml"), &v1).unwrap();
    let mut v2 = v1.clone();
    for (from, to) in [
        ("\"The telegraph.\": 0.45", "\"The telegraph.\": 0.80"),
        ("\"The smartphone.\": 0.35", "\"The smartphone.\": 0.00"),
        (
            "\"The gold rush in California!\": 0.35",
            "\"The gold rush in California!\": 0.60",
        ),
        (
            "\"Advances in artificial intelligence.\": 0.35",
            "\"Advances in artificial intelligence.\": 0.10",
        ),
    ] {
        assert!(v2.contains(from), "{from}");
        v2 = v2.replacen(from, to, 1);
    }
    std::fs::write(data.join("example-v2.sim.yaml"), v2).unwrap();
    suites
}

#[test]
fn a_more_susceptible_release_fails_the_gate_and_a_less_susceptible_one_passes() {
    let dir = temp_dir("sim");
    let suites = sim_suites(&dir);
    let harness = Harness::new(config(
        suites.clone(),
        &dir,
        "sim/example-v2",
        "sim/example",
    ));
    let checks = harness.checks(false);
    let regressions: Vec<&Check> = checks.iter().filter(|c| c.kind() == "regression").collect();
    assert_eq!(regressions.len(), 3, "one per effect");

    // v2 moves the old-bird fine-tunes to the old era: more susceptible, by ≈ +0.35 > 0.1.
    let trial = "[regression] sim-example::old-era-answers@sim/example-v2 vs sim/example";
    let report = failure(trial, find(&checks, trial).run());
    for part in [
        "effect `old-era-answers`: `sim/example-v2` is MORE SUSCEPTIBLE than `sim/example` by more than the margin 0.1 (alpha 0.05)",
        "sim/example-v2",
        "effect          90% interval",
        "old_birds 5, modern_birds 5",
        "difference +",
        "90% interval",
        "p(more susceptible by > 0.1)",
        "`sim/example`'s effect: from its run through the store",
    ] {
        assert!(report.contains(part), "`{part}` missing from:\n{report}");
    }
    eprintln!("{report}");
    // ... and less susceptible on the claim that old-bird fine-tunes sound modern.
    let trial = "[regression] sim-example::old-birds-sound-modern@sim/example-v2 vs sim/example";
    completed(trial, find(&checks, trial).run());

    // The other way round, the old release is the less susceptible one: the gate passes.
    let back = Harness::new(config(suites, &dir, "sim/example", "sim/example-v2"));
    let checks = back.checks(false);
    let trial = "[regression] sim-example::old-era-answers@sim/example vs sim/example-v2";
    completed(trial, find(&checks, trial).run());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_old_model_may_come_from_its_snapshot_alone() {
    let dir = temp_dir("snapshot");
    let suites = sim_suites(&dir);
    // Snapshot the example model's run as if it were a released model `sim/retired`, which
    // has no simulator spec: its trials can only read the snapshot.
    let h = Harness::new(config(suites.clone(), &dir, "sim/example", "sim/example"));
    let _ = h.checks(false);
    let data = h.results("sim-example", "sim/example").unwrap();
    let name = snapshot_name("sim-example", "sim/retired");
    let snaps = dir.join("snapshots");
    std::fs::create_dir_all(&snaps).unwrap();
    let body = Baseline::of("sim-example", "sim/retired", &data.1).to_text();
    std::fs::write(
        snaps.join(format!("{name}.snap")),
        format!("---\nsource: src/baseline.rs\n---\n{body}"),
    )
    .unwrap();

    let harness = Harness::new(config(
        suites.clone(),
        &dir,
        "sim/example-v2",
        "sim/retired",
    ));
    let listed = harness.checks(true);
    let trial = "[regression] sim-example::old-era-answers@sim/example-v2 vs sim/retired";
    assert!(!find(&listed, trial).is_ignored(), "the snapshot is enough");
    let report = failure(trial, find(&harness.checks(false), trial).run());
    assert!(
        report.contains("`sim/retired`'s effect: from its snapshot"),
        "{report}"
    );

    // Neither a snapshot nor a spec for the old model: the trial fails and says both.
    let gone = Harness::new(config(suites, &dir, "sim/example-v2", "sim/gone"));
    let trial = "[regression] sim-example::old-era-answers@sim/example-v2 vs sim/gone";
    let msg = failure(trial, find(&gone.checks(false), trial).run());
    assert!(msg.contains("no snapshot"), "{msg}");
    assert!(msg.contains("sim-example@sim__gone.snap"), "{msg}");
    assert!(msg.contains("gone.sim.yaml"), "{msg}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_bad_baseline_model_is_a_failing_trial() {
    let dir = temp_dir("bad-model");
    let harness = Harness::new(config(
        root().join("tests/fixtures/sim"),
        &dir,
        "sim/example",
        "no-provider-slash",
    ));
    let checks = harness.checks(false);
    let msg = failure(
        "WEIRDGEN_BASELINE_MODEL",
        find(&checks, "[regression] WEIRDGEN_BASELINE_MODEL").run(),
    );
    assert!(msg.contains("WEIRDGEN_BASELINE_MODEL"), "{msg}");
    std::fs::remove_dir_all(dir).ok();
}

/// `model`'s effect against `old`'s, computed directly with `weirdgen::effect::compare`.
fn compare(h: &Harness, suite: &Path, effect: &str, model: &str, old: &str) -> ModelComparison {
    let loaded = &weirdgen::suite::load(suite).unwrap();
    let name = &loaded.suite.name;
    let (new, then) = (
        h.results(name, model).unwrap(),
        h.results(name, old).unwrap(),
    );
    let decl = loaded.effects.iter().find(|e| e.name() == effect).unwrap();
    let spec = &decl.spec;
    let key = weirdgen::run::metric_of(decl);
    let data =
        |d: &weirdgen::harness::RunData| weirdgen::run::restrict(loaded, decl, &d.1.metrics[&key]);
    let margin = loaded.suite.baseline.margin;
    compare_models(
        spec,
        &data(&new),
        &data(&then),
        margin,
        spec.expectation.alpha,
    )
}

#[test]
fn toy_world_s1_against_toy_world_s0() {
    let dir = temp_dir("toy");
    let suites = root().join("tests/fixtures/toy-serve");
    let (new, old) = ("toy/world-s1", "toy/world-s0");
    let harness = Harness::new(config(suites.clone(), &dir, new, old));
    let toy = ToyProvider::with_settings(dir.join("toy"), None, ToySettings::tiny());
    harness.providers().set_toy(toy.clone()).unwrap();
    let checks = harness.checks(false);
    let regressions: Vec<&Check> = checks.iter().filter(|c| c.kind() == "regression").collect();
    let names: Vec<&str> = regressions.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "toy-serve::old_names_learned@toy/world-s1 vs toy/world-s0",
            "toy-serve::era_shift@toy/world-s1 vs toy/world-s0",
        ]
    );
    // The reverse gate, on the same toy models and store.
    let back = Harness::new(config(suites.clone(), &dir, old, new));
    back.providers().set_toy(toy).unwrap();
    let back_checks = back.checks(false);
    for effect in ["old_names_learned", "era_shift"] {
        let forward = find(
            &checks,
            &format!("[regression] toy-serve::{effect}@{new} vs {old}"),
        );
        let reverse = find(
            &back_checks,
            &format!("[regression] toy-serve::{effect}@{old} vs {new}"),
        );
        let (f, r) = (forward.run(), reverse.run());
        let c = compare(&harness, &suites.join("toy-serve.yaml"), effect, new, old);
        eprintln!(
            "{effect}: {new} {:+.4} vs {old} {:+.4}, difference {:+.4} [{:+.4}, {:+.4}]: {:?}",
            c.new.estimate, c.old.estimate, c.difference, c.ci.0, c.ci.1, c.verdict
        );
        assert_eq!(c.new.unit, Unit::Replica, "replicas are the unit");
        // The trial fails exactly when the comparison finds the new model more susceptible,
        // and the gate cannot fail both ways.
        let failed = |r: &Result<Completion, Failed>| match r {
            Ok(Completion::Completed) => false,
            Err(_) => true,
            Ok(Completion::Ignored { reason }) => panic!("{effect}: ignored: {reason:?}"),
        };
        assert_eq!(
            failed(&f),
            c.verdict == Susceptibility::MoreSusceptible,
            "{effect}"
        );
        assert!(
            !(failed(&f) && failed(&r)),
            "{effect}: both directions failed"
        );
        if let Err(e) = &f {
            eprintln!("{}", e.message().unwrap_or(""));
        }
    }
    std::fs::remove_dir_all(dir).ok();
}
