//! Benchmarks: each prints its measured figures beside the budget it is held to.

mod http;
mod rule_judge;
mod serve;
mod sim;
mod stats;
mod suite_load;
mod toy;

use anyhow::{Result, bail};

type Bench = (&'static str, fn() -> Result<()>);

/// Every benchmark, by name.
const BENCHES: &[Bench] = &[
    ("http", http::run),
    ("rule_judge", rule_judge::run),
    ("serve", serve::run),
    ("sim", sim::run),
    ("stats", stats::run),
    ("suite_load", suite_load::run),
    ("toy", toy::run),
];

/// The benchmarks' names.
pub fn names() -> Vec<&'static str> {
    BENCHES.iter().map(|(n, _)| *n).collect()
}

/// Runs one benchmark by name, or all of them.
pub fn run(which: &str) -> Result<()> {
    let mut ran = false;
    for (name, f) in BENCHES {
        if which == "all" || which == *name {
            println!("== bench {name}");
            f()?;
            ran = true;
        }
    }
    if !ran {
        bail!("no benchmark `{which}`; known: {}", names().join(", "));
    }
    Ok(())
}
