//! Two models on one effect, and the tie groups built from the same comparison.
//!
//! Both use [`compare_models_paired`] on the probe cells both runs share, so the two estimates
//! average the same questions: the difference is paired by replica (replica i of every
//! fine-tuned arm has the same seed and data on both models, and the pair is the unit), or,
//! when an arm has a single replica, the two runs' own analyses are combined as independent.

use crate::effect::compare::{ModelComparison, compare_models_paired};
use crate::effect::{Aggregate, CellTotals, Direction, EffectSpec};
use crate::stats::{Alternative, t_test_from_estimate};
use serde::{Deserialize, Serialize};

/// How a new model's effect relates to an old model's, within a margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Versus {
    /// More susceptible than the old model by more than the margin (significant at alpha).
    MoreSusceptible,
    /// Less susceptible than the old model by more than the margin (significant at alpha).
    LessSusceptible,
    /// Within the margin of the old model either way (both one-sided tests, TOST).
    Equivalent,
    /// The data cannot tell.
    Inconclusive,
}

impl std::fmt::Display for Versus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Versus::MoreSusceptible => "more susceptible",
            Versus::LessSusceptible => "less susceptible",
            Versus::Equivalent => "equivalent within the margin",
            Versus::Inconclusive => "inconclusive",
        })
    }
}

/// The comparison of `new` against `old` on one effect, with its four-way verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersusResult {
    /// New against old: the difference, its interval, and p of "more by > margin".
    pub forward: ModelComparison,
    /// p of "less susceptible by more than the margin".
    pub p_less: f64,
    pub verdict: Versus,
    /// Probe cells the two runs share (the estimates are on these cells only).
    pub shared_cells: usize,
}

/// Compares `spec` on `new` with `old` (each restricted to the effect), on their shared
/// probe cells, with the margin and the effect's alpha.
pub fn versus(spec: &EffectSpec, new: &Aggregate, old: &Aggregate, margin: f64) -> VersusResult {
    let (new, old) = shared(new, old);
    let alpha = spec.expectation.alpha;
    let forward = compare_models_paired(spec, &new, &old, margin, alpha);
    let backward = compare_models_paired(spec, &old, &new, margin, alpha);
    let (p_more, p_less) = if spec.expectation.direction == Direction::None {
        // A shift either way is symmetric: the larger shift is the more susceptible one.
        let bigger = forward.new.estimate.abs() >= forward.old.estimate.abs();
        let p = forward.p_more;
        if bigger { (p, 1.0) } else { (1.0, p) }
    } else {
        (forward.p_more, backward.p_more)
    };
    let verdict = if p_more < alpha {
        Versus::MoreSusceptible
    } else if p_less < alpha {
        Versus::LessSusceptible
    } else if forward.p_not_more < alpha && backward.p_not_more < alpha {
        Versus::Equivalent
    } else {
        Versus::Inconclusive
    };
    VersusResult {
        shared_cells: new.cells.len(),
        forward,
        p_less,
        verdict,
    }
}

/// One model's standing on one effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// Index of the model in the input.
    pub model: usize,
    /// 1 for the leader (the most susceptible), in the order of the ranking.
    pub rank: usize,
    /// In the leader's tie group: not shown to differ from the leader.
    pub tied_with_leader: bool,
    /// Two-sided p of "this model's effect equals the leader's" (none for the leader).
    pub p: Option<f64>,
    /// `p` after Holm's correction over every pair of models on the effect.
    pub p_adjusted: Option<f64>,
}

