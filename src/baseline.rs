//! Snapshot baselines: a run's per-cell counts and sums, written with insta to
//! `snapshots/<suite>@<model>.snap`, and compared statistically with a later run — per
//! effect, TOST at the suite's margin → consistent, shifted or inconclusive — not as text.

use crate::effect::{
    Aggregate, ArmInfo, BaselineComparison, BaselineStatus, Cell, CellTotals, Scale,
    compare_with_baseline,
};
use crate::run::{MetricKey, SuiteResults};
use crate::suite::LoadedSuite;
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What a baseline stores: per metric, the totals per arm, replica and cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub suite: String,
    pub model: String,
    pub metrics: IndexMap<MetricKey, Aggregate>,
}

#[derive(Serialize, Deserialize)]
struct SnapFile {
    suite: String,
    model: String,
    metrics: Vec<SnapMetric>,
}

#[derive(Serialize, Deserialize)]
struct SnapMetric {
    judge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    scale: Scale,
    arms: Vec<ArmInfo>,
    cells: Vec<Cell>,
    /// One line per (arm, replica, cell): `arm replica cell n sum sum_sq missing`.
    totals: Vec<String>,
}

impl Baseline {
    /// The baseline of a run's results.
    pub fn of(suite: &str, model: &str, results: &SuiteResults) -> Baseline {
        Baseline {
            suite: suite.to_string(),
            model: model.to_string(),
            metrics: results.metrics.clone(),
        }
    }

    /// The snapshot body (YAML; totals one line per arm, replica and cell).
    pub fn to_text(&self) -> String {
        let file = SnapFile {
            suite: self.suite.clone(),
            model: self.model.clone(),
            metrics: self
                .metrics
                .iter()
                .map(|(k, a)| SnapMetric {
                    judge: k.judge.clone(),
                    label: k.label.clone(),
                    scale: a.scale,
                    arms: a.arms.clone(),
                    cells: a.cells.clone(),
                    totals: a
                        .totals
                        .iter()
                        .map(|t| {
                            format!(
                                "{} {} {} {} {} {} {}",
                                t.arm, t.replica, t.cell, t.n, t.sum, t.sum_sq, t.missing
                            )
                        })
                        .collect(),
                })
                .collect(),
        };
        serde_yaml::to_string(&file).expect("a baseline serialises")
    }

    /// Reads a snapshot body written by [`Baseline::to_text`].
    pub fn parse(text: &str) -> Result<Baseline> {
        let file: SnapFile =
            serde_yaml::from_str(text).context("the baseline snapshot is not readable")?;
        let mut metrics = IndexMap::new();
        for m in file.metrics {
            let mut totals = Vec::with_capacity(m.totals.len());
            for (i, line) in m.totals.iter().enumerate() {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() != 7 {
                    bail!(
                        "baseline totals line {} of `{}`: expected 7 numbers, found `{line}`",
                        i + 1,
                        m.judge
                    );
                }
                let int = |s: &str| {
                    s.parse::<u64>()
                        .with_context(|| format!("baseline totals line {}: `{s}`", i + 1))
                };
                let num = |s: &str| {
                    s.parse::<f64>()
                        .with_context(|| format!("baseline totals line {}: `{s}`", i + 1))
                };
                let t = CellTotals {
                    arm: int(f[0])? as u32,
                    replica: int(f[1])? as u32,
                    cell: int(f[2])? as u32,
                    n: int(f[3])?,
                    sum: num(f[4])?,
                    sum_sq: num(f[5])?,
                    missing: int(f[6])?,
                };
                if t.arm as usize >= m.arms.len() || t.cell as usize >= m.cells.len() {
                    bail!(
                        "baseline totals line {} of `{}` names an arm or cell that is not listed",
                        i + 1,
                        m.judge
                    );
                }
                totals.push(t);
            }
            metrics.insert(
                MetricKey {
                    judge: m.judge,
                    label: m.label,
                },
                Aggregate {
                    scale: m.scale,
                    arms: m.arms,
                    cells: m.cells,
                    totals,
                },
            );
        }
        Ok(Baseline {
            suite: file.suite,
            model: file.model,
            metrics,
        })
    }
}

/// One effect compared with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectDrift {
    pub effect: String,
    pub comparison: BaselineComparison,
}

/// Compares each effect of `suite` in `now` with the same effect in `then`.
pub fn compare(suite: &LoadedSuite, now: &Baseline, then: &Baseline) -> Result<Vec<EffectDrift>> {
    let mut out = Vec::new();
    for e in &suite.effects {
        let key = crate::run::metric_of(e);
        let spec = &e.spec;
        let (Some(a), Some(b)) = (now.metrics.get(&key), then.metrics.get(&key)) else {
            bail!(
                "effect `{}`: the baseline has no data for metric `{key}`",
                e.name()
            );
        };
        let a = crate::run::restrict(suite, e, a);
        let b = crate::run::restrict(suite, e, b);
        let comparison = compare_with_baseline(
            spec,
            &a,
            &b,
            suite.suite.baseline.margin,
            spec.expectation.alpha,
        );
        out.push(EffectDrift {
            effect: e.name().to_string(),
            comparison,
        });
    }
    Ok(out)
}

