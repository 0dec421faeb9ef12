//! Next-token distributions (batched forward passes) and seeded draws from them.

use super::math::{exp, exp64, ln};
use super::transformer::{SeqBatch, Weights};
use crate::rng::Rng;
use anyhow::{Result, bail};

/// Log-probabilities of the next token after each prompt, computed in one forward pass
/// (one prompt per row, padded at the end, which causal attention never sees).
pub fn next_token_logprobs(weights: &Weights, prompts: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
    if prompts.is_empty() {
        return Ok(Vec::new());
    }
    if prompts.iter().any(Vec::is_empty) {
        bail!("empty prompt");
    }
    let seqs: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
    let batch = SeqBatch::one_per_row(&seqs);
    let rows: Vec<u32> = prompts
        .iter()
        .zip(&batch.offsets)
        .map(|(p, &o)| (o + p.len() - 1) as u32)
        .collect();
    let hidden = weights.hidden(&batch)?;
    let logits: Vec<Vec<f32>> = weights.logits(&hidden, &rows)?.to_vec2()?;
    Ok(logits.into_iter().map(log_softmax).collect())
}

fn log_softmax(mut z: Vec<f32>) -> Vec<f32> {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let lse = max + ln(z.iter().map(|&v| exp(v - max)).sum::<f32>());
    z.iter_mut().for_each(|v| *v -= lse);
    z
}

/// Draws a token id from `logprobs` with `temperature` (0 = argmax) and nucleus `top_p`,
/// using one uniform draw of `rng`.
pub fn draw(logprobs: &[f32], temperature: f64, top_p: Option<f64>, rng: &mut Rng) -> u32 {
    let u = rng.next_f64();
    if temperature <= 0.0 {
        return argmax(logprobs);
    }
    // Tempered probabilities, most likely first (ties by id, so the order is deterministic).
    let mut p: Vec<(u32, f64)> = logprobs
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l as f64 / temperature))
        .collect();
    let max = p.iter().fold(f64::NEG_INFINITY, |m, x| m.max(x.1));
    p.iter_mut().for_each(|x| x.1 = exp64(x.1 - max));
    p.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: f64 = p.iter().map(|x| x.1).sum();
    let mut keep = p.len();
    if let Some(top_p) = top_p.filter(|&q| q < 1.0) {
        let mut acc = 0.0;
        for (i, x) in p.iter().enumerate() {
            acc += x.1 / total;
            if acc >= top_p {
                keep = i + 1;
                break;
            }
        }
    }
    let kept: f64 = p[..keep].iter().map(|x| x.1).sum();
    let mut x = u * kept;
    for &(id, w) in &p[..keep] {
        if x < w {
            return id;
        }
        x -= w;
    }
    p[keep - 1].0
}

/// The most likely token (the lowest id on ties).
pub fn argmax(logprobs: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logprobs.iter().enumerate() {
        if l > logprobs[best] {
            best = i;
        }
    }
    best as u32
}

/// The `k` most likely tokens with their log-probabilities, most likely first.
pub fn top_k(logprobs: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut all: Vec<(u32, f32)> = logprobs
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}
