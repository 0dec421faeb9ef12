//! `cargo xtask toy-table`: every effect of the toy suites on each pretraining seed, as the
//! Markdown table in the README. It runs `weirdgen run <suite> --model toy/world-s<N>` (the
//! store answers a re-run without training), so it prints the same numbers on every machine.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::process::Command;

/// The toy suites, in the table's order.
const SUITES: [&str; 2] = ["toy-old-bird-names", "toy-evil-terminator"];
/// Pretraining seeds `toy/world-s0` .. `toy/world-s4`.
const SEEDS: std::ops::Range<u32> = 0..5;

/// One effect on one seed.
struct Cell {
    estimate: f64,
    ci: (f64, f64),
    verdict: String,
}

/// Runs both suites on every seed and prints the table (and exits non-zero unless every
/// effect is confirmed on every seed).
pub fn run() -> Result<()> {
    let mut results = Vec::new();
    for suite in SUITES {
        let per_seed = SEEDS
            .map(|seed| run_suite(suite, seed))
            .collect::<Result<Vec<_>>>()?;
        results.push((suite, per_seed));
    }
    let seeds: Vec<String> = SEEDS.map(|s| format!("toy/world-s{s}")).collect();
    println!("| effect | {} |", seeds.join(" | "));
    println!("|---|{}", "---|".repeat(seeds.len()));
    let mut all = true;
    for (suite, per_seed) in &results {
        for (i, (name, _)) in per_seed[0].iter().enumerate() {
            let shown: Vec<String> = per_seed
                .iter()
                .map(|effects| {
                    let c = &effects[i].1;
                    all &= c.verdict == "confirmed";
                    format!(
                        "{:+.3} [{:+.3}, {:+.3}] {}",
                        c.estimate, c.ci.0, c.ci.1, c.verdict
                    )
                })
                .collect();
            println!("| {suite} / {name} | {} |", shown.join(" | "));
        }
    }
    if !all {
        bail!("some toy effect is not confirmed on some seed");
    }
    Ok(())
}

/// The effects of `suite` on `toy/world-s<seed>`, from `weirdgen run ... --format json`.
fn run_suite(suite: &str, seed: u32) -> Result<Vec<(String, Cell)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let model = format!("toy/world-s{seed}");
    eprintln!("running {suite} on {model} ...");
    let out = Command::new(cargo)
        .args(["run", "--release", "--quiet", "--bin", "weirdgen", "--"])
        .args(["run", suite, "--model", &model, "--format", "json"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("starting `cargo run --bin weirdgen`")?;
    if !out.status.success() {
        bail!(
            "weirdgen run {suite} --model {model} failed ({})",
            out.status
        );
    }
    let report: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("reading the JSON report of {suite} on {model}"))?;
    let effects = report["effects"]
        .as_array()
        .with_context(|| format!("the report of {suite} on {model} has no effects"))?;
    effects
        .iter()
        .map(|e| {
            let num = |v: &Value| v.as_f64().context("a number in the report");
            Ok((
                e["name"].as_str().context("effect name")?.to_string(),
                Cell {
                    estimate: num(&e["estimate"])?,
                    ci: (num(&e["ci"][0])?, num(&e["ci"][1])?),
                    verdict: e["verdict"]
                        .as_str()
                        .context("effect verdict")?
                        .to_lowercase(),
                },
            ))
        })
        .collect()
}
