//! Which provider serves a model reference: `toy/...` (the embedded toy model), `sim/...`
//! (the simulator, specs in the suite's folder), providers named in `weirdgen.toml`, and the
//! built-in `openai/...`.

use super::command::CommandFinetuner;
use super::openai::OpenAiProvider;
use super::sim::SimProvider;
use super::toy::ToyProvider;
use super::{Finetuner, ModelRef, Sampler};
use crate::config::{Config, Price};
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The providers of one project, created on first use and shared.
#[derive(Clone)]
pub struct Providers {
    shared: Arc<Shared>,
    /// Where `sim/<name>` specs live: the folder of the suite being run.
    sim_dir: Option<PathBuf>,
}

struct Shared {
    /// Artefacts beside the store: toy weights, command fine-tune work folders.
    store_dir: PathBuf,
    /// Where `toy/<world>` specs are looked up.
    worlds_dir: PathBuf,
    config: Result<Config, String>,
    toy: OnceLock<Arc<ToyProvider>>,
    http: Mutex<HashMap<String, Arc<OpenAiProvider>>>,
    commands: Mutex<HashMap<String, Arc<CommandFinetuner>>>,
    sims: Mutex<HashMap<PathBuf, Arc<SimProvider>>>,
}

impl Providers {
    /// The providers of the project in the working directory: `store_dir` holds cached
    /// artefacts, `suites_dir/toy` the toy worlds; `weirdgen.toml` (or `WEIRDGEN_CONFIG`)
    /// names the HTTP providers.
    pub fn new(store_dir: &Path, suites_dir: &Path) -> Providers {
        let config = Config::load(Path::new(".")).map_err(|e| format!("{e:#}"));
        Providers {
            shared: Arc::new(Shared {
                store_dir: store_dir.to_path_buf(),
                worlds_dir: suites_dir.join("toy"),
                config,
                toy: OnceLock::new(),
                http: Mutex::new(HashMap::new()),
                commands: Mutex::new(HashMap::new()),
                sims: Mutex::new(HashMap::new()),
            }),
            sim_dir: None,
        }
    }

    /// The same providers, with `sim/...` specs read from a suite's data folder.
    pub fn for_suite(&self, suite_dir: &Path) -> Providers {
        Providers {
            shared: self.shared.clone(),
            sim_dir: Some(suite_dir.to_path_buf()),
        }
    }

