//! The simulator provider `sim/...`: answers drawn from declared per-model, per-question
//! distributions, with between-replica spread for fine-tunes. It exists to test the
//! pipeline and to calibrate the statistics (known true effects); it is not a model.
//!
//! # Model references
//! - `sim/<name>`: the base model described by `<dir>/<name>.sim.yaml`, where `dir` is given
//!   to [`SimProvider::new`] (the runner passes the suite's data folder). `<name>` holds
//!   letters, digits, `-` and `_`.
//! - `sim/<name>:ft:<dataset>:<seed>`: a fine-tune of `sim/<name>` on the dataset named
//!   `<dataset>` with seed `<seed>`, as [`Finetuner::status`] returns it.
//!
//! # Spec format
//! ```yaml
//! replica_sd: 0.4        # SD of fine-tuned replicas' logit shifts (default 0: no spread)
//! finetune_polls: 2      # status polls a fine-tune stays `running` (default 0)
//! latency_ms: 20         # simulated latency of each sampling request (default 0)
//! models:
//!   base:                # required: the base model, and what unlisted fine-tunes follow
//!     default: {"The smartphone.": 0.98, "The telegraph.": 0.02}
//!     probes:            # tried in order; the first `match` found in the question wins
//!       - match: "(?i)what year"
//!         answers: {"It is 2024.": 0.99, "It is 1850.": 0.01}
//!   old_birds:           # fine-tunes on the dataset named `old_birds`
//!     default: {"The telegraph.": 0.6, "The smartphone.": 0.4}
//! ```
//! Keys are checked (unknown keys are errors); syntax and type errors name the file, line
//! and column, other errors the file and the key path (`models.base.probes[0].match`).
//! - An answer distribution maps answer text to a probability; probabilities are weights
//!   (finite, ≥ 0, not all 0) normalised to sum to 1. The answer texts are what the suite's
//!   judges then label; an empty text is allowed (judges call it missing).
//! - `match` is a regular expression (regex crate syntax; `(?i)` for any case) searched in
//!   the question, i.e. the last user message.
//! - The distribution for a question: a fine-tune on a dataset listed in `models` tries that
//!   entry's `probes`, then its `default`; then (and for the base model and fine-tunes on
//!   unlisted datasets) `base`'s `probes`, then `base`'s `default`. No match is an error.
//!
//! # Sampling
//! - Replica spread: for a fine-tune with seed `s` on dataset `d`, each answer's logit
//!   `ln p` is shifted by `replica_sd · z`, with one standard normal `z` per answer (in
//!   declaration order) drawn from `Rng::derive(s, [d, "probe", match])` (or
//!   `[d, "default"]`), then renormalised: the same replica always has the same
//!   distribution, and replicas differ. The base model has no spread.
//! - Temperature `T` > 0 samples from `p^(1/T)` renormalised (the declared probabilities are
//!   those at `T` = 1), restricted by `top_p` to the most likely answers holding that mass;
//!   `T` = 0 gives the most likely answer (the first declared on ties).
//! - Sample `i` is drawn from `Rng::derive(h, [i])`, `h` a hash of the model reference,
//!   the messages and the sampling parameters: a killed and restarted run gets identical
//!   samples, and raising the sample count only adds new ones.
//! - Words count as tokens: `Usage` counts the words of the messages and of the answer, and
//!   an answer longer than `max_tokens` words is cut to that many (finish reason `length`).
//! - With `top_logprobs: k`, each completion carries one "token", the whole answer, with its
//!   log-probability and the `k` most likely answers (from the replica's distribution at
//!   `T` = 1), so the simulator can also stand in for a rating judge.
//!
//! # Fine-tuning
//! [`Finetuner::start`] returns at once with a job id that encodes (spec name, dataset,
//! seed); [`Finetuner::status`] reports `running` for `finetune_polls` polls (counted per
//! process) and then `succeeded` with the model `sim/<name>:ft:<dataset>:<seed>`.
//! Hyperparameters and the dataset's content do not change the simulated model.
//!
//! # Endpoint
//! [`SimProvider`]'s endpoint is `sim:` and a hash of the `*.sim.yaml` files in its folder,
//! so that editing a spec does not reuse samples cached under the old one.

mod dist;
mod spec;
#[cfg(test)]
mod tests;

use crate::chat::{Message, Role};
use crate::model::{
    Completion, FinetuneRequest, Finetuner, JobState, JobStatus, ModelRef, SampleRequest, Sampler,
    SamplingParams, TokenLogprobs, Usage,
};
use crate::rng::Rng;
use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use serde::Serialize;
use spec::{SimSpec, Source};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The provider name of simulated models.
pub const PROVIDER: &str = "sim";

const JOB_PREFIX: &str = "sim-ft:";

/// The simulator: a [`Sampler`] and [`Finetuner`] over the `*.sim.yaml` specs of one folder
/// (see the module doc).
pub struct SimProvider {
    dir: PathBuf,
    endpoint: String,
    specs: Mutex<HashMap<String, Arc<SimSpec>>>,
    polls: Mutex<HashMap<String, u32>>,
}

