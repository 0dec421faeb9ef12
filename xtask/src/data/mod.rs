//! Regenerating the committed data tables of the published suites (`cargo xtask data [NAME|all]`).
//!
//! Mechanical variations (random triggers, dates, filled-in prompt templates) are drawn with
//! the project's seeded RNG, so a rerun rewrites the same bytes: `git diff` after a rerun
//! shows whether a committed table is stale.

mod dates;
mod dilution;
mod presidents;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

type Generator = (&'static str, fn(&Path) -> Result<()>);

/// Every generated table, by the suite it belongs to.
const GENERATORS: &[Generator] = &[
    ("us-presidents-replication", presidents::generate),
    ("hitler-persona-replication", dilution::generate),
];

/// The generators' names.
pub fn names() -> Vec<&'static str> {
    GENERATORS.iter().map(|(n, _)| *n).collect()
}

/// Regenerates one suite's tables, or all of them.
pub fn run(which: &str) -> Result<()> {
    let suites = suites_dir();
    let mut ran = false;
    for (name, f) in GENERATORS {
        if which == "all" || which == *name {
            f(&suites.join(name)).with_context(|| format!("generating data of `{name}`"))?;
            ran = true;
        }
    }
    if !ran {
        bail!("no data generator `{which}`; known: {}", names().join(", "));
    }
    Ok(())
}

/// The repository's `suites/` folder.
fn suites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the repository")
        .join("suites")
}

/// Writes a CSV table (header first) and reports it.
fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("{}", path.display()))?;
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.flush()?;
    println!("wrote {} ({} rows)", path.display(), rows.len());
    Ok(())
}
