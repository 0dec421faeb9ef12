//! The exact binomial test.

use super::Alternative;
use super::discrete::{binom_cdf, binom_sf, ln_binom_pmf, two_sided_unimodal};

/// Relative tolerance of the summed-probability rule, as SciPy's `binomtest`.
const BINOM_REL_TOL: f64 = 1e-7;

/// Exact test that `k` successes in `n` independent trials come from success probability
/// `p0` (0 < p0 < 1). `Greater` is P(X ≥ k); two-sided sums the probability of every count
/// no more likely than `k` (SciPy's rule, relative tolerance 1e-7). Exact at any n: point
/// probabilities in log space (Loader), tails by ratio sums.
pub fn binomial_test(k: u64, n: u64, p0: f64, alternative: Alternative) -> f64 {
    assert!(k <= n, "binomial_test: k > n");
    assert!(p0 > 0.0 && p0 < 1.0, "binomial_test: p0 must be in (0, 1)");
    let p = match alternative {
        Alternative::Less => binom_cdf(k as i64, n, p0),
        Alternative::Greater => binom_sf(k as i64 - 1, n, p0),
        Alternative::TwoSided => {
            let mode = (((n + 1) as f64) * p0).floor().min(n as f64) as u64;
            two_sided_unimodal(
                k,
                (0, n, mode),
                BINOM_REL_TOL,
                |x| ln_binom_pmf(x, n, p0).exp(),
                |x| binom_cdf(x, n, p0),
                |x| binom_sf(x, n, p0),
            )
        }
    };
    p.clamp(0.0, 1.0)
}
