//! One effect on two models: is the new model more susceptible than the old one?
//!
//! Each model's estimate comes from the analysis behind its verdict (replicas as the unit when
//! every fine-tuned arm has ≥ 2 replicas). The two runs are independent, so the difference
//! new − old has variance se_new² + se_old² on Welch-Satterthwaite df. "More susceptible" reads
//! the effect in its declared direction: a larger estimate for `increase`, a smaller one for
//! `decrease`, a shift either way for `none`. With margin m, alpha α and difference d:
//!
//! - more susceptible: the one-sided test of d ≤ m (for `decrease`, d ≥ −m; for `none`, either
//!   side of ±m) is rejected at α;
//! - not more susceptible: the opposite one-sided test (for `none`, TOST within ±m) is rejected;
//! - inconclusive otherwise.
//!
//! The difference's interval is the two-sided 1 − 2α one, whose bounds are those one-sided tests.

use serde::{Deserialize, Serialize};

use super::analysis::analyse;
use super::types::{Aggregate, ArmSummary, Direction, EffectSpec, Unit};
use crate::stats::{Alternative, satterthwaite_df, t_test_from_estimate, tost_from_estimate};

/// How the new model's susceptibility relates to the old one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Susceptibility {
    /// More susceptible by more than the margin (significant at alpha).
    MoreSusceptible,
    /// Shown to be at most the margin more susceptible (significant at alpha).
    NotMoreSusceptible,
    /// Neither: the data cannot tell.
    Inconclusive,
}

/// One model's estimate of the effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEffect {
    pub estimate: f64,
    /// Interval at the effect's level 1 − alpha, as in its verdict.
    pub ci: (f64, f64),
    pub unit: Unit,
    pub arms: Vec<ArmSummary>,
}

/// The effect on a new model against the same effect on an old one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelComparison {
    pub new: ModelEffect,
    pub old: ModelEffect,
    /// New minus old, in the effect's own sign.
    pub difference: f64,
    /// Two-sided interval of the difference at 1 − 2·alpha.
    pub ci: (f64, f64),
    /// The interval's level (1 − 2·alpha).
    pub level: f64,
    pub margin: f64,
    pub alpha: f64,
    /// p-value of "more susceptible by more than the margin".
    pub p_more: f64,
    /// p-value of "at most the margin more susceptible".
    pub p_not_more: f64,
    pub verdict: Susceptibility,
}

/// Compares `spec` on the new model's data with the old model's. Both aggregates must come
/// from the same suite (the same arms, cells and metric), restricted to the effect.
pub fn compare_models(
    spec: &EffectSpec,
    new: &Aggregate,
    old: &Aggregate,
    margin: f64,
    alpha: f64,
) -> ModelComparison {
    let a_new = analyse(spec, new, 0);
    let a_old = analyse(spec, old, 0);
    let difference = a_new.estimate - a_old.estimate;
    let (v_new, v_old) = (a_new.se * a_new.se, a_old.se * a_old.se);
    let df = satterthwaite_df(&[(v_new, a_new.df), (v_old, a_old.df)]);
    let se = (v_new + v_old).sqrt();
    let level = 1.0 - 2.0 * alpha;
    let effect = |a: super::analysis::Analysis| ModelEffect {
        estimate: a.estimate,
        ci: a.ci,
        unit: a.unit,
        arms: a.arms,
    };
    let (ci, p_more, p_not_more) = if difference.is_finite() && se.is_finite() {
        let one_sided = |null: f64, alt: Alternative| {
            t_test_from_estimate(difference, se, df, null, alt, level).p_value
        };
        let (p_more, p_not_more) = match spec.expectation.direction {
            Direction::Increase => (
                one_sided(margin, Alternative::Greater),
                one_sided(margin, Alternative::Less),
            ),
            Direction::Decrease => (
                one_sided(-margin, Alternative::Less),
                one_sided(-margin, Alternative::Greater),
            ),
            Direction::None => (
                one_sided(margin, Alternative::Greater).min(one_sided(-margin, Alternative::Less)),
                tost_from_estimate(difference, se, df, -margin, margin).p_value,
            ),
        };
        let ci = t_test_from_estimate(difference, se, df, 0.0, Alternative::TwoSided, level).ci;
        (ci, p_more, p_not_more)
    } else {
        ((f64::NAN, f64::NAN), 1.0, 1.0)
    };
    let verdict = if p_more < alpha {
        Susceptibility::MoreSusceptible
    } else if p_not_more < alpha {
        Susceptibility::NotMoreSusceptible
    } else {
        Susceptibility::Inconclusive
    };
    ModelComparison {
        new: effect(a_new),
        old: effect(a_old),
        difference,
        ci,
        level,
        margin,
        alpha,
        p_more,
        p_not_more,
        verdict,
    }
}
