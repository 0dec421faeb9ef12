//! Calibration of the effect engine by simulation through `evaluate()`: every promise a verdict
//! makes is checked against Monte-Carlo error bounds, for each effect kind and both directions.
//!
//! - At a true effect exactly at the threshold (δ = m), P(CONFIRMED) ≤ α + 3·MCSE and
//!   P(REFUTED) ≤ α + 3·MCSE.
//! - The interval (1 − 2α) covers δ at its nominal level, within 3·MCSE.
//! - With the replicas "to decide" plans, the likelier verdict is reached with the planned power
//!   (so an engine that always said INCONCLUSIVE fails).
//! - Five simultaneous effects at δ = m keep the family-wise error at α (Holm).
//! - `none` (TOST): at δ = ± margin it confirms at most α of the time, at δ = 0 it confirms.
//! - 2-replica designs and missing values keep the same bounds; one replica per fine-tuned arm
//!   never decides a claim about fine-tuning in general.
//!
//! The simulated world: each probe has its own base rate; each fine-tuned replica shifts every
//! rate by its own draw from U(−spread, spread) (plus, for contrasts, a smaller per-condition
//! draw), so the expected rates are known exactly; samples are Bernoulli draws, and each may be
//! missing (the judge could not decide) at random.
//!
//! Run: `cargo test --release --test effect_calibration -- --nocapture` prints every rate.

use std::collections::BTreeMap;

use weirdgen::effect::*;
use weirdgen::rng::Rng;

const EXPERIMENTS: usize = 800;
const ALPHA: f64 = 0.05;
/// The claims' threshold m.
const M: f64 = 0.1;

/// An arm in the simulation.
#[derive(Clone, Copy)]
struct SimArm {
    replicas: u32,
    fixed: bool,
    /// Added to every probe's base rate.
    shift: f64,
    /// Added to the rates of the treatment condition (`cond = a`).
    cond_shift: f64,
}

/// One simulated experiment's observation table (binary metric).
#[derive(Clone)]
struct World {
    probe_rates: Vec<f64>,
    samples: usize,
    /// Half-width of the uniform between-replica shift.
    spread: f64,
    /// Cells carry a condition variable `cond` = a | b.
    conditions: bool,
    /// Probability that a sample's value is missing.
    missing: f64,
}

impl World {
    fn table(&self, arms: &[SimArm], rng: &mut Rng) -> ObservationTable {
        let conds: &[&str] = if self.conditions { &["a", "b"] } else { &["-"] };
        let mut cells = Vec::new();
        for p in 0..self.probe_rates.len() {
            for c in conds {
                let mut vars = BTreeMap::new();
                if self.conditions {
                    vars.insert("cond".to_string(), c.to_string());
                }
                cells.push(Cell {
                    probe: format!("p{p}"),
                    vars,
                });
            }
        }
        let mut rows = Vec::new();
        let names = ["t", "c"];
        for (a, arm) in arms.iter().enumerate() {
            for r in 0..arm.replicas {
                let u = |rng: &mut Rng, h: f64| {
                    if arm.fixed {
                        0.0
                    } else {
                        (2.0 * rng.next_f64() - 1.0) * h
                    }
                };
                let shift = u(rng, self.spread);
                for (p, base) in self.probe_rates.iter().enumerate() {
                    for (ci, c) in conds.iter().enumerate() {
                        let cond = if *c == "a" {
                            arm.cond_shift + u(rng, self.spread / 2.0)
                        } else {
                            0.0
                        };
                        let rate = base + arm.shift + shift + cond;
                        assert!((0.0..=1.0).contains(&rate));
                        let cell = (p * conds.len() + ci) as u32;
                        for s in 0..self.samples {
                            let v = if rng.bernoulli(rate) { 1.0 } else { 0.0 };
                            let value = (!rng.bernoulli(self.missing)).then_some(v);
                            rows.push(Observation {
                                arm: a as u32,
                                replica: r,
                                cell,
                                paraphrase: 0,
                                sample: s as u32,
                                value,
                            });
                        }
                    }
                }
            }
        }
        let arms = arms
            .iter()
            .enumerate()
            .map(|(i, a)| ArmInfo {
                name: names[i].to_string(),
                replicas: a.replicas,
                fixed: a.fixed,
            })
            .collect();
        ObservationTable {
            scale: Scale::Binary,
            arms,
            cells,
            rows,
        }
    }

