//! Calibration of the model comparison and the leaderboard's tie groups by simulation.
//!
//! Each simulated model runs one effect: a fine-tuned arm of five replicas against the fixed
//! base model, on four probes of 30 samples. Replica i of every model shares a shift (the same
//! seed and data) and adds its own; the base rates are the same for every model. With every
//! model equally susceptible:
//!
//! - `compare` calls a model more (or less) susceptible than another at most α of the time
//!   each, within 3 Monte-Carlo standard errors;
//! - on a board of five models, some model is put out of the leader's tie group at most α of
//!   the time (the family-wise error of the tie groups).
//!
//! And a model 0.25 less susceptible than the four others is put out of the group most of the
//! time, so groups that always tie everyone fail.
//!
//! Run: `cargo test --release --test integration -- tie_calibration --nocapture` prints the rates.

use weirdgen::effect::*;
use weirdgen::leaderboard::compare::{Versus, tie_group, versus};
use weirdgen::rng::Rng;

const EXPERIMENTS: usize = 600;
const ALPHA: f64 = 0.05;
const REPLICAS: u32 = 5;
const SAMPLES: u64 = 30;
const PROBE_RATES: [f64; 4] = [0.15, 0.3, 0.45, 0.6];

fn mcse3(p: f64, n: usize) -> f64 {
    3.0 * (p * (1.0 - p) / n as f64).sqrt()
}

fn spec() -> EffectSpec {
    EffectSpec {
        name: "shift".into(),
        comparison: Comparison::ArmVsArm {
            treatment: "tuned".into(),
            control: "base".into(),
        },
        expectation: Expectation {
            direction: Direction::Increase,
            min_effect: 0.1,
            margin: 0.1,
            alpha: ALPHA,
            unit: Unit::Replica,
        },
    }
}

/// Bernoulli successes out of `n` at rate `p`.
fn draw(rng: &mut Rng, n: u64, p: f64) -> f64 {
    (0..n).filter(|_| rng.bernoulli(p.clamp(0.0, 1.0))).count() as f64
}

/// One model's data: the tuned arm's replica i shifts every rate by `effect + shared[i] +
/// its own draw`; the base model answers at the probe rates.
fn model(rng: &mut Rng, effect: f64, shared: &[f64]) -> Aggregate {
    let cells: Vec<Cell> = (0..PROBE_RATES.len())
        .map(|p| Cell {
            probe: format!("p{p}"),
            vars: Default::default(),
        })
        .collect();
    let mut totals = Vec::new();
    for (r, s) in shared.iter().enumerate() {
        let own = 0.05 * (2.0 * rng.next_f64() - 1.0);
        for (c, rate) in PROBE_RATES.iter().enumerate() {
            let sum = draw(rng, SAMPLES, rate + effect + s + own);
            totals.push(totals_of(0, r as u32, c as u32, sum));
        }
    }
    for (c, rate) in PROBE_RATES.iter().enumerate() {
        let sum = draw(rng, SAMPLES, *rate);
        totals.push(totals_of(1, 0, c as u32, sum));
    }
    Aggregate {
        scale: Scale::Binary,
        arms: vec![
            ArmInfo {
                name: "tuned".into(),
                replicas: REPLICAS,
                fixed: false,
            },
            ArmInfo {
                name: "base".into(),
                replicas: 1,
                fixed: true,
            },
        ],
        cells,
        totals,
    }
}

fn totals_of(arm: u32, replica: u32, cell: u32, sum: f64) -> CellTotals {
    CellTotals {
        arm,
        replica,
        cell,
        n: SAMPLES,
        sum,
        sum_sq: sum,
        missing: 0,
    }
}

/// The effect's estimate on one model's data.
fn estimate(data: &Aggregate) -> f64 {
    let input = EffectInput {
        spec: spec(),
        data: data.clone(),
    };
    evaluate(&[input], Correction::Holm, 1)[0].estimate
}

/// Five models with these true effects, replica i sharing its shift across them.
fn board(rng: &mut Rng, effects: &[f64]) -> Vec<Aggregate> {
    let shared: Vec<f64> = (0..REPLICAS)
        .map(|_| 0.08 * (2.0 * rng.next_f64() - 1.0))
        .collect();
    effects.iter().map(|e| model(rng, *e, &shared)).collect()
}

#[test]
fn comparisons_and_tie_groups_keep_alpha_when_models_are_alike() {
    let mut rng = Rng::new(20261206);
    let (mut more, mut less, mut split) = (0, 0, 0);
    for _ in 0..EXPERIMENTS {
        let models = board(&mut rng, &[0.2; 5]);
        match versus(&spec(), &models[0], &models[1], 0.0).verdict {
            Versus::MoreSusceptible => more += 1,
            Versus::LessSusceptible => less += 1,
            _ => {}
        }
        let entries: Vec<(f64, &Aggregate)> = models.iter().map(|m| (estimate(m), m)).collect();
        if tie_group(&spec(), &entries)
            .iter()
            .any(|s| !s.tied_with_leader)
        {
            split += 1;
        }
    }
    let rate = |k: usize| k as f64 / EXPERIMENTS as f64;
    let bound = ALPHA + mcse3(ALPHA, EXPERIMENTS);
    eprintln!(
        "alike: more {:.3}, less {:.3}, tie group split {:.3} (bound {bound:.3})",
        rate(more),
        rate(less),
        rate(split)
    );
    assert!(rate(more) <= bound, "more susceptible {}", rate(more));
    assert!(rate(less) <= bound, "less susceptible {}", rate(less));
    assert!(rate(split) <= bound, "tie group split {}", rate(split));
}

#[test]
fn a_less_susceptible_model_leaves_the_tie_group() {
    let mut rng = Rng::new(7);
    let experiments = EXPERIMENTS / 4;
    let (mut out, mut wrongly_out) = (0, 0);
    for _ in 0..experiments {
        let models = board(&mut rng, &[0.3, 0.3, 0.3, 0.3, 0.05]);
        let entries: Vec<(f64, &Aggregate)> = models.iter().map(|m| (estimate(m), m)).collect();
        for s in tie_group(&spec(), &entries) {
            if s.model == 4 && !s.tied_with_leader {
                out += 1;
            }
            if s.model < 4 && !s.tied_with_leader {
                wrongly_out += 1;
            }
        }
    }
    let rate = out as f64 / experiments as f64;
    eprintln!("a 0.25 less susceptible model leaves the group {rate:.3} of the time");
    assert!(rate >= 0.8, "{rate}");
    assert!(
        (wrongly_out as f64 / experiments as f64) <= ALPHA + mcse3(ALPHA, experiments),
        "{wrongly_out}"
    );
}
