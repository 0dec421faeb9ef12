//! Effect evaluation: each path against the `stats` function it must reduce to.

use std::collections::BTreeMap;

use super::*;
use crate::stats::{self, Alternative};

/// A table builder: `rates[arm][replica][cell]` as (successes, trials) or score lists.
struct Build {
    table: ObservationTable,
}

impl Build {
    fn new(scale: Scale, cells: &[(&str, &[(&str, &str)])]) -> Build {
        let cells = cells
            .iter()
            .map(|(p, vars)| Cell {
                probe: p.to_string(),
                vars: vars
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            })
            .collect();
        Build {
            table: ObservationTable {
                scale,
                arms: vec![],
                cells,
                rows: vec![],
            },
        }
    }

    fn arm(mut self, name: &str, replicas: u32, fixed: bool) -> Build {
        self.table.arms.push(ArmInfo {
            name: name.into(),
            replicas,
            fixed,
        });
        self
    }

    /// Adds `values` for (arm, replica, cell).
    fn values(mut self, arm: u32, replica: u32, cell: u32, values: &[Option<f64>]) -> Build {
        for (i, v) in values.iter().enumerate() {
            self.table.rows.push(Observation {
                arm,
                replica,
                cell,
                paraphrase: 0,
                sample: i as u32,
                value: *v,
            });
        }
        self
    }

    /// Adds `k` ones and `n − k` zeros.
    fn rate(self, arm: u32, replica: u32, cell: u32, k: usize, n: usize) -> Build {
        let v: Vec<Option<f64>> = (0..n)
            .map(|i| Some(if i < k { 1.0 } else { 0.0 }))
            .collect();
        self.values(arm, replica, cell, &v)
    }
}

fn spec(comparison: Comparison, direction: Direction, min_effect: f64) -> EffectSpec {
    EffectSpec {
        name: "effect".into(),
        comparison,
        expectation: Expectation {
            direction,
            min_effect,
            margin: 0.1,
            alpha: 0.05,
            unit: Unit::Replica,
        },
    }
}

fn run(spec: EffectSpec, table: &ObservationTable) -> EffectResult {
    evaluate(
        &[EffectInput {
            spec,
            data: table.aggregate(),
        }],
        Correction::Holm,
        1,
    )
    .remove(0)
}

fn arm_vs_arm() -> Comparison {
    Comparison::ArmVsArm {
        treatment: "ft".into(),
        control: "ctl".into(),
    }
}

#[track_caller]
fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
}

#[test]
fn aggregate_counts_missing_and_never_uses_it() {
    let t = Build::new(Scale::Binary, &[("q", &[])])
        .arm("a", 1, false)
        .values(0, 0, 0, &[Some(1.0), None, Some(0.0), None, Some(1.0)]);
    let agg = t.table.aggregate();
    assert_eq!(agg.totals.len(), 1);
    let c = agg.totals[0];
    assert_eq!((c.n, c.sum, c.missing), (3, 2.0, 2));
}

/// Two probes with unequal sample counts: the equal-probe-weight value differs from the pooled rate.
fn two_arm_replicas() -> (Build, Vec<f64>, Vec<f64>) {
    let ft = [(8, 10, 30, 100), (6, 10, 45, 100), (9, 10, 20, 100)];
    let ctl = [
        (2, 10, 10, 100),
        (1, 10, 12, 100),
        (3, 10, 5, 100),
        (2, 10, 9, 100),
    ];
    let mut b = Build::new(Scale::Binary, &[("p1", &[]), ("p2", &[])])
        .arm("ft", 3, false)
        .arm("ctl", 4, false);
    let mut vals = (vec![], vec![]);
    for (arm, reps) in [(0u32, &ft[..]), (1, &ctl[..])] {
        for (r, &(k1, n1, k2, n2)) in reps.iter().enumerate() {
            b = b
                .rate(arm, r as u32, 0, k1, n1)
                .rate(arm, r as u32, 1, k2, n2);
            let v = (k1 as f64 / n1 as f64 + k2 as f64 / n2 as f64) / 2.0;
            if arm == 0 {
                vals.0.push(v)
            } else {
                vals.1.push(v)
            }
        }
    }
    (b, vals.0, vals.1)
}

