//! Replica-level analysis: each fine-tune is one draw, so per-replica values are the data.
//!
//! Each fine-tuned arm contributes the mean of its replicas' values with variance s²/n on
//! n − 1 df, where s² is the between-replica variance; when the replicas agree exactly (e.g.
//! all at 0%), s² = 0 is replaced by their average sampling variance rather than claiming no
//! variance at all. A fixed arm (one model, no fine-tune variance) contributes its value with its
//! sampling variance (Jeffreys-adjusted binomial or sample variance, equal probe weights)
//! on Satterthwaite df from its cells. The estimate's variance is the sum, and its df the
//! Welch-Satterthwaite combination: two tuned arms give Welch's t, one tuned arm alone a
//! one-sample (contrast: paired-by-replica) t, and a tuned arm against a fixed arm a
//! Welch-type t in which the fixed arm carries its own sampling error.

use super::design::{Functional, sampling_variance};
use super::inference::{combination_interval, t_based_p};
use super::setup::{Analysis, Group, Kind, Plan, Setup};
use super::types::{ArmSummary, CellTotals, Direction, Unit};
use crate::stats::bootstrap::{CellSamples, ClusterGroup, Term};
use crate::stats::{
    Alternative, Summary, hierarchical_bootstrap, satterthwaite_df, t_test_from_estimate,
};

/// Resamples of the hierarchical bootstrap interval.
pub(crate) const BOOTSTRAP_RESAMPLES: usize = 2000;

/// One arm's contribution: its value, the variance of that value and its df.
struct Part {
    mean: f64,
    var: f64,
    df: f64,
    /// For tuned arms: the variance of one replica's value, the part of it that is
    /// within-replica sampling error, and the replica count.
    spread: Option<(f64, f64, f64)>,
    values: Vec<f64>,
}

fn part(g: &Group, s: &Setup) -> Part {
    if g.fixed {
        let (var, df) = sampling_variance(&g.pooled.terms(), s.binary, s.fallback_var);
        let v = g.pooled.value().unwrap_or(f64::NAN);
        return Part {
            mean: v,
            var,
            df,
            spread: None,
            values: vec![v],
        };
    }
    let values: Vec<f64> = g.replicas.iter().filter_map(Functional::value).collect();
    let sum = Summary::of(&values);
    let floor = g
        .replicas
        .iter()
        .map(|f| sampling_variance(&f.terms(), s.binary, s.fallback_var).0)
        .sum::<f64>()
        / g.replicas.len() as f64;
    let var = if sum.var > 0.0 { sum.var } else { floor };
    Part {
        mean: sum.mean,
        var: var / sum.n,
        df: sum.n - 1.0,
        spread: Some((var, floor.min(var), sum.n)),
        values,
    }
}

fn cell_samples(t: &CellTotals, binary: bool) -> CellSamples {
    CellSamples {
        n: t.n,
        sum: t.sum,
        sum_sq: t.sum_sq,
        binary,
    }
}

