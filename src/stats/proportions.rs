//! Tests and intervals for proportions: the pooled two-proportion z test, Wilson and
//! Clopper-Pearson intervals, risk difference (Newcombe) and odds ratio (Woolf) intervals,
//! and MOVER intervals for any linear combination of independent proportions.

use super::discrete::{binom_cdf, binom_sf};
use super::dist::{norm_cdf, norm_ppf, norm_sf};
use super::{Alternative, Estimate, TestResult};

/// The two-sided normal critical value for a confidence `level`.
pub(crate) fn z_crit(level: f64) -> f64 {
    norm_ppf(1.0 - (1.0 - level) / 2.0)
}

/// p-value of a standard-normal statistic `z` for `alternative`.
pub(crate) fn z_p_value(z: f64, alternative: Alternative) -> f64 {
    match alternative {
        Alternative::Greater => norm_sf(z),
        Alternative::Less => norm_cdf(z),
        Alternative::TwoSided => (2.0 * norm_sf(z.abs())).min(1.0),
    }
}

/// Two-proportion z test of `k1/n1` against `k2/n2` with the pooled variance under the null
/// (statsmodels `proportions_ztest`). Assumes independent samples and counts large enough
/// for the normal approximation. `Greater` tests p1 > p2. With both rates 0 or both 1 the
/// statistic is 0 and p = 1.
pub fn two_proportion_z(
    k1: u64,
    n1: u64,
    k2: u64,
    n2: u64,
    alternative: Alternative,
) -> TestResult {
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    let z = if se > 0.0 { (p1 - p2) / se } else { 0.0 };
    TestResult {
        statistic: z,
        p_value: z_p_value(z, alternative),
    }
}

/// Wilson score interval for `k` successes in `n` trials at confidence `level`
/// (statsmodels `proportion_confint(method="wilson")`); exactly 0 / 1 at k = 0 / k = n.
pub fn wilson_interval(k: u64, n: u64, level: f64) -> (f64, f64) {
    assert!(n > 0 && k <= n, "wilson_interval: need 0 ≤ k ≤ n, n > 0");
    let z = z_crit(level);
    let (nf, p) = (n as f64, k as f64 / n as f64);
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    let lo = if k == 0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let hi = if k == n {
        1.0
    } else {
        (center + half).min(1.0)
    };
    (lo, hi)
}

/// Finds p in (0, 1) where the increasing function `f` crosses 0, by bisection to full precision.
fn bisect_increasing(f: impl Fn(f64) -> f64) -> f64 {
    let (mut a, mut b) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if m <= a || m >= b {
            break;
        }
        if f(m) < 0.0 { a = m } else { b = m }
    }
    0.5 * (a + b)
}

/// Clopper-Pearson ("exact") interval for `k` successes in `n` trials at confidence
/// `level`: the p where P(X ≥ k | p) and P(X ≤ k | p) equal (1 − level)/2
/// (statsmodels `method="beta"`). Lower bound 0 at k = 0, upper bound 1 at k = n. Solved on
/// exact binomial tails, so it stays exact at large n.
pub fn clopper_pearson_interval(k: u64, n: u64, level: f64) -> (f64, f64) {
    assert!(
        n > 0 && k <= n,
        "clopper_pearson_interval: need 0 ≤ k ≤ n, n > 0"
    );
    let a2 = (1.0 - level) / 2.0;
    let lo = if k == 0 {
        0.0
    } else {
        // P(X ≥ k | p) increases with p.
        bisect_increasing(|p| binom_sf(k as i64 - 1, n, p) - a2)
    };
    let hi = if k == n {
        1.0
    } else {
        // P(X ≤ k | p) decreases with p.
        bisect_increasing(|p| a2 - binom_cdf(k as i64, n, p))
    };
    (lo, hi)
}

/// One independent proportion in a linear combination: `coef × successes / trials`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionTerm {
    pub coef: f64,
    pub successes: u64,
    pub trials: u64,
}

/// MOVER interval (method of variance estimates recovery; Zou, Huang & Zhang 2009) for
/// `Σ coef_i p_i` over independent binomial proportions, built from each proportion's Wilson
/// interval at `level`. For `p1 − p2` it is Newcombe's hybrid score interval (his method 10);
/// for one proportion it is Wilson's. Well behaved at 0% and 100%, unlike Wald intervals.
pub fn mover_interval(terms: &[ProportionTerm], level: f64) -> Estimate {
    let mut estimate = 0.0;
    let (mut down, mut up) = (0.0, 0.0);
    for t in terms {
        let p = t.successes as f64 / t.trials as f64;
        let (l, u) = wilson_interval(t.successes, t.trials, level);
        let (cl, cu) = if t.coef >= 0.0 {
            (t.coef * l, t.coef * u)
        } else {
            (t.coef * u, t.coef * l)
        };
        let c = t.coef * p;
        estimate += c;
        down += (c - cl).powi(2);
        up += (cu - c).powi(2);
    }
    Estimate {
        estimate,
        ci: (estimate - down.sqrt(), estimate + up.sqrt()),
    }
}

/// Risk difference `k1/n1 − k2/n2` with Newcombe's hybrid score interval at `level`
/// (statsmodels `confint_proportions_2indep(method="newcomb")`).
pub fn risk_difference(k1: u64, n1: u64, k2: u64, n2: u64, level: f64) -> Estimate {
    mover_interval(
        &[
            ProportionTerm {
                coef: 1.0,
                successes: k1,
                trials: n1,
            },
            ProportionTerm {
                coef: -1.0,
                successes: k2,
                trials: n2,
            },
        ],
        level,
    )
}

/// Odds ratio of the 2×2 table `[[a, b], [c, d]]` (`a d / (b c)`) with Woolf's log interval
/// at `level` (statsmodels `Table2x2.oddsratio_confint`). When a cell is 0 the interval uses
/// the Haldane-Anscombe correction (0.5 added to every cell); the estimate stays unadjusted.
pub fn odds_ratio(table: [[u64; 2]; 2], level: f64) -> Estimate {
    let [[a, b], [c, d]] = table.map(|r| r.map(|x| x as f64));
    let estimate = a * d / (b * c);
    let shift = if a * b * c * d == 0.0 { 0.5 } else { 0.0 };
    let (a2, b2, c2, d2) = (a + shift, b + shift, c + shift, d + shift);
    let log_or = (a2 * d2 / (b2 * c2)).ln();
    let se = (1.0 / a2 + 1.0 / b2 + 1.0 / c2 + 1.0 / d2).sqrt();
    let z = z_crit(level);
    Estimate {
        estimate,
        ci: ((log_or - z * se).exp(), (log_or + z * se).exp()),
    }
}
