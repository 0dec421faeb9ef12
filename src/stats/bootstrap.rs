//! Seeded bootstrap intervals: the percentile bootstrap of one sample, and a hierarchical
//! (cluster) bootstrap for replicas × probes × samples. Resampling uses only integer draws
//! from [`crate::rng::Rng`] and IEEE arithmetic (no `ln`/`exp`), so a seed gives the same
//! interval on every machine.

use crate::rng::Rng;

/// A bootstrap estimate with its percentile interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapInterval {
    /// The statistic on the original data.
    pub estimate: f64,
    /// Percentile interval at the requested level.
    pub ci: (f64, f64),
    /// Resamples whose statistic was defined (the others had no data and were skipped).
    pub resamples: usize,
}

/// The q-quantile (0 ≤ q ≤ 1) of sorted values with linear interpolation (NumPy's default
/// `percentile` method, Hyndman-Fan type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of nothing");
    let h = (sorted.len() - 1) as f64 * q;
    let i = h.floor() as usize;
    let frac = h - i as f64;
    if i + 1 >= sorted.len() {
        sorted[sorted.len() - 1]
    } else {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    }
}

/// The percentile interval at `level` of bootstrap statistics (sorted in place).
fn percentile_ci(stats: &mut [f64], level: f64) -> (f64, f64) {
    stats.sort_unstable_by(f64::total_cmp);
    let a = (1.0 - level) / 2.0;
    (quantile_sorted(stats, a), quantile_sorted(stats, 1.0 - a))
}

/// Percentile bootstrap of `statistic` over independent, identically distributed `data`:
/// `resamples` resamples of the same size drawn with replacement, seeded by `seed`.
pub fn percentile_bootstrap(
    data: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    resamples: usize,
    level: f64,
    seed: u64,
) -> BootstrapInterval {
    assert!(!data.is_empty(), "bootstrap of no data");
    let mut rng = Rng::new(seed);
    let mut buf = vec![0.0; data.len()];
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in buf.iter_mut() {
            *slot = data[rng.below(data.len() as u64) as usize];
        }
        stats.push(statistic(&buf));
    }
    BootstrapInterval {
        estimate: statistic(data),
        ci: percentile_ci(&mut stats, level),
        resamples,
    }
}

/// The samples of one cell, reduced to what resampling them needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellSamples {
    /// Number of samples.
    pub n: u64,
    /// Sum of the values.
    pub sum: f64,
    /// Sum of the squared values.
    pub sum_sq: f64,
    /// Values are 0/1 (resampled exactly as a binomial count).
    pub binary: bool,
}

impl CellSamples {
    /// The cell's mean.
    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// The mean of a resample of this cell's samples. Binary cells: the count of successes
    /// in `n` draws with replacement (exact nonparametric bootstrap). Score cells, whose
    /// values are not kept: a wild bootstrap with Rademacher weights, which has the same mean
    /// and variance (plug-in variance / n) as the nonparametric one.
    fn resampled_mean(&self, rng: &mut Rng) -> f64 {
        let mean = self.mean();
        if self.binary {
            // Each draw is a success with probability k/n: a 64-bit uniform below
            // floor(2^64 k / n) (exact integer arithmetic; bias below 2^-64).
            let k = self.sum.round() as u64;
            let threshold = (((k as u128) << 64) / self.n as u128).min(u64::MAX as u128) as u64;
            let hits = if k >= self.n {
                self.n
            } else {
                (0..self.n).filter(|_| rng.next_u64() < threshold).count() as u64
            };
            hits as f64 / self.n as f64
        } else {
            let var = (self.sum_sq / self.n as f64 - mean * mean).max(0.0);
            let mut ones = 0u64;
            let mut left = self.n;
            while left > 0 {
                let take = left.min(64);
                let bits = rng.next_u64()
                    & if take == 64 {
                        u64::MAX
                    } else {
                        (1u64 << take) - 1
                    };
                ones += u64::from(bits.count_ones());
                left -= take;
            }
            mean + var.sqrt() * (2.0 * ones as f64 - self.n as f64) / self.n as f64
        }
    }
}

/// One term of a probe's value: `coef × mean of the cell`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    pub coef: f64,
    pub cell: CellSamples,
}

