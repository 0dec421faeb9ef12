//! One effect on two models: is the new model more susceptible than the old one?
//!
//! Each model's estimate comes from the analysis behind its verdict (replicas as the unit when
//! every fine-tuned arm has ≥ 2 replicas). [`compare_models`] takes the two runs as
//! independent: the difference new − old has variance se_new² + se_old² on Welch-Satterthwaite
//! df. [`compare_models_paired`] pairs them by replica when both runs have ≥ 2 replicas in
//! every fine-tuned arm (`paired.rs`: replica i of both models shares its seed and data, and
//! the pair is the unit), and falls back to independence otherwise.
//! "More susceptible" reads
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
use super::paired::paired;
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
    /// Standard error of the estimate and the degrees of freedom of its t.
    pub se: f64,
    pub df: f64,
    pub unit: Unit,
    pub arms: Vec<ArmSummary>,
}

/// One model's estimate of the effect, from the analysis behind its verdict.
pub fn model_effect(spec: &EffectSpec, data: &Aggregate) -> ModelEffect {
    effect(analyse(spec, data, 0))
}

fn effect(a: super::setup::Analysis) -> ModelEffect {
    ModelEffect {
        estimate: a.estimate,
        ci: a.ci,
        se: a.se,
        df: a.df,
        unit: a.unit,
        arms: a.arms,
    }
}

/// The effect on a new model against the same effect on an old one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelComparison {
    pub new: ModelEffect,
    pub old: ModelEffect,
    /// New minus old, in the effect's own sign (the mean of the pairs' differences when paired).
    pub difference: f64,
    /// Its standard error and the df of its t.
    pub se: f64,
    pub df: f64,
    /// Replica pairs the difference is computed on; none when the runs were combined as
    /// independent (fewer than 2 replicas in a fine-tuned arm).
    pub pairs: Option<usize>,
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

/// Compares `spec` on the new model's data with the old model's, the two runs taken as
/// independent. Both aggregates must come from the same suite (the same arms, cells and
/// metric), restricted to the effect.
pub fn compare_models(
    spec: &EffectSpec,
    new: &Aggregate,
    old: &Aggregate,
    margin: f64,
    alpha: f64,
) -> ModelComparison {
    compare(spec, new, old, margin, alpha, false)
}

/// As [`compare_models`], paired by replica when both runs have ≥ 2 replicas in every
/// fine-tuned arm (independent otherwise).
pub fn compare_models_paired(
    spec: &EffectSpec,
    new: &Aggregate,
    old: &Aggregate,
    margin: f64,
    alpha: f64,
) -> ModelComparison {
    compare(spec, new, old, margin, alpha, true)
}

