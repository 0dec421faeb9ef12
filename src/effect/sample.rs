//! Sample-level analysis, for fixed models and for fine-tuned arms with a single replica
//! (fine-tune variance then cannot be estimated, and the result says so).
//!
//! Rates: arm vs arm and within-arm contrasts use the exact conditional test stratified by
//! cell (the generalisation of Fisher's exact test to strata; cells are strata because
//! probes differ), falling back to Cochran-Mantel-Haenszel when the strata are too large to
//! convolve; a level claim uses the exact binomial test on pooled counts when equal probe
//! weights make the pooled rate the estimate (valid, and conservative when probes differ),
//! a Wald z test otherwise; a difference-in-differences has no exact test and uses a Wald z
//! test. Intervals for rates are MOVER intervals built from each cell's Wilson interval
//! (Newcombe's interval for a difference), so 0% and 100% cells keep a width. Scores use
//! the t test of the equal-weight estimate with Welch-Satterthwaite df over cells.

use super::design::{Functional, sampling_variance};
use super::inference::{
    combination_interval, expected_alternative, opposite_alternative, successes, t_based_p,
};
use super::setup::{Analysis, Group, Kind, Plan, Setup};
use super::types::{ArmSummary, CellTotals, Direction, Unit};
use crate::stats::{binomial_test, cmh_test, stratified_exact};

/// 2×2 strata `[[k_t, n_t − k_t], [k_c, n_c − k_c]]` of treatment vs control cells.
fn stratum(t: &CellTotals, c: &CellTotals) -> [[u64; 2]; 2] {
    let (kt, kc) = (successes(t), successes(c));
    [[kt, t.n - kt], [kc, c.n - kc]]
}

/// Strata for arm vs arm: each cell present in both arms.
fn arm_strata(a: &Functional, b: &Functional) -> Vec<[[u64; 2]; 2]> {
    let mut out = Vec::new();
    for (pa, pb) in a.probes.iter().zip(&b.probes) {
        for (ta, _) in pa {
            if let Some((tb, _)) = pb.iter().find(|(tb, _)| tb.cell == ta.cell) {
                out.push(stratum(ta, tb));
            }
        }
    }
    out
}

