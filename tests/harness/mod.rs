//! The suites harness: every suite in `suites/` becomes libtest trials.
//!
//! - `[suite] <name>`: the suite loads and validates (no model needed);
//! - `[judge] <suite>::<judge>@<judge model>`: the judge agrees with its `examples`;
//! - `[effect] <suite>::<effect>@<model>`: passes when the effect is confirmed;
//! - `[baseline] <suite>@<model>`: the run is consistent with `snapshots/<suite>@<model>.snap`.
//!
//! Trials of one suite and model share one run (executed once, through the store).

use libtest_mimic::{Completion, Failed, Trial};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tokio::runtime::Handle;
use weirdgen::effect::Verdict;
use weirdgen::model::ModelRef;
use weirdgen::model::registry::Providers;
use weirdgen::run::{self, RunContext, RunOptions, RunOutcome, SuiteResults};
use weirdgen::store::Store;
use weirdgen::suite::LoadedSuite;

/// Where the harness finds suites, snapshots and the store, and which models it runs:
/// `WEIRDGEN_SUITES`, `WEIRDGEN_SNAPSHOTS`, `WEIRDGEN_STORE`, `WEIRDGEN_MODELS`,
/// `WEIRDGEN_ALLOW_HAZARD`.
#[derive(Debug, Clone)]
pub struct Config {
    pub suites_dir: PathBuf,
    pub snapshots_dir: PathBuf,
    pub store: PathBuf,
    /// `WEIRDGEN_MODELS`; `None` means each suite's `default_model`.
    pub models: Option<Vec<String>>,
    /// `WEIRDGEN_ALLOW_HAZARD=1`.
    pub allow_hazard: bool,
}

impl Config {
    /// The configuration from the environment, relative to the project root.
    pub fn from_env(root: &Path) -> Config {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let suites_dir = var("WEIRDGEN_SUITES")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("suites"));
        // Baselines live beside the suites folder: `suites/` → `snapshots/`.
        let snapshots_dir = var("WEIRDGEN_SNAPSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                suites_dir
                    .parent()
                    .map(|p| p.join("snapshots"))
                    .unwrap_or_else(|| root.join("snapshots"))
            });
        Config {
            suites_dir,
            snapshots_dir,
            store: var("WEIRDGEN_STORE")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join(".weirdgen/store.sqlite")),
            models: var("WEIRDGEN_MODELS").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            allow_hazard: var("WEIRDGEN_ALLOW_HAZARD")
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
        }
    }
}

/// What the trials of one process share: the store and the providers, opened once.
pub struct Shared {
    pub config: Config,
    pub runtime: Handle,
    store: OnceLock<Result<Arc<Store>, String>>,
    providers: OnceLock<Arc<Providers>>,
}

impl Shared {
    pub fn new(config: Config, runtime: Handle) -> Arc<Shared> {
        Arc::new(Shared {
            config,
            runtime,
            store: OnceLock::new(),
            providers: OnceLock::new(),
        })
    }

