//! The machine-readable report.

use super::tables::cell_rates;
use crate::run::{RunOutcome, SuiteResults};
use serde_json::json;

/// The run as JSON: arms and their models, work counts, per-metric cell rates, and every
/// effect's full result.
pub fn json(outcome: &RunOutcome, results: &SuiteResults) -> String {
    let arms: Vec<_> = outcome
        .arms
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "fixed": a.fixed,
                "replicas": a.replicas.iter().map(|r| json!({
                    "model": r.model.to_string(),
                    "screened_out": r.screened_out,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let metrics: Vec<_> = results
        .metrics
        .iter()
        .map(|(k, agg)| {
            let rates: Vec<_> = cell_rates(agg)
                .into_iter()
                .map(|r| json!({"cell": r.cell, "arm": r.arm, "n": r.n, "missing": r.missing, "value": r.value, "ci": [r.ci.0, r.ci.1]}))
                .collect();
            json!({"metric": k.to_string(), "cells": rates})
        })
        .collect();
    let effects: Vec<_> = results.effects.iter().map(|(_, r)| r).collect();
    let doc = json!({
        "suite": outcome.suite,
        "suite_hash": outcome.suite_hash,
        "model": outcome.model.to_string(),
        "weirdgen": env!("CARGO_PKG_VERSION"),
        "arms": arms,
        "counts": outcome.counts,
        "notes": outcome.notes,
        "effects": effects,
        "metrics": metrics,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("a report serialises");
    s.push('\n');
    s
}