/// Ranks models on one effect (most susceptible first: the largest estimate for `increase`,
/// the smallest for `decrease`, the largest shift for `none`) and finds the leader's tie
/// group. Every pair of models is compared on its shared probe cells (paired by replica, see
/// [`compare_models_paired`]; two-sided, since which model leads is read off the same data),
/// the family of all pairs is Holm-corrected, and a model whose adjusted p against the leader
/// is at least alpha is statistically indistinguishable from it. The family is every pair, not
/// only the leader's: the leader is the largest of the estimates, and testing it against the
/// others alone would not hold the error rate at alpha. For `none` the pair's difference is
/// that of the signed shifts. Each entry is the model's estimate and data restricted to the
/// effect; the groups are computed once, here.
pub fn tie_group(spec: &EffectSpec, models: &[(f64, &Aggregate)]) -> Vec<Standing> {
    let key = |e: f64| match spec.expectation.direction {
        Direction::Increase => -e,
        Direction::Decrease => e,
        Direction::None => -e.abs(),
    };
    let mut order: Vec<usize> = (0..models.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (key(models[a].0), key(models[b].0));
        // NaN estimates (no data) rank last.
        ka.is_nan()
            .cmp(&kb.is_nan())
            .then(ka.total_cmp(&kb))
            .then(a.cmp(&b))
    });
    let alpha = spec.expectation.alpha;
    // Every pair, in rank order (the leader's first), with its two-sided p.
    let mut p = Vec::new();
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            let (x, y) = shared(models[a].1, models[b].1);
            let c = compare_models_paired(spec, &x, &y, 0.0, alpha);
            let pair_p = if c.difference.is_finite() && c.se.is_finite() {
                t_test_from_estimate(
                    c.difference,
                    c.se,
                    c.df,
                    0.0,
                    Alternative::TwoSided,
                    c.level,
                )
                .p_value
            } else {
                1.0
            };
            p.push(pair_p);
        }
    }
    let adjusted = crate::stats::holm(&p);
    order
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            let (p, p_adjusted) = match i {
                0 => (None, None),
                _ => (Some(p[i - 1]), Some(adjusted[i - 1])),
            };
            Standing {
                model: m,
                rank: i + 1,
                tied_with_leader: p_adjusted.is_none_or(|q| q >= alpha),
                p,
                p_adjusted,
            }
        })
        .collect()
}