    fn store(&self) -> Result<Arc<Store>, Failed> {
        self.store
            .get_or_init(|| {
                Store::open(&self.config.store)
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(Failed::from)
    }

    fn providers(&self) -> Arc<Providers> {
        self.providers
            .get_or_init(|| {
                let store_dir = self
                    .config
                    .store
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                Arc::new(Providers::new(&store_dir, &self.config.suites_dir))
            })
            .clone()
    }
}

/// One suite × model: its run is executed once, by the first trial that needs it.
pub struct SuiteRun {
    pub suite: Arc<LoadedSuite>,
    pub model: ModelRef,
    result: OnceLock<Result<Arc<(RunOutcome, SuiteResults)>, String>>,
}

impl SuiteRun {
    pub fn new(suite: Arc<LoadedSuite>, model: ModelRef) -> Arc<SuiteRun> {
        Arc::new(SuiteRun {
            suite,
            model,
            result: OnceLock::new(),
        })
    }

    /// Why this run cannot happen here (unavailable provider, hazard), if it cannot.
    pub fn skip_reason(&self, shared: &Shared) -> Option<String> {
        let providers = shared.providers().for_suite(&self.suite.dir);
        if let Some(r) = providers.unavailable(&self.model) {
            return Some(r);
        }
        if let Some(cell) = self.suite.cells().first()
            && let Some(r) = providers.cannot_ask(&self.model, &cell.messages)
        {
            return Some(format!("{r}, in probe `{}`", cell.probe));
        }
        for (name, spec) in &self.suite.suite.judges {
            if !weirdgen::judge::is_llm(spec.kind) {
                continue;
            }
            let model = weirdgen::judge::llm::judge_model_for(
                name,
                spec,
                self.suite.suite.judge_model.as_deref(),
            );
            match model {
                Ok(m) => {
                    if let Some(r) = providers.unavailable(&m) {
                        return Some(format!("judge `{name}`: {r}"));
                    }
                }
                Err(e) => return Some(format!("judge `{name}`: {e:#}")),
            }
        }
        if let Some(h) = &self.suite.suite.hazard
            && !shared.config.allow_hazard
            && self.suite.suite.arms.values().any(|a| a.finetune.is_some())
        {
            return Some(format!(
                "suite tagged `hazard: {h}`: set WEIRDGEN_ALLOW_HAZARD=1 to run its fine-tunes"
            ));
        }
        None
    }

    /// The run's outcome and statistics, executed on first use.
    pub fn get(&self, shared: &Shared) -> Result<Arc<(RunOutcome, SuiteResults)>, Failed> {
        self.result
            .get_or_init(|| {
                let go = || -> anyhow::Result<(RunOutcome, SuiteResults)> {
                    let store = shared
                        .store()
                        .map_err(|e| anyhow::anyhow!("{}", e.message().unwrap_or("store")))?;
                    let ctx = RunContext {
                        store,
                        providers: Arc::new(shared.providers().for_suite(&self.suite.dir)),
                    };
                    let mut opts = RunOptions::new(self.model.clone());
                    opts.allow_hazard = shared.config.allow_hazard;
                    eprintln!(
                        "running suite {} on {} ...",
                        self.suite.suite.name, self.model
                    );
                    let started = std::time::Instant::now();
                    let outcome = shared.runtime.block_on(async {
                        let plan = run::plan(&self.suite, &self.model, &ctx.store, &ctx.providers)?;
                        run::execute(&self.suite, &plan, &ctx, &opts).await
                    })?;
                    let results = run::evaluate(&self.suite, &outcome)?;
                    eprintln!(
                        "ran suite {} on {} in {:.1}s",
                        self.suite.suite.name,
                        self.model,
                        started.elapsed().as_secs_f64()
                    );
                    Ok((outcome, results))
                };
                go().map(Arc::new).map_err(|e| {
                    format!(
                        "the run of suite `{}` on `{}` failed: {e:#}",
                        self.suite.suite.name, self.model
                    )
                })
            })
            .clone()
            .map_err(Failed::from)
    }
}

/// The `[effect]` trial: passes on a confirmed effect, fails with the effect's table otherwise.
pub fn check_effect(shared: &Shared, run: &SuiteRun, effect: &str) -> Result<Completion, Failed> {
    if let Some(reason) = run.skip_reason(shared) {
        return Ok(Completion::ignored_with(reason));
    }
    let data = run.get(shared)?;
    let (decl, result) = data
        .1
        .effects
        .iter()
        .find(|(d, _)| d.name == effect)
        .ok_or_else(|| Failed::from(format!("effect `{effect}` was not evaluated")))?;
    let table = weirdgen::report::effect_table(decl, result);
    match result.verdict {
        Verdict::Confirmed => Ok(Completion::Completed),
        _ => Err(table.into()),
    }
}

/// The `[baseline]` trial.
pub fn check_baseline(shared: &Shared, run: &SuiteRun) -> Result<Completion, Failed> {
    if let Some(reason) = run.skip_reason(shared) {
        return Ok(Completion::ignored_with(reason));
    }
    let data = run.get(shared)?;
    weirdgen::baseline::check(
        run.suite.clone(),
        &data.1,
        &run.model.to_string(),
        &shared.config.snapshots_dir,
    )
    .map(|_| Completion::Completed)
    .map_err(Failed::from)
}

/// The `[judge]` trial: the judge's agreement with its examples reaches the suite's bar.
pub fn check_judge(
    shared: &Shared,
    suite: &LoadedSuite,
    judge: &str,
) -> Result<Completion, Failed> {
    let ctx = RunContext {
        store: shared.store()?,
        providers: Arc::new(shared.providers().for_suite(&suite.dir)),
    };
    let check = shared
        .runtime
        .block_on(run::check_judge_examples(suite, judge, &ctx))
        .map_err(|e| Failed::from(format!("{e:#}")))?;
    match check {
        run::ExampleCheck::Unavailable(reason) => Ok(Completion::ignored_with(reason)),
        run::ExampleCheck::Checked { passed: true, .. } => Ok(Completion::Completed),
        run::ExampleCheck::Checked {
            passed: false,
            report,
        } => Err(report.into()),
    }
}

/// Every trial of every suite. When `listing`, trials that would be ignored at run time (no
/// key, a chat suite on a toy model, a hazard) are flagged ignored, so that runners which list
/// first and then run each trial alone (`cargo nextest`) report them as skipped, not passed.
pub fn trials(shared: &Arc<Shared>, listing: bool) -> Vec<Trial> {
    let mut out = Vec::new();
    let paths = match weirdgen::suite::discover(&shared.config.suites_dir) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("{e:#}");
            out.push(Trial::test("discover", move || Err(msg.into())).with_kind("suite"));
            return out;
        }
    };
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let roots = weirdgen::suite::SourceRoots::default();
        if let Some(reason) = weirdgen::suite::absent_source(&path, &roots) {
            out.push(
                Trial::ignorable_test(stem, move || Ok(Completion::ignored_with(reason)))
                    .with_kind("suite")
                    .with_ignored_flag(listing),
            );
            continue;
        }
        let suite = match weirdgen::suite::load(&path) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                let msg = e.to_string();
                out.push(Trial::test(stem, move || Err(msg.into())).with_kind("suite"));
                continue;
            }
        };
        let name = suite.suite.name.clone();
        out.push(Trial::test(name.clone(), || Ok(())).with_kind("suite"));
        for (jname, spec) in &suite.suite.judges {
            if spec.examples.is_empty() {
                continue;
            }
            let (label, unavailable) = match weirdgen::judge::Judge::build(
                jname,
                spec,
                suite.suite.judge_model.as_deref(),
            ) {
                Ok(j) => {
                    let unavailable = match (&j, listing) {
                        (weirdgen::judge::Judge::Llm(llm), true) => shared
                            .providers()
                            .for_suite(&suite.dir)
                            .unavailable(llm.model())
                            .is_some(),
                        _ => false,
                    };
                    (j.by(), unavailable)
                }
                Err(e) => {
                    let msg = format!("judge `{jname}`: {e:#}");
                    out.push(
                        Trial::test(format!("{name}::{jname}"), move || Err(msg.into()))
                            .with_kind("judge"),
                    );
                    continue;
                }
            };
            let (shared, suite, jname2) = (shared.clone(), suite.clone(), jname.clone());
            out.push(
                Trial::ignorable_test(format!("{name}::{jname}@{label}"), move || {
                    check_judge(&shared, &suite, &jname2)
                })
                .with_kind("judge")
                .with_ignored_flag(unavailable),
            );
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
                    out.push(
                        Trial::test(format!("{name}@{m}"), move || Err(msg.into()))
                            .with_kind("effect"),
                    );
                    continue;
                }
            };
            let run = SuiteRun::new(suite.clone(), model.clone());
            let skipped = listing && run.skip_reason(shared).is_some();
            for e in &suite.suite.effects {
                let (shared, run, effect) = (shared.clone(), run.clone(), e.name.clone());
                out.push(
                    Trial::ignorable_test(format!("{name}::{}@{model}", e.name), move || {
                        check_effect(&shared, &run, &effect)
                    })
                    .with_kind("effect")
                    .with_ignored_flag(skipped),
                );
            }
            let (shared, run) = (shared.clone(), run.clone());
            out.push(
                Trial::ignorable_test(format!("{name}@{model}"), move || {
                    check_baseline(&shared, &run)
                })
                .with_kind("baseline")
                .with_ignored_flag(skipped),
            );
        }
    }
    out
}