/// The drift table printed when a baseline is checked.
pub fn render(drifts: &[EffectDrift], margin: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "baseline comparison (equivalence margin ±{margin}):");
    let _ = writeln!(
        s,
        "  {:<28} {:>9} {:>9} {:>9} {:>21}  status",
        "effect", "now", "baseline", "diff", "interval"
    );
    for d in drifts {
        let c = &d.comparison;
        let _ = writeln!(
            s,
            "  {:<28} {:>9.4} {:>9.4} {:>+9.4} [{:>+9.4}, {:>+9.4}]  {:?}",
            d.effect, c.estimate_now, c.estimate_then, c.difference, c.ci.0, c.ci.1, c.status
        );
    }
    s
}

/// The comparator's verdict, read back after insta called it.
type Comparison = Arc<Mutex<Option<Result<Vec<EffectDrift>, String>>>>;

/// An insta comparator that calls two snapshots equal unless an effect shifted.
#[derive(Clone)]
struct StatComparator {
    suite: Arc<LoadedSuite>,
    report: Comparison,
}

impl insta::Comparator for StatComparator {
    fn matches(&self, reference: &insta::Snapshot, test: &insta::Snapshot) -> bool {
        let text = |s: &insta::Snapshot| s.as_text().map(|t| t.to_string()).unwrap_or_default();
        let result = Baseline::parse(&text(reference))
            .and_then(|then| Ok((then, Baseline::parse(&text(test))?)))
            .and_then(|(then, now)| compare(&self.suite, &now, &then))
            .map_err(|e| format!("{e:#}"));
        let ok = matches!(&result, Ok(d) if d.iter().all(|d| d.comparison.status != BaselineStatus::Shifted));
        *self.report.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        ok
    }

    fn dyn_clone(&self) -> Box<dyn insta::Comparator> {
        Box::new(self.clone())
    }
}

/// The file name of a suite's baseline for a model (`/` in the model becomes `__`).
pub fn snapshot_name(suite: &str, model: &str) -> String {
    format!("{suite}@{}", model.replace('/', "__"))
}

/// Keeps insta's assertion panic (which [`check`] catches and turns into a message) from
/// printing a second report, with a backtrace, on stderr. Other panics print as before.
fn quiet_insta_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.starts_with("snapshot assertion for") {
                previous(info);
            }
        }));
    });
}

/// Checks a run against `snapshots_dir/<suite>@<model>.snap` through insta: a missing
/// snapshot is written as `.snap.new` (accept it with `cargo insta review`) and fails;
/// a shifted effect fails and writes the new data as `.snap.new`; in CI (`CI` set) nothing is
/// written and both fail. Returns the comparison table on success.
pub fn check(
    suite: Arc<LoadedSuite>,
    results: &SuiteResults,
    model: &str,
    snapshots_dir: &Path,
) -> Result<String, String> {
    let now = Baseline::of(&suite.suite.name, model, results);
    let name = snapshot_name(&suite.suite.name, model);
    let report = Arc::new(Mutex::new(None));
    let comparator = StatComparator {
        suite: suite.clone(),
        report: report.clone(),
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshots_dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "weirdgen baseline of suite `{}` on `{model}`",
        suite.suite.name
    ));
    settings.set_comparator(Box::new(comparator));
    let text = now.to_text();
    quiet_insta_panics();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.as_str(), text));
    }));
    let margin = suite.suite.baseline.margin;
    let compared = report.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (outcome, compared) {
        (Ok(()), Some(Ok(drifts))) => Ok(render(&drifts, margin)),
        (Ok(()), _) => Ok("baseline written".to_string()),
        (Err(_), Some(Ok(drifts))) => Err(format!(
            "an effect shifted from the baseline {}:\n{}\nIf the change is expected, accept the new baseline with `cargo insta review`.",
            snapshots_dir.join(format!("{name}.snap")).display(),
            render(&drifts, margin)
        )),
        (Err(_), Some(Err(e))) => Err(format!("the baseline could not be compared: {e}")),
        (Err(_), None) => Err(format!(
            "no baseline for `{}` on `{model}` yet: {} was written; review and accept it with `cargo insta review` \
             (in CI a missing baseline fails)",
            suite.suite.name,
            snapshots_dir.join(format!("{name}.snap.new")).display()
        )),
    }
}
