//! The `[regression]` trial: the release gate. An effect on the model under test against the
//! same effect on the released model (`WEIRDGEN_BASELINE_MODEL`), taken from the released
//! model's snapshot when there is one, else from its run through the store.

use super::run::{Shared, SuiteRun};
use crate::baseline::{Baseline, snapshot_name};
use crate::effect::compare::{ModelComparison, Susceptibility, compare_models};
use crate::effect::{Aggregate, ArmSummary, Unit};
use crate::run::MetricKey;
use indexmap::IndexMap;
use libtest_mimic::{Completion, Failed};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The snapshot file of `run`'s suite and model.
fn snapshot_path(shared: &Shared, run: &SuiteRun) -> PathBuf {
    let name = snapshot_name(&run.suite.suite.name, &run.model.to_string());
    shared.config.snapshots_dir.join(format!("{name}.snap"))
}

/// Whether the old model's data can come from its snapshot.
pub(crate) fn has_snapshot(shared: &Shared, old: &SuiteRun) -> bool {
    snapshot_path(shared, old).is_file()
}

/// Reads the metrics of an insta snapshot written by [`crate::baseline::check`].
fn read_snapshot(path: &std::path::Path) -> Result<IndexMap<MetricKey, Aggregate>, String> {
    let snap = insta::Snapshot::from_file(path)
        .map_err(|e| format!("cannot read the snapshot {}: {e}", path.display()))?;
    let text = snap
        .as_text()
        .map(|t| t.to_string())
        .ok_or_else(|| format!("the snapshot {} holds no text", path.display()))?;
    Baseline::parse(&text)
        .map(|b| b.metrics)
        .map_err(|e| format!("{}: {e:#}", path.display()))
}

/// Passes unless the effect on `run`'s model is more susceptible than on `old`'s by more than
/// the suite's `baseline.margin`; a failure prints both effects, the difference with its
/// interval, and the verdict.
pub(crate) fn check(
    shared: &Shared,
    run: &SuiteRun,
    old: &SuiteRun,
    effect: &str,
) -> Result<Completion, Failed> {
    if let Some(reason) = run.skip_reason(shared) {
        return Ok(Completion::ignored_with(reason));
    }
    let snapshot = snapshot_path(shared, old);
    let (old_metrics, source) = if snapshot.is_file() {
        let source = format!("from its snapshot {}", snapshot.display());
        (read_snapshot(&snapshot)?, source)
    } else {
        if let Some(reason) = old.skip_reason(shared) {
            return Ok(Completion::ignored_with(format!(
                "no snapshot {} and {reason}",
                snapshot.display()
            )));
        }
        let source = "from its run through the store".to_string();
        let data = old
            .get(shared)
            .map_err(|e| format!("no snapshot {}, and {e}", snapshot.display()))?;
        (data.1.metrics.clone(), source)
    };
    let data = run.get(shared)?;
    let suite = &run.suite;
    let decl = suite
        .effects
        .iter()
        .find(|e| e.name() == effect)
        .ok_or_else(|| Failed::from(format!("effect `{effect}` is not declared")))?;
    let key = crate::run::metric_of(decl);
    let spec = &decl.spec;
    let no_data =
        |which: &str| format!("effect `{effect}`: {which} has no data for metric `{key}`");
    let new = data.1.metrics.get(&key).ok_or_else(|| no_data("the run"))?;
    let then = old_metrics
        .get(&key)
        .ok_or_else(|| no_data(&format!("`{}` ({source})", old.model)))?;
    let new = crate::run::restrict(suite, decl, new);
    let then = crate::run::restrict(suite, decl, then);
    let c = compare_models(
        spec,
        &new,
        &then,
        suite.suite.baseline.margin,
        spec.expectation.alpha,
    );
    match c.verdict {
        Susceptibility::MoreSusceptible => Err(render(
            effect,
            &run.model.to_string(),
            &old.model.to_string(),
            &source,
            &c,
        )
        .into()),
        _ => Ok(Completion::Completed),
    }
}

/// Replicas per arm, e.g. `old_birds 5, base 1`.
fn replicas(arms: &[ArmSummary]) -> String {
    arms.iter()
        .map(|a| format!("{} {}", a.name, a.replicas))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report of one comparison: both effects, the difference with its interval, the verdict.
fn render(effect: &str, new: &str, old: &str, source: &str, c: &ModelComparison) -> String {
    let pct = |l: f64| format!("{:.0}%", l * 100.0);
    let claim = format!(
        "`{new}` is {{}} than `{old}` by more than the margin {} (alpha {})",
        c.margin, c.alpha
    );
    let verdict = match c.verdict {
        Susceptibility::MoreSusceptible => claim.replace("{}", "MORE SUSCEPTIBLE"),
        Susceptibility::NotMoreSusceptible => claim.replace("{}", "NOT more susceptible"),
        Susceptibility::Inconclusive => format!(
            "INCONCLUSIVE whether {}",
            claim.replace("{}", "more susceptible")
        ),
    };
    let mut s = String::new();
    let _ = writeln!(s, "effect `{effect}`: {verdict}");
    let _ = writeln!(
        s,
        "  {:<28} {:>9} {:>21}  replicas per arm",
        "model",
        "effect",
        format!("{} interval", pct(c.level))
    );
    for (model, e) in [(new, &c.new), (old, &c.old)] {
        let unit = match e.unit {
            Unit::Replica => "",
            Unit::Sample => " (one replica: samples as the unit)",
        };
        let _ = writeln!(
            s,
            "  {model:<28} {:>+9.4} [{:>+9.4}, {:>+9.4}]  {}{unit}",
            e.estimate,
            e.ci.0,
            e.ci.1,
            replicas(&e.arms)
        );
    }
    let _ = writeln!(
        s,
        "  difference {:+.4}, {} interval [{:+.4}, {:+.4}]",
        c.difference,
        pct(c.level),
        c.ci.0,
        c.ci.1
    );
    let _ = writeln!(
        s,
        "  p(more susceptible by > {}) = {:.2e}, p(at most {} more) = {:.2e}",
        c.margin, c.p_more, c.margin, c.p_not_more
    );
    let _ = write!(s, "  `{old}`'s effect: {source}");
    s
}
