//! The markdown report.

use super::tables::{Table, effect_table, effects_table, rates_table};
use super::text::{arm_lines, work_line};
use crate::run::{RunOutcome, SuiteResults};
use crate::suite::LoadedSuite;
use std::fmt::Write as _;

/// Escapes text for a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A table in markdown: numeric columns right-aligned, the emphasised column in bold.
pub(super) fn table(t: &Table) -> String {
    let mut s = String::from("|");
    for h in &t.header {
        let _ = write!(s, " {} |", cell(h));
    }
    s.push_str("\n|");
    for &numeric in &t.numeric {
        s.push_str(if numeric { "---:|" } else { "---|" });
    }
    s.push('\n');
    for row in &t.rows {
        s.push('|');
        for (c, v) in row.iter().enumerate() {
            let text = cell(Table::text(v));
            if t.emphasis == Some(c) {
                let _ = write!(s, " **{text}** |");
            } else {
                let _ = write!(s, " {text} |");
            }
        }
        s.push('\n');
    }
    s
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
    s.push_str(&table(&effects_table(results)));
    for (decl, r) in &results.effects {
        let _ = writeln!(s, "\n```text\n{}```", effect_table(decl, r));
    }
    for (metric, agg) in &results.metrics {
        let _ = writeln!(s, "\n## `{metric}` per probe cell and arm\n");
        let _ = writeln!(
            s,
            "Pooled over analysed replicas; Wilson 95% intervals (sampling error only).\n"
        );
        s.push_str(&table(&rates_table(agg)));
    }
    s
}
