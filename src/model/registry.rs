//! Which provider serves a model reference: `toy/...` (the embedded toy model), `sim/...`
//! (the simulator, specs in the suite's folder), providers named in `weirdgen.toml`, and the
//! built-in `openai/...`.
//!
//! Before a run uses a model it calls [`Providers::prepare`]: an OpenAI-compatible endpoint's
//! abilities (n > 1, logprobs, seed, ...) are read from the store, or probed once and recorded
//! there, so no later run probes them again.

use super::batch::Batcher;
use super::command::CommandFinetuner;
use super::openai::{Capabilities, OpenAiProvider};
use super::openweights::{self, OpenWeights};
use super::sim::SimProvider;
use super::toy::ToyProvider;
use super::{Finetuner, ModelRef, Sampler};
use crate::chat::Message;
use crate::config::{Config, Price};
use crate::store::Store;
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
    openweights: OnceLock<Arc<OpenWeights>>,
    http: Mutex<HashMap<String, Arc<OpenAiProvider>>>,
    commands: Mutex<HashMap<String, Arc<CommandFinetuner>>>,
    sims: Mutex<HashMap<PathBuf, Arc<SimProvider>>>,
    /// Models already prepared (see [`Providers::prepare`]), by reference.
    prepared: Mutex<HashMap<String, Readiness>>,
}

/// What a run needs to know of a model before it uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// Whether completions carry top log-probabilities when asked (a rating judge reads its
    /// expected value from them; without them its rating is parsed from the reply text).
    pub logprobs: bool,
}

impl Readiness {
    fn of(caps: &Capabilities) -> Readiness {
        Readiness {
            logprobs: caps.logprobs && caps.top_logprobs > 0,
        }
    }
}

impl Providers {
    /// The providers of the project in the working directory: `store_dir` holds cached
    /// artefacts, `suites_dir/toy` the toy worlds; `weirdgen.toml` (or `WEIRDGEN_CONFIG`)
    /// names the HTTP providers.
    pub fn new(store_dir: &Path, suites_dir: &Path) -> Providers {
        let config = Config::load(Path::new(".")).map_err(|e| format!("{e:#}"));
        Self::build(store_dir, suites_dir, config)
    }

    /// Like [`Providers::new`], with `config` instead of the project's `weirdgen.toml`.
    pub fn with_config(store_dir: &Path, suites_dir: &Path, config: Config) -> Providers {
        Self::build(store_dir, suites_dir, Ok(config))
    }

    fn build(store_dir: &Path, suites_dir: &Path, config: Result<Config, String>) -> Providers {
        Providers {
            shared: Arc::new(Shared {
                store_dir: store_dir.to_path_buf(),
                worlds_dir: suites_dir.join("toy"),
                config,
                toy: OnceLock::new(),
                openweights: OnceLock::new(),
                http: Mutex::new(HashMap::new()),
                commands: Mutex::new(HashMap::new()),
                sims: Mutex::new(HashMap::new()),
                prepared: Mutex::new(HashMap::new()),
            }),
            sim_dir: None,
        }
    }