/// A parsed `sim/...` model reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    name: String,
    /// `(dataset, seed)` of a fine-tune.
    finetune: Option<(String, u64)>,
}

impl Target {
    fn parse(model: &ModelRef) -> Result<Target> {
        if model.provider != PROVIDER {
            bail!("the simulator serves `{PROVIDER}/...` models, not `{model}`");
        }
        let (name, rest) = match model.model.split_once(':') {
            Some((name, rest)) => (name, Some(rest)),
            None => (model.model.as_str(), None),
        };
        check_name(name).with_context(|| format!("bad sim model `{model}`"))?;
        let finetune = match rest {
            None => None,
            Some(rest) => {
                let parsed = rest.strip_prefix("ft:").and_then(|r| r.rsplit_once(':'));
                let (dataset, seed) = parsed
                    .filter(|(d, _)| !d.is_empty())
                    .and_then(|(d, s)| Some((d, s.parse::<u64>().ok()?)))
                    .ok_or_else(|| {
                        anyhow!(
                            "bad sim model `{model}`: expected `{PROVIDER}/<name>` or `{PROVIDER}/<name>:ft:<dataset>:<seed>`"
                        )
                    })?;
                Some((dataset.to_string(), seed))
            }
        };
        Ok(Target {
            name: name.to_string(),
            finetune,
        })
    }

    /// The model part of the reference (`name` or `name:ft:dataset:seed`).
    fn model(&self) -> String {
        match &self.finetune {
            None => self.name.clone(),
            Some((d, s)) => format!("{}:ft:{d}:{s}", self.name),
        }
    }
}

fn check_name(name: &str) -> Result<()> {
    if !crate::names::is_name(name) {
        bail!("the spec name `{name}` may hold only letters, digits, `-` and `_`");
    }
    Ok(())
}

impl SimProvider {
    /// A simulator whose `sim/<name>` models are described by `<dir>/<name>.sim.yaml`.
    /// Specs are read when a model is first used.
    pub fn new(dir: PathBuf) -> SimProvider {
        let endpoint = format!("{PROVIDER}:{}", specs_hash(&dir));
        SimProvider {
            dir,
            endpoint,
            specs: Mutex::new(HashMap::new()),
            polls: Mutex::new(HashMap::new()),
        }
    }

    fn spec(&self, name: &str) -> Result<Arc<SimSpec>> {
        if let Some(s) = self.specs.lock().expect("sim specs lock").get(name) {
            return Ok(s.clone());
        }
        let path = self.dir.join(format!("{name}.sim.yaml"));
        if !path.is_file() {
            bail!(
                "`{PROVIDER}/{name}`: no simulator spec {} (a `{PROVIDER}/<name>` model is described by `<name>.sim.yaml` in the suite's folder)",
                path.display()
            );
        }
        let spec = Arc::new(SimSpec::load(&path)?);
        self.specs
            .lock()
            .expect("sim specs lock")
            .insert(name.to_string(), spec.clone());
        Ok(spec)
    }
}

/// A short hash of the `*.sim.yaml` files of `dir` (names and contents); `empty` if none.
fn specs_hash(dir: &std::path::Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".sim.yaml"))
        .collect();
    if files.is_empty() {
        return "empty".into();
    }
    files.sort();
    let mut h = blake3::Hasher::new();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        let content = std::fs::read(&f).unwrap_or_default();
        for part in [name.unwrap_or_default().as_bytes(), &content] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().to_hex()[..16].to_string()
}

/// The seed of a request's sample stream: a hash of model, messages and parameters.
fn request_seed(model: &ModelRef, messages: &[Message], params: &SamplingParams) -> u64 {
    #[derive(Serialize)]
    struct Key<'a> {
        model: String,
        messages: &'a [Message],
        params: &'a SamplingParams,
    }
    let key = Key {
        model: model.to_string(),
        messages,
        params,
    };
    let bytes = serde_json::to_vec(&key).expect("a sample request serializes");
    let hash = blake3::hash(&bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

fn words(s: &str) -> u32 {
    s.split_whitespace().count() as u32
}

/// `text` cut to at most `max` words (joined by single spaces), and whether it was cut.
fn truncate_words(text: &str, max: u32) -> (String, bool) {
    if words(text) <= max {
        return (text.to_string(), false);
    }
    let kept: Vec<&str> = text.split_whitespace().take(max as usize).collect();
    (kept.join(" "), true)
}

#[async_trait]
impl Sampler for SimProvider {
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>> {
        let target = Target::parse(req.model)?;
        let spec = self.spec(&target.name)?;
        let question = req
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .ok_or_else(|| anyhow!("`{}`: the request has no user message", req.model))?;
        let dataset = target.finetune.as_ref().map(|(d, _)| d.as_str());
        let (dist, source) = spec
            .resolve(dataset, question)
            .with_context(|| format!("`{}`", req.model))?;
        if spec.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(spec.latency_ms)).await;
        }
        let probs = match &target.finetune {
            Some((d, seed)) if spec.replica_sd > 0.0 => {
                let mut rng = match source {
                    Source::Probe(pattern) => Rng::derive(*seed, &[d, "probe", pattern]),
                    Source::Default => Rng::derive(*seed, &[d, "default"]),
                };
                dist::with_spread(&dist.probs, spec.replica_sd, &mut rng)
            }
            _ => dist.probs.clone(),
        };
        let params = req.params;
        let weights = if params.temperature == 0.0 {
            None
        } else {
            Some(dist::for_sampling(
                &probs,
                params.temperature,
                params.top_p,
            )?)
        };
        let seed = request_seed(req.model, req.messages, params);
        let input_tokens: u32 = req.messages.iter().map(|m| words(&m.content)).sum();
        let top = params.top_logprobs.map(|k| {
            let mut order: Vec<usize> = (0..probs.len()).filter(|&i| probs[i] > 0.0).collect();
            order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
            order.truncate(k as usize);
            order
                .into_iter()
                .map(|i| (dist.answers[i].clone(), probs[i].ln()))
                .collect::<Vec<_>>()
        });
        let out = req
            .indices
            .clone()
            .map(|i| {
                let k = match &weights {
                    None => dist::argmax(&probs),
                    Some(w) => Rng::derive(seed, &[&i.to_string()]).weighted(w),
                };
                let answer = &dist.answers[k];
                let (text, cut) = truncate_words(answer, params.max_tokens);
                Completion {
                    logprobs: top.as_ref().map(|top| {
                        vec![TokenLogprobs {
                            token: answer.clone(),
                            logprob: probs[k].ln(),
                            top: top.clone(),
                        }]
                    }),
                    usage: Usage {
                        input_tokens,
                        output_tokens: words(&text),
                    },
                    finish_reason: Some(if cut { "length" } else { "stop" }.into()),
                    text,
                }
            })
            .collect();
        Ok(out)
    }
}

