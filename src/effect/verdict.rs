//! Multiple-comparison correction, verdicts, and what would decide an inconclusive result.

use super::analysis::{Analysis, Plan};
use super::types::{Correction, Direction, Expectation, Unit, Verdict};
use crate::stats::dist::norm_ppf;
use crate::stats::{
    Alternative, benjamini_hochberg, bonferroni, holm, replicas_t_one_sample,
    replicas_t_two_sample, samples_two_proportions,
};

/// Power the "needed" estimates plan for.
const PLANNING_POWER: f64 = 0.8;

/// Adjusts p-values across one suite run's effects.
pub(crate) fn adjust(p: &[f64], correction: Correction) -> Vec<f64> {
    match correction {
        Correction::Holm => holm(p),
        Correction::Bonferroni => bonferroni(p),
        Correction::Bh => benjamini_hochberg(p),
        Correction::None => p.to_vec(),
    }
}

/// The verdict on an expectation: confirmed when significant after correction in the
/// expected direction with an estimate at least the minimum effect (for `none`: TOST
/// equivalence after correction); refuted when the interval lies below the minimum effect
/// or the test against the claim is significant after correction (for `none`: a shift
/// beyond the margin); inconclusive otherwise.
pub(crate) fn verdict(
    e: &Expectation,
    a: &Analysis,
    p_adjusted: f64,
    against_adjusted: f64,
) -> Verdict {
    if !a.estimate.is_finite() {
        return Verdict::Inconclusive;
    }
    let min = e.min_effect.abs();
    let (confirmed, refuted) = match e.direction {
        Direction::Increase => (
            p_adjusted < e.alpha && a.estimate >= min,
            a.ci.1 < min || against_adjusted < e.alpha,
        ),
        Direction::Decrease => (
            p_adjusted < e.alpha && a.estimate <= -min,
            a.ci.0 > -min || against_adjusted < e.alpha,
        ),
        Direction::None => (p_adjusted < e.alpha, against_adjusted < e.alpha),
    };
    if confirmed {
        Verdict::Confirmed
    } else if refuted {
        Verdict::Refuted
    } else {
        Verdict::Inconclusive
    }
}

/// Roughly what would decide an inconclusive result, from the power functions: replicas per
/// arm (replica level) or samples per cell (sample level) for 80% power, one-sided at alpha,
/// against the minimum effect (or the observed estimate when none is declared; for `none`,
/// the distance from the estimate to the margin).
pub(crate) fn needed(e: &Expectation, a: &Analysis) -> Option<String> {
    if !a.estimate.is_finite() {
        return Some("data in every compared arm".into());
    }
    let target = match e.direction {
        Direction::None => e.margin - a.estimate.abs(),
        _ if e.min_effect.abs() > 0.0 => e.min_effect.abs(),
        _ => a.estimate.abs(),
    };
    if target <= 1e-12 || !target.is_finite() {
        return Some(match e.direction {
            Direction::None => "the estimate lies at or beyond the margin: more data would more likely show a shift than equivalence".into(),
            _ => "no effect size to plan for: the estimate is 0 and no minimum effect is declared".into(),
        });
    }
    let alt = Alternative::Greater;
    let what = format!(
        "an effect of {target:.3} with {:.0}% power",
        PLANNING_POWER * 100.0
    );
    let mut text = match a.plan? {
        Plan::ReplicaTwoSample { sd, now } => {
            let n = replicas_t_two_sample(target, sd, e.alpha, PLANNING_POWER, alt);
            format!(
                "≈{} replicas per arm (now {now}) would detect {what} (between-replica SD {sd:.3})",
                fmt_count(n)
            )
        }
        Plan::ReplicaOneSample { sd, now } => {
            let n = replicas_t_one_sample(target, sd, e.alpha, PLANNING_POWER, alt);
            format!(
                "≈{} replicas (now {now}) would detect {what} (between-replica SD {sd:.3})",
                fmt_count(n)
            )
        }
        Plan::SampleProportions {
            p_control,
            per_cell,
            cells,
        } => {
            let p1 = match e.direction {
                Direction::Decrease => p_control - target,
                _ => p_control + target,
            }
            .clamp(1e-6, 1.0 - 1e-6);
            let per_arm = samples_two_proportions(p1, p_control, e.alpha, PLANNING_POWER, alt);
            format!(
                "≈{} samples per cell (now {per_cell:.0}) would detect {what}",
                fmt_count(per_arm / cells.max(1.0))
            )
        }
        Plan::SampleScaled { se, per_cell } => {
            let z = norm_ppf(1.0 - e.alpha) + norm_ppf(PLANNING_POWER);
            let factor = (z * se / target).powi(2);
            format!(
                "≈{} samples per cell (now {per_cell:.0}) would detect {what}",
                fmt_count(factor * per_cell)
            )
        }
    };
    if a.unit == Unit::Sample
        && a.notes
            .iter()
            .any(|n| n.starts_with("fine-tune variance was not estimated"))
    {
        text.push_str("; with 1 replica per arm fine-tune variance is unknown: ≥ 3 replicas per arm allow a replica-level test");
    }
    Some(text)
}

/// A planned count, rounded up.
fn fmt_count(n: f64) -> String {
    if n.is_finite() {
        format!("{}", n.ceil().max(1.0) as u64)
    } else {
        "more than 10^9".into()
    }
}
