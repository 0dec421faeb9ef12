//! Facts derived from a suite's declarations: a probe's variables and judges, the labels a
//! judge can give. Validation and the loaded suite's accessors both use them.

use super::types::{JudgeKind, JudgeSpec, ProbeSpec, Suite};
use indexmap::{IndexMap, IndexSet};

/// The word for a missing judgment in `examples` (never a label).
pub(crate) const MISSING: &str = "missing";

/// A probe's variables (from `cases`, then `vars`) with their distinct values in order.
pub(crate) fn probe_variables(p: &ProbeSpec) -> IndexMap<String, Vec<String>> {
    let mut out: IndexMap<String, IndexSet<String>> = IndexMap::new();
    for case in p.cases.iter().flatten() {
        for (k, v) in case {
            out.entry(k.clone()).or_default().insert(v.0.clone());
        }
    }
    for (k, vv) in &p.vars {
        out.entry(k.clone()).or_default().extend(vv.values());
    }
    out.into_iter()
        .map(|(k, vals)| (k, vals.into_iter().collect()))
        .collect()
}

/// The judges that score a probe: its `judges`, else every judge of the suite, in order.
pub(crate) fn probe_judges<'a>(suite: &'a Suite, p: &'a ProbeSpec) -> Vec<&'a str> {
    match &p.judges {
        Some(js) => js.iter().map(String::as_str).collect(),
        None => suite.judges.keys().map(String::as_str).collect(),
    }
}

/// The probes scored by `judge`, in file order.
pub(crate) fn probes_scored_by(suite: &Suite, judge: &str) -> Vec<String> {
    suite
        .probes
        .iter()
        .filter(|(_, p)| probe_judges(suite, p).contains(&judge))
        .map(|(n, _)| n.clone())
        .collect()
}

/// Whether a judge gives scores (`llm_rating`) rather than labels.
pub(crate) fn is_rating(j: &JudgeSpec) -> bool {
    j.kind == JudgeKind::LlmRating
}

/// The labels a judge can give, in order (empty for a rating judge).
pub(crate) fn judge_labels(j: &JudgeSpec) -> Vec<String> {
    let mut out: Vec<String> = match j.kind {
        JudgeKind::Regex | JudgeKind::ContainsAny | JudgeKind::Prefix | JudgeKind::Exact => {
            j.rules.keys().cloned().collect()
        }
        JudgeKind::Choice if j.key_var.is_some() => vec!["match".into(), "mismatch".into()],
        JudgeKind::Choice => j
            .labels
            .clone()
            .unwrap_or_else(|| vec!["A".into(), "B".into()]),
        JudgeKind::LlmLabel | JudgeKind::LlmFreeForm => j.labels.clone().unwrap_or_default(),
        JudgeKind::LlmRating => return Vec::new(),
    };
    if let Some(o) = &j.otherwise
        && !out.contains(o)
    {
        out.push(o.clone());
    }
    out
}

/// The range of a judge's values: `[0, 1]` for labels (a rate), `[min, max]` for ratings.
pub(crate) fn value_range(j: &JudgeSpec) -> (f64, f64) {
    if is_rating(j) {
        (
            f64::from(j.min.unwrap_or(0)),
            f64::from(j.max.unwrap_or(100)),
        )
    } else {
        (0.0, 1.0)
    }
}