/// Strata for a within-arm contrast: each (treatment, control) pair, in the order the
/// functional holds them (+ then −).
fn pair_strata(f: &Functional) -> Vec<[[u64; 2]; 2]> {
    f.probes
        .iter()
        .flat_map(|terms| {
            terms
                .chunks(2)
                .map(|pair| stratum(&pair[0].0, &pair[1].0))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Exact stratified p-values (supporting, against), or CMH when too large; with the method.
fn stratified_p(strata: &[[[u64; 2]; 2]], d: Direction) -> (f64, f64, &'static str) {
    let (alt, opp) = (expected_alternative(d), opposite_alternative(d));
    match (stratified_exact(strata, alt), stratified_exact(strata, opp)) {
        (Some(p), Some(q)) => (
            p,
            q,
            "exact conditional test stratified by cell (Fisher's test for one cell)",
        ),
        _ => (
            cmh_test(strata, alt, true).p_value,
            cmh_test(strata, opp, true).p_value,
            "Cochran-Mantel-Haenszel test stratified by cell (continuity-corrected)",
        ),
    }
}

/// The sample-level analysis of an effect.
pub(crate) fn analyse(s: &Setup) -> Analysis {
    let offset = s.offset();
    let terms: Vec<(CellTotals, f64)> = s
        .groups
        .iter()
        .flat_map(|g| {
            g.pooled
                .terms()
                .into_iter()
                .map(move |(t, c)| (t, g.weight * c))
        })
        .collect();
    let estimate = terms
        .iter()
        .map(|(t, c)| c * t.sum / t.n as f64)
        .sum::<f64>()
        - offset;
    let (var, df) = sampling_variance(&terms, s.binary, s.fallback_var);
    // Rates: a Wald z statistic (normal), scores: t with Satterthwaite df.
    let df = if s.binary { f64::INFINITY } else { df };
    let se = var.sqrt();
    let ci = combination_interval(&terms, s, offset, s.level());
    let dir = s.direction();

    let (mut p_confirm, mut p_refute) = t_based_p(s, estimate, se, df);
    let mut method = if s.binary {
        "Wald z test (Jeffreys-adjusted variances)".to_string()
    } else {
        format!("t test over samples (Welch-Satterthwaite df = {df:.1})")
    };
    // Exact tests where they test the claim's threshold: the conditional tests only test
    // δ = 0 (a threshold m ≠ 0 uses the Wald z test); the binomial test any rate in (0, 1).
    if s.binary && dir != Direction::None {
        let m = s.threshold();
        match s.kind {
            Kind::ArmVsArm if m == 0.0 => {
                let (p, q, how) =
                    stratified_p(&arm_strata(&s.groups[0].pooled, &s.groups[1].pooled), dir);
                (p_confirm, p_refute, method) = (p, q, how.to_string());
            }
            Kind::Contrast if m == 0.0 => {
                let (p, q, how) = stratified_p(&pair_strata(&s.groups[0].pooled), dir);
                (p_confirm, p_refute, method) = (p, q, how.to_string());
            }
            Kind::Level(v) if v + m > 0.0 && v + m < 1.0 && pooled_is_estimate(&terms) => {
                let k: u64 = terms.iter().map(|(t, _)| successes(t)).sum();
                let n: u64 = terms.iter().map(|(t, _)| t.n).sum();
                let rate = ((v + m) * 1e9).round() / 1e9;
                p_confirm = binomial_test(k, n, rate, expected_alternative(dir));
                p_refute = binomial_test(k, n, rate, opposite_alternative(dir));
                method = format!("exact binomial test of the pooled rate against {rate}");
            }
            _ => {}
        }
    }
    if dir == Direction::None {
        method.push_str(&format!("; TOST within ±{}", s.spec.expectation.margin));
    }

    let mut notes = Vec::new();
    let single: Vec<&Group> = s
        .groups
        .iter()
        .filter(|g| !g.fixed && g.replicas.len() < 2)
        .collect();
    if !single.is_empty() {
        notes.push("fine-tune variance was not estimated (1 replica per arm)".to_string());
        for g in s
            .groups
            .iter()
            .filter(|g| !g.fixed && g.replicas.len() >= 2)
        {
            notes.push(format!(
                "arm `{}`: {} replicas pooled at the sample level",
                g.name,
                g.replicas.len()
            ));
        }
    } else {
        notes.push("fixed models: sampling error only".to_string());
    }

    let arms = s
        .groups
        .iter()
        .map(|g| ArmSummary {
            name: g.name.clone(),
            replicas: if g.fixed { 1 } else { g.declared },
            samples: g.pooled.samples(),
            missing: g.missing,
            estimate: g.pooled.value().unwrap_or(f64::NAN),
            ci: combination_interval(&g.pooled.terms(), s, 0.0, s.arm_level()),
            replica_values: g.replicas.iter().filter_map(Functional::value).collect(),
        })
        .collect();

    let cells = terms.len() as f64;
    let per_cell = terms.iter().map(|(t, _)| t.n as f64).sum::<f64>() / cells.max(1.0);
    let plan = Some(Plan::Samples { se, per_cell });
    Analysis {
        estimate,
        ci,
        se,
        df,
        bootstrap_ci: None,
        p_confirm,
        p_refute,
        unit: Unit::Sample,
        method,
        arms,
        missing: 0,
        notes,
        plan,
        blocked: None,
    }
}

/// Whether the equal-weight estimate equals the pooled rate (weights proportional to n).
fn pooled_is_estimate(terms: &[(CellTotals, f64)]) -> bool {
    let n: f64 = terms.iter().map(|(t, _)| t.n as f64).sum();
    terms
        .iter()
        .all(|(t, c)| (c * n / t.n as f64 - 1.0).abs() < 1e-9)
}
