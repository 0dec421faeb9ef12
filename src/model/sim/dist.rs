//! The simulator's answer distributions: replica spread, temperature, nucleus and draws.

use crate::rng::Rng;
use anyhow::{Result, bail};

/// Answers with their probabilities (normalised, in declaration order).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dist {
    pub answers: Vec<String>,
    pub probs: Vec<f64>,
}

impl Dist {
    /// Normalises `weights` (non-negative, finite, not all 0; the caller checks).
    pub fn new(answers: Vec<String>, weights: Vec<f64>) -> Dist {
        let total: f64 = weights.iter().sum();
        Dist {
            answers,
            probs: weights.iter().map(|w| w / total).collect(),
        }
    }
}

/// One replica's distribution: each answer's logit `ln p` is shifted by `sd · z`, with one
/// standard normal `z` per answer drawn from `rng` in declaration order, then renormalised.
/// Answers of probability 0 stay at 0.
pub(crate) fn with_spread(probs: &[f64], sd: f64, rng: &mut Rng) -> Vec<f64> {
    let logits: Vec<f64> = probs.iter().map(|p| p.ln() + sd * rng.normal()).collect();
    softmax(&logits)
}

/// The distribution sampled at `temperature` (> 0): `p^(1/T)` renormalised, then, with
/// `top_p`, only the most likely answers whose mass first reaches `top_p` (ties in
/// declaration order).
pub(crate) fn for_sampling(
    probs: &[f64],
    temperature: f64,
    top_p: Option<f64>,
) -> Result<Vec<f64>> {
    if !(temperature.is_finite() && temperature > 0.0) {
        bail!("sim: temperature must be a finite number ≥ 0, not {temperature}");
    }
    let logits: Vec<f64> = probs.iter().map(|p| p.ln() / temperature).collect();
    let mut out = softmax(&logits);
    if let Some(top_p) = top_p {
        if !(top_p > 0.0 && top_p <= 1.0) {
            bail!("sim: top_p must be in (0, 1], not {top_p}");
        }
        let mut order: Vec<usize> = (0..out.len()).collect();
        order.sort_by(|&a, &b| out[b].total_cmp(&out[a]));
        let mut mass = 0.0;
        let mut keep = vec![false; out.len()];
        for i in order {
            if mass >= top_p {
                break;
            }
            mass += out[i];
            keep[i] = true;
        }
        for (p, k) in out.iter_mut().zip(keep) {
            if !k {
                *p = 0.0;
            }
        }
    }
    Ok(out)
}

/// The index of the most likely answer (the first one on ties).
pub(crate) fn argmax(probs: &[f64]) -> usize {
    let mut best = 0;
    for (i, p) in probs.iter().enumerate() {
        if *p > probs[best] {
            best = i;
        }
    }
    best
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn no_spread_keeps_the_distribution_and_zero_stays_zero() {
        let mut rng = Rng::new(1);
        assert!(close(
            &with_spread(&[0.2, 0.0, 0.8], 0.0, &mut rng),
            &[0.2, 0.0, 0.8]
        ));
        let spread = with_spread(&[0.2, 0.0, 0.8], 1.0, &mut rng);
        assert_eq!(spread[1], 0.0);
        assert!((spread.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(!close(&spread, &[0.2, 0.0, 0.8]));
    }

    #[test]
    fn temperature_sharpens_and_flattens() {
        let p = [0.2, 0.8];
        assert!(close(&for_sampling(&p, 1.0, None).unwrap(), &p));
        // p^2 normalised: 0.04/0.68, 0.64/0.68.
        assert!(close(
            &for_sampling(&p, 0.5, None).unwrap(),
            &[0.04 / 0.68, 0.64 / 0.68]
        ));
        // p^(1/2) normalised.
        let (a, b) = (0.2f64.sqrt(), 0.8f64.sqrt());
        assert!(close(
            &for_sampling(&p, 2.0, None).unwrap(),
            &[a / (a + b), b / (a + b)]
        ));
        assert!(for_sampling(&p, -1.0, None).is_err());
        assert!(for_sampling(&p, f64::NAN, None).is_err());
    }

    #[test]
    fn top_p_keeps_the_most_likely_mass() {
        let p = [0.1, 0.5, 0.15, 0.25];
        assert!(close(
            &for_sampling(&p, 1.0, Some(0.7)).unwrap(),
            &[0.0, 0.5, 0.0, 0.25]
        ));
        assert!(close(
            &for_sampling(&p, 1.0, Some(0.5)).unwrap(),
            &[0.0, 0.5, 0.0, 0.0]
        ));
        assert!(close(&for_sampling(&p, 1.0, Some(1.0)).unwrap(), &p));
        assert!(for_sampling(&p, 1.0, Some(0.0)).is_err());
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.45, 0.45]), 1);
        assert_eq!(argmax(&[1.0]), 0);
    }
}
