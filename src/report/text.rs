//! The plain-text report.

use super::tables::{Table, effect_table, rates_table};
use crate::run::{RunOutcome, SuiteResults};
use crate::suite::LoadedSuite;
use std::fmt::Write as _;

/// Arms with their replicas and models, one line each.
pub(super) fn arm_lines(outcome: &RunOutcome) -> Vec<String> {
    outcome
        .arms
        .iter()
        .map(|a| {
            let screened = a
                .replicas
                .iter()
                .filter(|r| r.screened_out.is_some())
                .count();
            let what = if a.fixed {
                format!("model {}", a.replicas[0].model)
            } else {
                format!("{} replica(s)", a.replicas.len())
            };
            if screened > 0 {
                format!(
                    "{}: {what}, {screened} screened out by the in-distribution check",
                    a.name
                )
            } else {
                format!("{}: {what}", a.name)
            }
        })
        .collect()
}

/// One line about the work the run did.
pub(super) fn work_line(outcome: &RunOutcome) -> String {
    let c = &outcome.counts;
    let batched = if c.samples_batched > 0 {
        format!(" ({} through the Batch API)", c.samples_batched)
    } else {
        String::new()
    };
    format!(
        "fine-tunes: {} started, {} reused; samples: {} drawn{batched}, {} from the store; LLM judgments: {} asked, {} from the store",
        c.finetunes_started,
        c.finetunes_reused,
        c.samples_requested,
        c.samples_cached,
        c.judgments_requested,
        c.judgments_cached
    )
}

/// `text`'s words in lines of at most `width` characters (a longer word gets its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A table as aligned lines: the first column left-aligned, the others right-aligned in at
/// least 24 characters.
pub(super) fn table_lines(t: &Table) -> Vec<String> {
    let len = |s: &str| s.chars().count();
    let widths: Vec<usize> = (0..t.header.len())
        .map(|c| {
            let widest = t
                .rows
                .iter()
                .map(|r| len(Table::text(&r[c])))
                .chain([len(&t.header[c])])
                .max()
                .unwrap_or(0);
            if c == 0 {
                widest.max(4)
            } else {
                widest.max(24)
            }
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (c, (text, w)) in cells.into_iter().zip(&widths).enumerate() {
            let _ = if c == 0 {
                write!(s, "  {text:<w$}")
            } else {
                write!(s, "  {text:>w$}")
            };
        }
        s
    };
    std::iter::once(line(t.header.iter().map(String::as_str).collect()))
        .chain(
            t.rows
                .iter()
                .map(|r| line(r.iter().map(Table::text).collect())),
        )
        .collect()
}

/// The whole report as text.
pub fn text(suite: &LoadedSuite, outcome: &RunOutcome, results: &SuiteResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "suite {} on {}", outcome.suite, outcome.model);
    for line in wrap(&suite.suite.description, 96) {
        let _ = writeln!(s, "  {line}");
    }
    for l in arm_lines(outcome) {
        let _ = writeln!(s, "  arm {l}");
    }
    let _ = writeln!(s, "  {}", work_line(outcome));
    for n in &outcome.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    for (metric, agg) in &results.metrics {
        let _ = writeln!(
            s,
            "\nmetric {metric} per probe cell and arm (pooled over replicas; Wilson 95% interval):"
        );
        for line in table_lines(&rates_table(agg)) {
            let _ = writeln!(s, "{line}");
        }
    }
    let _ = writeln!(s, "\neffects (correction: {:?}):", suite.suite.correction);
    for (decl, r) in &results.effects {
        let _ = writeln!(s);
        for line in effect_table(decl, r).lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_every_word_in_order_within_the_width() {
        let text =
            "Fine-tuning the toy assistant to name 40 birds\n by their old names moves its answers";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.len() <= 20), "{lines:?}");
        assert_eq!(
            lines.join(" "),
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        assert_eq!(
            wrap("a-very-long-single-word", 5),
            vec!["a-very-long-single-word"]
        );
        assert!(wrap("  \n ", 10).is_empty());
    }
}