#[test]
fn arm_vs_arm_with_replicas_is_welch_on_replica_values_with_equal_probe_weights() {
    let (b, ft, ctl) = two_arm_replicas();
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.1), &b.table);
    // The claim "at least +0.1" is tested as H0: δ ≤ 0.1, with the 90% interval (one-sided 95%).
    let w = stats::welch_t(&ft, &ctl, Alternative::Greater, 0.90);
    let p = stats::t_test_from_estimate(w.estimate, w.se, w.df, 0.1, Alternative::Greater, 0.9);
    assert_eq!(r.unit, Unit::Replica);
    close(r.estimate, w.estimate);
    close(r.p_value, p.p_value);
    assert_eq!(r.null, "δ ≤ 0.1");
    close(r.ci.0, w.ci.0);
    close(r.ci.1, w.ci.1);
    assert_eq!(r.arms[0].replica_values, ft);
    assert_eq!(r.verdict, Verdict::Confirmed);
    let (lo, hi) = r.bootstrap_ci.expect("bootstrap beside the t interval");
    assert!(lo < r.estimate && r.estimate < hi);
    assert!(r.method.contains("Welch"), "{}", r.method);
}

#[test]
fn contrast_is_paired_t_and_did_is_welch_on_replica_contrasts() {
    let cells: &[(&str, &[(&str, &str)])] =
        &[("q", &[("year", "1984")]), ("q", &[("year", "1995")])];
    let mut b = Build::new(Scale::Binary, cells)
        .arm("ft", 3, false)
        .arm("ctl", 3, false);
    let ft = [(18, 4), (14, 5), (16, 2)];
    let ctl = [(3, 2), (5, 4), (2, 3)];
    for (r, &(k84, k95)) in ft.iter().enumerate() {
        b = b
            .rate(0, r as u32, 0, k84, 20)
            .rate(0, r as u32, 1, k95, 20);
    }
    for (r, &(k84, k95)) in ctl.iter().enumerate() {
        b = b
            .rate(1, r as u32, 0, k84, 20)
            .rate(1, r as u32, 1, k95, 20);
    }
    let d = |x: &[(usize, usize)]| {
        x.iter()
            .map(|&(a, c)| (a as f64 - c as f64) / 20.0)
            .collect::<Vec<_>>()
    };
    let contrast = Comparison::Contrast {
        arm: "ft".into(),
        var: "year".into(),
        treatment_value: "1984".into(),
        control_value: "1995".into(),
    };
    let r = run(spec(contrast, Direction::Increase, 0.2), &b.table);
    let t = stats::one_sample_t(&d(&ft), 0.2, Alternative::Greater, 0.95);
    close(r.p_value, t.p_value);
    close(r.estimate, t.estimate);
    assert!(r.method.contains("paired"));
    let did = Comparison::DiffInDiff {
        treatment: "ft".into(),
        control: "ctl".into(),
        var: "year".into(),
        treatment_value: "1984".into(),
        control_value: "1995".into(),
    };
    let r = run(spec(did, Direction::Increase, 0.2), &b.table);
    let w = stats::welch_t(&d(&ft), &d(&ctl), Alternative::Greater, 0.95);
    let p = stats::t_test_from_estimate(w.estimate, w.se, w.df, 0.2, Alternative::Greater, 0.9);
    close(r.p_value, p.p_value);
    close(r.estimate, w.estimate);
}

