//! The numbers every report format shows, and the tables that text, markdown and HTML each
//! render in their own way.

use crate::effect::{Aggregate, EffectResult, Scale, Verdict};
use crate::run::SuiteResults;
use crate::suite::{DirectionName, Effect};
use std::fmt::Write as _;

/// What every format shows where a value is missing.
pub const NO_VALUE: &str = "–";

/// A table as every format shows it: a header and rows of text (`None`: no value).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    /// Per column: whether it holds numbers (right-aligned where the format can).
    pub numeric: Vec<bool>,
    /// The column the formats emphasise (the verdict), if any.
    pub emphasis: Option<usize>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// A cell's text, [`NO_VALUE`] when it has none.
    pub fn text(cell: &Option<String>) -> &str {
        cell.as_deref().unwrap_or(NO_VALUE)
    }
}

/// A metric per probe cell (rows) and arm (columns): the value with its interval.
pub fn rates_table(agg: &Aggregate) -> Table {
    let rates = cell_rates(agg);
    let mut cells: Vec<&str> = rates.iter().map(|r| r.cell.as_str()).collect();
    cells.dedup();
    let rows = cells
        .into_iter()
        .map(|cell| {
            let values = agg.arms.iter().map(|a| {
                rates
                    .iter()
                    .find(|r| r.cell == cell && r.arm == a.name)
                    .map(|r| format!("{:.3} [{:.3}, {:.3}]", r.value, r.ci.0, r.ci.1))
            });
            std::iter::once(Some(cell.to_string()))
                .chain(values)
                .collect()
        })
        .collect();
    Table {
        header: std::iter::once("cell".to_string())
            .chain(agg.arms.iter().map(|a| a.name.clone()))
            .collect(),
        numeric: vec![false; agg.arms.len() + 1],
        emphasis: None,
        rows,
    }
}

/// One row per effect: estimate, interval, deciding and adjusted p, verdict and unit.
pub fn effects_table(results: &SuiteResults) -> Table {
    let rows = results
        .effects
        .iter()
        .map(|(_, r)| {
            [
                r.name.clone(),
                format!("{:+.4}", r.estimate),
                format!("[{:+.4}, {:+.4}]", r.ci.0, r.ci.1),
                fmt_null_p(r, r.p_value),
                fmt_null_p(r, r.p_adjusted),
                verdict_word(r.verdict).to_string(),
                format!("{:?}", r.unit),
            ]
            .into_iter()
            .map(Some)
            .collect()
        })
        .collect();
    Table {
        header: [
            "effect",
            "estimate",
            "interval",
            "deciding p",
            "adjusted",
            "verdict",
            "unit",
        ]
        .map(String::from)
        .to_vec(),
        numeric: vec![false, true, false, true, true, false, false],
        emphasis: Some(5),
        rows,
    }
}

/// A verdict as the reports write it.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Confirmed => "CONFIRMED",
        Verdict::Refuted => "REFUTED",
        Verdict::Inconclusive => "INCONCLUSIVE",
    }
}

/// One arm's value in one probe cell, pooled over its analysed replicas.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRate {
    pub cell: String,
    pub arm: String,
    pub n: u64,
    pub missing: u64,
    pub value: f64,
    /// Wilson 95% interval for rates (sampling error only); mean ± 1.96 SE for scores.
    pub ci: (f64, f64),
}

/// A cell's name: `probe` or `probe{var=value, ...}`.
pub fn cell_name(c: &crate::effect::Cell) -> String {
    if c.vars.is_empty() {
        c.probe.clone()
    } else {
        let vars: Vec<String> = c.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}{{{}}}", c.probe, vars.join(", "))
    }
}

/// Per cell and arm, the pooled value of a metric with its interval.
pub fn cell_rates(agg: &Aggregate) -> Vec<CellRate> {
    let mut out = Vec::new();
    for (ci, cell) in agg.cells.iter().enumerate() {
        for (ai, arm) in agg.arms.iter().enumerate() {
            let (mut n, mut sum, mut sq, mut missing) = (0u64, 0.0, 0.0, 0u64);
            for t in agg
                .totals
                .iter()
                .filter(|t| t.cell as usize == ci && t.arm as usize == ai)
            {
                n += t.n;
                sum += t.sum;
                sq += t.sum_sq;
                missing += t.missing;
            }
            if n == 0 && missing == 0 {
                continue;
            }
            let (value, ci95) = match agg.scale {
                _ if n == 0 => (f64::NAN, (f64::NAN, f64::NAN)),
                Scale::Binary => (
                    sum / n as f64,
                    crate::stats::wilson_interval(sum.round() as u64, n, 0.95),
                ),
                Scale::Score { .. } => {
                    let mean = sum / n as f64;
                    let var = if n > 1 {
                        ((sq - sum * mean) / (n - 1) as f64).max(0.0)
                    } else {
                        0.0
                    };
                    let half = 1.96 * (var / n as f64).sqrt();
                    (mean, (mean - half, mean + half))
                }
            };
            out.push(CellRate {
                cell: cell_name(cell),
                arm: arm.name.clone(),
                n,
                missing,
                value,
                ci: ci95,
            });
        }
    }
    out
}

