//! What the trials of one process share: the store, the providers and the runs, each opened or
//! executed once, by the first trial that needs it.

use super::Config;
use crate::model::ModelRef;
use crate::model::registry::Providers;
use crate::run::{self, RunContext, RunOptions, RunOutcome, SuiteResults};
use crate::store::Store;
use crate::suite::LoadedSuite;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// One run's outcome and statistics.
pub type RunData = Arc<(RunOutcome, SuiteResults)>;

/// The store, providers, runtime and runs of one harness.
pub(crate) struct Shared {
    pub config: Config,
    pub runtime: tokio::runtime::Runtime,
    pub providers: Providers,
    store: OnceLock<Result<Arc<Store>, String>>,
    runs: Mutex<HashMap<(String, String), Arc<SuiteRun>>>,
}

impl Shared {
    pub fn new(config: Config) -> Shared {
        let store_dir = config
            .store
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let providers = Providers::new(&store_dir, &config.suites_dir);
        Shared {
            config,
            runtime: tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            providers,
            store: OnceLock::new(),
            runs: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> Result<Arc<Store>, String> {
        self.store
            .get_or_init(|| {
                Store::open(&self.config.store)
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
    }

    /// The run of `suite` on `model`, shared by every trial that asks for it.
    pub fn run(&self, suite: &Arc<LoadedSuite>, model: &ModelRef) -> Arc<SuiteRun> {
        let key = (suite.path.to_string_lossy().into_owned(), model.to_string());
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| {
                Arc::new(SuiteRun {
                    suite: suite.clone(),
                    model: model.clone(),
                    result: OnceLock::new(),
                })
            })
            .clone()
    }

    /// The run of the suite named `suite` on `model`, if a trial has created it.
    pub fn find_run(&self, suite: &str, model: &str) -> Option<Arc<SuiteRun>> {
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .find(|r| r.suite.suite.name == suite && r.model.to_string() == model)
            .cloned()
    }
}

/// One suite × model: its run is executed once, by the first trial that needs it.
pub(crate) struct SuiteRun {
    pub suite: Arc<LoadedSuite>,
    pub model: ModelRef,
    result: OnceLock<Result<RunData, String>>,
}

impl SuiteRun {
    /// Why this run cannot happen here (unavailable provider, hazard), if it cannot.
    pub fn skip_reason(&self, shared: &Shared) -> Option<String> {
        let providers = shared.providers.for_suite(&self.suite.dir);
        if let Some(r) = providers.unavailable(&self.model) {
            return Some(r);
        }
        if let Some(cell) = self.suite.cells().first()
            && let Some(r) = providers.cannot_ask(&self.model, &cell.messages)
        {
            return Some(format!("{r}, in probe `{}`", cell.probe));
        }
        for (name, def) in &self.suite.judges {
            if !def.method.is_llm() {
                continue;
            }
            let model = crate::judge::llm::judge_model(def);
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
    pub fn get(&self, shared: &Shared) -> Result<RunData, String> {
        self.result
            .get_or_init(|| {
                let go = || -> anyhow::Result<(RunOutcome, SuiteResults)> {
                    let store = shared.store().map_err(anyhow::Error::msg)?;
                    let ctx = RunContext {
                        store,
                        providers: Arc::new(shared.providers.for_suite(&self.suite.dir)),
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
    }
}