    /// Variance of one replica's equal-probe-weight rate (fine-tune spread + sampling), for a
    /// world without conditions.
    fn replica_variance(&self, shift: f64) -> f64 {
        let k = self.probe_rates.len() as f64;
        let sampling = self
            .probe_rates
            .iter()
            .map(|p| (p + shift) * (1.0 - p - shift) / self.samples as f64)
            .sum::<f64>()
            / (k * k);
        self.spread * self.spread / 3.0 + sampling
    }
}

/// How often each verdict came out, and how often the interval covered the truth.
#[derive(Debug, Default)]
struct Tally {
    confirmed: usize,
    refuted: usize,
    covered: usize,
    n: usize,
}

impl Tally {
    fn rate(&self, k: usize) -> f64 {
        k as f64 / self.n as f64
    }
    fn confirmed(&self) -> f64 {
        self.rate(self.confirmed)
    }
    fn refuted(&self) -> f64 {
        self.rate(self.refuted)
    }
    fn covered(&self) -> f64 {
        self.rate(self.covered)
    }
}

/// 3 Monte-Carlo standard errors of a rate `p` over `n` experiments.
fn mcse3(p: f64, n: usize) -> f64 {
    3.0 * (p * (1.0 - p) / n as f64).sqrt()
}

fn expectation(direction: Direction, unit: Unit) -> Expectation {
    Expectation {
        direction,
        min_effect: M,
        margin: M,
        alpha: ALPHA,
        unit,
    }
}

/// One effect: `comparison` in `world` with `arms`, evaluated `experiments` times.
struct Case<'a> {
    world: &'a World,
    arms: Vec<SimArm>,
    comparison: Comparison,
    expectation: Expectation,
    /// The true δ.
    truth: f64,
}

/// Runs `cases` together (one suite run with one effect per case, corrected together) in
/// each of `experiments` experiments. Returns one tally per case, and the number of
/// experiments in which any case was confirmed and in which any was refuted.
fn simulate(cases: &[Case], experiments: usize, seed: u64) -> (Vec<Tally>, usize, usize) {
    let mut rng = Rng::new(seed);
    let mut tallies: Vec<Tally> = cases.iter().map(|_| Tally::default()).collect();
    let (mut any_confirmed, mut any_refuted) = (0, 0);
    for _ in 0..experiments {
        let inputs: Vec<EffectInput> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| EffectInput {
                spec: EffectSpec {
                    name: format!("e{i}"),
                    comparison: c.comparison.clone(),
                    expectation: c.expectation,
                },
                data: c.world.table(&c.arms, &mut rng).aggregate(),
            })
            .collect();
        let results = evaluate(&inputs, Correction::Holm, rng.next_u64());
        for ((r, c), t) in results.iter().zip(cases).zip(tallies.iter_mut()) {
            t.n += 1;
            t.confirmed += usize::from(r.verdict == Verdict::Confirmed);
            t.refuted += usize::from(r.verdict == Verdict::Refuted);
            t.covered += usize::from(r.ci.0 <= c.truth && c.truth <= r.ci.1);
        }
        any_confirmed += usize::from(results.iter().any(|r| r.verdict == Verdict::Confirmed));
        any_refuted += usize::from(results.iter().any(|r| r.verdict == Verdict::Refuted));
    }
    (tallies, any_confirmed, any_refuted)
}

fn one(case: Case, seed: u64) -> Tally {
    simulate(&[case], EXPERIMENTS, seed).0.remove(0)
}