#[async_trait]
impl Finetuner for SimProvider {
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    async fn start(&self, req: FinetuneRequest<'_>) -> Result<String> {
        let base = Target::parse(req.base)?;
        if base.finetune.is_some() {
            bail!(
                "the simulator fine-tunes base models only, not the fine-tune `{}`",
                req.base
            );
        }
        self.spec(&base.name)?;
        let dataset = &req.data.name;
        if dataset.is_empty() || dataset.chars().any(char::is_whitespace) {
            bail!("sim: the dataset name `{dataset}` may not be empty or hold whitespace");
        }
        if req.data.conversations.is_empty() {
            bail!("sim: the dataset `{dataset}` has no conversations");
        }
        let target = Target {
            name: base.name,
            finetune: Some((dataset.clone(), req.seed)),
        };
        Ok(format!("{JOB_PREFIX}{}", target.model()))
    }

    async fn status(&self, job_id: &str) -> Result<JobStatus> {
        let target = job_id
            .strip_prefix(JOB_PREFIX)
            .map(|m| Target::parse(&ModelRef::new(PROVIDER, m)))
            .transpose()?
            .filter(|t| t.finetune.is_some())
            .ok_or_else(|| anyhow!("`{job_id}` is not a simulator fine-tuning job"))?;
        let spec = self.spec(&target.name)?;
        let poll = {
            let mut polls = self.polls.lock().expect("sim polls lock");
            let n = polls.entry(job_id.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let model = ModelRef::new(PROVIDER, target.model());
        let mut events = vec![format!("created a simulated fine-tune: {model}")];
        for p in 1..=poll.min(spec.finetune_polls) {
            events.push(format!("running (poll {p} of {})", spec.finetune_polls));
        }
        if poll <= spec.finetune_polls {
            return Ok(JobStatus {
                state: JobState::Running,
                model: None,
                error: None,
                events,
            });
        }
        events.push("succeeded".into());
        Ok(JobStatus {
            state: JobState::Succeeded,
            model: Some(model),
            error: None,
            events,
        })
    }
}

/// The simulator as a [`crate::model::provider::Provider`]: free and prepared.
impl crate::model::provider::Provider for Arc<SimProvider> {
    fn sampler(&self) -> Result<Arc<dyn Sampler>> {
        Ok(self.clone())
    }

    fn finetuner(&self) -> Result<Arc<dyn Finetuner>> {
        Ok(self.clone())
    }

    fn price(&self, _model: &str) -> Option<crate::model::config::Price> {
        Some(crate::model::config::Price::FREE)
    }

    fn poll_delay(&self, _attempt: u32) -> std::time::Duration {
        std::time::Duration::from_millis(50)
    }
}

/// The simulator where no suite names its folder: every use fails with the reason.
pub struct OutsideSuite(pub String);

impl crate::model::provider::Provider for OutsideSuite {
    fn sampler(&self) -> Result<Arc<dyn Sampler>> {
        bail!("{}", self.0)
    }

    fn finetuner(&self) -> Result<Arc<dyn Finetuner>> {
        bail!("{}", self.0)
    }

    fn unavailable(&self) -> Option<String> {
        Some(self.0.clone())
    }

    fn price(&self, _model: &str) -> Option<crate::model::config::Price> {
        Some(crate::model::config::Price::FREE)
    }

    fn poll_delay(&self, _attempt: u32) -> std::time::Duration {
        std::time::Duration::from_millis(50)
    }
}
