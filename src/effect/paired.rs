//! Two models on one effect, paired by replica: replica i of every fine-tuned arm is tuned
//! with the same seed, data and hyperparameters on both models, so the pair is the unit.
//!
//! With the same effect's design on both models' data (the same probe cells, the caller
//! restricts them), pair i's value is `d_i = e_new(i) − e_old(i)`, where `e(i)` is the
//! effect computed from replica i of each fine-tuned arm (a fixed arm's value is the same in
//! every pair). The difference is the mean of the `d_i` with variance `s²_d / n` on `n − 1`
//! df — the paired t — plus each fixed arm's own sampling variance, on Welch-Satterthwaite df.
//! When the pairs agree (up to rounding), `s²_d = 0` is replaced by their average sampling variance,
//! as in the replica-level analysis. Pairing needs ≥ 2 pairs: replicas beyond the smallest
//! fine-tuned arm of either model have no partner and are left out.

use super::analysis::setup;
use super::design::sampling_variance;
use super::setup::Setup;
use super::types::{Aggregate, EffectSpec};
use crate::stats::{Summary, satterthwaite_df};

/// The paired difference new − old of one effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Paired {
    pub difference: f64,
    pub se: f64,
    pub df: f64,
    /// Replica pairs used.
    pub pairs: usize,
}

/// The effect of each pair `0..n`, and the sampling variance of each (fixed arms aside).
fn per_pair(s: &Setup, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let (mut value, mut var) = (-s.offset(), 0.0);
            for g in &s.groups {
                let f = if g.fixed { &g.pooled } else { &g.replicas[i] };
                value += g.weight * f.value().unwrap_or(f64::NAN);
                if !g.fixed {
                    var += sampling_variance(&f.terms(), s.binary, s.fallback_var).0;
                }
            }
            (value, var)
        })
        .collect()
}

/// The fixed arms' sampling variances with their df.
fn fixed_parts(s: &Setup) -> Vec<(f64, f64)> {
    s.groups
        .iter()
        .filter(|g| g.fixed)
        .map(|g| sampling_variance(&g.pooled.terms(), s.binary, s.fallback_var))
        .collect()
}

/// The paired comparison of `spec` on `new` against `old`; none when the effect cannot be
/// computed on either, has no fine-tuned arm, or fewer than 2 replica pairs.
pub(crate) fn paired(spec: &EffectSpec, new: &Aggregate, old: &Aggregate) -> Option<Paired> {
    let (a, b) = (setup(spec, new).ok()?, setup(spec, old).ok()?);
    let n = a
        .groups
        .iter()
        .chain(&b.groups)
        .filter(|g| !g.fixed)
        .map(|g| g.replicas.len())
        .min()?;
    if n < 2 {
        return None;
    }
    let (pa, pb) = (per_pair(&a, n), per_pair(&b, n));
    let d: Vec<f64> = pa.iter().zip(&pb).map(|(x, y)| x.0 - y.0).collect();
    let sum = Summary::of(&d);
    let floor = pa.iter().chain(&pb).map(|p| p.1).sum::<f64>() / n as f64;
    // Pairs that agree up to rounding have no spread to estimate.
    let scale = d.iter().map(|x| x * x).sum::<f64>() / sum.n;
    let spread = if sum.var > 1e-12 * scale {
        sum.var
    } else {
        floor
    };
    let mut comps = vec![(spread / sum.n, sum.n - 1.0)];
    comps.extend(fixed_parts(&a));
    comps.extend(fixed_parts(&b));
    let var: f64 = comps.iter().map(|c| c.0).sum();
    Some(Paired {
        difference: sum.mean,
        se: var.sqrt(),
        df: satterthwaite_df(&comps),
        pairs: n,
    })
}
