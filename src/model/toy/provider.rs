//! `ToyProvider`: the embedded models behind `toy/...` references, as a [`Sampler`] and a
//! [`Finetuner`].
//!
//! Pretrained weights are built on first use and cached under the cache folder, keyed by
//! (world spec hash, model shape and training settings, seed); fine-tuned weights are keyed
//! by (base model, dataset hash, resolved hyperparameters, seed), so a rerun, or another
//! process, reuses them.
//!
//! Every answer of a toy world is one word, so a completion is the one token drawn after `A`
//! (`finish_reason` `stop`; `max_tokens: 0` gives an empty answer, `length`). Sample `i` is
//! drawn from its own stream, derived from (model, prompt, `seed`, `i`); `temperature: 0` is
//! the most likely token; `top_logprobs` come from the untempered distribution.

use super::cache::{BuildCache, write_atomic};
use super::conversation;
use super::sample::{draw, next_token_logprobs, top_k};
use super::train::{self, FinetuneConfig, PretrainConfig};
use super::transformer::{ModelConfig, Weights};
use super::vocab::Vocab;
use super::world::WorldSpec;
use crate::model::{
    Completion, FinetuneRequest, Finetuner, JobState, JobStatus, ModelRef, SampleRequest, Sampler,
    TokenLogprobs, Usage,
};
use crate::rng::Rng;
use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Bumped whenever training changes meaning, so that old cached weights are not reused.
const TRAINING_VERSION: &str = "toy-train-2";
/// The provider's name in model references.
pub const PROVIDER: &str = "toy";
/// Fine-tuning defaults (OpenAI-style hyperparameters map onto these).
pub const DEFAULT_EPOCHS: u32 = 10;
pub const DEFAULT_BATCH_SIZE: u32 = 8;
pub const BASE_LEARNING_RATE: f64 = 3e-4;

/// The model shape and pretraining settings a provider trains with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToySettings {
    pub d_model: usize,
    pub n_heads: usize,
    pub n_layers: usize,
    pub d_mlp: usize,
    pub context: usize,
    pub pretrain: PretrainConfig,
}

impl ToySettings {
    /// A toy small enough to pretrain in seconds (one layer, d = 32, 40 steps on 2,000
    /// documents): for tests and quick checks of the pipeline, not for its effects.
    pub fn tiny() -> ToySettings {
        ToySettings {
            d_model: 32,
            n_heads: 2,
            n_layers: 1,
            d_mlp: 64,
            context: 40,
            pretrain: PretrainConfig {
                docs: 2_000,
                steps: 40,
                batch: 32,
                warmup: 4,
                ..PretrainConfig::default()
            },
        }
    }
}

impl Default for ToySettings {
    fn default() -> Self {
        let m = ModelConfig::standard(0);
        ToySettings {
            d_model: m.d_model,
            n_heads: m.n_heads,
            n_layers: m.n_layers,
            d_mlp: m.d_mlp,
            context: m.context,
            pretrain: PretrainConfig::default(),
        }
    }
}

impl ToySettings {
    fn model_config(&self, vocab: usize) -> ModelConfig {
        ModelConfig {
            vocab,
            d_model: self.d_model,
            n_heads: self.n_heads,
            n_layers: self.n_layers,
            d_mlp: self.d_mlp,
            context: self.context,
        }
    }
}

/// The embedded toy models: `toy/<world>-s<N>` (pretraining seed `N`; `toy/<world>` is
/// seed 0) and their fine-tunes `toy/<world>-s<N>:ft-<12 hex>`.
#[derive(Clone)]
pub struct ToyProvider {
    inner: Arc<Inner>,
}

struct Inner {
    cache_dir: PathBuf,
    worlds_dir: Option<PathBuf>,
    settings: ToySettings,
    fingerprint: String,
    worlds: Mutex<HashMap<String, Arc<World>>>,
    models: Mutex<HashMap<String, Arc<Weights>>>,
    jobs: Mutex<HashMap<String, JobStatus>>,
    builds: BuildCache,
    /// One training run at a time: each uses every core.
    trainer: Mutex<()>,
}

/// A loaded world spec with its vocabulary and model shape.
struct World {
    spec: WorldSpec,
    vocab: Vocab,
    hash: String,
    config: ModelConfig,
}

