//! What would decide an inconclusive result: the replicas (or samples) that give the planned
//! power to reach a verdict either way, taking the estimate as the true effect.
//!
//! The likelier verdict is the one the estimate points to (above m: CONFIRMED for an increase
//! by m, below: REFUTED). Its test is one-sided at the planning level (alpha, divided by the
//! number of effects under a correction: the worst case of Holm's first step), and the
//! distance to cover is |estimate − m|. With n replicas per fine-tuned arm the estimate's
//! variance is `between / n + fixed`, where `between` is the observed variance of one
//! replica's value (fine-tune spread plus that replica's sampling error) summed over the
//! fine-tuned arms; power comes from the noncentral t. The answer is never fewer replicas
//! than the run has.

use super::setup::{Analysis, Plan, threshold};
use super::types::{Correction, DecisionPlan, Direction, Expectation, Unit, Verdict};
use super::verdict::fmt_num;
use crate::stats::dist::t_ppf;
use crate::stats::{noncentral_t_cdf, satterthwaite_df};

/// Power the plans are made for.
pub const PLANNING_POWER: f64 = 0.8;

/// The largest count a plan searches.
const MAX_COUNT: u64 = 10_000_000;

/// Power of a one-sided t test at `level` of a true distance `d` with standard error `se`.
fn power(d: f64, se: f64, df: f64, level: f64) -> f64 {
    if se <= 0.0 {
        return 1.0;
    }
    1.0 - noncentral_t_cdf(t_ppf(1.0 - level, df), df, d / se)
}

/// The smallest count above `now` at which `power_at` reaches `target`, if any up to
/// [`MAX_COUNT`].
fn smallest(now: u64, target: f64, power_at: impl Fn(u64) -> f64) -> Option<u64> {
    let mut lo = now;
    let mut hi = now + 1;
    while power_at(hi) < target {
        if hi >= MAX_COUNT {
            return None;
        }
        lo = hi;
        hi = (hi * 2).min(MAX_COUNT);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if power_at(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Replicas per fine-tuned arm (more than `now`) for `power` to reject a one-sided test at
/// `level` when the truth is `distance` beyond the threshold, the variance of one replica's
/// value summed over the `arms` fine-tuned arms is `between`, and fixed arms add `fixed`
/// (on `fixed_df` df) to the estimate's variance. `None` when no count up to 10^7 does.
pub fn replicas_to_decide(
    distance: f64,
    between: f64,
    arms: f64,
    fixed: (f64, f64),
    level: f64,
    power_target: f64,
    now: u64,
) -> Option<u64> {
    smallest(now, power_target, |n| {
        let n = n as f64;
        let comps = [(between / n, arms * (n - 1.0)), fixed];
        let df = satterthwaite_df(&comps);
        power(distance, (between / n + fixed.0).sqrt(), df, level)
    })
}

/// The planning level: alpha, divided by the number of effects under a correction.
fn planning_level(e: &Expectation, family: usize, correction: Correction) -> f64 {
    match correction {
        Correction::None => e.alpha,
        _ => e.alpha / family.max(1) as f64,
    }
}

/// Text for an inconclusive result, and the plan behind it when one can be made.
pub(crate) fn needed(
    e: &Expectation,
    a: &Analysis,
    family: usize,
    correction: Correction,
) -> (String, Option<DecisionPlan>) {
    if !a.estimate.is_finite() {
        return ("data in every compared arm".into(), None);
    }
    if a.blocked.is_some() {
        return (
            "≥ 2 replicas per fine-tuned arm (≥ 3 estimate the between-replica spread usefully), or `unit: sample` on the effect for a claim about this one fine-tune".into(),
            None,
        );
    }
    let level = planning_level(e, family, correction);
    let (likelier, distance, level, against) = match e.direction {
        Direction::None => {
            let gap = e.margin.abs() - a.estimate.abs();
            let b = format!("±{}", fmt_num(e.margin.abs()));
            if gap > 0.0 {
                (Verdict::Confirmed, gap, level, b)
            } else {
                (Verdict::Refuted, -gap, level / 2.0, b)
            }
        }
        d => {
            let m = threshold(e);
            let beyond = a.estimate - m;
            let confirms = if d == Direction::Increase {
                beyond > 0.0
            } else {
                beyond < 0.0
            };
            let v = if confirms {
                Verdict::Confirmed
            } else {
                Verdict::Refuted
            };
            (v, beyond.abs(), level, fmt_num(m))
        }
    };
    let word = match likelier {
        Verdict::Confirmed => "CONFIRMED",
        _ => "REFUTED",
    };
    if distance <= 1e-12 {
        return (
            format!(
                "the estimate sits on the threshold {against}: no amount of data is likely to decide it"
            ),
            None,
        );
    }
    let pct = PLANNING_POWER * 100.0;
    let why = format!(
        "{pct:.0}% power to reach {word}, the likelier verdict (estimate {:+.3} vs {against}; one-sided level {})",
        a.estimate,
        fmt_num(level)
    );
    let plan = |count, unit| {
        Some(DecisionPlan {
            likelier,
            count,
            unit,
            power: PLANNING_POWER,
        })
    };
    match a.plan {
        Some(Plan::Replicas {
            between,
            sampling,
            arms,
            fixed,
            fixed_df,
            now,
        }) => {
            let now = now as u64;
            let per = if arms > 1.0 {
                "replicas per fine-tuned arm"
            } else {
                "replicas"
            };
            let find = |b| {
                replicas_to_decide(
                    distance,
                    b,
                    arms,
                    (fixed, fixed_df),
                    level,
                    PLANNING_POWER,
                    now,
                )
            };
            let Some(n) = find(between) else {
                return (
                    format!(
                        "no number of replicas: the fixed arm's sampling error alone leaves too little power; more samples of the fixed arm (for {why})"
                    ),
                    None,
                );
            };
            let sd = (between / arms.max(1.0)).sqrt();
            let mut text = format!("≈{n} {per} (now {now}) for {why}; between-replica SD {sd:.3}");
            // More samples per replica help when sampling error is most of the spread.
            if sampling > 0.5 * between
                && let Some(n4) = find(between - 0.75 * sampling)
                && n4 < n
            {
                text.push_str(&format!(
                    "; or ≈{n4} {per} with 4× the samples per cell (sampling error is most of the replicas' spread)"
                ));
            }
            (text, plan(n, Unit::Replica))
        }
        Some(Plan::Samples { se, per_cell }) => {
            let now = per_cell.ceil() as u64;
            let found = smallest(now, PLANNING_POWER, |k| {
                power(
                    distance,
                    se * (per_cell / k as f64).sqrt(),
                    f64::INFINITY,
                    level,
                )
            });
            match found {
                Some(k) => (
                    format!("≈{k} samples per cell (now {now}) for {why}"),
                    plan(k, Unit::Sample),
                ),
                None => (format!("more than 10^7 samples per cell for {why}"), None),
            }
        }
        None => (format!("more data for {why}"), None),
    }
}
