//! From observations to effect estimates, intervals, p-values and verdicts. No I/O.
//!
//! Each effect is a weighted combination of cell means: equal weight per probe, and per cell
//! (or treatment/control pair of cells) within a probe. When every fine-tuned arm has ≥ 2
//! replicas the replica is the unit ([`replica`]); otherwise, and for fixed models alone,
//! samples are ([`sample`]), and the result says that fine-tune variance was not estimated.
//! p-values are corrected across the effects of one run, then turned into verdicts.

mod aggregate;
mod analysis;
mod baseline;
pub mod compare;
mod design;
mod replica;
mod sample;
#[cfg(test)]
mod tests;
mod types;
mod verdict;

pub use baseline::{BaselineComparison, BaselineStatus, compare_with_baseline};
pub use types::*;

use crate::rng::Rng;

/// Evaluates one suite run's effects: one result per input, in order. p-values are adjusted
/// across all of them with `correction`; each effect's bootstrap is seeded from `seed` and
/// its name, so results are identical for the same seed on any machine.
pub fn evaluate(inputs: &[EffectInput], correction: Correction, seed: u64) -> Vec<EffectResult> {
    let analyses: Vec<analysis::Analysis> = inputs
        .iter()
        .map(|i| {
            let effect_seed = Rng::derive(seed, &["effect-bootstrap", &i.spec.name]).next_u64();
            analysis::analyse(&i.spec, &i.data, effect_seed)
        })
        .collect();
    let p: Vec<f64> = analyses.iter().map(|a| a.p_value).collect();
    let against: Vec<f64> = analyses.iter().map(|a| a.p_against).collect();
    let p_adj = verdict::adjust(&p, correction);
    let against_adj = verdict::adjust(&against, correction);
    inputs
        .iter()
        .zip(analyses)
        .enumerate()
        .map(|(i, (input, a))| {
            let e = &input.spec.expectation;
            let v = verdict::verdict(e, &a, p_adj[i], against_adj[i]);
            let needed = if v == Verdict::Inconclusive {
                verdict::needed(e, &a)
            } else {
                None
            };
            EffectResult {
                name: input.spec.name.clone(),
                estimate: a.estimate,
                ci: a.ci,
                bootstrap_ci: a.bootstrap_ci,
                p_value: a.p_value,
                p_adjusted: p_adj[i],
                verdict: v,
                unit: a.unit,
                method: a.method,
                arms: a.arms,
                missing: a.missing,
                notes: a.notes,
                needed,
            }
        })
        .collect()
}