/// At δ = m: neither verdict beyond α + 3·MCSE, and the 1 − 2α interval covers δ.
#[track_caller]
fn check_at_threshold(what: &str, t: &Tally) {
    let bound = ALPHA + mcse3(ALPHA, t.n);
    let level = 1.0 - 2.0 * ALPHA;
    let cover = level - mcse3(level, t.n);
    println!(
        "{what}: at δ = threshold P(CONFIRMED) {:.3}, P(REFUTED) {:.3} (bound {bound:.3}); {:.0}% interval coverage {:.3} (bound {cover:.3})",
        t.confirmed(),
        t.refuted(),
        level * 100.0,
        t.covered()
    );
    assert!(
        t.confirmed() <= bound,
        "{what}: P(CONFIRMED) {}",
        t.confirmed()
    );
    assert!(t.refuted() <= bound, "{what}: P(REFUTED) {}", t.refuted());
    assert!(t.covered() >= cover, "{what}: coverage {}", t.covered());
}

fn tuned(replicas: u32, shift: f64, cond_shift: f64) -> SimArm {
    SimArm {
        replicas,
        fixed: false,
        shift,
        cond_shift,
    }
}

fn fixed(shift: f64) -> SimArm {
    SimArm {
        replicas: 1,
        fixed: true,
        shift,
        cond_shift: 0.0,
    }
}

fn world(conditions: bool) -> World {
    World {
        probe_rates: vec![0.3, 0.4, 0.5, 0.35],
        samples: 20,
        spread: 0.15,
        conditions,
        missing: 0.0,
    }
}

fn arm_vs_arm() -> Comparison {
    Comparison::ArmVsArm {
        treatment: "t".into(),
        control: "c".into(),
    }
}

/// Condition `a` minus `b` (or, `reversed`, `b` minus `a`) within arm `t`.
fn contrast(reversed: bool) -> Comparison {
    let (t, c) = if reversed { ("b", "a") } else { ("a", "b") };
    Comparison::Contrast {
        arm: "t".into(),
        var: "cond".into(),
        treatment_value: t.into(),
        control_value: c.into(),
    }
}

fn diff_in_diff() -> Comparison {
    Comparison::DiffInDiff {
        treatment: "t".into(),
        control: "c".into(),
        var: "cond".into(),
        treatment_value: "a".into(),
        control_value: "b".into(),
    }
}

/// The mean of the world's probe rates.
const LEVEL: f64 = 0.3875;

/// Every effect kind, in both directions, with δ exactly at the threshold (±m).
#[test]
fn no_verdict_beyond_alpha_at_the_threshold_for_every_kind_and_direction() {
    let plain = world(false);
    let cond = world(true);
    for (dir, sign, seed) in [
        (Direction::Increase, 1.0, 1),
        (Direction::Decrease, -1.0, 20),
    ] {
        let d = sign * M;
        let e = expectation(dir, Unit::Replica);
        let cases = [
            (
                "arm vs arm (4 vs 4 replicas)",
                Case {
                    world: &plain,
                    arms: vec![tuned(4, d, 0.0), tuned(4, 0.0, 0.0)],
                    comparison: arm_vs_arm(),
                    expectation: e,
                    truth: d,
                },
            ),
            (
                "arm vs fixed base (4 replicas)",
                Case {
                    world: &plain,
                    arms: vec![tuned(4, d, 0.0), fixed(0.0)],
                    comparison: arm_vs_arm(),
                    expectation: e,
                    truth: d,
                },
            ),
            (
                "contrast (4 replicas)",
                Case {
                    world: &cond,
                    arms: vec![tuned(4, 0.0, M)],
                    comparison: contrast(sign < 0.0),
                    expectation: e,
                    truth: d,
                },
            ),
            (
                "difference in differences (4 vs 4 replicas)",
                Case {
                    world: &cond,
                    arms: vec![tuned(4, 0.0, d.max(0.0)), tuned(4, 0.0, (-d).max(0.0))],
                    comparison: diff_in_diff(),
                    expectation: e,
                    truth: d,
                },
            ),
            (
                "level (4 replicas)",
                Case {
                    world: &plain,
                    arms: vec![tuned(4, d, 0.0)],
                    comparison: Comparison::Level {
                        arm: "t".into(),
                        value: LEVEL,
                    },
                    expectation: e,
                    truth: d,
                },
            ),
        ];
        for (i, (what, case)) in cases.into_iter().enumerate() {
            let t = one(case, seed + i as u64);
            check_at_threshold(&format!("{what}, {dir:?}"), &t);
        }
    }
}

