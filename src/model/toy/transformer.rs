//! The toy model: a small pre-LayerNorm causal transformer with learned positions.

use super::math::normal;
use super::matmul::mm;
use super::ops::{
    attention, bias_add, bias_gelu, embed, layer_norm, residual_bias_add, select_rows,
};
use super::vocab::PAD;
use crate::rng::Rng;
use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

const LN_EPS: f32 = 1e-5;

/// The model's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub vocab: usize,
    pub d_model: usize,
    pub n_heads: usize,
    pub n_layers: usize,
    pub d_mlp: usize,
    /// Longest sequence (learned positions).
    pub context: usize,
}

impl ModelConfig {
    /// The standard toy model for a vocabulary: 2 layers, d 128, 4 heads, MLP 512, context 40.
    pub fn standard(vocab: usize) -> ModelConfig {
        ModelConfig {
            vocab,
            d_model: 128,
            n_heads: 4,
            n_layers: 2,
            d_mlp: 512,
            context: 40,
        }
    }

    /// Names and shapes of every parameter, in a fixed order.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (d, v) = (self.d_model, self.vocab);
        let mut out = vec![
            ("tok_emb".to_string(), vec![v, d]),
            ("pos_emb".to_string(), vec![self.context, d]),
        ];
        for l in 0..self.n_layers {
            for (name, shape) in [
                ("ln1_g", vec![d]),
                ("ln1_b", vec![d]),
                ("w_qkv", vec![d, 3 * d]),
                ("b_qkv", vec![3 * d]),
                ("w_o", vec![d, d]),
                ("b_o", vec![d]),
                ("ln2_g", vec![d]),
                ("ln2_b", vec![d]),
                ("w_1", vec![d, self.d_mlp]),
                ("b_1", vec![self.d_mlp]),
                ("w_2", vec![self.d_mlp, d]),
                ("b_2", vec![d]),
            ] {
                out.push((format!("l{l}.{name}"), shape));
            }
        }
        out.push(("lnf_g".to_string(), vec![d]));
        out.push(("lnf_b".to_string(), vec![d]));
        out.push(("w_head".to_string(), vec![d, v]));
        out.push(("b_head".to_string(), vec![v]));
        out
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.parameter_shapes()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }
}

/// The weights of a model, by name (see [`ModelConfig::parameter_shapes`]).
#[derive(Debug, Clone)]
pub struct Weights {
    pub config: ModelConfig,
    tensors: HashMap<String, Tensor>,
}

/// Whether a parameter is a weight matrix or embedding (decayed by AdamW), not a gain or bias.
pub fn is_matrix(name: &str) -> bool {
    let short = name.rsplit('.').next().unwrap_or(name);
    short.starts_with("w_") || short.ends_with("_emb")
}

impl Weights {
    /// Fresh weights drawn from `rng`: N(0, 0.02) matrices (residual outputs scaled by
    /// 1/sqrt(2·layers)), zero biases, unit gains.
    pub fn init(config: &ModelConfig, rng: &mut Rng) -> Result<Weights> {
        let resid = 0.02 / ((2 * config.n_layers) as f64).sqrt();
        let mut tensors = HashMap::new();
        for (name, shape) in config.parameter_shapes() {
            let n: usize = shape.iter().product();
            let short = name.rsplit('.').next().unwrap_or(&name);
            let data: Vec<f32> = if is_matrix(&name) {
                let sd = if short == "w_o" || short == "w_2" {
                    resid
                } else {
                    0.02
                };
                (0..n).map(|_| (normal(rng) * sd) as f32).collect()
            } else if short.ends_with("_g") {
                vec![1.0; n]
            } else {
                vec![0.0; n]
            };
            tensors.insert(name, Tensor::from_vec(data, shape, &Device::Cpu)?);
        }
        Ok(Weights {
            config: config.clone(),
            tensors,
        })
    }

    /// The parameter `name`.
    pub fn get(&self, name: &str) -> &Tensor {
        &self.tensors[name]
    }

    /// Trainable variables (copies of the weights), in the order of `parameter_shapes`.
    pub fn to_vars(&self) -> Result<Vec<(String, Var)>> {
        self.config
            .parameter_shapes()
            .into_iter()
            .map(|(name, _)| {
                let v = Var::from_tensor(&self.tensors[&name].copy()?)?;
                Ok((name, v))
            })
            .collect()
    }

    /// Weights that read the current values of `vars` (and track gradients through them).
    pub fn from_vars(config: &ModelConfig, vars: &[(String, Var)]) -> Weights {
        let tensors = vars
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        Weights {
            config: config.clone(),
            tensors,
        }
    }

    /// A snapshot of `vars`, detached from any graph.
    pub fn snapshot(config: &ModelConfig, vars: &[(String, Var)]) -> Result<Weights> {
        let mut tensors = HashMap::new();
        for (n, v) in vars {
            tensors.insert(n.clone(), v.as_detached_tensor().copy()?);
        }
        Ok(Weights {
            config: config.clone(),
            tensors,
        })
    }

