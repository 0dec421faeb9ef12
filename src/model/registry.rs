//! Which provider serves a model reference: `toy/...` (the embedded toy model), `sim/...`
//! (the simulator, specs in the suite's folder), and the providers of `weirdgen.toml` (the
//! built-in `openai` among them), each built by its [`kind`](super::kinds). A reference's
//! provider is resolved once, as a [`Provider`]; everything else asks it.

use super::batch::Batcher;
use super::command::CommandFinetuner;
use super::config::{Config, Price};
use super::in_flight::InFlight;
use super::kinds::{self, Setup};
use super::openweights::{self, OpenWeights, OwProvider};
use super::provider::{Provider, ProviderStore};
use super::sim::SimProvider;
use super::toy::ToyProvider;
use super::{Finetuner, ModelRef, Sampler};
use crate::chat::Message;
use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use super::provider::Readiness;

/// Requests in flight at once until a run sets its own figure (a run's default).
const DEFAULT_IN_FLIGHT: usize = 64;

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
    in_flight: Arc<InFlight>,
    toy: OnceLock<ToyProvider>,
    openweights: OnceLock<Arc<OpenWeights>>,
    /// Configured providers by name.
    configured: Mutex<HashMap<String, Arc<dyn Provider>>>,
    commands: Mutex<HashMap<String, Arc<CommandFinetuner>>>,
    sims: Mutex<HashMap<PathBuf, Arc<SimProvider>>>,
    /// Models already prepared (see [`Providers::prepare`]), by reference.
    prepared: Mutex<HashMap<String, Readiness>>,
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
                in_flight: Arc::new(InFlight::new(DEFAULT_IN_FLIGHT)),
                toy: OnceLock::new(),
                openweights: OnceLock::new(),
                configured: Mutex::new(HashMap::new()),
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
            .set(toy)
            .map_err(|_| anyhow::anyhow!("the toy provider is already in use"))
    }

    /// The same providers, with `sim/...` specs read from a suite's data folder.
    pub fn for_suite(&self, suite_dir: &Path) -> Providers {
        Providers {
            shared: self.shared.clone(),
            sim_dir: Some(suite_dir.to_path_buf()),
        }
    }

    /// Sets the figure of requests in flight at once over all providers (a run's
    /// `--concurrency`), for requests from now on.
    pub fn set_in_flight(&self, n: usize) {
        self.shared.in_flight.set(n);
    }

    /// Requests in flight at once to `model`'s provider: the figure set by
    /// [`Providers::set_in_flight`], lowered by the provider's own cap if it has one.
    pub fn in_flight(&self, model: &ModelRef) -> Result<usize> {
        let run = self.shared.in_flight.get();
        Ok(match self.provider(model)?.max_in_flight() {
            Some(cap) => run.min(cap),
            None => run,
        })
    }

    fn config(&self) -> Result<&Config> {
        self.shared
            .config
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn toy(&self) -> ToyProvider {
        self.shared
            .toy
            .get_or_init(|| {
                ToyProvider::new(
                    self.shared.store_dir.join("toy"),
                    Some(self.shared.worlds_dir.clone()),
                )
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

    /// The provider serving `model`, resolved once per provider name.
    pub fn provider(&self, model: &ModelRef) -> Result<Arc<dyn Provider>> {
        match model.provider.as_str() {
            "toy" => Ok(Arc::new(self.toy())),
            "sim" => Ok(match self.sim() {
                Ok(sim) => Arc::new(sim),
                Err(e) => Arc::new(super::sim::OutsideSuite(format!("{e:#}"))),
            }),
            // A `[providers.openweights]` table configures it; without one it is built in.
            openweights::PROVIDER if self.config()?.provider(openweights::PROVIDER).is_none() => {
                Ok(Arc::new(OwProvider(self.openweights()?)))
            }
            name => self.configured(name),
        }
    }

    /// The built-in OpenWeights provider, with the settings of the environment.
    fn openweights(&self) -> Result<Arc<OpenWeights>> {
        if let Some(ow) = self.shared.openweights.get() {
            return Ok(ow.clone());
        }
        let ow = Arc::new(OpenWeights::new(
            &self.shared.store_dir.join(openweights::PROVIDER),
            self.shared.in_flight.clone(),
            openweights::Settings::resolve(None)?,
        ));
        Ok(self.shared.openweights.get_or_init(|| ow).clone())
    }

    /// The OpenWeights settings: its `weirdgen.toml` table under its environment variables.
    pub fn openweights_settings(&self) -> Result<openweights::Settings> {
        openweights::Settings::resolve(self.config()?.provider(openweights::PROVIDER))
    }

    fn configured(&self, name: &str) -> Result<Arc<dyn Provider>> {
        let mut configured = self
            .shared
            .configured
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(p) = configured.get(name) {
            return Ok(p.clone());
        }
        let Some(config) = self.config()?.provider(name) else {
            bail!("{}", self.unknown(name));
        };
        let kind = kinds::find(&config.kind)
            .with_context(|| kinds::check(name, config).unwrap_or_default())?;
        let p = (kind.build)(&Setup {
            name,
            config,
            in_flight: self.shared.in_flight.clone(),
            work_dir: &self.shared.store_dir,
        })?;
        configured.insert(name.to_string(), p.clone());
        Ok(p)
    }

    /// The `command` finetuner of provider `name`, if its table declares one.
    fn command(&self, name: &str) -> Result<Option<Arc<CommandFinetuner>>> {
        if matches!(name, "toy" | "sim") {
            return Ok(None);
        }
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
        self.provider(model)?.sampler()
    }

    /// The finetuner of `base`'s provider: a `command` if the provider declares one, else its API.
    pub fn finetuner(&self, base: &ModelRef) -> Result<Arc<dyn Finetuner>> {
        match self.command(&base.provider)? {
            Some(c) => Ok(c),
            None => self.provider(base)?.finetuner(),
        }
    }

    /// The batch interface of `model`'s provider (the OpenAI Batch API of an HTTP provider);
    /// an error for providers without one.
    pub fn batcher(&self, model: &ModelRef) -> Result<Arc<dyn Batcher>> {
        match self.provider(model)?.batcher() {
            Some(b) => Ok(b),
            None => bail!(
                "`{model}`: the `{}` provider has no batch API; run without --batch",
                model.provider
            ),
        }
    }

    /// Readies `model` for sampling (an HTTP provider reads the abilities recorded in `cache`
    /// for this endpoint and model, or probes them once, asking `question` if given, and
    /// records them). Remembered for the life of the providers.
    pub async fn prepare(
        &self,
        model: &ModelRef,
        cache: &dyn ProviderStore,
        question: Option<&[Message]>,
    ) -> Result<Readiness> {
        let key = model.to_string();
        if let Some(r) = self.known(&key) {
            return Ok(r);
        }
        let ready = self
            .provider(model)?
            .prepare(model, cache, question)
            .await?;
        self.shared
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, ready);
        Ok(ready)
    }

    /// What is known of `model` without asking its server: from this run or `cache`;
    /// `None` for an HTTP model never probed.
    pub fn recorded(
        &self,
        model: &ModelRef,
        cache: &dyn ProviderStore,
    ) -> Result<Option<Readiness>> {
        if let Some(r) = self.known(&model.to_string()) {
            return Ok(Some(r));
        }
        self.provider(model)?.recorded(model, cache)
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
        match self.provider(model) {
            Ok(p) => p.unavailable(),
            Err(e) => Some(format!("{e:#}")),
        }
    }

    /// Why `model` cannot answer `messages` meaningfully, where the provider can tell without
    /// a request (a toy model knows only its world's words and reads others as `<unk>`: a
    /// chat suite is not for it).
    pub fn cannot_ask(&self, model: &ModelRef, messages: &[Message]) -> Option<String> {
        self.provider(model).ok()?.cannot_ask(model, messages)
    }

    /// What the account of `model`'s provider says of spending, if it has one to ask.
    pub async fn account(&self, model: &ModelRef) -> Result<Option<String>> {
        self.provider(model)?.account().await
    }

    /// Ends, gracefully, what providers started for this process (the OpenWeights bridge
    /// takes the deployments it started down).
    pub async fn close(&self) {
        let configured: Vec<Arc<dyn Provider>> = self
            .shared
            .configured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for p in configured {
            p.close().await;
        }
        if let Some(ow) = self.shared.openweights.get() {
            ow.close().await;
        }
    }

    /// The price table's entry for `model` (`finetuned`: the price of a fine-tune of it).
    pub fn price(&self, model: &ModelRef, finetuned: bool) -> Option<Price> {
        let name = if finetuned {
            format!("ft:{}", model.model)
        } else {
            model.model.clone()
        };
        self.provider(model).ok()?.price(&name)
    }

    /// How long to wait before polling a fine-tune of `base` (or a batch of a model of its
    /// provider) again.
    pub fn poll_delay(&self, base: &ModelRef, attempt: u32) -> Duration {
        match self.provider(base) {
            Ok(p) => p.poll_delay(attempt),
            Err(_) => super::openai::poll_delay(attempt),
        }
    }

    /// How many fine-tunes of `base` run at once: one for the embedded model (it uses every
    /// core), several for remote providers (they queue jobs themselves).
    pub fn finetune_concurrency(&self, base: &ModelRef) -> usize {
        self.provider(base)
            .map(|p| p.finetunes_at_once())
            .unwrap_or(1)
    }
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
    fn the_run_figure_holds_unless_the_provider_sets_a_cap() {
        let mut capped = crate::model::config::ProviderConfig::new("http://127.0.0.1:9/v1");
        capped.max_concurrency = Some(16);
        let dir = std::env::temp_dir().join("weirdgen-registry-unused");
        let p = Providers::with_config(
            &dir,
            &dir,
            Config::default().with_provider("capped", capped),
        );
        p.set_in_flight(256);
        let openai: ModelRef = "openai/gpt-4.1".parse().unwrap();
        assert_eq!(p.in_flight(&openai).unwrap(), 256);
        assert_eq!(p.in_flight(&"toy/world".parse().unwrap()).unwrap(), 256);
        assert_eq!(p.in_flight(&"capped/m".parse().unwrap()).unwrap(), 16);
        p.set_in_flight(8);
        assert_eq!(p.in_flight(&"capped/m".parse().unwrap()).unwrap(), 8);
        assert!(p.in_flight(&"nobody/m".parse().unwrap()).is_err());
    }

    #[test]
    fn poll_delay_follows_the_configured_interval() {
        let mut cfg = crate::model::config::ProviderConfig::new("http://127.0.0.1:9/v1");
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