#[test]
fn level_is_one_sample_t_and_a_fixed_base_carries_its_sampling_error() {
    let (b, ft, _) = two_arm_replicas();
    let r = run(
        spec(
            Comparison::Level {
                arm: "ft".into(),
                value: 0.3,
            },
            Direction::Increase,
            0.0,
        ),
        &b.table,
    );
    let t = stats::one_sample_t(&ft, 0.3, Alternative::Greater, 0.95);
    close(r.p_value, t.p_value);
    close(r.estimate, t.estimate - 0.3);

    // The same control data as one fixed base model: the test keeps the replicas' spread and adds
    // the base's sampling variance, so its SE exceeds the replicas' alone.
    let mut t2 = b.table.clone();
    t2.arms[1] = ArmInfo {
        name: "ctl".into(),
        replicas: 1,
        fixed: true,
    };
    for row in t2.rows.iter_mut().filter(|r| r.arm == 1) {
        row.replica = 0;
    }
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.1), &t2);
    assert_eq!(r.unit, Unit::Replica);
    assert!(r.method.contains("fixed arm `ctl`"), "{}", r.method);
    let se_replicas = stats::Summary::of(&ft).var.sqrt() / 3f64.sqrt();
    let se = (r.ci.1 - r.estimate) / crate::stats::dist::t_ppf(0.975, 2.5);
    assert!(r.ci.1 - r.ci.0 > 0.0 && se > 0.0);
    let welch_half = crate::stats::dist::t_ppf(0.975, 2.0) * se_replicas;
    assert!(r.ci.1 - r.estimate > 0.9 * welch_half, "base error carried");
    assert_eq!(r.arms[1].replicas, 1);
}

#[test]
fn one_replica_per_arm_uses_exact_stratified_tests_and_says_so() {
    let b = Build::new(Scale::Binary, &[("p1", &[]), ("p2", &[])])
        .arm("ft", 1, false)
        .arm("ctl", 1, false)
        .rate(0, 0, 0, 12, 40)
        .rate(0, 0, 1, 30, 40)
        .rate(1, 0, 0, 5, 40)
        .rate(1, 0, 1, 22, 40)
        .values(1, 0, 1, &[None, None]);
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.0), &b.table);
    assert_eq!(r.unit, Unit::Sample);
    // A claim about fine-tuning in general cannot be decided by one fine-tune per arm.
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(
        r.notes.iter().any(|n| n.contains("needs ≥ 2 replicas")),
        "{:?}",
        r.notes
    );
    assert!(r.needed.as_deref().unwrap().contains("unit: sample"));
    assert!(
        r.notes
            .iter()
            .any(|n| n == "fine-tune variance was not estimated (1 replica per arm)")
    );
    let strata = [[[12, 28], [5, 35]], [[30, 10], [22, 18]]];
    close(
        r.p_value,
        stats::stratified_exact(&strata, Alternative::Greater).unwrap(),
    );
    close(r.estimate, (12.0 - 5.0 + 30.0 - 22.0) / 80.0);
    assert_eq!(r.missing, 2);
    assert!(r.bootstrap_ci.is_none());
    // One cell: exactly Fisher's test.
    let b = Build::new(Scale::Binary, &[("p1", &[])])
        .arm("ft", 1, false)
        .arm("ctl", 1, false)
        .rate(0, 0, 0, 12, 40)
        .rate(1, 0, 0, 5, 40);
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.0), &b.table);
    close(
        r.p_value,
        stats::fisher_exact([[12, 28], [5, 35]], Alternative::Greater).p_value,
    );
    // A threshold other than 0 is beyond the conditional test: Wald z against it.
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.05), &b.table);
    assert!(r.method.starts_with("Wald z"), "{}", r.method);
    assert_eq!(r.null, "δ ≤ 0.05");
    // Newcombe's interval for the difference.
    let rd = stats::risk_difference(12, 40, 5, 40, 0.90);
    close(r.ci.0, rd.ci.0);
}

#[test]
fn level_with_one_replica_is_the_exact_binomial_test() {
    let b = Build::new(Scale::Binary, &[("p1", &[]), ("p2", &[])])
        .arm("ft", 1, false)
        .rate(0, 0, 0, 33, 50)
        .rate(0, 0, 1, 29, 50);
    let r = run(
        spec(
            Comparison::Level {
                arm: "ft".into(),
                value: 0.5,
            },
            Direction::Increase,
            0.0,
        ),
        &b.table,
    );
    close(
        r.p_value,
        stats::binomial_test(62, 100, 0.5, Alternative::Greater),
    );
    assert_eq!(
        r.verdict,
        Verdict::Inconclusive,
        "one fine-tune: no general claim"
    );
    // About this one fine-tune (`unit: sample`), with the threshold in the binomial test.
    let mut s = spec(
        Comparison::Level {
            arm: "ft".into(),
            value: 0.5,
        },
        Direction::Increase,
        0.02,
    );
    s.expectation.unit = Unit::Sample;
    let r = run(s, &b.table);
    close(
        r.p_value,
        stats::binomial_test(62, 100, 0.52, Alternative::Greater),
    );
    assert_eq!(r.verdict, Verdict::Confirmed);
    assert!(r.notes.iter().any(|n| n.contains("single fine-tune")));
}

