//! The markdown report.

use super::tables::{cell_rates, effect_table, fmt_null_p};
use super::text::{arm_lines, work_line};
use crate::run::{RunOutcome, SuiteResults};
use crate::suite::LoadedSuite;
use std::fmt::Write as _;

/// Escapes text for a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The whole report as markdown.
pub fn markdown(suite: &LoadedSuite, outcome: &RunOutcome, results: &SuiteResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {} on `{}`\n", outcome.suite, outcome.model);
    if !suite.suite.description.trim().is_empty() {
        let _ = writeln!(s, "{}\n", suite.suite.description.trim());
    }
    if let Some(r) = &suite.suite.reference {
        let _ = writeln!(s, "Reference: {r}\n");
    }
    for l in arm_lines(outcome) {
        let _ = writeln!(s, "- arm {}", cell(&l));
    }
    let _ = writeln!(s, "- {}", work_line(outcome));
    for n in &outcome.notes {
        let _ = writeln!(s, "- **Note:** {}", cell(n));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Effects (correction: {:?})\n", suite.suite.correction);
    let _ = writeln!(
        s,
        "| effect | estimate | interval | deciding p | adjusted | verdict | unit |"
    );
    let _ = writeln!(s, "|---|---:|---|---:|---:|---|---|");
    for (_, r) in &results.effects {
        let _ = writeln!(
            s,
            "| {} | {:+.4} | [{:+.4}, {:+.4}] | {} | {} | **{:?}** | {:?} |",
            cell(&r.name),
            r.estimate,
            r.ci.0,
            r.ci.1,
            cell(&fmt_null_p(r, r.p_value)),
            cell(&fmt_null_p(r, r.p_adjusted)),
            r.verdict,
            r.unit
        );
    }
    for (decl, r) in &results.effects {
        let _ = writeln!(s, "\n```text\n{}```", effect_table(decl, r));
    }
    for (metric, agg) in &results.metrics {
        let _ = writeln!(s, "\n## `{metric}` per probe cell and arm\n");
        let _ = writeln!(
            s,
            "Pooled over analysed replicas; Wilson 95% intervals (sampling error only).\n"
        );
        let _ = write!(s, "| cell |");
        for a in &agg.arms {
            let _ = write!(s, " {} |", cell(&a.name));
        }
        let _ = write!(s, "\n|---|");
        for _ in &agg.arms {
            let _ = write!(s, "---|");
        }
        let _ = writeln!(s);
        let rates = cell_rates(agg);
        let mut cells: Vec<&str> = rates.iter().map(|r| r.cell.as_str()).collect();
        cells.dedup();
        for c in cells {
            let _ = write!(s, "| {} |", cell(c));
            for a in &agg.arms {
                match rates.iter().find(|r| r.cell == c && r.arm == a.name) {
                    Some(r) => {
                        let _ = write!(s, " {:.3} [{:.3}, {:.3}] |", r.value, r.ci.0, r.ci.1);
                    }
                    None => {
                        let _ = write!(s, " – |");
                    }
                }
            }
            let _ = writeln!(s);
        }
    }
    s
}
