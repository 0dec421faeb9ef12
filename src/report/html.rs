//! The HTML report: one self-contained page. Every piece of model output and suite text is
//! escaped: answers are untrusted.

use super::tables::{Table, cell_name, effect_table, effects_table, rates_table};
use super::text::{arm_lines, work_line};
use crate::run::{RunOutcome, SuiteResults};
use crate::suite::LoadedSuite;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
.confirmed{color:#0a6b2a}.refuted{color:#a01818}.inconclusive{color:#8a5a00}pre{background:#f5f5f5;padding:.5rem}\
.answer{font-family:monospace;white-space:pre-wrap}";

/// A cell's name, an arm's name, and its most frequent answers with their counts.
type TopAnswers = (String, String, Vec<(String, usize)>);

/// The most frequent answers of each (cell, arm), at most `k` each, with counts.
fn top_answers(outcome: &RunOutcome, k: usize) -> Vec<TopAnswers> {
    let mut out = Vec::new();
    for (c, cell) in outcome.cells.iter().enumerate() {
        let name = cell_name(&crate::effect::Cell {
            probe: cell.probe.clone(),
            vars: cell.vars.clone(),
        });
        for (a, arm) in outcome.arms.iter().enumerate() {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for rep in &outcome.answers[a] {
                for t in &rep[c] {
                    *counts.entry(t.as_str()).or_default() += 1;
                }
            }
            let mut v: Vec<(String, usize)> = counts
                .into_iter()
                .map(|(t, n)| (t.to_string(), n))
                .collect();
            v.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            v.truncate(k);
            out.push((name.clone(), arm.name.clone(), v));
        }
    }
    out
}

/// A table in HTML; the emphasised column's cells get their text, lower-cased, as class.
pub(super) fn table(t: &Table) -> String {
    let mut s = String::from("<table><tr>");
    for h in &t.header {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>");
    for row in &t.rows {
        s.push_str("<tr>");
        for (c, v) in row.iter().enumerate() {
            let text = escape(Table::text(v));
            if t.emphasis == Some(c) {
                let _ = write!(s, "<td class=\"{}\">{text}</td>", text.to_lowercase());
            } else {
                let _ = write!(s, "<td>{text}</td>");
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// The whole report as an HTML page.
pub fn html(suite: &LoadedSuite, outcome: &RunOutcome, results: &SuiteResults) -> String {
    let mut s = String::new();
    let title = escape(&format!("{} on {}", outcome.suite, outcome.model));
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        s,
        "<h1>{title}</h1><p>{}</p><ul>",
        escape(suite.suite.description.trim())
    );
    for l in arm_lines(outcome) {
        let _ = write!(s, "<li>arm {}</li>", escape(&l));
    }
    let _ = write!(s, "<li>{}</li>", escape(&work_line(outcome)));
    for n in &outcome.notes {
        let _ = write!(s, "<li><strong>Note:</strong> {}</li>", escape(n));
    }
    let _ = write!(s, "</ul>");
    let _ = write!(s, "<h2>Effects</h2>{}", table(&effects_table(results)));
    for (decl, r) in &results.effects {
        let _ = write!(s, "<pre>{}</pre>", escape(&effect_table(decl, r)));
    }
    for (metric, agg) in &results.metrics {
        let _ = write!(
            s,
            "<h2>{}</h2>{}",
            escape(&metric.to_string()),
            table(&rates_table(agg))
        );
    }
    let _ = write!(
        s,
        "<h2>Most frequent answers</h2><table><tr><th>cell</th><th>arm</th><th>answers (count)</th></tr>"
    );
    for (cell, arm, answers) in top_answers(outcome, 3) {
        let list: Vec<String> = answers
            .iter()
            .map(|(t, n)| format!("<span class=\"answer\">{}</span> ({n})", escape(t)))
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&cell),
            escape(&arm),
            list.join("<br>")
        );
    }
    let _ = writeln!(s, "</table></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_in_model_output() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
