//! Statistics engine: evaluating a suite's effects over 100,000 observations (< 1 s) and a
//! 10,000-resample hierarchical bootstrap over 10 replicas × 10 probes × 100 samples (< 0.5 s).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use weirdgen::effect::*;
use weirdgen::rng::Rng;
use weirdgen::stats::bootstrap::{CellSamples, ClusterGroup, Term, hierarchical_bootstrap};

const RUNS: usize = 7;

/// Median wall time of `RUNS` runs of `f`, in seconds.
fn median_secs(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

/// 100,000 binary observations: two fine-tuned arms (10 replicas × 20 cells × 200 samples)
/// and a fixed base model (20 cells × 1,000 samples); 10 probes × a year variable.
fn table(rng: &mut Rng) -> ObservationTable {
    let mut cells = Vec::new();
    for p in 0..10 {
        for year in ["1984", "1995"] {
            cells.push(Cell {
                probe: format!("q{p}"),
                vars: BTreeMap::from([("year".to_string(), year.to_string())]),
            });
        }
    }
    let arms = vec![
        ArmInfo {
            name: "ft".into(),
            replicas: 10,
            fixed: false,
        },
        ArmInfo {
            name: "ctl".into(),
            replicas: 10,
            fixed: false,
        },
        ArmInfo {
            name: "base".into(),
            replicas: 1,
            fixed: true,
        },
    ];
    let mut rows = Vec::with_capacity(100_000);
    for (arm, replicas, samples, rate) in [
        (0u32, 10u32, 200u32, 0.5),
        (1, 10, 200, 0.2),
        (2, 1, 1000, 0.1),
    ] {
        for replica in 0..replicas {
            let shift = 0.1 * (rng.next_f64() - 0.5);
            for cell in 0..20u32 {
                let p = rate + shift + if cell % 2 == 0 { 0.1 } else { 0.0 };
                for sample in 0..samples {
                    let value = (rng.next_f64() < p) as u8 as f64;
                    // About 1% missing (judge could not decide).
                    let value = if rng.below(100) == 0 {
                        None
                    } else {
                        Some(value)
                    };
                    rows.push(Observation {
                        arm,
                        replica,
                        cell,
                        paraphrase: 0,
                        sample,
                        value,
                    });
                }
            }
        }
    }
    ObservationTable {
        scale: Scale::Binary,
        arms,
        cells,
        rows,
    }
}

fn effects() -> Vec<EffectSpec> {
    let e = |name: &str, comparison, direction| EffectSpec {
        name: name.into(),
        comparison,
        expectation: Expectation {
            direction,
            min_effect: 0.1,
            margin: 0.05,
            alpha: 0.05,
            unit: Unit::Replica,
        },
    };
    let year = |arm: &str| Comparison::Contrast {
        arm: arm.into(),
        var: "year".into(),
        treatment_value: "1984".into(),
        control_value: "1995".into(),
    };
    vec![
        e(
            "ft vs ctl",
            Comparison::ArmVsArm {
                treatment: "ft".into(),
                control: "ctl".into(),
            },
            Direction::Increase,
        ),
        e(
            "ft vs base",
            Comparison::ArmVsArm {
                treatment: "ft".into(),
                control: "base".into(),
            },
            Direction::Increase,
        ),
        e("ft year", year("ft"), Direction::Increase),
        e("base year", year("base"), Direction::None),
        e(
            "did",
            Comparison::DiffInDiff {
                treatment: "ft".into(),
                control: "ctl".into(),
                var: "year".into(),
                treatment_value: "1984".into(),
                control_value: "1995".into(),
            },
            Direction::None,
        ),
        e(
            "ft level",
            Comparison::Level {
                arm: "ft".into(),
                value: 0.4,
            },
            Direction::Increase,
        ),
    ]
}

/// 10 replicas × 10 probes × 100 samples of rates around 0.3.
fn bootstrap_group(rng: &mut Rng, resample_samples: bool) -> ClusterGroup {
    let replicas = (0..10)
        .map(|_| {
            (0..10)
                .map(|_| {
                    let k = (0..100).filter(|_| rng.next_f64() < 0.3).count() as f64;
                    vec![Term {
                        coef: 1.0,
                        cell: CellSamples {
                            n: 100,
                            sum: k,
                            sum_sq: k,
                            binary: true,
                        },
                    }]
                })
                .collect()
        })
        .collect();
    ClusterGroup {
        weight: 1.0,
        resample_samples,
        replicas,
    }
}

/// Runs the benchmark and prints medians beside the targets.
pub fn run() -> Result<()> {
    let mut rng = Rng::new(2026);
    let table = table(&mut rng);
    let specs = effects();
    let evaluate_suite = || {
        let data = table.aggregate();
        let inputs: Vec<EffectInput> = specs
            .iter()
            .map(|spec| EffectInput {
                spec: spec.clone(),
                data: data.clone(),
            })
            .collect();
        black_box(evaluate(&inputs, Correction::Holm, 7));
    };
    let t = median_secs(evaluate_suite);
    println!(
        "evaluate {} effects over {} observations: median {:.3} s (target < 1 s)",
        specs.len(),
        table.rows.len(),
        t
    );

    let group = bootstrap_group(&mut rng, false);
    let t = median_secs(|| {
        black_box(hierarchical_bootstrap(
            std::slice::from_ref(&group),
            10,
            10_000,
            0.95,
            1,
        ));
    });
    println!(
        "hierarchical bootstrap, 10,000 resamples, 10 replicas × 10 probes (× 100 samples): median {t:.3} s (target < 0.5 s)"
    );

    let group = bootstrap_group(&mut rng, true);
    let t = median_secs(|| {
        black_box(hierarchical_bootstrap(
            std::slice::from_ref(&group),
            10,
            10_000,
            0.95,
            1,
        ));
    });
    println!(
        "  same, also resampling the 100 samples of every cell (three levels): median {t:.3} s (target < 0.5 s)"
    );
    Ok(())
}