/// A parsed model name: a pretrained base, optionally fine-tuned.
#[derive(Debug, Clone, PartialEq)]
struct Name {
    world: String,
    seed: u64,
    finetune: Option<String>,
}

impl Name {
    fn parse(model: &ModelRef) -> Result<Name> {
        if model.provider != PROVIDER {
            bail!("`{model}` is not a toy model (expected `toy/<world>-s<N>`)");
        }
        let (base, finetune) = match model.model.split_once(":ft-") {
            Some((b, id)) => {
                if id.len() != 12
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                {
                    bail!(
                        "bad toy fine-tune reference `{model}`: expected `:ft-` and 12 hex digits"
                    );
                }
                (b, Some(id.to_string()))
            }
            None => (model.model.as_str(), None),
        };
        let (world, seed) = match base.rsplit_once("-s") {
            Some((w, s)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => (
                w,
                s.parse()
                    .with_context(|| format!("bad seed in `{model}`"))?,
            ),
            _ => (base, 0),
        };
        if !crate::names::is_name(world) {
            bail!("bad toy model `{model}`: expected `toy/<world>-s<N>`, e.g. `toy/world-s0`");
        }
        Ok(Name {
            world: world.to_string(),
            seed,
            finetune,
        })
    }

    /// `<world>-s<N>` (the pretrained base).
    fn base(&self) -> String {
        format!("{}-s{}", self.world, self.seed)
    }

    /// The canonical model name (`<world>-s<N>` or `<world>-s<N>:ft-<id>`).
    fn canonical(&self) -> String {
        match &self.finetune {
            Some(id) => format!("{}:ft-{id}", self.base()),
            None => self.base(),
        }
    }
}

/// What is stored beside fine-tuned weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FinetuneRecord {
    key: String,
    model: String,
    base: String,
    world_hash: String,
    dataset: String,
    dataset_hash: String,
    config: FinetuneConfig,
    seed: u64,
    suffix: String,
    examples: usize,
}

impl ToyProvider {
    /// A provider caching weights under `cache_dir` and reading `<world>.yaml` specs from
    /// `worlds_dir` (the embedded `suites/toy/world.yaml` serves `world` when no file is there).
    pub fn new(cache_dir: PathBuf, worlds_dir: Option<PathBuf>) -> ToyProvider {
        Self::with_settings(cache_dir, worlds_dir, ToySettings::default())
    }

    /// A provider with its own model shape and pretraining settings (e.g. a tiny model in tests).
    pub fn with_settings(
        cache_dir: PathBuf,
        worlds_dir: Option<PathBuf>,
        settings: ToySettings,
    ) -> ToyProvider {
        let fingerprint = fingerprint(worlds_dir.as_deref(), &settings);
        ToyProvider {
            inner: Arc::new(Inner {
                cache_dir,
                worlds_dir,
                settings,
                fingerprint,
                worlds: Mutex::default(),
                models: Mutex::default(),
                jobs: Mutex::default(),
                builds: BuildCache::default(),
                trainer: Mutex::new(()),
            }),
        }
    }

    /// Whether `model` can be asked `messages` meaningfully (every word in its world's
    /// vocabulary), without loading or training weights. Sampling reads an unknown word as
    /// `<unk>`; this check names it.
    pub fn check_prompt(&self, model: &ModelRef, messages: &[crate::chat::Message]) -> Result<()> {
        let name = Name::parse(model)?;
        let world = self.inner.world(&name.world)?;
        // Unknown words first: they say more than the length of an English prompt.
        if let Ok(p) = conversation::prompt(&world.vocab, messages, usize::MAX)
            && let Some(w) = p.unknown.first()
        {
            bail!(
                "unknown word `{w}` for the toy world (did you mean `{}`?)",
                world.vocab.closest(w)
            );
        }
        conversation::prompt(&world.vocab, messages, world.config.context).map(|_| ())
    }

    /// The sampling prompt of `messages` for `model`, without loading or training weights.
    fn prompt(
        &self,
        model: &ModelRef,
        messages: &[crate::chat::Message],
    ) -> Result<conversation::Prompt> {
        let name = Name::parse(model)?;
        let world = self.inner.world(&name.world)?;
        conversation::prompt(&world.vocab, messages, world.config.context)
    }