    /// Serves `toy/...` with `toy` (e.g. a tiny model in tests) instead of the default
    /// provider; an error once the default one is in use.
    pub fn set_toy(&self, toy: ToyProvider) -> Result<()> {
        self.shared
            .toy
            .set(Arc::new(toy))
            .map_err(|_| anyhow::anyhow!("the toy provider is already in use"))
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

    fn openweights(&self) -> Arc<OpenWeights> {
        self.shared
            .openweights
            .get_or_init(|| Arc::new(OpenWeights::new(&self.shared.store_dir.join("openweights"))))
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
        let mut known = vec![
            "toy".to_string(),
            "sim".to_string(),
            "openai".to_string(),
            openweights::PROVIDER.to_string(),
        ];
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
            openweights::PROVIDER => self.openweights(),
            name => self.http(name)?,
        })
    }

    /// The finetuner of `base`'s provider: a `command` if the provider declares one, else its API.
    pub fn finetuner(&self, base: &ModelRef) -> Result<Arc<dyn Finetuner>> {
        Ok(match base.provider.as_str() {
            "toy" => self.toy(),
            "sim" => self.sim()?,
            openweights::PROVIDER => self.openweights(),
            name => match self.command(name)? {
                Some(c) => c,
                None => self.http(name)?,
            },
        })
    }

    /// The batch interface of `model`'s provider (the OpenAI Batch API of an HTTP provider);
    /// an error for providers without one.
    pub fn batcher(&self, model: &ModelRef) -> Result<Arc<dyn Batcher>> {
        match model.provider.as_str() {
            p @ ("toy" | "sim") => bail!(
                "`{model}`: the `{p}` provider has no batch API; run without --batch (its samples cost nothing)"
            ),
            openweights::PROVIDER => bail!(
                "`{model}`: OpenWeights batch inference is not supported yet; run without --batch (samples go through a deployment)"
            ),
            name => Ok(self.http(name)?),
        }
    }

    /// Readies `model` for sampling: an HTTP provider gets the abilities recorded in `store`
    /// for this endpoint and model, or probes them once (three short requests, asking
    /// `question` if given: a conversation the model is about to be asked) and records them.
    /// Embedded providers need nothing. Remembered for the life of the providers.
    pub async fn prepare(
        &self,
        model: &ModelRef,
        store: &Store,
        question: Option<&[Message]>,
    ) -> Result<Readiness> {
        let key = model.to_string();
        if let Some(r) = self.known(&key) {
            return Ok(r);
        }
        let ready = match model.provider.as_str() {
            "toy" | "sim" => Readiness { logprobs: true },
            openweights::PROVIDER => {
                Readiness::of(&self.openweights().prepare(model, store, question).await?)
            }
            name => {
                let p = self.http(name)?;
                let caps = match stored_capabilities(&p, model, store)? {
                    Some(caps) => {
                        p.set_capabilities(&model.model, caps.clone());
                        caps
                    }
                    None => {
                        let caps = p
                            .capabilities_asking(&model.model, question)
                            .await
                            .with_context(|| format!("probing what {model} supports"))?;
                        store
                            .put_capabilities(&p.capabilities_key(&model.model), &caps.to_json())?;
                        caps
                    }
                };
                Readiness::of(&caps)
            }
        };
        self.shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, ready);
        Ok(ready)
    }

    /// What is known of `model` without asking its server: from this run or the store;
    /// `None` for an HTTP model never probed.
    pub fn recorded(&self, model: &ModelRef, store: &Store) -> Result<Option<Readiness>> {
        if let Some(r) = self.known(&model.to_string()) {
            return Ok(Some(r));
        }
        match model.provider.as_str() {
            "toy" | "sim" => Ok(Some(Readiness { logprobs: true })),
            openweights::PROVIDER => Ok(None),
            name => {
                let p = self.http(name)?;
                Ok(stored_capabilities(&p, model, store)?.map(|c| Readiness::of(&c)))
            }
        }
    }

    fn known(&self, key: &str) -> Option<Readiness> {
        self.shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
    }

    /// Why `model` cannot be used here (e.g. a missing API key), if it cannot.
    pub fn unavailable(&self, model: &ModelRef) -> Option<String> {
        match model.provider.as_str() {
            "toy" => None,
            "sim" => self.sim().err().map(|e| format!("{e:#}")),
            openweights::PROVIDER => OpenWeights::unavailable(),
            name => match self.http(name) {
                Ok(p) => p.availability().err(),
                Err(e) => Some(format!("{e:#}")),
            },
        }
    }

    /// Why `model` cannot answer `messages` meaningfully, where the provider can tell without
    /// a request (a toy model knows only its world's words and reads others as `<unk>`: a
    /// chat suite is not for it).
    pub fn cannot_ask(
        &self,
        model: &ModelRef,
        messages: &[crate::chat::Message],
    ) -> Option<String> {
        match model.provider.as_str() {
            "toy" => {
                self.toy().check_prompt(model, messages).err().map(|e| {
                    format!("a chat suite: a toy model knows only its world's words ({e:#})")
                })
            }
            _ => None,
        }
    }

    /// The price table's entry for `model` (`finetuned`: the price of a fine-tune of it).
    pub fn price(&self, model: &ModelRef, finetuned: bool) -> Option<Price> {
        match model.provider.as_str() {
            // OpenWeights bills GPU hours, estimated apart (see `openweights::cost`).
            "toy" | "sim" | openweights::PROVIDER => Some(Price {
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

    /// How long to wait before polling a fine-tune of `base` (or a batch of a model of its
    /// provider) again: the provider's `poll_seconds` if configured, else a backoff.
    pub fn poll_delay(&self, base: &ModelRef, attempt: u32) -> Duration {
        match base.provider.as_str() {
            "toy" | "sim" => Duration::from_millis(50),
            openweights::PROVIDER => match OpenWeights::poll_seconds() {
                Some(s) => Duration::from_secs_f64(s),
                None => super::openai::poll_delay(attempt),
            },
            name => {
                let fixed = self
                    .config()
                    .ok()
                    .and_then(|c| c.provider(name))
                    .and_then(|p| p.poll_seconds);
                match fixed {
                    Some(s) => Duration::from_secs_f64(s),
                    None => super::openai::poll_delay(attempt),
                }
            }
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

/// The abilities recorded in `store` for `model` at `p`'s endpoint, if any (an unreadable
/// record counts as none: it is probed again and replaced).
fn stored_capabilities(
    p: &OpenAiProvider,
    model: &ModelRef,
    store: &Store,
) -> Result<Option<Capabilities>> {
    let key = p.capabilities_key(&model.model);
    Ok(store
        .capabilities(&key)?
        .and_then(|v| Capabilities::from_json(&v).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers() -> Providers {
        let dir = std::env::temp_dir().join("weirdgen-registry-unused");
        Providers::with_config(&dir, &dir, Config::default())
    }

    #[test]
    fn embedded_providers_have_no_batch_api() {
        let p = providers();
        for m in ["toy/world", "sim/example"] {
            let e = p.batcher(&m.parse().unwrap()).err().expect("an error");
            let msg = format!("{e:#}");
            assert!(msg.contains("no batch API"), "{msg}");
            assert!(msg.contains("without --batch"), "{msg}");
        }
        assert!(p.batcher(&"openai/gpt-4.1".parse().unwrap()).is_ok());
        let e = p
            .batcher(&"nobody/x".parse().unwrap())
            .err()
            .expect("an error");
        assert!(format!("{e:#}").contains("unknown provider `nobody`"));
    }

    #[test]
    fn poll_delay_follows_the_configured_interval() {
        let mut cfg = crate::config::ProviderConfig::new("http://127.0.0.1:9/v1");
        cfg.poll_seconds = Some(0.25);
        let dir = std::env::temp_dir().join("weirdgen-registry-unused");
        let p = Providers::with_config(&dir, &dir, Config::default().with_provider("local", cfg));
        let local: ModelRef = "local/m".parse().unwrap();
        assert_eq!(p.poll_delay(&local, 0), Duration::from_millis(250));
        assert_eq!(p.poll_delay(&local, 7), Duration::from_millis(250));
        let openai: ModelRef = "openai/gpt-4.1".parse().unwrap();
        assert!(p.poll_delay(&openai, 0) >= Duration::from_secs(3));
    }
}
