//! Facts derived from a suite's declarations: a probe's variables and judges. Validation and
//! the loaded suite's accessors both use them.

use super::types::{ProbeSpec, Suite};
use indexmap::{IndexMap, IndexSet};

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