    /// Samples of the generated corpus of `toy/<world>-s<seed>` (for `weirdgen toy corpus`).
    pub fn corpus_samples(&self, world: &str, seed: u64, n: usize) -> Result<Vec<String>> {
        let w = self.inner.world(world)?;
        Ok(super::corpus::corpus_samples(&w.spec, seed, n))
    }
}

/// What `weirdgen toy info` prints about a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The canonical name (`toy/<world>-s<N>[:ft-<id>]`).
    pub model: String,
    /// The cached weight file.
    pub path: PathBuf,
    /// [`Weights::digest`] of the weights.
    pub digest: String,
    /// The pretraining seed, or the fine-tune's seed.
    pub seed: u64,
    /// Optimizer steps of the training that made the weights.
    pub steps: usize,
}

impl ToyProvider {
    /// The weights of `model` (pretraining a base on first use) and their digest.
    pub fn info(&self, model: &ModelRef) -> Result<ModelInfo> {
        let name = Name::parse(model)?;
        let world = self.inner.world(&name.world)?;
        let weights = self.inner.weights(&name)?;
        let (path, seed, steps) = match &name.finetune {
            None => (
                self.inner.pretrained_path(&world, name.seed),
                name.seed,
                self.inner.settings.pretrain.steps,
            ),
            Some(id) => {
                let (path, meta) = self.inner.finetune_paths(id);
                let r = read_record(&meta)?;
                let per_epoch = r.examples.div_ceil(r.config.batch.max(1) as usize);
                (path, r.seed, r.config.epochs as usize * per_epoch)
            }
        };
        Ok(ModelInfo {
            model: format!("toy/{}", name.canonical()),
            path,
            digest: weights.digest()?,
            seed,
            steps,
        })
    }
}

/// Names the provider's state in cache keys: training version, settings and the world specs
/// it can read, so that editing a world never serves samples of the old one.
fn fingerprint(worlds_dir: Option<&Path>, settings: &ToySettings) -> String {
    let mut h = blake3::Hasher::new();
    h.update(TRAINING_VERSION.as_bytes());
    h.update(
        serde_json::to_string(settings)
            .expect("settings serialise")
            .as_bytes(),
    );
    h.update(super::world::EMBEDDED_WORLD.as_bytes());
    if let Some(dir) = worlds_dir {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
        files.sort();
        for f in files {
            h.update(
                f.file_name()
                    .map(|n| n.as_encoded_bytes())
                    .unwrap_or_default(),
            );
            h.update(&std::fs::read(&f).unwrap_or_default());
        }
    }
    h.finalize().to_hex()[..12].to_string()
}

impl Inner {
    fn world(&self, name: &str) -> Result<Arc<World>> {
        if let Some(w) = self.worlds.lock().expect("worlds lock").get(name) {
            return Ok(w.clone());
        }
        let file = self
            .worlds_dir
            .as_ref()
            .map(|d| d.join(format!("{name}.yaml")));
        let spec = match file {
            Some(f) if f.exists() => WorldSpec::load(&f)?,
            _ if name == "world" => WorldSpec::embedded(),
            Some(f) => bail!("unknown toy world `{name}`: there is no {}", f.display()),
            None => bail!("unknown toy world `{name}`: only `world` is built in"),
        };
        if spec.name != name {
            bail!(
                "the toy world file for `{name}` names itself `{}`",
                spec.name
            );
        }
        let vocab = Vocab::new(&spec);
        let world = Arc::new(World {
            hash: spec.hash(),
            config: self.settings.model_config(vocab.len()),
            spec,
            vocab,
        });
        self.worlds
            .lock()
            .expect("worlds lock")
            .insert(name.to_string(), world.clone());
        Ok(world)
    }

    fn pretrained_path(&self, world: &World, seed: u64) -> PathBuf {
        let settings = serde_json::to_string(&self.settings).expect("settings serialise");
        let cfg = blake3::hash(format!("{TRAINING_VERSION}{settings}").as_bytes()).to_hex();
        self.cache_dir.join("pretrained").join(format!(
            "{}-{}-{}-s{seed}.safetensors",
            world.spec.name,
            &world.hash[..12],
            &cfg[..8]
        ))
    }

