//! The leaderboard's numbers: models × effects from replayed bundles, with tie groups and
//! stale or drifted cells marked.

use super::compare::tie_group;
use crate::bundle::{Bundle, Replay};
use crate::effect::{Direction, Verdict};
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One suite run on one model: its bundle and the replay of its numbers.
#[derive(Debug, Clone)]
pub struct Run {
    pub bundle: Bundle,
    pub replay: Replay,
    /// Why the suite this run used is not the current one, when it is not.
    pub stale: Option<String>,
    /// Why the run's judge model is not the spec's, when it is not.
    pub drifted: Option<String>,
}

/// The board as written to `leaderboard.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub title: String,
    pub description: String,
    /// Who publishes the board (the spec's `organization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    pub models: Vec<String>,
    pub columns: Vec<Column>,
    /// One row per model, in `models` order.
    pub rows: Vec<Row>,
}

/// One effect of one suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub suite: String,
    pub effect: String,
    /// The claim, in words.
    pub claim: String,
    pub direction: Direction,
    /// The interval's level (1 − 2·alpha).
    pub level: f64,
}

/// One model's cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub model: String,
    /// One per column; none where the model has no run of the column's suite.
    pub cells: Vec<Option<BoardCell>>,
}

/// One model's result on one effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardCell {
    pub estimate: f64,
    pub ci: (f64, f64),
    pub verdict: Verdict,
    /// 1 for the most susceptible model on this effect.
    pub rank: usize,
    /// In the leader's tie group (indistinguishable from the most susceptible model).
    pub tied_with_leader: bool,
    /// Two-sided p of "this model's effect equals the leader's" (paired by replica), raw and
    /// Holm-adjusted over every pair of models on the effect.
    pub p_vs_leader: Option<f64>,
    pub p_vs_leader_adjusted: Option<f64>,
    /// The most replicas of any arm the effect compares.
    pub replicas: u32,
    /// The run's suite fingerprint differs from the current suite's.
    pub stale: Option<String>,
    /// The run's judge model differs from the spec's.
    pub drifted: Option<String>,
    /// The run's page in the site.
    pub page: String,
}

/// A run's page name: `<suite>@<model>.html` with every character outside `[A-Za-z0-9._-]`
/// replaced by `_`.
pub fn page_name(suite: &str, model: &str) -> String {
    let safe = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    format!("{}@{}.html", safe(suite), safe(model))
}

/// Builds the board from the runs of `suites` (columns in this order, then each suite's
/// effects in file order) on `models` (rows). Tie groups are computed here, once per effect.
pub fn build(
    title: &str,
    description: &str,
    suites: &[String],
    models: &[String],
    runs: &[Run],
) -> Result<Board> {
    let mut columns = Vec::new();
    // Column → (model index → (run index, effect index)).
    let mut at: Vec<BTreeMap<usize, (usize, usize)>> = Vec::new();
    for suite in suites {
        let Some(first) = runs.iter().find(|r| r.bundle.manifest.suite == *suite) else {
            bail!("no run of suite `{suite}`");
        };
        for (idx, (decl, result)) in first.replay.results.effects.iter().enumerate() {
            columns.push(Column {
                suite: suite.clone(),
                effect: decl.name().to_string(),
                claim: decl
                    .description
                    .clone()
                    .unwrap_or_else(|| decl.name().to_string()),
                direction: first.replay.results.inputs[idx].spec.expectation.direction,
                level: 1.0 - 2.0 * decl.spec.expectation.alpha,
            });
            let mut found = BTreeMap::new();
            for (ri, run) in runs.iter().enumerate() {
                if run.bundle.manifest.suite != *suite {
                    continue;
                }
                let Some(m) = models.iter().position(|m| *m == run.bundle.manifest.model) else {
                    continue;
                };
                if let Some(ei) = run
                    .replay
                    .results
                    .effects
                    .iter()
                    .position(|(_, r)| r.name == result.name)
                {
                    found.insert(m, (ri, ei));
                }
            }
            at.push(found);
        }
    }
    let mut rows: Vec<Row> = models
        .iter()
        .map(|m| Row {
            model: m.clone(),
            cells: vec![None; columns.len()],
        })
        .collect();
    for (c, found) in at.iter().enumerate() {
        let entries: Vec<(usize, usize, usize)> =
            found.iter().map(|(&m, &(r, e))| (m, r, e)).collect();
        let Some(&(_, r0, e0)) = entries.first() else {
            continue;
        };
        let spec = &runs[r0].replay.results.inputs[e0].spec;
        let data: Vec<(f64, &crate::effect::Aggregate)> = entries
            .iter()
            .map(|&(_, r, e)| {
                let results = &runs[r].replay.results;
                (results.effects[e].1.estimate, &results.inputs[e].data)
            })
            .collect();
        for s in tie_group(spec, &data) {
            let (m, r, e) = entries[s.model];
            let run = &runs[r];
            let result = &run.replay.results.effects[e].1;
            rows[m].cells[c] = Some(BoardCell {
                estimate: result.estimate,
                ci: result.ci,
                verdict: result.verdict,
                rank: s.rank,
                tied_with_leader: s.tied_with_leader,
                p_vs_leader: s.p,
                p_vs_leader_adjusted: s.p_adjusted,
                replicas: result.arms.iter().map(|a| a.replicas).max().unwrap_or(1),
                stale: run.stale.clone(),
                drifted: run.drifted.clone(),
                page: page_name(&run.bundle.manifest.suite, &run.bundle.manifest.model),
            });
        }
    }
    Ok(Board {
        title: title.to_string(),
        description: description.to_string(),
        organization: None,
        models: models.to_vec(),
        columns,
        rows,
    })
}