#[test]
fn two_replica_designs_and_missing_values_keep_the_bounds() {
    let w = world(false);
    let e = expectation(Direction::Increase, Unit::Replica);
    let t = one(
        Case {
            world: &w,
            arms: vec![tuned(2, M, 0.0), tuned(2, 0.0, 0.0)],
            comparison: arm_vs_arm(),
            expectation: e,
            truth: M,
        },
        40,
    );
    check_at_threshold("arm vs arm (2 vs 2 replicas)", &t);
    let t = one(
        Case {
            world: &w,
            arms: vec![tuned(2, M, 0.0)],
            comparison: Comparison::Level {
                arm: "t".into(),
                value: LEVEL,
            },
            expectation: e,
            truth: M,
        },
        41,
    );
    check_at_threshold("level (2 replicas)", &t);
    let holey = World {
        missing: 0.25,
        ..world(false)
    };
    let t = one(
        Case {
            world: &holey,
            arms: vec![tuned(4, M, 0.0), tuned(4, 0.0, 0.0)],
            comparison: arm_vs_arm(),
            expectation: e,
            truth: M,
        },
        42,
    );
    check_at_threshold("arm vs arm (4 vs 4 replicas, 25% missing)", &t);
}

/// Fixed models: exact conditional test for m = 0; for m ≠ 0 a Wald z test, a large-sample
/// test (checked at the suites' default of 100 samples per cell).
#[test]
fn fixed_models_at_the_sample_level_keep_the_bounds() {
    let w = World {
        spread: 0.0,
        samples: 100,
        ..world(false)
    };
    for (m, seed) in [(0.0, 50), (0.05, 51)] {
        let e = Expectation {
            min_effect: m,
            ..expectation(Direction::Increase, Unit::Replica)
        };
        let t = one(
            Case {
                world: &w,
                arms: vec![fixed(m), fixed(0.0)],
                comparison: arm_vs_arm(),
                expectation: e,
                truth: m,
            },
            seed,
        );
        check_at_threshold(&format!("two fixed models, sample level (m = {m})"), &t);
    }
}

/// The plan "to decide" makes, applied to the truth, reaches the likelier verdict with the
/// planned power: CONFIRMED above the threshold, REFUTED below it.
#[test]
fn the_planned_replicas_reach_a_verdict_with_the_planned_power() {
    let w = world(false);
    let distance = 0.12;
    for (dir, sign, seed) in [
        (Direction::Increase, 1.0, 60),
        (Direction::Decrease, -1.0, 62),
    ] {
        for (beyond, want) in [(1.0, Verdict::Confirmed), (-1.0, Verdict::Refuted)] {
            let delta = sign * (M + beyond * distance);
            // The shift goes to whichever arm keeps every rate in [0, 1].
            let (up, down) = (delta.max(0.0), (-delta).max(0.0));
            let between = w.replica_variance(up) + w.replica_variance(down);
            let n = replicas_to_decide(
                distance,
                between,
                2.0,
                (0.0, f64::INFINITY),
                ALPHA,
                PLANNING_POWER,
                1,
            )
            .expect("a plan");
            let t = one(
                Case {
                    world: &w,
                    arms: vec![tuned(n as u32, up, 0.0), tuned(n as u32, down, 0.0)],
                    comparison: arm_vs_arm(),
                    expectation: expectation(dir, Unit::Replica),
                    truth: delta,
                },
                seed + u64::from(beyond > 0.0),
            );
            let got = if want == Verdict::Confirmed {
                t.confirmed()
            } else {
                t.refuted()
            };
            let bound = PLANNING_POWER - mcse3(PLANNING_POWER, t.n);
            println!(
                "{dir:?}, δ = {delta:+.2} (threshold {:+.2}): {n} replicas per arm planned; P({want:?}) {got:.3} (bound {bound:.3})",
                sign * M
            );
            assert!(
                got >= bound,
                "{dir:?} δ = {delta}: power {got} with {n} replicas"
            );
        }
    }
}