/// Both aggregates restricted to the probe cells they share (arms are matched by name, in
/// `a`'s order).
pub fn shared(a: &Aggregate, b: &Aggregate) -> (Aggregate, Aggregate) {
    let cells: Vec<_> = a
        .cells
        .iter()
        .filter(|c| b.cells.contains(c))
        .cloned()
        .collect();
    let arms: Vec<_> = a
        .arms
        .iter()
        .filter(|x| b.arms.iter().any(|y| y.name == x.name))
        .map(|x| x.name.clone())
        .collect();
    let keep = |g: &Aggregate| {
        let cell_of = |i: u32| cells.iter().position(|c| *c == g.cells[i as usize]);
        let arm_of = |i: u32| arms.iter().position(|n| *n == g.arms[i as usize].name);
        let mut totals: Vec<CellTotals> = g
            .totals
            .iter()
            .filter_map(|t| {
                Some(CellTotals {
                    arm: arm_of(t.arm)? as u32,
                    cell: cell_of(t.cell)? as u32,
                    ..*t
                })
            })
            .collect();
        totals.sort_by_key(|t| (t.arm, t.replica, t.cell));
        Aggregate {
            scale: g.scale,
            arms: arms
                .iter()
                .filter_map(|n| g.arms.iter().find(|x| x.name == *n).cloned())
                .collect(),
            cells: cells.clone(),
            totals,
        }
    };
    (keep(a), keep(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::{ArmInfo, Cell, Comparison, Expectation, Scale, Unit};

    /// One cell; tuned arms `t` and `c` of three replicas, 100 samples per replica.
    fn aggregate(t: [u32; 3], c: [u32; 3]) -> Aggregate {
        let arm = |name: &str| ArmInfo {
            name: name.into(),
            replicas: 3,
            fixed: false,
        };
        let mut totals = Vec::new();
        for (a, ks) in [t, c].iter().enumerate() {
            for (r, &k) in ks.iter().enumerate() {
                totals.push(CellTotals {
                    arm: a as u32,
                    replica: r as u32,
                    cell: 0,
                    n: 100,
                    sum: f64::from(k),
                    sum_sq: f64::from(k),
                    missing: 0,
                });
            }
        }
        Aggregate {
            scale: Scale::Binary,
            arms: vec![arm("t"), arm("c")],
            cells: vec![Cell {
                probe: "q".into(),
                vars: Default::default(),
            }],
            totals,
        }
    }

    fn spec() -> EffectSpec {
        EffectSpec {
            name: "e".into(),
            comparison: Comparison::ArmVsArm {
                treatment: "t".into(),
                control: "c".into(),
            },
            expectation: Expectation {
                direction: Direction::Increase,
                min_effect: 0.0,
                margin: 0.0,
                alpha: 0.05,
                unit: Unit::Replica,
            },
        }
    }

    /// Golden values from SciPy 1.17.1: each pair of models is compared by
    /// `scipy.stats.ttest_rel(e_x, e_y).pvalue` on the per-replica effects (t − c of replica i),
    /// and the family of the three pairs is Holm-corrected by hand: raw p (a, c) =
    /// 0.6913933000758161, (a, b) = 0.028714137642735806, (c, b) = 0.003072203880919682;
    /// adjusted (a, b) = 2 × 0.028714137642735806, (a, c) = 0.6913933000758161.
    #[test]
    fn tie_group_matches_scipy() {
        let a = aggregate([80, 85, 90], [10, 12, 8]); // +0.75
        let b = aggregate([60, 70, 65], [10, 11, 9]); // +0.55
        let c = aggregate([78, 88, 83], [9, 10, 11]); // +0.73
        let s = tie_group(&spec(), &[(0.55, &b), (0.75, &a), (0.73, &c)]);
        let by_model = |m: usize| s.iter().find(|x| x.model == m).unwrap();
        let (sa, sb, sc) = (by_model(1), by_model(0), by_model(2));
        assert_eq!((sa.rank, sc.rank, sb.rank), (1, 2, 3));
        let close = |x: f64, want: f64| (x - want).abs() < 1e-9 * want.max(1e-12);
        let p_c = sc.p.unwrap();
        let p_b = sb.p.unwrap();
        assert!(close(p_c, 0.6913933000758161), "{p_c}");
        assert!(close(p_b, 0.028714137642735806), "{p_b}");
        assert!(close(sc.p_adjusted.unwrap(), 0.6913933000758161));
        assert!(close(sb.p_adjusted.unwrap(), 2.0 * 0.028714137642735806));
        // b is below alpha alone but not in the family of all pairs: it stays tied.
        assert!(sa.tied_with_leader && sc.tied_with_leader && sb.tied_with_leader);
        // A model far below the leader is separated.
        let far = aggregate([30, 35, 32], [10, 11, 9]);
        let s = tie_group(&spec(), &[(0.75, &a), (0.73, &c), (0.22, &far)]);
        assert!(s[0].tied_with_leader && s[1].tied_with_leader && !s[2].tied_with_leader);
    }

    #[test]
    fn versus_reads_all_four_verdicts() {
        let a = aggregate([80, 85, 90], [10, 12, 8]);
        let b = aggregate([60, 70, 65], [10, 11, 9]);
        let c = aggregate([78, 88, 83], [9, 10, 11]);
        let s = spec();
        assert_eq!(versus(&s, &a, &b, 0.05).verdict, Versus::MoreSusceptible);
        assert_eq!(versus(&s, &b, &a, 0.05).verdict, Versus::LessSusceptible);
        assert_eq!(versus(&s, &a, &c, 0.3).verdict, Versus::Equivalent);
        assert_eq!(versus(&s, &a, &c, 0.01).verdict, Versus::Inconclusive);
        let v = versus(&s, &a, &b, 0.05);
        assert_eq!(v.shared_cells, 1);
        assert!((v.forward.difference - 0.2).abs() < 1e-12);
    }

    #[test]
    fn shared_keeps_only_common_cells() {
        let a = aggregate([80, 85, 90], [10, 12, 8]);
        let mut b = aggregate([60, 70, 65], [10, 11, 9]);
        b.cells[0].probe = "other".into();
        let (x, y) = shared(&a, &b);
        assert!(x.cells.is_empty() && y.cells.is_empty());
        assert!(x.totals.is_empty() && y.totals.is_empty());
    }
}
