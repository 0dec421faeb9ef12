//! Training: pretraining on the generated corpus (AdamW, warmup + cosine) and fine-tuning on
//! chat examples (Adam, loss on the assistant's tokens only, all parameters).

use super::corpus;
use super::math::{cos64, powi};
use super::transformer::{ModelConfig, SeqBatch, Weights, is_matrix};
use super::vocab::Vocab;
use super::world::WorldSpec;
use crate::rng::Rng;
use anyhow::{Context, Result, bail};
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

/// One training sequence: token ids, and which tokens are predicted (carry loss).
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub ids: Vec<u32>,
    /// `targets[p]`: token `p` is predicted from the tokens before it.
    pub targets: Vec<bool>,
}

impl Example {
    /// A corpus document: every token but the first is predicted.
    pub fn document(ids: Vec<u32>) -> Example {
        let targets = (0..ids.len()).map(|p| p > 0).collect();
        Example { ids, targets }
    }
}

/// Pretraining settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// Corpus size in documents.
    pub docs: usize,
    pub steps: usize,
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warmup steps, then cosine decay to `lr · final_lr_fraction`.
    pub warmup: usize,
    pub final_lr_fraction: f64,
    /// AdamW weight decay of matrices and embeddings.
    pub weight_decay: f64,
    /// Gradient clipping by global norm.
    pub clip_norm: f64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            docs: 60_000,
            steps: 800,
            batch: 128,
            lr: 3e-3,
            warmup: 40,
            final_lr_fraction: 0.1,
            weight_decay: 0.01,
            clip_norm: 1.0,
        }
    }
}

impl PretrainConfig {
    /// The learning rate at `step` (0-based).
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let span = (self.steps - self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        let cosine = 0.5 * (1.0 + cos64(std::f64::consts::PI * progress));
        self.lr * (self.final_lr_fraction + (1.0 - self.final_lr_fraction) * cosine)
    }
}

/// Fine-tuning settings (resolved from the API's hyperparameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinetuneConfig {
    pub epochs: u32,
    pub batch: u32,
    pub lr: f64,
}

/// Pretrains a model of shape `model` on the corpus of `seed`; `progress(step, loss)` is
/// called after every step.
pub fn pretrain(
    spec: &WorldSpec,
    model: &ModelConfig,
    cfg: &PretrainConfig,
    seed: u64,
    progress: &mut dyn FnMut(usize, f32),
) -> Result<Weights> {
    tune_allocator();
    let vocab = Vocab::new(spec);
    if vocab.len() != model.vocab {
        bail!(
            "model vocabulary {} does not match the world's {}",
            model.vocab,
            vocab.len()
        );
    }
    let longest = corpus::max_doc_len(spec);
    if longest > model.context {
        bail!(
            "world `{}` can produce documents of {longest} tokens, longer than the model's context ({})",
            spec.name,
            model.context
        );
    }
    let docs: Vec<Example> = corpus::generate(spec, seed, cfg.docs)
        .into_iter()
        .map(|d| {
            let ids = d
                .tokens
                .iter()
                .map(|t| vocab.id(t).expect("world token"))
                .collect();
            Example::document(ids)
        })
        .collect();
    let order = shuffled_batches(
        docs.len(),
        cfg.batch,
        cfg.steps,
        &mut Rng::derive(seed, &["toy-batches"]),
    );
    let init = Weights::init(model, &mut Rng::derive(seed, &["toy-init"]))?;
    let vars = init.to_vars()?;
    let mut opt = AdamW::new(&vars, cfg.weight_decay)?;
    for (step, batch) in order.iter().enumerate() {
        let examples: Vec<&Example> = batch.iter().map(|&i| &docs[i]).collect();
        let weights = Weights::from_vars(model, &vars);
        let loss = batch_loss(&weights, &examples, Some(model.context))?;
        let grads = loss.backward()?;
        opt.step(&grads, cfg.lr_at(step), Some(cfg.clip_norm))?;
        progress(step, loss.to_scalar::<f32>()?);
    }
    Weights::snapshot(model, &vars)
}

/// Fine-tunes `base` on `examples` with Adam; the seed orders the data.
pub fn finetune(
    base: &Weights,
    examples: &[Example],
    cfg: &FinetuneConfig,
    seed: u64,
) -> Result<Weights> {
    if examples.is_empty() {
        bail!("the fine-tuning set is empty");
    }
    if cfg.batch == 0 || cfg.epochs == 0 {
        bail!("fine-tuning needs epochs >= 1 and batch_size >= 1");
    }
    tune_allocator();
    let vars = base.to_vars()?;
    let mut opt = AdamW::new(&vars, 0.0)?;
    let mut rng = Rng::derive(seed, &["toy-finetune"]);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(cfg.batch as usize) {
            let batch: Vec<&Example> = chunk.iter().map(|&i| &examples[i]).collect();
            let weights = Weights::from_vars(&base.config, &vars);
            let loss = batch_loss(&weights, &batch, None)?;
            opt.step(&loss.backward()?, cfg.lr, None)?;
        }
    }
    Weights::snapshot(&base.config, &vars)
}

