//! Multiple-comparison correction and verdicts: each claim is tested as declared.

use super::setup::{Analysis, threshold};
use super::types::{Correction, Direction, Expectation, Verdict};
use crate::stats::{benjamini_hochberg, bonferroni, holm};

/// Adjusts p-values across one suite run's effects.
pub(crate) fn adjust(p: &[f64], correction: Correction) -> Vec<f64> {
    match correction {
        Correction::Holm => holm(p),
        Correction::Bonferroni => bonferroni(p),
        Correction::Bh => benjamini_hochberg(p),
        Correction::None => p.to_vec(),
    }
}

/// The verdict from the corrected p-values of the two tests of the claim: confirmed when the
/// confirming test (δ ≤ m for an increase by m; TOST for `none`) is rejected at alpha,
/// refuted when the refuting one (δ ≥ m; a shift beyond the margin) is, inconclusive
/// otherwise, and always inconclusive without an estimate or when the design is blocked.
pub(crate) fn verdict(
    e: &Expectation,
    a: &Analysis,
    confirm_adjusted: f64,
    refute_adjusted: f64,
) -> Verdict {
    if !a.estimate.is_finite() || a.blocked.is_some() {
        Verdict::Inconclusive
    } else if confirm_adjusted < e.alpha {
        Verdict::Confirmed
    } else if refute_adjusted < e.alpha {
        Verdict::Refuted
    } else {
        Verdict::Inconclusive
    }
}

/// The null hypotheses of the (confirming, refuting) tests, e.g. (`δ ≤ 0.3`, `δ ≥ 0.3`).
pub(crate) fn nulls(e: &Expectation) -> (String, String) {
    let m = fmt_num(threshold(e));
    match e.direction {
        Direction::Increase => (format!("δ ≤ {m}"), format!("δ ≥ {m}")),
        Direction::Decrease => (format!("δ ≥ {m}"), format!("δ ≤ {m}")),
        Direction::None => {
            let b = fmt_num(e.margin.abs());
            (format!("|δ| ≥ {b}"), format!("|δ| ≤ {b}"))
        }
    }
}

/// A threshold as written in a suite (shortest form, a true minus sign).
pub(crate) fn fmt_num(x: f64) -> String {
    let r = (x * 1e9).round() / 1e9;
    if r < 0.0 {
        format!("−{}", -r)
    } else {
        format!("{}", r.abs())
    }
}
