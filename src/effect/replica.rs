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

use super::analysis::{Analysis, Group, Kind, Plan, Setup};
use super::design::{Functional, sampling_variance};
use super::sample::combination_interval;
use super::types::{ArmSummary, Direction, Unit};
use crate::stats::bootstrap::{CellSamples, ClusterGroup, Term};
use crate::stats::{
    Alternative, Summary, hierarchical_bootstrap, satterthwaite_df, t_test_from_estimate,
    tost_from_estimate,
};

/// Resamples of the hierarchical bootstrap interval.
pub(crate) const BOOTSTRAP_RESAMPLES: usize = 2000;

/// One arm's contribution: its value, the variance of that value and its df.
struct Part {
    mean: f64,
    var: f64,
    df: f64,
    /// Between-replica SD and replica count, for tuned arms.
    spread: Option<(f64, f64)>,
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
        spread: Some((var.sqrt(), sum.n)),
        values,
    }
}

/// The alternative of the expected direction.
pub(crate) fn expected_alternative(d: Direction) -> Alternative {
    match d {
        Direction::Decrease => Alternative::Less,
        _ => Alternative::Greater,
    }
}

/// The alternative opposite to the expected direction.
pub(crate) fn opposite_alternative(d: Direction) -> Alternative {
    match d {
        Direction::Decrease => Alternative::Greater,
        _ => Alternative::Less,
    }
}

/// p-values of an (estimate, se, df) for the expectation: (supporting, against). For
/// `none`: TOST within ± margin, and the one-sided test of a shift beyond the margin
/// (the smaller side, doubled).
pub(crate) fn t_based_p(s: &Setup, estimate: f64, se: f64, df: f64) -> (f64, f64) {
    let e = s.spec.expectation;
    match e.direction {
        Direction::None => {
            let tost = tost_from_estimate(estimate, se, df, -e.margin, e.margin);
            let up =
                t_test_from_estimate(estimate, se, df, e.margin, Alternative::Greater, s.level())
                    .p_value;
            let down =
                t_test_from_estimate(estimate, se, df, -e.margin, Alternative::Less, s.level())
                    .p_value;
            (tost.p_value, (2.0 * up.min(down)).min(1.0))
        }
        d => (
            t_test_from_estimate(estimate, se, df, 0.0, expected_alternative(d), s.level()).p_value,
            t_test_from_estimate(estimate, se, df, 0.0, opposite_alternative(d), s.level()).p_value,
        ),
    }
}

fn cell_samples(t: &super::types::CellTotals, binary: bool) -> CellSamples {
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
    let (p_value, p_against) = t_based_p(s, estimate, se, df);

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
                combination_interval(&g.pooled.terms(), s, 0.0)
            } else {
                t_test_from_estimate(
                    p.mean,
                    p.var.sqrt(),
                    p.df,
                    0.0,
                    Alternative::TwoSided,
                    s.level(),
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

    let plan = match tuned.as_slice() {
        [(_, a), (_, b)] => {
            let (sa, na) = a.spread.unwrap_or((0.0, 0.0));
            let (sb, nb) = b.spread.unwrap_or((0.0, 0.0));
            Some(Plan::ReplicaTwoSample {
                sd: ((sa * sa + sb * sb) / 2.0).sqrt(),
                now: na.min(nb),
            })
        }
        [(_, a)] => a.spread.map(|(sd, now)| Plan::ReplicaOneSample { sd, now }),
        _ => None,
    };
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
        p_value,
        p_against,
        unit: Unit::Replica,
        method,
        arms,
        missing: 0,
        notes,
        plan,
    }
}