/// Mean cross-entropy of the predicted tokens of a batch; with `pack_width` the examples
/// share rows of that many tokens, else each has its own row.
pub fn batch_loss(
    weights: &Weights,
    examples: &[&Example],
    pack_width: Option<usize>,
) -> Result<Tensor> {
    let seqs: Vec<&[u32]> = examples.iter().map(|e| e.ids.as_slice()).collect();
    let batch = match pack_width {
        Some(w) => SeqBatch::packed(&seqs, w)?,
        None => SeqBatch::one_per_row(&seqs),
    };
    let (mut rows, mut targets) = (Vec::new(), Vec::new());
    for (e, &offset) in examples.iter().zip(&batch.offsets) {
        for p in 1..e.ids.len() {
            if e.targets[p] {
                rows.push((offset + p - 1) as u32);
                targets.push(e.ids[p]);
            }
        }
    }
    if rows.is_empty() {
        bail!("no token of the batch carries loss");
    }
    let hidden = weights.hidden(&batch)?;
    let logits = weights.logits(&hidden, &rows)?;
    let ones = vec![1f32; rows.len()];
    Ok(super::ops::cross_entropy(&logits, targets, ones)?)
}

/// Batches of `batch` document indices for `steps` steps: every epoch a fresh shuffle,
/// cut into consecutive batches (the last incomplete batch of an epoch is dropped).
///
/// Batches must be random samples of the corpus: sorting documents by length (to pad less)
/// makes batches nearly homogeneous in document kind, and the model then failed to learn
/// the persona's year-specific goals in 800 steps. Packing (see [`SeqBatch::packed`]) saves
/// the padding instead.
fn shuffled_batches(n: usize, batch: usize, steps: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    assert!(n >= batch && batch > 0, "corpus smaller than one batch");
    let mut out = Vec::with_capacity(steps);
    while out.len() < steps {
        let mut perm: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut perm);
        out.extend(perm.chunks_exact(batch).map(<[usize]>::to_vec));
    }
    out.truncate(steps);
    out
}

/// Adam with decoupled weight decay on matrices (AdamW); plain Adam when the decay is 0.
struct AdamW<'a> {
    vars: &'a [(String, Var)],
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: u32,
    weight_decay: f64,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl<'a> AdamW<'a> {
    fn new(vars: &'a [(String, Var)], weight_decay: f64) -> Result<Self> {
        let zeros = || {
            vars.iter()
                .map(|(_, v)| vec![0f32; v.elem_count()])
                .collect()
        };
        Ok(AdamW {
            vars,
            m: zeros(),
            v: zeros(),
            t: 0,
            weight_decay,
        })
    }

    fn step(&mut self, grads: &GradStore, lr: f64, clip_norm: Option<f64>) -> Result<()> {
        self.t += 1;
        let mut all = Vec::with_capacity(self.vars.len());
        for (name, var) in self.vars {
            let g = grads
                .get(var.as_tensor())
                .with_context(|| format!("toy model parameter `{name}` received no gradient"))?;
            all.push(super::ops::with_data(g, <[f32]>::to_vec)?);
        }
        let mut scale = 1f32;
        if let Some(max) = clip_norm {
            let norm = all
                .iter()
                .flatten()
                .map(|&g| g as f64 * g as f64)
                .sum::<f64>()
                .sqrt();
            if norm > max {
                scale = (max / norm) as f32;
            }
        }
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        let c1 = (1.0 - powi(BETA1, self.t)) as f32;
        let c2 = (1.0 - powi(BETA2, self.t)) as f32;
        for (i, (name, var)) in self.vars.iter().enumerate() {
            let decay = if is_matrix(name) {
                (lr * self.weight_decay) as f32
            } else {
                0.0
            };
            let mut theta = super::ops::with_data(var.as_tensor(), <[f32]>::to_vec)?;
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            for (j, p) in theta.iter_mut().enumerate() {
                let g = all[i][j] * scale;
                m[j] = b1 * m[j] + (1.0 - b1) * g;
                v[j] = b2 * v[j] + (1.0 - b2) * g * g;
                let update = (m[j] / c1) / ((v[j] / c2).sqrt() + EPS as f32);
                *p = *p * (1.0 - decay) - lr as f32 * update;
            }
            var.set(&Tensor::from_vec(theta, var.shape(), &Device::Cpu)?)?;
        }
        Ok(())
    }
}

/// Keeps freed memory in the process for reuse (glibc): training allocates and frees the
/// same large buffers every step, and giving them back to the OS costs more than the compute.
/// Large buffers stay on the heap (mmap threshold 32 MB), the heap is not trimmed below
/// 256 MB, and a 128 MB top pad stops glibc from unmapping whole heaps of the per-thread arenas
/// that training threads use (without it a pretraining run took ~8 M page faults, measured).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            unsafe extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_TOP_PAD: i32 = -2;
            const M_MMAP_THRESHOLD: i32 = -3;
            // SAFETY: mallopt only changes glibc allocator thresholds, with valid parameter
            // codes and values; glibc serialises it with the allocator's own locks.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, 32 << 20);
                mallopt(M_TRIM_THRESHOLD, 256 << 20);
                mallopt(M_TOP_PAD, 128 << 20);
            }
        });
    }
}
