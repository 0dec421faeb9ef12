//! From a run's judgments to tidy observation tables, and from those to effect results.

use super::RunOutcome;
use crate::effect::{
    Aggregate, ArmInfo, Cell, EffectInput, EffectResult, Observation, ObservationTable, Scale,
};
use crate::judge::JudgeOutput;
use crate::suite::{Effect, LoadedSuite};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A metric: the rate of a judge's label, or the mean of a rating judge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricKey {
    pub judge: String,
    pub label: Option<String>,
}

impl std::fmt::Display for MetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.label {
            Some(l) => write!(f, "{}={}", self.judge, l),
            None => write!(f, "{}", self.judge),
        }
    }
}

/// The statistics of one suite run: per metric the aggregate (what a baseline stores),
/// and per declared effect its result.
#[derive(Debug, Clone)]
pub struct SuiteResults {
    pub metrics: IndexMap<MetricKey, Aggregate>,
    pub effects: Vec<(Effect, EffectResult)>,
    /// Effect inputs (for baseline comparison), in the order of `effects`.
    pub inputs: Vec<EffectInput>,
}

/// Seed of the bootstrap intervals, fixed so reports are reproducible.
const BOOTSTRAP_SEED: u64 = 20251210;

/// The observation table of a metric over every arm and every cell its judge scores.
/// Replicas screened out by their arm's check are left out.
pub fn table(
    suite: &LoadedSuite,
    outcome: &RunOutcome,
    metric: &MetricKey,
) -> Result<ObservationTable> {
    let judge = suite
        .judges
        .get(&metric.judge)
        .with_context(|| format!("unknown judge `{}`", metric.judge))?;
    let scale = if judge.method.is_rating() {
        let (min, max) = judge.method.value_range();
        Scale::Score { min, max }
    } else {
        Scale::Binary
    };
    // Replica renumbering after screening.
    let kept: Vec<Vec<Option<u32>>> = outcome
        .arms
        .iter()
        .map(|arm| {
            let mut next = 0;
            arm.replicas
                .iter()
                .map(|r| {
                    r.screened_out.is_none().then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        })
        .collect();
    let arms = outcome
        .arms
        .iter()
        .zip(&kept)
        .map(|(a, k)| ArmInfo {
            name: a.name.clone(),
            replicas: k.iter().flatten().count() as u32,
            fixed: a.fixed,
        })
        .collect();
    let cells = outcome
        .cells
        .iter()
        .map(|c| Cell {
            probe: c.probe.clone(),
            vars: c.vars.clone(),
        })
        .collect::<Vec<_>>();
    let judged = outcome
        .judgments
        .get(&metric.judge)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut rows = Vec::with_capacity(judged.len());
    for j in judged {
        let Some(replica) = kept[j.arm as usize][j.replica as usize] else {
            continue;
        };
        let value = match (&j.output, &metric.label) {
            (JudgeOutput::Label(l), Some(want)) => Some(f64::from(u8::from(l == want))),
            (JudgeOutput::Score(v), None) => Some(*v),
            _ => None,
        };
        rows.push(Observation {
            arm: j.arm,
            replica,
            cell: j.cell,
            paraphrase: outcome.cells[j.cell as usize].paraphrase,
            sample: j.sample,
            value,
        });
    }
    // Paraphrases are pooled within a cell: cells differing only by paraphrase merge.
    let mut merged: IndexMap<Cell, u32> = IndexMap::new();
    let remap: Vec<u32> = cells
        .iter()
        .map(|c| {
            let n = merged.len() as u32;
            *merged.entry(c.clone()).or_insert(n)
        })
        .collect();
    for r in &mut rows {
        r.cell = remap[r.cell as usize];
    }
    Ok(ObservationTable {
        scale,
        arms,
        cells: merged.into_keys().collect(),
        rows,
    })
}

/// The metric an effect measures.
pub fn metric_of(e: &Effect) -> MetricKey {
    MetricKey {
        judge: e.metric.judge.clone(),
        label: e.metric.label.clone(),
    }
}

/// A metric's aggregate restricted to an effect: its arms, its probes and its `where` filter.
pub fn restrict(suite: &LoadedSuite, e: &Effect, agg: &Aggregate) -> Aggregate {
    let probes: Vec<String> = e
        .probes
        .clone()
        .unwrap_or_else(|| suite.probes_scored_by(&e.metric.judge));
    let keep_cell: Vec<bool> = agg
        .cells
        .iter()
        .map(|c| {
            probes.contains(&c.probe)
                && e.filter
                    .iter()
                    .all(|(var, ok)| c.vars.get(var).is_some_and(|v| ok.accepts(v)))
        })
        .collect();
    let wanted = e.spec.comparison.arms();
    let arm_index: Vec<Option<u32>> = {
        let mut next = 0;
        agg.arms
            .iter()
            .map(|a| {
                wanted.contains(&a.name.as_str()).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    let cell_index: Vec<Option<u32>> = {
        let mut next = 0;
        keep_cell
            .iter()
            .map(|k| {
                k.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    };
    Aggregate {
        scale: agg.scale,
        arms: agg
            .arms
            .iter()
            .zip(&arm_index)
            .filter(|(_, i)| i.is_some())
            .map(|(a, _)| a.clone())
            .collect(),
        cells: agg
            .cells
            .iter()
            .zip(&keep_cell)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.clone())
            .collect(),
        totals: agg
            .totals
            .iter()
            .filter_map(|t| {
                let arm = arm_index[t.arm as usize]?;
                let cell = cell_index[t.cell as usize]?;
                Some(crate::effect::CellTotals { arm, cell, ..*t })
            })
            .collect(),
    }
}

/// Aggregates every metric the suite's effects use and evaluates the effects.
pub fn evaluate(suite: &LoadedSuite, outcome: &RunOutcome) -> Result<SuiteResults> {
    let mut metrics: IndexMap<MetricKey, Aggregate> = IndexMap::new();
    for e in &suite.effects {
        let key = metric_of(e);
        if !metrics.contains_key(&key) {
            let agg = table(suite, outcome, &key)?.aggregate();
            metrics.insert(key, agg);
        }
    }
    evaluate_aggregates(suite, metrics)
}

/// Evaluates the suite's effects from per-metric aggregates (of a run, or of a baseline).
pub fn evaluate_aggregates(
    suite: &LoadedSuite,
    metrics: IndexMap<MetricKey, Aggregate>,
) -> Result<SuiteResults> {
    let mut inputs = Vec::new();
    for e in &suite.effects {
        let agg = metrics
            .get(&metric_of(e))
            .with_context(|| format!("no data for effect `{}`", e.name()))?;
        inputs.push(EffectInput {
            data: restrict(suite, e, agg),
            spec: e.spec.clone(),
        });
    }
    let results = crate::effect::evaluate(&inputs, suite.suite.correction, BOOTSTRAP_SEED);
    let effects = suite.effects.iter().cloned().zip(results).collect();
    Ok(SuiteResults {
        metrics,
        effects,
        inputs,
    })
}