/// The hierarchical bootstrap groups of the effect. Fixed arms have no replicas to resample,
/// so their samples are resampled; as the probes are resampled too, part of a fixed arm's
/// sampling error is counted twice and its interval errs on the wide side.
fn bootstrap_groups(s: &Setup) -> Vec<ClusterGroup> {
    s.groups
        .iter()
        .map(|g| {
            let functionals = if g.fixed {
                std::slice::from_ref(&g.pooled)
            } else {
                &g.replicas[..]
            };
            ClusterGroup {
                weight: g.weight,
                resample_samples: g.fixed,
                replicas: functionals
                    .iter()
                    .map(|f| {
                        f.probes
                            .iter()
                            .map(|terms| {
                                terms
                                    .iter()
                                    .map(|(t, c)| Term {
                                        coef: *c,
                                        cell: cell_samples(t, s.binary),
                                    })
                                    .collect()
                            })
                            .collect()
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The replica-level analysis of an effect (every tuned arm has ≥ 2 replicas with data).
pub(crate) fn analyse(s: &Setup, seed: u64) -> Analysis {
    let parts: Vec<Part> = s.groups.iter().map(|g| part(g, s)).collect();
    let estimate = s
        .groups
        .iter()
        .zip(&parts)
        .map(|(g, p)| g.weight * p.mean)
        .sum::<f64>()
        - s.offset();
    let comps: Vec<(f64, f64)> = parts.iter().map(|p| (p.var, p.df)).collect();
    let var: f64 = comps.iter().map(|c| c.0).sum();
    let df = satterthwaite_df(&comps);
    let se = var.sqrt();
    let test = t_test_from_estimate(estimate, se, df, 0.0, Alternative::TwoSided, s.level());
    let (p_confirm, p_refute) = t_based_p(s, estimate, se, df);

    let tuned: Vec<(&Group, &Part)> = s
        .groups
        .iter()
        .zip(&parts)
        .filter(|(g, _)| !g.fixed)
        .collect();
    let fixed: Vec<&Group> = s.groups.iter().filter(|g| g.fixed).collect();
    let counts = tuned
        .iter()
        .map(|(_, p)| p.values.len().to_string())
        .collect::<Vec<_>>()
        .join(" vs ");
    let mut method = match (s.kind, tuned.len()) {
        (Kind::ArmVsArm, 2) => format!("Welch t across replicas ({counts} replicas)"),
        (Kind::DiffInDiff, 2) => format!("Welch t on per-replica contrasts ({counts} replicas)"),
        (Kind::Contrast, _) => {
            format!("paired t across replicas (contrast within each replica, {counts} replicas)")
        }
        (Kind::Level(v), _) => {
            format!("one-sample t across replicas against {v} ({counts} replicas)")
        }
        (Kind::DiffInDiff, _) => format!("t on per-replica contrasts ({counts} replicas)"),
        _ => format!("t across replicas ({counts} replicas)"),
    };
    for g in &fixed {
        method.push_str(&format!(
            "; fixed arm `{}` carries its sampling error (Welch-Satterthwaite df = {df:.1})",
            g.name
        ));
    }
    if s.direction() == Direction::None {
        method.push_str(&format!("; TOST within ±{}", s.spec.expectation.margin));
    }

    let n_probes = s.design.probes.len();
    let bootstrap_ci = hierarchical_bootstrap(
        &bootstrap_groups(s),
        n_probes,
        BOOTSTRAP_RESAMPLES,
        s.level(),
        seed,
    )
    .map(|b| (b.ci.0 - s.offset(), b.ci.1 - s.offset()));

    let arms = s
        .groups
        .iter()
        .zip(&parts)
        .map(|(g, p)| {
            let ci = if g.fixed {
                combination_interval(&g.pooled.terms(), s, 0.0, s.arm_level())
            } else {
                t_test_from_estimate(
                    p.mean,
                    p.var.sqrt(),
                    p.df,
                    0.0,
                    Alternative::TwoSided,
                    s.arm_level(),
                )
                .ci
            };
            ArmSummary {
                name: g.name.clone(),
                replicas: if g.fixed { 1 } else { g.declared },
                samples: g.pooled.samples(),
                missing: g.missing,
                estimate: p.mean,
                ci,
                replica_values: p.values.clone(),
            }
        })
        .collect();

    let spreads: Vec<(f64, f64, f64)> = tuned.iter().filter_map(|(_, p)| p.spread).collect();
    let fixed_parts: Vec<(f64, f64)> = s
        .groups
        .iter()
        .zip(&parts)
        .filter(|(g, _)| g.fixed)
        .map(|(_, p)| (p.var, p.df))
        .collect();
    let plan = Some(Plan::Replicas {
        between: spreads.iter().map(|s| s.0).sum(),
        sampling: spreads.iter().map(|s| s.1).sum(),
        arms: spreads.len() as f64,
        fixed: fixed_parts.iter().map(|f| f.0).sum(),
        fixed_df: satterthwaite_df(&fixed_parts),
        now: spreads.iter().map(|s| s.2).fold(f64::INFINITY, f64::min),
    });
    let mut notes = Vec::new();
    if !fixed.is_empty() && s.kind != Kind::Contrast {
        notes.push("fixed arm: one model with sampling error only (no fine-tune variance)".into());
    }
    Analysis {
        estimate,
        ci: test.ci,
        se,
        df,
        bootstrap_ci,
        p_confirm,
        p_refute,
        unit: Unit::Replica,
        method,
        arms,
        missing: 0,
        notes,
        plan,
        blocked: None,
    }
}