/// A level as a percentage, without needless digits (90, 97.5).
fn pct(level: f64) -> String {
    format!("{}", (level * 1000.0).round() / 10.0)
}

/// A p-value with its null hypothesis, for the effects' summary table: `p(δ ≤ 0.3) = 0.012`.
fn fmt_null_p(r: &EffectResult, p: f64) -> String {
    format!("p({}) = {}", r.null, fmt_p(p))
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// The table shown for an effect (and printed when its trial fails): arms, replicas, values
/// with intervals, estimate, p, adjusted p, verdict, missing count, notes.
pub fn effect_table(effect: &Effect, r: &EffectResult) -> String {
    let mut s = String::new();
    let verdict = verdict_word(r.verdict);
    let _ = writeln!(s, "effect `{}`: {verdict}", r.name);
    if let Some(d) = &effect.description {
        let _ = writeln!(s, "  claim: {}", d.trim());
    }
    let e = &effect.spec.expectation;
    let alpha = e.alpha;
    let expect = match e.direction {
        DirectionName::None => format!("no shift beyond ±{}", e.margin),
        d => format!("{d:?} by at least {}", e.min_effect).to_lowercase(),
    };
    let _ = writeln!(s, "  expected: {expect} (alpha {alpha})");
    let _ = writeln!(
        s,
        "  {:<16} {:>8} {:>9} {:>8} {:>9} {:>21}",
        "arm", "replicas", "samples", "missing", "value", "95% interval"
    );
    for a in &r.arms {
        let _ = writeln!(
            s,
            "  {:<16} {:>8} {:>9} {:>8} {:>9.4} [{:>8.4}, {:>8.4}]",
            a.name, a.replicas, a.samples, a.missing, a.estimate, a.ci.0, a.ci.1
        );
    }
    let _ = writeln!(
        s,
        "  estimate {:+.4}, {}% interval [{:+.4}, {:+.4}] (bounds one-sided {}%, the level of the tests)",
        r.estimate,
        pct(1.0 - 2.0 * alpha),
        r.ci.0,
        r.ci.1,
        pct(1.0 - alpha)
    );
    let test = |t: &crate::effect::ClaimTest| {
        format!(
            "p({}) = {} (adjusted {})",
            t.null,
            fmt_p(t.p_value),
            fmt_p(t.p_adjusted)
        )
    };
    match (r.verdict, r.tests.as_slice()) {
        (Verdict::Inconclusive, [c, f]) => {
            let _ = writeln!(
                s,
                "  neither test rejected at alpha {alpha}: {}; {}",
                test(c),
                test(f)
            );
        }
        (v, [c, f]) => {
            let (by, other) = if v == Verdict::Confirmed {
                (c, f)
            } else {
                (f, c)
            };
            let _ = writeln!(
                s,
                "  decided by {} < alpha {alpha}; other test {}",
                test(by),
                test(other)
            );
        }
        _ => {}
    }
    let _ = writeln!(s, "  method: {}; unit: {:?}", r.method, r.unit);
    if let Some((lo, hi)) = r.bootstrap_ci {
        let _ = writeln!(
            s,
            "  sensitivity check (not used for the verdict; under-covers with few replicas): hierarchical bootstrap interval [{lo:+.4}, {hi:+.4}]"
        );
    }
    let _ = writeln!(s, "  missing values excluded: {}", r.missing);
    for n in &r.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    if let Some(n) = &r.needed {
        let _ = writeln!(s, "  to decide: {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::{ArmInfo, Cell, CellTotals};

    /// Two arms, two cells; arm `b` has no data in the second cell.
    fn gap() -> Aggregate {
        let arm = |name: &str| ArmInfo {
            name: name.into(),
            replicas: 1,
            fixed: true,
        };
        let cell = |probe: &str| Cell {
            probe: probe.into(),
            vars: Default::default(),
        };
        let t = |arm, cell, n, sum| CellTotals {
            arm,
            replica: 0,
            cell,
            n,
            sum,
            sum_sq: sum,
            missing: 0,
        };
        Aggregate {
            scale: Scale::Binary,
            arms: vec![arm("a"), arm("b")],
            cells: vec![cell("p"), cell("q")],
            totals: vec![t(0, 0, 4, 2.0), t(0, 1, 4, 1.0), t(1, 0, 4, 4.0)],
        }
    }

    #[test]
    fn every_format_renders_the_same_rates_table() {
        let t = rates_table(&gap());
        assert_eq!(t.header, ["cell", "a", "b"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][1].as_deref().map(|v| &v[..5]), Some("0.500"));
        assert_eq!(t.rows[1][2], None);
        let text = super::super::text::table_lines(&t).join("\n");
        let markdown = super::super::markdown::table(&t);
        let html = super::super::html::table(&t);
        for out in [&text, &markdown, &html] {
            assert!(out.contains("0.250 ["), "{out}");
            assert!(out.contains("1.000 ["), "{out}");
            assert_eq!(out.matches(NO_VALUE).count(), 1, "{out}");
        }
        assert!(
            markdown.starts_with("| cell | a | b |\n|---|---|---|\n"),
            "{markdown}"
        );
        assert!(html.contains("<tr><td>q</td><td>0.250"), "{html}");
    }
}