/// One group of the statistic (e.g. an arm): its clusters (replicas), each holding the terms
/// of each probe (`replicas[r][p]`; an empty list means the probe is absent in that replica).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterGroup {
    /// Sign or weight of the group in the statistic (e.g. +1 treatment, −1 control).
    pub weight: f64,
    /// Also resample the samples within each cell (for a group whose clusters do not carry
    /// the sampling error themselves, e.g. a single fixed model).
    pub resample_samples: bool,
    pub replicas: Vec<Vec<Vec<Term>>>,
}

/// The statistic `Σ_g weight_g × mean over replicas of (mean over present probes of
/// Σ terms coef × cell mean)`, for one choice of replicas and probes.
fn statistic(
    groups: &[ClusterGroup],
    values: &[Vec<Vec<Option<f64>>>],
    replica_picks: &[Vec<usize>],
    probe_picks: &[usize],
) -> Option<f64> {
    let mut total = 0.0;
    for (g, group) in groups.iter().enumerate() {
        let (mut sum, mut count) = (0.0, 0usize);
        for &r in &replica_picks[g] {
            let (mut ps, mut pc) = (0.0, 0usize);
            for &p in probe_picks {
                if let Some(v) = values[g][r][p] {
                    ps += v;
                    pc += 1;
                }
            }
            if pc > 0 {
                sum += ps / pc as f64;
                count += 1;
            }
        }
        if count == 0 {
            return None;
        }
        total += group.weight * sum / count as f64;
    }
    Some(total)
}

/// The probe values of a group, each cell's mean optionally replaced by a resampled one.
fn probe_values(
    group: &ClusterGroup,
    n_probes: usize,
    rng: Option<&mut Rng>,
) -> Vec<Vec<Option<f64>>> {
    let mut rng = rng;
    group
        .replicas
        .iter()
        .map(|probes| {
            (0..n_probes)
                .map(|p| {
                    let terms = probes.get(p).map(Vec::as_slice).unwrap_or(&[]);
                    if terms.is_empty() {
                        return None;
                    }
                    Some(
                        terms
                            .iter()
                            .map(|t| {
                                let m = match rng.as_deref_mut() {
                                    Some(r) => t.cell.resampled_mean(r),
                                    None => t.cell.mean(),
                                };
                                t.coef * m
                            })
                            .sum(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Hierarchical bootstrap for crossed replicas × probes (Owen's "pigeonhole" bootstrap
/// extended to several groups): each resample draws, with replacement, the replicas of every
/// group independently, then one set of probes shared by all groups (probes are the same
/// questions in every arm, so their pairing is kept), then, for groups with
/// `resample_samples`, the samples within each cell. Assumes replicas are exchangeable within
/// a group and probes exchangeable. Returns the percentile interval at `level` from
/// `resamples` resamples seeded by `seed`.
pub fn hierarchical_bootstrap(
    groups: &[ClusterGroup],
    n_probes: usize,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<BootstrapInterval> {
    if groups.is_empty() || n_probes == 0 || groups.iter().any(|g| g.replicas.is_empty()) {
        return None;
    }
    let fixed: Vec<Vec<Vec<Option<f64>>>> = groups
        .iter()
        .map(|g| probe_values(g, n_probes, None))
        .collect();
    let all_replicas: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| (0..g.replicas.len()).collect())
        .collect();
    let all_probes: Vec<usize> = (0..n_probes).collect();
    let estimate = statistic(groups, &fixed, &all_replicas, &all_probes)?;

    let mut rng = Rng::new(seed);
    let mut replica_picks = all_replicas.clone();
    let mut probe_picks = all_probes.clone();
    let mut values = fixed.clone();
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for (g, picks) in replica_picks.iter_mut().enumerate() {
            let n = groups[g].replicas.len() as u64;
            for slot in picks.iter_mut() {
                *slot = rng.below(n) as usize;
            }
        }
        for slot in probe_picks.iter_mut() {
            *slot = rng.below(n_probes as u64) as usize;
        }
        for (g, group) in groups.iter().enumerate() {
            if group.resample_samples {
                values[g] = probe_values(group, n_probes, Some(&mut rng));
            }
        }
        if let Some(s) = statistic(groups, &values, &replica_picks, &probe_picks) {
            stats.push(s);
        }
    }
    if stats.is_empty() {
        return None;
    }
    let n = stats.len();
    Some(BootstrapInterval {
        estimate,
        ci: percentile_ci(&mut stats, level),
        resamples: n,
    })
}