    fn config(&self) -> Result<&Config> {
        self.shared
            .config
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn toy(&self) -> Arc<ToyProvider> {
        self.shared
            .toy
            .get_or_init(|| {
                Arc::new(ToyProvider::new(
                    self.shared.store_dir.join("toy"),
                    Some(self.shared.worlds_dir.clone()),
                ))
            })
            .clone()
    }

    fn sim(&self) -> Result<Arc<SimProvider>> {
        let dir = self
            .sim_dir
            .clone()
            .context("`sim/...` models are defined by a suite: run them through a suite")?;
        let mut sims = self.shared.sims.lock().unwrap_or_else(|e| e.into_inner());
        Ok(sims
            .entry(dir.clone())
            .or_insert_with(|| Arc::new(SimProvider::new(dir)))
            .clone())
    }

    fn http(&self, name: &str) -> Result<Arc<OpenAiProvider>> {
        let mut http = self.shared.http.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = http.get(name) {
            return Ok(p.clone());
        }
        let config = self.config()?;
        let p = match config.provider(name) {
            Some(cfg) if cfg.base_url.is_some() => OpenAiProvider::new(name, cfg)?,
            Some(_) => bail!(
                "provider `{name}` has no `base_url`: it can fine-tune (command) but not answer"
            ),
            None if name == "openai" => OpenAiProvider::builtin_openai()?,
            None => bail!("{}", self.unknown(name)),
        };
        let p = Arc::new(p);
        http.insert(name.to_string(), p.clone());
        Ok(p)
    }

    fn command(&self, name: &str) -> Result<Option<Arc<CommandFinetuner>>> {
        let Some(template) = self
            .config()?
            .provider(name)
            .and_then(|c| c.command.clone())
        else {
            return Ok(None);
        };
        let mut commands = self
            .shared
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = commands.get(name) {
            return Ok(Some(c.clone()));
        }
        let c = Arc::new(CommandFinetuner::new(
            name,
            &template,
            self.shared.store_dir.join("command").join(name),
        )?);
        commands.insert(name.to_string(), c.clone());
        Ok(Some(c))
    }

    fn unknown(&self, name: &str) -> String {
        let mut known = vec!["toy".to_string(), "sim".to_string(), "openai".to_string()];
        if let Ok(c) = self.config() {
            known.extend(
                c.providers()
                    .map(|(n, _)| n.to_string())
                    .filter(|n| n != "openai"),
            );
        }
        format!(
            "unknown provider `{name}` (known: {}; others can be added in weirdgen.toml)",
            known.join(", ")
        )
    }

    /// The sampler serving `model`.
    pub fn sampler(&self, model: &ModelRef) -> Result<Arc<dyn Sampler>> {
        Ok(match model.provider.as_str() {
            "toy" => self.toy(),
            "sim" => self.sim()?,
            name => self.http(name)?,
        })
    }

    /// The finetuner of `base`'s provider: a `command` if the provider declares one, else its API.
    pub fn finetuner(&self, base: &ModelRef) -> Result<Arc<dyn Finetuner>> {
        Ok(match base.provider.as_str() {
            "toy" => self.toy(),
            "sim" => self.sim()?,
            name => match self.command(name)? {
                Some(c) => c,
                None => self.http(name)?,
            },
        })
    }

    /// Why `model` cannot be used here (e.g. a missing API key), if it cannot.
    pub fn unavailable(&self, model: &ModelRef) -> Option<String> {
        match model.provider.as_str() {
            "toy" => None,
            "sim" => self.sim().err().map(|e| format!("{e:#}")),
            name => match self.http(name) {
                Ok(p) => p.availability().err(),
                Err(e) => Some(format!("{e:#}")),
            },
        }
    }

    /// Why `model` cannot be asked `messages` at all, where the provider can tell without a
    /// request (a toy model knows only its world's words: a chat suite is not for it).
    pub fn cannot_ask(
        &self,
        model: &ModelRef,
        messages: &[crate::chat::Message],
    ) -> Option<String> {
        match model.provider.as_str() {
            "toy" => self
                .toy()
                .check_prompt(model, messages)
                .err()
                .map(|e| format!("a toy model knows only its world's words ({e:#})")),
            _ => None,
        }
    }

    /// The price table's entry for `model` (`finetuned`: the price of a fine-tune of it).
    pub fn price(&self, model: &ModelRef, finetuned: bool) -> Option<Price> {
        match model.provider.as_str() {
            "toy" | "sim" => Some(Price {
                input: 0.0,
                output: 0.0,
                training: Some(0.0),
            }),
            _ => {
                let m = if finetuned {
                    ModelRef::new(&model.provider, format!("ft:{}", model.model))
                } else {
                    model.clone()
                };
                self.config().ok()?.price(&m)
            }
        }
    }

    /// How long to wait before polling a fine-tune of `base` again.
    pub fn poll_delay(&self, base: &ModelRef, attempt: u32) -> Duration {
        match base.provider.as_str() {
            "toy" | "sim" => Duration::from_millis(50),
            _ => super::openai::poll_delay(attempt),
        }
    }

    /// How many fine-tunes of `base` run at once: one for the embedded model (it uses every
    /// core), several for remote providers (they queue jobs themselves).
    pub fn finetune_concurrency(&self, base: &ModelRef) -> usize {
        match base.provider.as_str() {
            "toy" => 1,
            _ => 8,
        }
    }
}