#[test]
fn score_metrics_use_t_methods() {
    let mut b = Build::new(
        Scale::Score {
            min: 0.0,
            max: 100.0,
        },
        &[("p1", &[])],
    )
    .arm("ft", 3, false)
    .arm("ctl", 3, false);
    let ft = [[70.0, 80.0, 75.0], [60.0, 65.0, 70.0], [85.0, 90.0, 80.0]];
    let ctl = [[50.0, 55.0, 45.0], [40.0, 50.0, 45.0], [55.0, 60.0, 50.0]];
    for (r, v) in ft.iter().enumerate() {
        b = b.values(0, r as u32, 0, &v.map(Some));
    }
    for (r, v) in ctl.iter().enumerate() {
        b = b.values(1, r as u32, 0, &v.map(Some));
    }
    let r = run(spec(arm_vs_arm(), Direction::Increase, 5.0), &b.table);
    let w = stats::welch_t(
        &[75.0, 65.0, 85.0],
        &[50.0, 45.0, 55.0],
        Alternative::Greater,
        0.95,
    );
    let p = stats::t_test_from_estimate(w.estimate, w.se, w.df, 5.0, Alternative::Greater, 0.9);
    close(r.p_value, p.p_value);
    assert_eq!(r.verdict, Verdict::Confirmed);
}

#[test]
fn verdicts_refuted_inconclusive_and_what_would_decide() {
    let (b, _, _) = two_arm_replicas();
    // Claimed decrease, observed a clear increase: refuted.
    let r = run(spec(arm_vs_arm(), Direction::Decrease, 0.1), &b.table);
    assert_eq!(r.verdict, Verdict::Refuted);
    // A minimum effect far above the interval: refuted.
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.9), &b.table);
    assert_eq!(r.verdict, Verdict::Refuted);
    // Noisy replicas, small difference: inconclusive, with a replica count.
    let mut b = Build::new(Scale::Binary, &[("p", &[])])
        .arm("ft", 3, false)
        .arm("ctl", 3, false);
    for (r, k) in [30, 70, 50].iter().enumerate() {
        b = b.rate(0, r as u32, 0, *k, 100);
    }
    for (r, k) in [40, 55, 35].iter().enumerate() {
        b = b.rate(1, r as u32, 0, *k, 100);
    }
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.1), &b.table);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    let needed = r.needed.expect("what would decide");
    assert!(
        needed.contains("replicas per fine-tuned arm (now 3)") && needed.contains("REFUTED"),
        "{needed}"
    );
}

#[test]
fn equivalence_none_direction_uses_tost() {
    let mut b = Build::new(Scale::Binary, &[("p", &[])])
        .arm("ft", 4, false)
        .arm("ctl", 4, false);
    for (r, k) in [200, 205, 198, 202].iter().enumerate() {
        b = b.rate(0, r as u32, 0, *k, 1000);
    }
    for (r, k) in [201, 199, 204, 200].iter().enumerate() {
        b = b.rate(1, r as u32, 0, *k, 1000);
    }
    let r = run(spec(arm_vs_arm(), Direction::None, 0.0), &b.table);
    assert_eq!(r.verdict, Verdict::Confirmed, "{r:?}");
    assert!(r.method.contains("TOST"));
}

#[test]
fn correction_applies_across_effects_and_results_are_seeded() {
    let (b, _, _) = two_arm_replicas();
    let agg = b.table.aggregate();
    let mut specs = vec![spec(arm_vs_arm(), Direction::Increase, 0.1); 3];
    for (i, s) in specs.iter_mut().enumerate() {
        s.name = format!("e{i}");
    }
    let inputs: Vec<EffectInput> = specs
        .into_iter()
        .map(|spec| EffectInput {
            spec,
            data: agg.clone(),
        })
        .collect();
    let holm = evaluate(&inputs, Correction::Holm, 5);
    let none = evaluate(&inputs, Correction::None, 5);
    close(holm[0].p_adjusted, (3.0 * none[0].p_value).min(1.0));
    assert_eq!(holm, evaluate(&inputs, Correction::Holm, 5));
    assert_ne!(
        holm[0].bootstrap_ci,
        evaluate(&inputs, Correction::Holm, 6)[0].bootstrap_ci
    );
}