fn compare(
    spec: &EffectSpec,
    new: &Aggregate,
    old: &Aggregate,
    margin: f64,
    alpha: f64,
    pair: bool,
) -> ModelComparison {
    let a_new = analyse(spec, new, 0);
    let a_old = analyse(spec, old, 0);
    let (difference, se, df, pairs) = match pair.then(|| paired(spec, new, old)).flatten() {
        Some(p) => (p.difference, p.se, p.df, Some(p.pairs)),
        None => {
            let (v_new, v_old) = (a_new.se * a_new.se, a_old.se * a_old.se);
            let df = satterthwaite_df(&[(v_new, a_new.df), (v_old, a_old.df)]);
            (
                a_new.estimate - a_old.estimate,
                (v_new + v_old).sqrt(),
                df,
                None,
            )
        }
    };
    let level = 1.0 - 2.0 * alpha;
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
        se,
        df,
        pairs,
        ci,
        level,
        margin,
        alpha,
        p_more,
        p_not_more,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::{ArmInfo, Cell, CellTotals, Comparison, Expectation, Scale};

    /// One cell, two tuned arms `t` and `c` of three replicas, 100 samples per replica.
    fn aggregate(t: [f64; 3], c: [f64; 3]) -> Aggregate {
        let arm = |name: &str| ArmInfo {
            name: name.into(),
            replicas: 3,
            fixed: false,
        };
        let mut totals = Vec::new();
        for (a, rates) in [t, c].iter().enumerate() {
            for (r, rate) in rates.iter().enumerate() {
                let sum = (rate * 100.0).round();
                totals.push(CellTotals {
                    arm: a as u32,
                    replica: r as u32,
                    cell: 0,
                    n: 100,
                    sum,
                    sum_sq: sum,
                    missing: 0,
                });
            }
        }
        Aggregate {
            scale: Scale::Binary,
            arms: vec![arm("t"), arm("c")],
            cells: vec![Cell {
                probe: "p".into(),
                vars: Default::default(),
            }],
            totals,
        }
    }

    fn spec(direction: Direction, treatment: &str, control: &str) -> EffectSpec {
        EffectSpec {
            name: "e".into(),
            comparison: Comparison::ArmVsArm {
                treatment: treatment.into(),
                control: control.into(),
            },
            expectation: Expectation {
                direction,
                min_effect: 0.0,
                margin: 0.05,
                alpha: 0.05,
                unit: Default::default(),
            },
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-300), "{a} vs {b}");
    }

    // New: 0.80 − 0.15 = 0.65; old: 0.60 − 0.15 = 0.45; each Welch across 3 vs 3 replicas.
    // Reference (SciPy 1.17.1): d = 0.2, se = 0.09128709291752769, df = 5.882352941176471;
    // stats.t.sf((d - 0.1) / se, df) = 0.15806671096319672, stats.t.sf(d / se, df) =
    // 0.03594329829615281, stats.t.cdf((d - 0.5) / se, df) = 0.008588925333584536,
    // d ∓ stats.t.ppf(0.95, df) * se = 0.021975328081216272, 0.37802467191878364.
    fn models() -> (Aggregate, Aggregate) {
        (
            aggregate([0.8, 0.7, 0.9], [0.1, 0.2, 0.15]),
            aggregate([0.6, 0.5, 0.7], [0.1, 0.15, 0.2]),
        )
    }

    #[test]
    fn the_difference_is_tested_against_the_margin_as_scipy_does() {
        let (new, old) = models();
        let c = compare_models(&spec(Direction::Increase, "t", "c"), &new, &old, 0.1, 0.05);
        close(c.new.estimate, 0.65);
        close(c.old.estimate, 0.45);
        close(c.difference, 0.19999999999999996);
        close(c.p_more, 0.15806671096319672);
        close(c.p_not_more, 1.0 - 0.15806671096319672);
        close(c.ci.0, 0.021975328081216272);
        close(c.ci.1, 0.37802467191878364);
        close(c.level, 0.9);
        assert_eq!(c.new.unit, Unit::Replica);
        assert_eq!(c.verdict, Susceptibility::Inconclusive);

        let more = compare_models(&spec(Direction::Increase, "t", "c"), &new, &old, 0.0, 0.05);
        close(more.p_more, 0.03594329829615281);
        assert_eq!(more.verdict, Susceptibility::MoreSusceptible);
        let not_more = compare_models(&spec(Direction::Increase, "t", "c"), &new, &old, 0.5, 0.05);
        close(not_more.p_not_more, 0.008588925333584536);
        assert_eq!(not_more.verdict, Susceptibility::NotMoreSusceptible);
        // The old model against the new one: less susceptible, whatever the margin.
        let back = compare_models(&spec(Direction::Increase, "t", "c"), &old, &new, 0.0, 0.05);
        assert_eq!(back.verdict, Susceptibility::NotMoreSusceptible);
    }

    // Paired by replica: e_new − e_old per replica = [0.2, 0.15, 0.25]. Reference (SciPy
    // 1.17.1): stats.ttest_1samp(d, 0.1, alternative="greater").pvalue = 0.03708995011372431,
    // stats.ttest_rel(e_new, e_old, alternative="greater").pvalue = 0.010102051443364393,
    // stats.ttest_1samp(d, 0.5, alternative="less").pvalue = 0.004566305693137738,
    // stats.ttest_1samp(d, 0).confidence_interval(0.9) = (0.11570727695764749,
    // 0.28429272304235254), se = d.std(ddof=1) / sqrt(3) = 0.02886751345948132.
    #[test]
    fn the_paired_difference_is_tested_as_scipy_does() {
        let (new, old) = models();
        let s = spec(Direction::Increase, "t", "c");
        let c = compare_models_paired(&s, &new, &old, 0.1, 0.05);
        assert_eq!(c.pairs, Some(3));
        close(c.difference, 0.2);
        close(c.se, 0.02886751345948132);
        close(c.df, 2.0);
        close(c.p_more, 0.03708995011372431);
        close(c.ci.0, 0.11570727695764749);
        close(c.ci.1, 0.28429272304235254);
        assert_eq!(c.verdict, Susceptibility::MoreSusceptible);
        close(
            compare_models_paired(&s, &new, &old, 0.0, 0.05).p_more,
            0.010102051443364393,
        );
        close(
            compare_models_paired(&s, &new, &old, 0.5, 0.05).p_not_more,
            0.004566305693137738,
        );
        // The independent comparison of the same runs is less sure (Welch, above).
        assert!(compare_models(&s, &new, &old, 0.1, 0.05).p_more > c.p_more);
    }

    #[test]
    fn a_fixed_arm_adds_its_sampling_error_and_one_replica_is_not_paired() {
        let (mut new, mut old) = models();
        for a in [&mut new, &mut old] {
            a.arms[1].fixed = true;
            a.arms[1].replicas = 1;
            a.totals.retain(|t| t.arm == 0 || t.replica == 0);
        }
        let s = spec(Direction::Increase, "t", "c");
        let c = compare_models_paired(&s, &new, &old, 0.0, 0.05);
        assert_eq!(c.pairs, Some(3));
        // The pairs' spread: treatment rates differ by [0.2, 0.2, 0.2] and the fixed control
        // is the same in every pair, so s²_d = 0 falls back to the replicas' sampling
        // variance, to which each fixed arm adds its own: Jeffreys p̃ = 10.5/101.
        let p = 10.5 / 101.0;
        let fixed = p * (1.0 - p) / 100.0;
        assert!(c.se * c.se > 2.0 * fixed, "{}", c.se);
        close(c.difference, 0.2);
        for a in [&mut new, &mut old] {
            a.arms[0].replicas = 1;
            a.totals.retain(|t| t.replica == 0);
        }
        let one = compare_models_paired(&s, &new, &old, 0.0, 0.05);
        assert_eq!(one.pairs, None);
        assert_eq!(one, compare_models(&s, &new, &old, 0.0, 0.05));
    }

    #[test]
    fn susceptibility_reads_the_declared_direction() {
        let (new, old) = models();
        // `decrease` of c − t: the new model's −0.65 is the larger effect.
        let down = compare_models(&spec(Direction::Decrease, "c", "t"), &new, &old, 0.1, 0.05);
        close(down.difference, -0.19999999999999996);
        close(down.p_more, 0.15806671096319672);
        let down = compare_models(&spec(Direction::Decrease, "c", "t"), &new, &old, 0.0, 0.05);
        assert_eq!(down.verdict, Susceptibility::MoreSusceptible);
        // `none`: a shift either way counts; within ±0.5 is shown equivalent.
        for (t, c) in [("t", "c"), ("c", "t")] {
            let none = compare_models(&spec(Direction::None, t, c), &new, &old, 0.1, 0.05);
            close(none.p_more, 0.15806671096319672);
            let shifted = compare_models(&spec(Direction::None, t, c), &new, &old, 0.0, 0.05);
            assert_eq!(
                shifted.verdict,
                Susceptibility::MoreSusceptible,
                "{t} − {c}"
            );
            let within = compare_models(&spec(Direction::None, t, c), &new, &old, 0.5, 0.05);
            assert_eq!(within.verdict, Susceptibility::NotMoreSusceptible);
        }
    }

    #[test]
    fn an_effect_without_data_is_inconclusive() {
        let (new, _) = models();
        let mut empty = new.clone();
        empty.totals.clear();
        let c = compare_models(
            &spec(Direction::Increase, "t", "c"),
            &new,
            &empty,
            0.1,
            0.05,
        );
        assert!(c.difference.is_nan());
        assert_eq!((c.p_more, c.p_not_more), (1.0, 1.0));
        assert_eq!(c.verdict, Susceptibility::Inconclusive);
    }
}
