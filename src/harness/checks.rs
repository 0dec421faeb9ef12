//! The checks behind the trials: what each kind of trial does when it runs.

use super::regression;
use super::run::{Shared, SuiteRun};
use crate::effect::Verdict;
use crate::model::ModelRef;
use crate::suite::LoadedSuite;
use libtest_mimic::{Completion, Failed, Trial};
use std::path::PathBuf;
use std::sync::Arc;

/// What a check does when it runs.
pub(crate) enum Action {
    /// Load and validate the suite file.
    Suite(PathBuf),
    /// The judge agrees with its `examples`.
    Judge {
        suite: Arc<LoadedSuite>,
        judge: String,
    },
    /// The effect is confirmed on the run's model.
    Effect { run: Arc<SuiteRun>, effect: String },
    /// The run is consistent with its snapshot.
    Baseline(Arc<SuiteRun>),
    /// The run's model is not more susceptible than `old`.
    Regression {
        run: Arc<SuiteRun>,
        old: Arc<SuiteRun>,
        effect: String,
    },
    /// A check that cannot run here (an external source is absent): ignored with this reason.
    Ignore(String),
    /// A check that could not be set up: it fails with this message.
    Fail(String),
}

/// One trial of the harness: a kind (`suite`, `judge`, `effect`, `baseline`, `regression`),
/// a name, and the check it runs.
pub struct Check {
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    pub(crate) ignored: bool,
    pub(crate) action: Action,
    pub(crate) shared: Arc<Shared>,
}

