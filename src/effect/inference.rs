//! Inference helpers shared by the replica- and sample-level analyses: the alternatives of a
//! claim, its two p-values from a t statistic, and the interval of a combination of cells.

use super::design::sampling_variance;
use super::setup::Setup;
use super::types::{CellTotals, Direction};
use crate::stats::{
    Alternative, ProportionTerm, mover_interval, t_test_from_estimate, tost_from_estimate,
};

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

/// p-values of an (estimate, se, df) for the expectation: (confirming, refuting). For an
/// increase by m: the one-sided tests of δ ≤ m and of δ ≥ m (mirrored for a decrease). For
/// `none`: TOST within ± margin, and the one-sided test of a shift beyond the margin (the
/// smaller side, doubled).
pub(crate) fn t_based_p(s: &Setup, estimate: f64, se: f64, df: f64) -> (f64, f64) {
    let e = s.spec.expectation;
    let p = |null: f64, alt: Alternative| {
        t_test_from_estimate(estimate, se, df, null, alt, s.level()).p_value
    };
    match e.direction {
        Direction::None => {
            let tost = tost_from_estimate(estimate, se, df, -e.margin, e.margin);
            let up = p(e.margin, Alternative::Greater);
            let down = p(-e.margin, Alternative::Less);
            (tost.p_value, (2.0 * up.min(down)).min(1.0))
        }
        d => (
            p(s.threshold(), expected_alternative(d)),
            p(s.threshold(), opposite_alternative(d)),
        ),
    }
}

/// Successes of a 0/1 cell.
pub(crate) fn successes(t: &CellTotals) -> u64 {
    t.sum.round() as u64
}

/// The interval of a linear combination of independent cells at `level`: MOVER-Wilson for
/// rates, t with Satterthwaite df for scores.
pub(crate) fn combination_interval(
    terms: &[(CellTotals, f64)],
    s: &Setup,
    offset: f64,
    level: f64,
) -> (f64, f64) {
    if s.binary {
        let pt: Vec<ProportionTerm> = terms
            .iter()
            .map(|(t, c)| ProportionTerm {
                coef: *c,
                successes: successes(t),
                trials: t.n,
            })
            .collect();
        let e = mover_interval(&pt, level);
        (e.ci.0 - offset, e.ci.1 - offset)
    } else {
        let est: f64 = terms.iter().map(|(t, c)| c * t.sum / t.n as f64).sum();
        let (var, df) = sampling_variance(terms, false, s.fallback_var);
        t_test_from_estimate(
            est - offset,
            var.sqrt(),
            df,
            0.0,
            Alternative::TwoSided,
            level,
        )
        .ci
    }
}
