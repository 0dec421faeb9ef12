//! Developer tasks for weirdgen: `cargo xtask bench [NAME|all]`, `cargo xtask data [NAME|all]`,
//! `cargo xtask toy-table`.

mod bench;
mod data;
mod toy_table;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench::run(args.get(1).map(String::as_str).unwrap_or("all")),
        Some("data") => data::run(args.get(1).map(String::as_str).unwrap_or("all")),
        Some("toy-table") => toy_table::run(),
        _ => bail!(
            "usage: cargo xtask bench [{}|all] | cargo xtask data [{}|all] | cargo xtask toy-table",
            bench::names().join("|"),
            data::names().join("|")
        ),
    }
}