    /// blake3 of the parameters in the order of [`ModelConfig::parameter_shapes`]: each one's
    /// name, shape and f32 values (little-endian). Equal digests mean bit-identical weights.
    pub fn digest(&self) -> Result<String> {
        let mut h = blake3::Hasher::new();
        for (name, shape) in self.config.parameter_shapes() {
            h.update(&(name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            for d in shape {
                h.update(&(d as u64).to_le_bytes());
            }
            let values = super::ops::with_data(self.get(&name), <[f32]>::to_vec)?;
            for v in values {
                h.update(&v.to_le_bytes());
            }
        }
        Ok(h.finalize().to_hex().to_string())
    }

    /// Writes the weights as safetensors (the config goes in a JSON file beside them).
    pub fn save(&self, path: &Path) -> Result<()> {
        candle_core::safetensors::save(&self.tensors, path)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Reads weights written by [`Weights::save`], checking every shape against `config`.
    pub fn load(config: &ModelConfig, path: &Path) -> Result<Weights> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("reading toy weights {}", path.display()))?;
        for (name, shape) in config.parameter_shapes() {
            match tensors.get(&name) {
                Some(t) if t.dims() == shape.as_slice() && t.dtype() == DType::F32 => {}
                _ => bail!(
                    "{}: parameter `{name}` is missing or has the wrong shape",
                    path.display()
                ),
            }
        }
        Ok(Weights {
            config: config.clone(),
            tensors,
        })
    }

    /// Final hidden states `(rows·width, d)` of a batch of sequences.
    pub fn hidden(&self, batch: &SeqBatch) -> Result<Tensor> {
        let c = &self.config;
        if batch.width > c.context {
            bail!(
                "a sequence of {} tokens is longer than the context ({})",
                batch.width,
                c.context
            );
        }
        let (b, t) = (batch.rows, batch.width);
        let starts = Arc::new(batch.starts.clone());
        let mut x = embed(
            self.get("tok_emb"),
            self.get("pos_emb"),
            Arc::new(batch.ids.clone()),
            Arc::new(batch.positions.clone()),
        )?;
        for l in 0..c.n_layers {
            let p = |n: &str| self.get(&format!("l{l}.{n}"));
            let a = layer_norm(&x, p("ln1_g"), p("ln1_b"), LN_EPS)?;
            let y = attention(
                &mm(&a, p("w_qkv"))?,
                p("b_qkv"),
                b,
                t,
                c.n_heads,
                starts.clone(),
            )?;
            x = residual_bias_add(&x, &mm(&y, p("w_o"))?, p("b_o"))?;
            let m = layer_norm(&x, p("ln2_g"), p("ln2_b"), LN_EPS)?;
            let m = bias_gelu(&mm(&m, p("w_1"))?, p("b_1"))?;
            x = residual_bias_add(&x, &mm(&m, p("w_2"))?, p("b_2"))?;
        }
        Ok(layer_norm(
            &x,
            self.get("lnf_g"),
            self.get("lnf_b"),
            LN_EPS,
        )?)
    }

    /// Logits `(R, V)` of the rows `rows` of hidden states `(N, d)`.
    pub fn logits(&self, hidden: &Tensor, rows: &[u32]) -> Result<Tensor> {
        let sel = select_rows(hidden, Arc::new(rows.to_vec()))?;
        Ok(bias_add(
            &mm(&sel, self.get("w_head"))?,
            self.get("b_head"),
        )?)
    }
}

/// Token sequences laid out in rows for one forward pass. Several sequences may share a row
/// (packing, which saves the padding of short documents); attention and positions never cross
/// from one sequence to the next, so the result is the same as one sequence per row.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqBatch {
    pub rows: usize,
    pub width: usize,
    /// Token ids, `rows × width`, `<pad>` where no sequence is.
    pub ids: Vec<u32>,
    /// Each token's position within its own sequence.
    pub positions: Vec<u32>,
    /// Each token's first visible token (the start of its sequence), relative to its row.
    pub starts: Vec<u32>,
    /// Flat index (`row · width + column`) of the first token of each sequence, in input order.
    pub offsets: Vec<usize>,
}

impl SeqBatch {
    /// One sequence per row, padded to the longest.
    pub fn one_per_row(seqs: &[&[u32]]) -> SeqBatch {
        let rows: Vec<Vec<usize>> = (0..seqs.len()).map(|i| vec![i]).collect();
        let width = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        Self::build(seqs, &rows, width)
    }

    /// Sequences packed into rows of at most `width` tokens (first fit, longest first).
    pub fn packed(seqs: &[&[u32]], width: usize) -> Result<SeqBatch> {
        if let Some(s) = seqs.iter().find(|s| s.len() > width) {
            bail!(
                "a sequence of {} tokens does not fit rows of {width}",
                s.len()
            );
        }
        let mut order: Vec<usize> = (0..seqs.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(seqs[i].len()), i));
        let (mut rows, mut fill): (Vec<Vec<usize>>, Vec<usize>) = (Vec::new(), Vec::new());
        for i in order {
            match fill.iter().position(|&f| f + seqs[i].len() <= width) {
                Some(r) => {
                    rows[r].push(i);
                    fill[r] += seqs[i].len();
                }
                None => {
                    rows.push(vec![i]);
                    fill.push(seqs[i].len());
                }
            }
        }
        let used = fill.iter().copied().max().unwrap_or(0);
        Ok(Self::build(seqs, &rows, used))
    }

    fn build(seqs: &[&[u32]], rows: &[Vec<usize>], width: usize) -> SeqBatch {
        let n = rows.len() * width;
        let mut b = SeqBatch {
            rows: rows.len(),
            width,
            ids: vec![PAD; n],
            positions: vec![0; n],
            starts: (0..n).map(|k| (k % width.max(1)) as u32).collect(),
            offsets: vec![0; seqs.len()],
        };
        for (r, members) in rows.iter().enumerate() {
            let mut col = 0;
            for &i in members {
                b.offsets[i] = r * width + col;
                for (p, &id) in seqs[i].iter().enumerate() {
                    let k = r * width + col + p;
                    b.ids[k] = id;
                    b.positions[k] = p as u32;
                    b.starts[k] = col as u32;
                }
                col += seqs[i].len();
            }
        }
        b
    }
}
