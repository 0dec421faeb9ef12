//! t tests: Welch, Student, paired and one-sample, with confidence intervals and fractional
//! degrees of freedom; plus the general test of an estimate with a standard error and df.

use super::Alternative;
use super::dist::{t_cdf, t_ppf, t_sf};

/// A sample reduced to its size, mean and sample variance (divisor n − 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: f64,
    pub mean: f64,
    pub var: f64,
}

impl Summary {
    /// Summarises `x` (two-pass, so the variance keeps its digits). Variance 0 when n < 2.
    pub fn of(x: &[f64]) -> Summary {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = if x.len() > 1 {
            x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Summary { n, mean, var }
    }
}

/// The result of a t test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    pub t: f64,
    pub df: f64,
    pub p_value: f64,
    /// The estimated difference (or mean minus the null value for one-sample tests).
    pub estimate: f64,
    pub se: f64,
    /// Two-sided confidence interval of the estimate at the requested level.
    pub ci: (f64, f64),
}

/// Tests `estimate` against `null` given its standard error `se` and `df` degrees of
/// freedom (infinite df = normal). Assumes `(estimate − null) / se` is t-distributed under
/// the null. `Greater` tests estimate > null. The interval is two-sided at `level`.
/// With `se = 0` the statistic is ±∞ (or 0 when estimate = null) and the interval a point.
pub fn t_test_from_estimate(
    estimate: f64,
    se: f64,
    df: f64,
    null: f64,
    alternative: Alternative,
    level: f64,
) -> TTest {
    let diff = estimate - null;
    let t = if se > 0.0 {
        diff / se
    } else if diff == 0.0 {
        0.0
    } else {
        diff.signum() * f64::INFINITY
    };
    let p_value = match alternative {
        Alternative::Greater => t_sf(t, df),
        Alternative::Less => t_cdf(t, df),
        Alternative::TwoSided => (2.0 * t_sf(t.abs(), df)).min(1.0),
    };
    let half = if se > 0.0 {
        t_ppf(1.0 - (1.0 - level) / 2.0, df) * se
    } else {
        0.0
    };
    TTest {
        t,
        df,
        p_value,
        estimate,
        se,
        ci: (estimate - half, estimate + half),
    }
}

/// Welch-Satterthwaite degrees of freedom of a sum of independent variance components
/// `(variance of the component, its df)`.
pub fn satterthwaite_df(components: &[(f64, f64)]) -> f64 {
    let total: f64 = components.iter().map(|(v, _)| v).sum();
    let denom: f64 = components
        .iter()
        .filter(|(v, _)| *v > 0.0)
        .map(|(v, df)| v * v / df)
        .sum();
    if denom > 0.0 {
        total * total / denom
    } else {
        f64::INFINITY
    }
}

/// Welch's unequal-variance t test of mean(a) − mean(b) from summaries (each n ≥ 2).
pub fn welch_summary(a: Summary, b: Summary, alternative: Alternative, level: f64) -> TTest {
    let (va, vb) = (a.var / a.n, b.var / b.n);
    let df = satterthwaite_df(&[(va, a.n - 1.0), (vb, b.n - 1.0)]);
    t_test_from_estimate(
        a.mean - b.mean,
        (va + vb).sqrt(),
        df,
        0.0,
        alternative,
        level,
    )
}

/// Welch's t test of mean(x) − mean(y) (SciPy `ttest_ind(equal_var=False)`): independent
/// samples, approximately normal means, variances not assumed equal; Welch-Satterthwaite df.
pub fn welch_t(x: &[f64], y: &[f64], alternative: Alternative, level: f64) -> TTest {
    welch_summary(Summary::of(x), Summary::of(y), alternative, level)
}

/// Student's pooled-variance t test of mean(x) − mean(y) (SciPy `ttest_ind`): independent
/// samples with equal variances; df = n_x + n_y − 2.
pub fn student_t(x: &[f64], y: &[f64], alternative: Alternative, level: f64) -> TTest {
    let (a, b) = (Summary::of(x), Summary::of(y));
    let df = a.n + b.n - 2.0;
    let pooled = ((a.n - 1.0) * a.var + (b.n - 1.0) * b.var) / df;
    let se = (pooled * (1.0 / a.n + 1.0 / b.n)).sqrt();
    t_test_from_estimate(a.mean - b.mean, se, df, 0.0, alternative, level)
}

/// One-sample t test of mean(x) against `mu` (SciPy `ttest_1samp`): independent, approximately
/// normal observations; df = n − 1. The estimate is mean(x).
pub fn one_sample_t(x: &[f64], mu: f64, alternative: Alternative, level: f64) -> TTest {
    let s = Summary::of(x);
    t_test_from_estimate(
        s.mean,
        (s.var / s.n).sqrt(),
        s.n - 1.0,
        mu,
        alternative,
        level,
    )
}

/// Paired t test of mean(x − y) against 0 (SciPy `ttest_rel`): pairs independent of each
/// other, differences approximately normal; df = pairs − 1.
pub fn paired_t(x: &[f64], y: &[f64], alternative: Alternative, level: f64) -> TTest {
    assert_eq!(x.len(), y.len(), "paired_t: samples differ in length");
    let d: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    one_sample_t(&d, 0.0, alternative, level)
}
