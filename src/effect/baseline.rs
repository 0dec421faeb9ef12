//! Comparing an effect's estimate in this run with the same effect in a stored baseline.

use serde::{Deserialize, Serialize};

use super::analysis::analyse;
use super::types::{Aggregate, EffectSpec};
use crate::stats::{Alternative, satterthwaite_df, t_test_from_estimate, tost_from_estimate};

/// How this run's estimate relates to the baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineStatus {
    /// Equivalent within ± margin (TOST significant).
    Consistent,
    /// Significantly different, and not shown equivalent.
    Shifted,
    /// Neither.
    Inconclusive,
}

/// This run's effect estimate against the baseline's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineComparison {
    pub estimate_now: f64,
    pub estimate_then: f64,
    /// Now minus then.
    pub difference: f64,
    /// Interval of the difference at 1 − alpha.
    pub ci: (f64, f64),
    /// TOST p-value of |difference| < margin.
    pub p_equivalent: f64,
    /// Two-sided p-value of difference ≠ 0.
    pub p_different: f64,
    pub status: BaselineStatus,
}

/// Compares `spec`'s estimate on `current` with the one on `baseline`. Both are analysed the
/// same way (replica-level when replicas ≥ 2); the two estimates are independent, so the
/// difference has variance se_now² + se_then² with Welch-Satterthwaite df. Consistent when
/// TOST shows the difference within ± `margin` at `alpha`; shifted when it is significantly
/// non-zero (two-sided) and not equivalent; inconclusive otherwise.
pub fn compare_with_baseline(
    spec: &EffectSpec,
    current: &Aggregate,
    baseline: &Aggregate,
    margin: f64,
    alpha: f64,
) -> BaselineComparison {
    let now = analyse(spec, current, 0);
    let then = analyse(spec, baseline, 0);
    let difference = now.estimate - then.estimate;
    let (v_now, v_then) = (now.se * now.se, then.se * then.se);
    let df = satterthwaite_df(&[(v_now, now.df), (v_then, then.df)]);
    let se = (v_now + v_then).sqrt();
    if !difference.is_finite() || !se.is_finite() {
        return BaselineComparison {
            estimate_now: now.estimate,
            estimate_then: then.estimate,
            difference,
            ci: (f64::NAN, f64::NAN),
            p_equivalent: 1.0,
            p_different: 1.0,
            status: BaselineStatus::Inconclusive,
        };
    }
    let test = t_test_from_estimate(difference, se, df, 0.0, Alternative::TwoSided, 1.0 - alpha);
    let p_equivalent = tost_from_estimate(difference, se, df, -margin, margin).p_value;
    let status = if p_equivalent < alpha {
        BaselineStatus::Consistent
    } else if test.p_value < alpha {
        BaselineStatus::Shifted
    } else {
        BaselineStatus::Inconclusive
    };
    BaselineComparison {
        estimate_now: now.estimate,
        estimate_then: then.estimate,
        difference,
        ci: test.ci,
        p_equivalent,
        p_different: test.p_value,
        status,
    }
}