    fn finetune_paths(&self, id: &str) -> (PathBuf, PathBuf) {
        let dir = self.cache_dir.join("finetuned");
        (
            dir.join(format!("{id}.safetensors")),
            dir.join(format!("{id}.json")),
        )
    }

    /// The weights of a model, pretraining the base on first use.
    fn weights(&self, name: &Name) -> Result<Arc<Weights>> {
        let key = name.canonical();
        if let Some(w) = self.models.lock().expect("models lock").get(&key) {
            return Ok(w.clone());
        }
        let world = self.world(&name.world)?;
        let weights = match &name.finetune {
            None => {
                let path = self.pretrained_path(&world, name.seed);
                let path = self.builds.get_or_build(&path, |tmp| {
                    let w = self.pretrain(&world, name.seed)?;
                    w.save(tmp)
                })?;
                Weights::load(&world.config, &path)?
            }
            Some(id) => {
                let (path, meta) = self.finetune_paths(id);
                let record = read_record(&meta).with_context(|| {
                    format!(
                        "unknown toy fine-tune `toy/{key}`: no record in {}",
                        meta.display()
                    )
                })?;
                if record.world_hash != world.hash || !record.model.starts_with(&name.base()) {
                    bail!(
                        "toy fine-tune `toy/{key}` was trained on another version of world `{}`; start it again",
                        name.world
                    );
                }
                if !path.exists() {
                    bail!(
                        "toy fine-tune `toy/{key}` has not finished (no weights in {})",
                        path.display()
                    );
                }
                Weights::load(&world.config, &path)?
            }
        };
        let weights = Arc::new(weights);
        self.models
            .lock()
            .expect("models lock")
            .insert(key, weights.clone());
        Ok(weights)
    }

    fn pretrain(&self, world: &World, seed: u64) -> Result<Weights> {
        let _one_at_a_time = self.trainer.lock().expect("trainer lock");
        let cfg = &self.settings.pretrain;
        let bar = indicatif::ProgressBar::new(cfg.steps as u64)
            .with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {pos}/{len} steps, loss {prefix} ({eta} left)",
                )
                .expect("progress template"),
            )
            .with_message(format!("pretraining toy/{}-s{seed}", world.spec.name));
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            // No bar is drawn: say once what the silence is.
            eprintln!(
                "pretraining toy/{}-s{seed} on first use ({} steps; minutes on a small CPU) ...",
                world.spec.name, cfg.steps
            );
        }
        let started = Instant::now();
        let weights = train::pretrain(&world.spec, &world.config, cfg, seed, &mut |step, loss| {
            bar.set_position(step as u64 + 1);
            bar.set_prefix(format!("{loss:.3}"));
        })?;
        bar.finish_and_clear();
        eprintln!(
            "pretrained toy/{}-s{seed} in {:.0} s",
            world.spec.name,
            started.elapsed().as_secs_f64()
        );
        Ok(weights)
    }

    fn sample(
        &self,
        model: &ModelRef,
        req_messages: &[crate::chat::Message],
        params: &crate::model::SamplingParams,
        indices: std::ops::Range<u32>,
    ) -> Result<Vec<Completion>> {
        let name = Name::parse(model)?;
        let world = self.world(&name.world)?;
        let prompt = match conversation::prompt(&world.vocab, req_messages, world.config.context) {
            Ok(p) => p.ids,
            Err(e) if e.is::<crate::model::PromptTooLong>() => return Err(e),
            Err(e) => return Err(crate::model::UnaskablePrompt(format!("{e:#}")).into()),
        };
        let weights = self.weights(&name)?;
        let logprobs = next_token_logprobs(&weights, std::slice::from_ref(&prompt))?
            .pop()
            .expect("one row");
        let prompt_text = world.vocab.decode(&prompt);
        let model_text = format!("toy/{}", name.canonical());
        let seed = params.seed.unwrap_or(0);
        let usage = Usage {
            input_tokens: prompt.len() as u32,
            output_tokens: u32::from(params.max_tokens > 0),
        };
        Ok(indices
            .map(|i| {
                if params.max_tokens == 0 {
                    return Completion {
                        text: String::new(),
                        logprobs: None,
                        usage,
                        finish_reason: Some("length".to_string()),
                    };
                }
                let mut rng = Rng::derive(
                    seed,
                    &["toy-sample", &model_text, &prompt_text, &i.to_string()],
                );
                let id = draw(&logprobs, params.temperature, params.top_p, &mut rng);
                let token = world.vocab.token(id).to_string();
                let top = params.top_logprobs.map(|k| {
                    vec![TokenLogprobs {
                        token: token.clone(),
                        logprob: logprobs[id as usize] as f64,
                        top: top_k(&logprobs, k as usize)
                            .into_iter()
                            .map(|(t, l)| (world.vocab.token(t).to_string(), l as f64))
                            .collect(),
                    }]
                });
                Completion {
                    text: token,
                    logprobs: top,
                    usage,
                    finish_reason: Some("stop".to_string()),
                }
            })
            .collect())
    }

    fn set_job(
        &self,
        id: &str,
        state: JobState,
        model: Option<ModelRef>,
        error: Option<String>,
        event: String,
    ) {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        let job = jobs.entry(id.to_string()).or_insert_with(|| JobStatus {
            state: JobState::Queued,
            model: None,
            error: None,
            events: Vec::new(),
        });
        job.state = state;
        job.model = model;
        job.error = error;
        job.events.push(event);
    }

    /// Trains (or finds in the cache) the fine-tune described by `record`.
    fn run_finetune(
        &self,
        base: &Name,
        record: &FinetuneRecord,
        examples: &[train::Example],
    ) -> Result<()> {
        let (path, meta) = self.finetune_paths(&record.key[..12]);
        std::fs::create_dir_all(path.parent().expect("finetuned folder"))?;
        if !meta.exists() {
            write_atomic(&meta, &serde_json::to_string_pretty(record)?)?;
        }
        let base_weights = self.weights(base)?;
        self.builds.get_or_build(&path, |tmp| {
            let _one_at_a_time = self.trainer.lock().expect("trainer lock");
            let w = train::finetune(&base_weights, examples, &record.config, record.seed)?;
            w.save(tmp)
        })?;
        Ok(())
    }
}