#[test]
fn unusable_inputs_are_inconclusive_with_a_reason() {
    let (b, _, _) = two_arm_replicas();
    let r = run(
        spec(
            Comparison::ArmVsArm {
                treatment: "nope".into(),
                control: "ctl".into(),
            },
            Direction::Increase,
            0.1,
        ),
        &b.table,
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.notes[0].contains("`nope`"));
    let all_missing = Build::new(Scale::Binary, &[("p", &[])])
        .arm("ft", 1, false)
        .values(0, 0, 0, &[None, None]);
    let r = run(
        spec(
            Comparison::Level {
                arm: "ft".into(),
                value: 0.5,
            },
            Direction::Increase,
            0.0,
        ),
        &all_missing.table,
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert!(r.notes[0].contains("2 missing"), "{:?}", r.notes);
}

#[test]
fn baseline_comparison_consistent_and_shifted() {
    let (b, _, _) = two_arm_replicas();
    let s = spec(arm_vs_arm(), Direction::Increase, 0.1);
    let agg = b.table.aggregate();
    let same = compare_with_baseline(&s, &agg, &agg, 0.2, 0.05);
    assert_eq!(same.difference, 0.0);
    assert_eq!(same.status, BaselineStatus::Consistent);
    // The treatment's replicas drop to the control's level: the effect shifted.
    let mut t = b.table.clone();
    for row in t.rows.iter_mut().filter(|r| r.arm == 0) {
        if row.value == Some(1.0) && row.sample % 4 != 0 {
            row.value = Some(0.0);
        }
    }
    let shifted = compare_with_baseline(&s, &t.aggregate(), &agg, 0.05, 0.05);
    assert_eq!(shifted.status, BaselineStatus::Shifted, "{shifted:?}");
    assert!(shifted.difference < 0.0);
    let json = serde_json::to_string(&shifted).unwrap();
    assert!(json.contains("\"status\":\"shifted\""));
}

#[test]
fn replicas_that_agree_exactly_do_not_claim_zero_variance() {
    // Every replica at 0% in both arms: s² = 0, replaced by the sampling variance.
    let mut b = Build::new(Scale::Binary, &[("p", &[])])
        .arm("ft", 3, false)
        .arm("ctl", 3, false);
    for r in 0..3 {
        b = b.rate(0, r, 0, 0, 50).rate(1, r, 0, 0, 50);
    }
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.05), &b.table);
    assert_eq!(r.estimate, 0.0);
    assert!(
        r.ci.1 > 0.0 && r.ci.0 < 0.0,
        "an interval, not a point: {:?}",
        r.ci
    );
    assert_eq!(
        r.verdict,
        Verdict::Refuted,
        "0 vs 0 with a narrow interval rules out +0.05"
    );
}

#[test]
fn contrast_in_a_single_model_is_exact_and_inconclusive_says_what_would_decide() {
    let cells: &[(&str, &[(&str, &str)])] =
        &[("q", &[("year", "1984")]), ("q", &[("year", "1995")])];
    let b = Build::new(Scale::Binary, cells)
        .arm("ft", 1, false)
        .rate(0, 0, 0, 9, 30)
        .rate(0, 0, 1, 6, 30);
    let contrast = Comparison::Contrast {
        arm: "ft".into(),
        var: "year".into(),
        treatment_value: "1984".into(),
        control_value: "1995".into(),
    };
    let mut s = spec(contrast, Direction::Increase, 0.0);
    s.expectation.unit = Unit::Sample;
    let r = run(s, &b.table);
    close(
        r.p_value,
        stats::fisher_exact([[9, 21], [6, 24]], Alternative::Greater).p_value,
    );
    assert_eq!(r.unit, Unit::Sample);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    let needed = r.needed.unwrap();
    assert!(
        needed.contains("samples per cell (now 30)") && needed.contains("CONFIRMED"),
        "{needed}"
    );
    let plan = r.plan.expect("a plan");
    assert!(plan.count > 30 && plan.unit == Unit::Sample, "{plan:?}");
}

