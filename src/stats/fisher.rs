//! Fisher's exact test for 2×2 tables and its stratified generalisation (the exact
//! conditional test of a common odds ratio of 1 across strata).

use super::Alternative;
use super::discrete::{Hypergeometric, two_sided_unimodal};

/// Relative tolerance of the summed-probability rule, as SciPy's `fisher_exact`.
const FISHER_REL_TOL: f64 = 1e-14;

/// Relative tolerance of the two-sided stratified test, as R's `mantelhaen.test(exact = TRUE)`.
const STRATIFIED_REL_TOL: f64 = 1e-7;

/// The result of Fisher's exact test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FisherResult {
    /// Sample odds ratio `a d / (b c)` (infinite when `b c = 0 < a d`, NaN when a margin is 0).
    pub odds_ratio: f64,
    pub p_value: f64,
}

/// Fisher's exact test of the 2×2 table `[[a, b], [c, d]]` (rows are groups, the first
/// column counts the outcome). Conditions on all margins: under the null, `a` is
/// hypergeometric. `Greater` tests an odds ratio above 1; two-sided sums the probabilities
/// of every table no more likely than the observed one (SciPy's rule, relative tolerance
/// 1e-14). Exact at any size: probabilities are computed in log space (Loader), tails by
/// ratio sums, so 10^5 observations per row stay exact. A zero margin gives p = 1.
pub fn fisher_exact(table: [[u64; 2]; 2], alternative: Alternative) -> FisherResult {
    let [[a, b], [c, d]] = table;
    let (row1, row2, col1) = (a + b, c + d, a + c);
    let odds_ratio = if row1 == 0 || row2 == 0 || col1 == 0 || b + d == 0 {
        f64::NAN
    } else if b == 0 || c == 0 {
        f64::INFINITY
    } else {
        (a as f64 * d as f64) / (b as f64 * c as f64)
    };
    if odds_ratio.is_nan() {
        return FisherResult {
            odds_ratio,
            p_value: 1.0,
        };
    }
    let h = Hypergeometric {
        successes: row1,
        failures: row2,
        draws: col1,
    };
    let p_value = match alternative {
        Alternative::Less => h.cdf(a as i64),
        Alternative::Greater => h.sf(a as i64 - 1),
        Alternative::TwoSided => two_sided_unimodal(
            a,
            (h.lo(), h.hi(), h.mode()),
            FISHER_REL_TOL,
            |x| h.pmf(x),
            |x| h.cdf(x),
            |x| h.sf(x),
        ),
    };
    FisherResult {
        odds_ratio,
        p_value: p_value.clamp(0.0, 1.0),
    }
}

/// Work (support size × stratum size, summed) above which [`stratified_exact`] declines.
pub const STRATIFIED_EXACT_MAX_WORK: u64 = 50_000_000;

/// Exact conditional test that the odds ratio is 1 in every stratum of a set of 2×2 tables
/// `[[a, b], [c, d]]` (R's `mantelhaen.test(exact = TRUE)`; for one stratum it is Fisher's
/// exact test). Conditions on every stratum's margins; the statistic is the sum of the `a`
/// cells, whose null distribution is the convolution of the strata's hypergeometric
/// distributions. `Greater` tests a common odds ratio above 1. Two-sided: the summed
/// probability of sums no more likely than the observed one (relative tolerance 1e-7, as R).
/// Returns `None` when the convolution would exceed [`STRATIFIED_EXACT_MAX_WORK`]
/// (use the Cochran-Mantel-Haenszel test then). Strata with a zero margin carry no
/// information and are skipped; with none left, p = 1.
pub fn stratified_exact(tables: &[[[u64; 2]; 2]], alternative: Alternative) -> Option<f64> {
    let mut dists = Vec::new();
    let mut observed: u64 = 0;
    let mut work: u64 = 0;
    let mut support: u64 = 1;
    for t in tables {
        let [[a, b], [c, d]] = *t;
        if a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0 {
            continue;
        }
        let h = Hypergeometric {
            successes: a + b,
            failures: c + d,
            draws: a + c,
        };
        let width = h.hi() - h.lo() + 1;
        work = work.saturating_add(support.saturating_mul(width));
        support += width - 1;
        observed += a - h.lo();
        dists.push(h);
    }
    if work > STRATIFIED_EXACT_MAX_WORK {
        return None;
    }
    if dists.is_empty() {
        return Some(1.0);
    }
    // Convolve the strata's pmfs (each on its own support offset by lo).
    let mut conv = vec![1.0f64];
    for h in &dists {
        let pmf: Vec<f64> = (h.lo()..=h.hi()).map(|x| h.pmf(x)).collect();
        let mut next = vec![0.0f64; conv.len() + pmf.len() - 1];
        for (i, &ci) in conv.iter().enumerate() {
            if ci == 0.0 {
                continue;
            }
            for (j, &pj) in pmf.iter().enumerate() {
                next[i + j] += ci * pj;
            }
        }
        conv = next;
    }
    let total: f64 = conv.iter().sum();
    let obs = observed as usize;
    let p = match alternative {
        Alternative::Greater => conv[obs..].iter().sum::<f64>() / total,
        Alternative::Less => conv[..=obs].iter().sum::<f64>() / total,
        Alternative::TwoSided => {
            let threshold = conv[obs] * (1.0 + STRATIFIED_REL_TOL);
            conv.iter().filter(|&&v| v <= threshold).sum::<f64>() / total
        }
    };
    Some(p.clamp(0.0, 1.0))
}
