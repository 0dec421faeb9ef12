//! Which cells an effect reads and with what weights: equal weight per probe, and per unit
//! (a cell, or a treatment/control pair of cells) within a probe.

use std::collections::{BTreeMap, HashMap};

use super::types::{Aggregate, Cell, CellTotals};

/// One unit of a probe's value: `(cell, sign)` terms — one cell (+1), or a pair (+1, −1).
pub(crate) type UnitTerms = Vec<(u32, f64)>;

/// The cells of an effect grouped by probe (probes in name order).
#[derive(Debug, Clone)]
pub(crate) struct Design {
    pub probes: Vec<Vec<UnitTerms>>,
}

impl Design {
    /// Every cell is a unit: an arm's rate or mean.
    pub fn plain(cells: &[Cell]) -> Design {
        let mut by_probe: BTreeMap<&str, Vec<UnitTerms>> = BTreeMap::new();
        for (i, c) in cells.iter().enumerate() {
            by_probe
                .entry(&c.probe)
                .or_default()
                .push(vec![(i as u32, 1.0)]);
        }
        Design {
            probes: by_probe.into_values().collect(),
        }
    }

    /// Units are pairs: a cell with `var = treatment` (+1) and the cell with the same probe and
    /// other variables but `var = control` (−1). Returns the design and the number of
    /// treatment cells that had no partner (left out).
    pub fn contrast(cells: &[Cell], var: &str, treatment: &str, control: &str) -> (Design, usize) {
        let index: HashMap<&Cell, u32> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (c, i as u32))
            .collect();
        let mut by_probe: BTreeMap<&str, Vec<UnitTerms>> = BTreeMap::new();
        let mut unpaired = 0;
        for (i, c) in cells.iter().enumerate() {
            if c.vars.get(var).map(String::as_str) != Some(treatment) {
                continue;
            }
            let mut partner = c.clone();
            partner.vars.insert(var.to_string(), control.to_string());
            match index.get(&partner) {
                Some(&j) => by_probe
                    .entry(&c.probe)
                    .or_default()
                    .push(vec![(i as u32, 1.0), (j, -1.0)]),
                None => unpaired += 1,
            }
        }
        (
            Design {
                probes: by_probe.into_values().collect(),
            },
            unpaired,
        )
    }
}

/// One arm-replica's value as a linear combination of its cells' means: `probes[p]` holds the
/// terms `(totals, coefficient within the probe)` of the units present (every cell with data);
/// an empty probe is absent. The value is the mean over present probes.
#[derive(Debug, Clone)]
pub(crate) struct Functional {
    pub probes: Vec<Vec<(CellTotals, f64)>>,
}

impl Functional {
    /// The functional of `arm`'s `replica` under `design`.
    pub fn build(design: &Design, data: &Aggregate, arm: u32, replica: u32) -> Functional {
        Functional::from_lookup(design, |cell| data.totals_of(arm, replica, cell).copied())
    }

    /// The functional of `arm` with all its replicas' samples pooled cell by cell.
    pub fn pooled(design: &Design, data: &Aggregate, arm: u32) -> Functional {
        let mut pooled: HashMap<u32, CellTotals> = HashMap::new();
        for t in data.totals.iter().filter(|t| t.arm == arm) {
            let p = pooled.entry(t.cell).or_insert(CellTotals {
                replica: 0,
                n: 0,
                sum: 0.0,
                sum_sq: 0.0,
                missing: 0,
                ..*t
            });
            p.n += t.n;
            p.sum += t.sum;
            p.sum_sq += t.sum_sq;
            p.missing += t.missing;
        }
        Functional::from_lookup(design, |cell| pooled.get(&cell).copied())
    }

    /// The functional reading each cell's totals through `lookup`.
    fn from_lookup(design: &Design, lookup: impl Fn(u32) -> Option<CellTotals>) -> Functional {
        let probes = design
            .probes
            .iter()
            .map(|units| {
                let present: Vec<Vec<(CellTotals, f64)>> = units
                    .iter()
                    .filter_map(|unit| {
                        unit.iter()
                            .map(|&(cell, sign)| {
                                lookup(cell).filter(|t| t.n > 0).map(|t| (t, sign))
                            })
                            .collect::<Option<Vec<_>>>()
                    })
                    .collect();
                let k = present.len() as f64;
                present
                    .into_iter()
                    .flatten()
                    .map(|(t, sign)| (t, sign / k))
                    .collect()
            })
            .collect();
        Functional { probes }
    }

    /// Number of probes with data.
    pub fn present_probes(&self) -> usize {
        self.probes.iter().filter(|p| !p.is_empty()).count()
    }

    /// Every cell with its full weight (coefficient within the probe / present probes).
    pub fn terms(&self) -> Vec<(CellTotals, f64)> {
        let k = self.present_probes() as f64;
        self.probes
            .iter()
            .flatten()
            .map(|&(t, c)| (t, c / k))
            .collect()
    }

    /// The value: mean over present probes of the probe's value; `None` without data.
    pub fn value(&self) -> Option<f64> {
        if self.present_probes() == 0 {
            return None;
        }
        Some(
            self.terms()
                .iter()
                .map(|(t, c)| c * t.sum / t.n as f64)
                .sum(),
        )
    }

    /// Non-missing samples read.
    pub fn samples(&self) -> u64 {
        self.probes.iter().flatten().map(|(t, _)| t.n).sum()
    }
}

/// Per-observation variance estimate of a cell: for 0/1 values `p̃(1 − p̃)` with the
/// Jeffreys-adjusted `p̃ = (k + ½)/(n + 1)`, which stays positive at 0% and 100%; for scores the
/// sample variance, or `fallback` (a pooled variance) when the cell has a single value.
pub(crate) fn cell_variance(t: &CellTotals, binary: bool, fallback: f64) -> f64 {
    let n = t.n as f64;
    if binary {
        let p = (t.sum + 0.5) / (n + 1.0);
        p * (1.0 - p)
    } else if t.n >= 2 {
        ((t.sum_sq - t.sum * t.sum / n) / (n - 1.0)).max(0.0)
    } else {
        fallback
    }
}

/// Sampling variance of a linear combination `Σ coef × cell mean` of independent cells, and
/// its Satterthwaite degrees of freedom (each cell's variance having n − 1 df).
pub(crate) fn sampling_variance(
    terms: &[(CellTotals, f64)],
    binary: bool,
    fallback: f64,
) -> (f64, f64) {
    let comps: Vec<(f64, f64)> = terms
        .iter()
        .map(|(t, c)| {
            (
                c * c * cell_variance(t, binary, fallback) / t.n as f64,
                (t.n as f64 - 1.0).max(1.0),
            )
        })
        .collect();
    let var = comps.iter().map(|(v, _)| v).sum();
    (var, crate::stats::satterthwaite_df(&comps))
}

/// Pooled within-cell variance of score cells with ≥ 2 values (0 if none).
pub(crate) fn pooled_score_variance(data: &Aggregate) -> f64 {
    let (mut ss, mut df) = (0.0, 0.0);
    for t in data.totals.iter().filter(|t| t.n >= 2) {
        ss += (t.sum_sq - t.sum * t.sum / t.n as f64).max(0.0);
        df += t.n as f64 - 1.0;
    }
    if df > 0.0 { ss / df } else { 0.0 }
}