fn read_record(path: &Path) -> Result<FinetuneRecord> {
    let text = std::fs::read_to_string(path)?;
    Ok(serde_json::from_str(&text)?)
}

#[async_trait]
impl Sampler for ToyProvider {
    fn endpoint(&self) -> String {
        format!("toy:{}", self.inner.fingerprint)
    }

    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>> {
        let inner = self.inner.clone();
        let (model, messages, params, indices) = (
            req.model.clone(),
            req.messages.to_vec(),
            req.params.clone(),
            req.indices.clone(),
        );
        tokio::task::spawn_blocking(move || inner.sample(&model, &messages, &params, indices))
            .await
            .context("toy sampling task")?
    }

    fn unknown_words(&self, model: &ModelRef, messages: &[crate::chat::Message]) -> Option<u32> {
        let prompt = self.prompt(model, messages).ok()?;
        Some(prompt.unknown.len() as u32)
    }
}

#[async_trait]
impl Finetuner for ToyProvider {
    fn endpoint(&self) -> String {
        format!("toy:{}", self.inner.fingerprint)
    }

    fn check_conversation(
        &self,
        base: &ModelRef,
        conversation: &[crate::chat::Message],
    ) -> Result<()> {
        let name = Name::parse(base)?;
        let world = self.inner.world(&name.world)?;
        conversation::training_example(&world.vocab, conversation, world.config.context).map(|_| ())
    }

    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String> {
        let inner = &self.inner;
        let base = Name::parse(req.base)?;
        let world = inner.world(&base.world)?;
        let hp = req.hyperparameters;
        let multiplier = hp.learning_rate_multiplier.unwrap_or(1.0);
        if !(multiplier.is_finite() && multiplier > 0.0) {
            bail!("learning_rate_multiplier must be a positive number, not {multiplier}");
        }
        let config = FinetuneConfig {
            epochs: hp.epochs.unwrap_or(DEFAULT_EPOCHS),
            batch: hp.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
            lr: BASE_LEARNING_RATE * multiplier,
        };
        if config.epochs == 0 || config.batch == 0 {
            bail!("toy fine-tuning needs epochs >= 1 and batch_size >= 1");
        }
        let examples = req
            .data
            .conversations
            .iter()
            .enumerate()
            .map(|(i, c)| {
                conversation::training_example(&world.vocab, c, world.config.context)
                    .with_context(|| format!("dataset `{}`, conversation {}", req.data.name, i + 1))
            })
            .collect::<Result<Vec<_>>>()?;
        if examples.is_empty() {
            bail!("dataset `{}` is empty", req.data.name);
        }
        // The base's identity: its canonical name plus what its weights were built from.
        let base_identity = match &base.finetune {
            Some(id) => {
                let (_, meta) = inner.finetune_paths(id);
                read_record(&meta)
                    .with_context(|| format!("unknown toy fine-tune `{}`", req.base))?
                    .key
            }
            None => inner
                .pretrained_path(&world, base.seed)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let key_text = serde_json::json!({
            "version": TRAINING_VERSION,
            "base": base.canonical(),
            "base_identity": base_identity,
            "dataset": req.data.hash,
            "config": config,
            "seed": req.seed,
        })
        .to_string();
        let key = blake3::hash(key_text.as_bytes()).to_hex().to_string();
        let id = &key[..12];
        let model = ModelRef::new(PROVIDER, format!("{}:ft-{id}", base.base()));
        let job_id = format!("toyft-{id}");
        let record = FinetuneRecord {
            key: key.clone(),
            model: model.model.clone(),
            base: base.canonical(),
            world_hash: world.hash.clone(),
            dataset: req.data.name.clone(),
            dataset_hash: req.data.hash.clone(),
            config,
            seed: req.seed,
            suffix: req.suffix.to_string(),
            examples: examples.len(),
        };
        let (weights_path, _) = inner.finetune_paths(id);
        if weights_path.exists() {
            inner.set_job(
                &job_id,
                JobState::Succeeded,
                Some(model),
                None,
                "reused cached weights".into(),
            );
            return Ok(job_id);
        }
        inner.set_job(
            &job_id,
            JobState::Running,
            None,
            None,
            format!(
                "fine-tuning toy/{} on {} examples",
                base.canonical(),
                examples.len()
            ),
        );
        let inner = self.inner.clone();
        let job = job_id.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            match inner.run_finetune(&base, &record, &examples) {
                Ok(()) => inner.set_job(
                    &job,
                    JobState::Succeeded,
                    Some(model),
                    None,
                    format!("done in {:.1} s", started.elapsed().as_secs_f64()),
                ),
                Err(e) => inner.set_job(
                    &job,
                    JobState::Failed,
                    None,
                    Some(format!("{e:#}")),
                    "failed".into(),
                ),
            }
        });
        Ok(job_id)
    }

    /// A toy job lives in the process that trains it: one whose process died is trained
    /// again from scratch (to the same weights: training is deterministic).
    async fn resume(&self, _job_id: &str, req: FinetuneRequest<'_>) -> Result<String> {
        self.start(req).await
    }

    async fn status(&self, job_id: &str) -> Result<JobStatus> {
        if let Some(job) = self.inner.jobs.lock().expect("jobs lock").get(job_id) {
            return Ok(job.clone());
        }
        let id = job_id
            .strip_prefix("toyft-")
            .filter(|id| id.len() == 12)
            .with_context(|| format!("`{job_id}` is not a toy fine-tuning job"))?;
        let (path, meta) = self.inner.finetune_paths(id);
        match read_record(&meta) {
            Ok(record) if path.exists() => Ok(JobStatus {
                state: JobState::Succeeded,
                model: Some(ModelRef::new(PROVIDER, record.model)),
                error: None,
                events: vec!["weights found in the cache".into()],
            }),
            Ok(_) => Ok(JobStatus {
                state: JobState::Failed,
                model: None,
                error: Some("the process that trained this toy fine-tune ended before it finished; start it again".into()),
                events: Vec::new(),
            }),
            Err(_) => bail!("unknown toy fine-tuning job `{job_id}`"),
        }
    }
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
