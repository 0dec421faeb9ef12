//! From observations to effect estimates, intervals, p-values and verdicts. No I/O.
//!
//! Each effect is a weighted combination of cell means: equal weight per probe, and per cell
//! (or treatment/control pair of cells) within a probe. When every fine-tuned arm has ≥ 2
//! replicas the replica is the unit (`replica.rs`); otherwise, and for fixed models alone,
//! samples are (`sample.rs`), and the result says that fine-tune variance was not estimated.
//! A claim is tested as declared: for an increase by m, CONFIRMED when the one-sided test of
//! δ ≤ m is rejected at alpha after the suite's correction, REFUTED when the one-sided test of
//! δ ≥ m is (mirrored for a decrease; TOST within the margin for `none`); each of the two
//! families of p-values is corrected across the effects of one run.

mod aggregate;
mod analysis;
mod baseline;
pub mod compare;
mod decide;
mod design;
mod inference;
mod paired;
mod replica;
mod sample;
mod setup;
#[cfg(test)]
mod tests;
mod types;
mod verdict;

pub use baseline::{BaselineComparison, BaselineStatus, compare_with_baseline};
pub use decide::{PLANNING_POWER, replicas_to_decide};
pub use types::*;

use crate::rng::Rng;

/// Evaluates one suite run's effects: one result per input, in order. p-values are adjusted
/// across all of them with `correction`; each effect's bootstrap is seeded from `seed` and
/// its name, so results are identical for the same seed on any machine.
pub fn evaluate(inputs: &[EffectInput], correction: Correction, seed: u64) -> Vec<EffectResult> {
    let analyses: Vec<setup::Analysis> = inputs
        .iter()
        .map(|i| {
            let effect_seed = Rng::derive(seed, &["effect-bootstrap", &i.spec.name]).next_u64();
            analysis::analyse(&i.spec, &i.data, effect_seed)
        })
        .collect();
    let confirm: Vec<f64> = analyses.iter().map(|a| a.p_confirm).collect();
    let refute: Vec<f64> = analyses.iter().map(|a| a.p_refute).collect();
    let confirm_adj = verdict::adjust(&confirm, correction);
    let refute_adj = verdict::adjust(&refute, correction);
    inputs
        .iter()
        .zip(analyses)
        .enumerate()
        .map(|(i, (input, a))| {
            let e = &input.spec.expectation;
            let v = verdict::verdict(e, &a, confirm_adj[i], refute_adj[i]);
            let (needed, plan) = if v == Verdict::Inconclusive {
                let (text, plan) = decide::needed(e, &a, inputs.len(), correction);
                (Some(text), plan)
            } else {
                (None, None)
            };
            let (null_confirm, null_refute) = verdict::nulls(e);
            let tests = vec![
                ClaimTest {
                    null: null_confirm,
                    p_value: a.p_confirm,
                    p_adjusted: confirm_adj[i],
                },
                ClaimTest {
                    null: null_refute,
                    p_value: a.p_refute,
                    p_adjusted: refute_adj[i],
                },
            ];
            // The test that decided; for an inconclusive verdict the one closer to deciding.
            let decided = match v {
                Verdict::Confirmed => 0,
                Verdict::Refuted => 1,
                Verdict::Inconclusive => usize::from(refute_adj[i] < confirm_adj[i]),
            };
            let mut notes = a.notes;
            if let Some(b) = a.blocked {
                notes.push(b);
            }
            EffectResult {
                name: input.spec.name.clone(),
                estimate: a.estimate,
                ci: a.ci,
                bootstrap_ci: a.bootstrap_ci,
                p_value: tests[decided].p_value,
                p_adjusted: tests[decided].p_adjusted,
                null: tests[decided].null.clone(),
                tests,
                verdict: v,
                unit: a.unit,
                method: a.method,
                arms: a.arms,
                missing: a.missing,
                notes,
                needed,
                plan,
            }
        })
        .collect()
}