impl Check {
    /// The kind, shown as `[kind]` before the name.
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The name, e.g. `toy-old-bird-names::old_birds_shift_to_old_era@toy/world`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the trial is listed as ignored (only when listing: see
    /// [`Harness::checks`](super::Harness::checks)).
    pub fn is_ignored(&self) -> bool {
        self.ignored
    }

    /// Runs the check: `Completed` when it passes, `Ignored` with the reason when it cannot
    /// run here (no key, a hazard), an error with the report when it fails.
    pub fn run(&self) -> Result<Completion, Failed> {
        let shared = &self.shared;
        match &self.action {
            Action::Suite(path) => crate::suite::load(path)
                .map(|_| Completion::Completed)
                .map_err(|e| e.to_string().into()),
            Action::Judge { suite, judge } => check_judge(shared, suite, judge),
            Action::Effect { run, effect } => check_effect(shared, run, effect),
            Action::Baseline(run) => check_baseline(shared, run),
            Action::Regression { run, old, effect } => regression::check(shared, run, old, effect),
            Action::Ignore(reason) => Ok(Completion::ignored_with(reason.clone())),
            Action::Fail(msg) => Err(msg.as_str().into()),
        }
    }

    /// The libtest trial that runs this check, named `[kind] name` (the kind is part of the
    /// name, so that `--format json` events carry it too).
    pub fn into_trial(self) -> Trial {
        let (name, ignored) = (format!("[{}] {}", self.kind, self.name), self.ignored);
        Trial::ignorable_test(name, move || self.run()).with_ignored_flag(ignored)
    }
}

/// The `[effect]` trial: passes on a confirmed effect, fails with the effect's table otherwise.
fn check_effect(shared: &Shared, run: &SuiteRun, effect: &str) -> Result<Completion, Failed> {
    if let Some(reason) = run.skip_reason(shared) {
        return Ok(Completion::ignored_with(reason));
    }
    let data = run.get(shared)?;
    let (decl, result) = data
        .1
        .effects
        .iter()
        .find(|(d, _)| d.name() == effect)
        .ok_or_else(|| Failed::from(format!("effect `{effect}` was not evaluated")))?;
    match result.verdict {
        Verdict::Confirmed => Ok(Completion::Completed),
        _ => Err(crate::report::effect_table(decl, result).into()),
    }
}

/// The `[baseline]` trial.
fn check_baseline(shared: &Shared, run: &SuiteRun) -> Result<Completion, Failed> {
    if let Some(reason) = run.skip_reason(shared) {
        return Ok(Completion::ignored_with(reason));
    }
    let data = run.get(shared)?;
    crate::baseline::check(
        run.suite.clone(),
        &data.1,
        &run.model.to_string(),
        &shared.config.snapshots_dir,
    )
    .map(|_| Completion::Completed)
    .map_err(Failed::from)
}

/// The `[judge]` trial: the judge's agreement with its examples reaches the suite's bar.
fn check_judge(shared: &Shared, suite: &LoadedSuite, judge: &str) -> Result<Completion, Failed> {
    let ctx = crate::run::RunContext {
        store: shared.store()?,
        providers: Arc::new(shared.providers.for_suite(&suite.dir)),
    };
    let check = shared
        .runtime
        .block_on(crate::run::check_judge_examples(suite, judge, &ctx))
        .map_err(|e| Failed::from(format!("{e:#}")))?;
    match check {
        crate::run::ExampleCheck::Unavailable(reason) => Ok(Completion::ignored_with(reason)),
        crate::run::ExampleCheck::Checked { passed: true, .. } => Ok(Completion::Completed),
        crate::run::ExampleCheck::Checked {
            passed: false,
            report,
        } => Err(report.into()),
    }
}

/// Every check of every suite. When `listing`, checks that would be ignored at run time (no
/// key, a chat suite on a toy model, a hazard) are flagged ignored, so that runners which list
/// first and then run each trial alone (`cargo nextest`) report them as skipped, not passed.
pub(crate) fn all(shared: &Arc<Shared>, listing: bool) -> Vec<Check> {
    let check = |kind, name: String, ignored, action| Check {
        kind,
        name,
        ignored,
        action,
        shared: shared.clone(),
    };
    let mut out = Vec::new();
    let paths = match crate::suite::discover(&shared.config.suites_dir) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("{e:#}");
            out.push(check("suite", "discover".into(), false, Action::Fail(msg)));
            return out;
        }
    };
    let old: Option<Result<ModelRef, String>> = shared.config.baseline_model.as_ref().map(|m| {
        m.parse()
            .map_err(|e| format!("WEIRDGEN_BASELINE_MODEL: {e:#}"))
    });
    if let Some(Err(msg)) = &old {
        let name = "WEIRDGEN_BASELINE_MODEL".to_string();
        out.push(check("regression", name, false, Action::Fail(msg.clone())));
    }
    for path in paths {
        let roots = crate::suite::SourceRoots::default();
        if let Some(reason) = crate::suite::absent_source(&path, &roots) {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            out.push(check("suite", name, listing, Action::Ignore(reason)));
            continue;
        }
        let loaded = crate::suite::load(&path);
        let name = match &loaded {
            Ok(s) => s.suite.name.clone(),
            Err(_) => path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default(),
        };
        out.push(check("suite", name.clone(), false, Action::Suite(path)));
        let Ok(suite) = loaded.map(Arc::new) else {
            continue;
        };
        for (jname, def) in &suite.judges {
            if def.spec.examples.is_empty() {
                continue;
            }
            match crate::judge::Judge::build(def) {
                Ok(j) => {
                    let unavailable = match (&j, listing) {
                        (crate::judge::Judge::Llm(llm), true) => shared
                            .providers
                            .for_suite(&suite.dir)
                            .unavailable(llm.model())
                            .is_some(),
                        _ => false,
                    };
                    let action = Action::Judge {
                        suite: suite.clone(),
                        judge: jname.clone(),
                    };
                    let trial = format!("{name}::{jname}@{}", j.by());
                    out.push(check("judge", trial, unavailable, action));
                }
                Err(e) => {
                    let msg = format!("judge `{jname}`: {e:#}");
                    out.push(check(
                        "judge",
                        format!("{name}::{jname}"),
                        false,
                        Action::Fail(msg),
                    ));
                }
            }
        }
        let models: Vec<String> = match (&shared.config.models, &suite.suite.default_model) {
            (Some(m), _) => m.clone(),
            (None, Some(d)) => vec![d.clone()],
            (None, None) => Vec::new(),
        };
        for m in models {
            let model: ModelRef = match m.parse() {
                Ok(m) => m,
                Err(e) => {
                    let msg = format!("WEIRDGEN_MODELS: {e:#}");
                    out.push(check(
                        "effect",
                        format!("{name}@{m}"),
                        false,
                        Action::Fail(msg),
                    ));
                    continue;
                }
            };
            let run = shared.run(&suite, &model);
            let skipped = listing && run.skip_reason(shared).is_some();
            for e in &suite.suite.effects {
                let action = Action::Effect {
                    run: run.clone(),
                    effect: e.name.clone(),
                };
                let trial = format!("{name}::{}@{model}", e.name);
                out.push(check("effect", trial, skipped, action));
            }
            out.push(check(
                "baseline",
                format!("{name}@{model}"),
                skipped,
                Action::Baseline(run.clone()),
            ));
            let Some(Ok(old)) = &old else { continue };
            if *old == model {
                continue;
            }
            let old_run = shared.run(&suite, old);
            let unavailable = listing
                && (skipped
                    || (!regression::has_snapshot(shared, &old_run)
                        && old_run.skip_reason(shared).is_some()));
            for e in &suite.suite.effects {
                let action = Action::Regression {
                    run: run.clone(),
                    old: old_run.clone(),
                    effect: e.name.clone(),
                };
                let trial = format!("{name}::{}@{model} vs {old}", e.name);
                out.push(check("regression", trial, unavailable, action));
            }
        }
    }
    out
}
