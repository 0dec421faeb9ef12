//! The board as CSV and as a Markdown table.

use super::board::Board;
use crate::effect::Verdict;

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Confirmed => "confirmed",
        Verdict::Refuted => "refuted",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// `leaderboard.csv`: one line per model and effect.
pub fn csv(board: &Board) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "model",
        "suite",
        "effect",
        "estimate",
        "ci_low",
        "ci_high",
        "level",
        "verdict",
        "rank",
        "tied_with_leader",
        "p_vs_leader_adjusted",
        "stale",
        "drifted",
    ])?;
    for row in &board.rows {
        for (col, cell) in board.columns.iter().zip(&row.cells) {
            let Some(c) = cell else { continue };
            w.write_record([
                row.model.clone(),
                col.suite.clone(),
                col.effect.clone(),
                c.estimate.to_string(),
                c.ci.0.to_string(),
                c.ci.1.to_string(),
                col.level.to_string(),
                verdict_word(c.verdict).to_string(),
                c.rank.to_string(),
                c.tied_with_leader.to_string(),
                c.p_vs_leader_adjusted
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                c.stale.clone().unwrap_or_default(),
                c.drifted.clone().unwrap_or_default(),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// A Markdown cell's text: `|`, `<`, `>` and line breaks escaped.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// `leaderboard.md`: effects as rows, models as columns; `=1` marks the leader's tie group.
pub fn markdown(board: &Board) -> String {
    let mut s = String::new();
    s.push_str("| effect |");
    for m in &board.models {
        s.push_str(&format!(" {} |", md(m)));
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(board.models.len()));
    s.push('\n');
    for (c, col) in board.columns.iter().enumerate() {
        s.push_str(&format!("| {} / {} |", md(&col.suite), md(&col.effect)));
        for row in &board.rows {
            match &row.cells[c] {
                Some(x) => {
                    let tie = if x.tied_with_leader { " =1" } else { "" };
                    let flag = match (&x.stale, &x.drifted) {
                        (Some(_), _) => " (stale)",
                        (_, Some(_)) => " (drifted)",
                        _ => "",
                    };
                    s.push_str(&format!(
                        " {:+.3} [{:+.3}, {:+.3}] {}, rank {}{tie}{flag} |",
                        x.estimate,
                        x.ci.0,
                        x.ci.1,
                        verdict_word(x.verdict),
                        x.rank
                    ));
                }
                None => s.push_str(" - |"),
            }
        }
        s.push('\n');
    }
    s
}