#[test]
fn five_simultaneous_effects_keep_the_family_wise_error() {
    let w = world(false);
    let cases: Vec<Case> = (0..5)
        .map(|_| Case {
            world: &w,
            arms: vec![tuned(4, M, 0.0), tuned(4, 0.0, 0.0)],
            comparison: arm_vs_arm(),
            expectation: expectation(Direction::Increase, Unit::Replica),
            truth: M,
        })
        .collect();
    let (_, confirmed, refuted) = simulate(&cases, EXPERIMENTS, 70);
    let (c, r) = (
        confirmed as f64 / EXPERIMENTS as f64,
        refuted as f64 / EXPERIMENTS as f64,
    );
    let bound = ALPHA + mcse3(ALPHA, EXPERIMENTS);
    println!(
        "5 effects at δ = m (Holm): P(any CONFIRMED) {c:.3}, P(any REFUTED) {r:.3} (bound {bound:.3})"
    );
    assert!(c <= bound && r <= bound, "FWER {c} / {r}");
}

#[test]
fn equivalence_is_calibrated_at_the_margin_and_shown_inside_it() {
    let w = world(false);
    let e = expectation(Direction::None, Unit::Replica);
    for (shift, seed) in [(M, 80), (-M, 81)] {
        let t = one(
            Case {
                world: &w,
                arms: vec![tuned(4, shift, 0.0), tuned(4, 0.0, 0.0)],
                comparison: arm_vs_arm(),
                expectation: e,
                truth: shift,
            },
            seed,
        );
        check_at_threshold(&format!("none (TOST ±{M}), δ = {shift:+}"), &t);
    }
    // No shift, enough replicas (SE ≈ 0.03 against a margin of 0.1): equivalence is shown
    // most of the time, a shift almost never.
    let t = one(
        Case {
            world: &w,
            arms: vec![tuned(24, 0.0, 0.0), tuned(24, 0.0, 0.0)],
            comparison: arm_vs_arm(),
            expectation: e,
            truth: 0.0,
        },
        82,
    );
    println!(
        "none (TOST ±{M}), δ = 0, 24 vs 24 replicas: P(CONFIRMED) {:.3}, P(REFUTED) {:.3}",
        t.confirmed(),
        t.refuted()
    );
    assert!(t.confirmed() >= 0.8, "TOST power {}", t.confirmed());
    assert!(t.refuted() <= ALPHA / 2.0 + mcse3(ALPHA / 2.0, t.n));
}

#[test]
fn one_replica_per_fine_tuned_arm_never_decides_a_general_claim() {
    // Pooled at the sample level, the replicas' spread would pass for an effect (the claim
    // about this one fine-tune is a different question); a general claim stays inconclusive.
    let w = World {
        samples: 50,
        ..world(false)
    };
    let case = |unit| Case {
        world: &w,
        arms: vec![tuned(1, 0.0, 0.0), tuned(1, 0.0, 0.0)],
        comparison: arm_vs_arm(),
        expectation: Expectation {
            min_effect: 0.0,
            ..expectation(Direction::Increase, unit)
        },
        truth: 0.0,
    };
    let general = simulate(&[case(Unit::Replica)], 300, 90).0.remove(0);
    let single = simulate(&[case(Unit::Sample)], 300, 90).0.remove(0);
    println!(
        "1 vs 1 replica, no effect in fine-tuning: P(CONFIRMED) {:.3} as a general claim, {:.3} as a claim about the one fine-tune (`unit: sample`)",
        general.confirmed(),
        single.confirmed()
    );
    assert_eq!(general.confirmed + general.refuted, 0);
    assert!(single.confirmed() > 2.0 * ALPHA, "{}", single.confirmed());
}