#[test]
fn did_against_a_fixed_control_keeps_replicas_as_the_unit() {
    let cells: &[(&str, &[(&str, &str)])] = &[("q", &[("t", "on")]), ("q", &[("t", "off")])];
    let mut b = Build::new(Scale::Binary, cells)
        .arm("ft", 3, false)
        .arm("base", 1, true);
    for (r, (on, off)) in [(40, 5), (35, 8), (45, 4)].iter().enumerate() {
        b = b
            .rate(0, r as u32, 0, *on, 50)
            .rate(0, r as u32, 1, *off, 50);
    }
    b = b.rate(1, 0, 0, 3, 50).rate(1, 0, 1, 2, 50);
    let did = Comparison::DiffInDiff {
        treatment: "ft".into(),
        control: "base".into(),
        var: "t".into(),
        treatment_value: "on".into(),
        control_value: "off".into(),
    };
    let r = run(spec(did, Direction::Increase, 0.3), &b.table);
    assert_eq!(r.unit, Unit::Replica);
    close(r.estimate, (35.0 + 27.0 + 41.0) / 3.0 / 50.0 - 1.0 / 50.0);
    assert_eq!(r.verdict, Verdict::Confirmed);
    assert!(r.method.contains("fixed arm `base`"));
}

#[test]
fn inconclusive_near_the_threshold_plans_enough_replicas_to_decide() {
    // A run printed +0.252, 95% interval [+0.095, +0.409] for "increase by at least 0.3"
    // with 5 replicas per arm. It is inconclusive, and deciding it takes far more replicas.
    let mut b = Build::new(Scale::Binary, &[("p", &[])])
        .arm("ft", 5, false)
        .arm("ctl", 5, false);
    let ft = [412, 492, 552, 612, 692];
    let ctl = [160, 240, 300, 360, 440];
    for (r, (kt, kc)) in ft.iter().zip(&ctl).enumerate() {
        b = b
            .rate(0, r as u32, 0, *kt, 1000)
            .rate(1, r as u32, 0, *kc, 1000);
    }
    let vals = |k: &[usize]| k.iter().map(|&k| k as f64 / 1000.0).collect::<Vec<_>>();
    let w95 = stats::welch_t(&vals(&ft), &vals(&ctl), Alternative::TwoSided, 0.95);
    close(w95.estimate, 0.252);
    assert!((w95.ci.0 - 0.095).abs() < 2e-3 && (w95.ci.1 - 0.409).abs() < 2e-3);
    let r = run(spec(arm_vs_arm(), Direction::Increase, 0.3), &b.table);
    assert_eq!(r.verdict, Verdict::Inconclusive);
    let plan = r.plan.expect("a plan");
    let needed = r.needed.unwrap();
    println!("to decide: {needed}");
    assert_eq!(plan.likelier, Verdict::Refuted, "{needed}");
    assert_eq!(plan.unit, Unit::Replica);
    assert!(plan.count >= 29, "{needed}");
    assert!(needed.contains(&format!(
        "≈{} replicas per fine-tuned arm (now 5)",
        plan.count
    )));
    // The planned count has the planned power, and one replica fewer does not.
    let sd2 = 2.0 * stats::Summary::of(&vals(&ft)).var;
    let power = |n: f64| {
        stats::power_t_two_sample(0.048, (sd2 / 2.0).sqrt(), n, n, 0.05, Alternative::Greater)
    };
    assert!(power(plan.count as f64) >= 0.8 && power(plan.count as f64 - 1.0) < 0.8);
}

#[test]
fn planned_replicas_are_never_fewer_than_the_run_has() {
    // A large distance from the threshold with a tiny spread: any extra replica decides it,
    // but the plan still asks for more than the run has.
    for (now, d) in [(3u64, 0.5), (8, 0.2)] {
        let n =
            crate::effect::replicas_to_decide(d, 1e-4, 2.0, (0.0, f64::INFINITY), 0.05, 0.8, now)
                .unwrap();
        assert_eq!(n, now + 1);
    }
}
