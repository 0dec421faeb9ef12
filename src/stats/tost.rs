//! Two one-sided tests (TOST) of equivalence: is the difference inside (low, high)?

use super::Alternative;
use super::dist::{t_cdf, t_sf};
use super::proportions::z_p_value;
use super::ttest::{Summary, satterthwaite_df};

/// The result of a TOST: equivalence is shown at level alpha when `p_value < alpha`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tost {
    /// max(p_low, p_high).
    pub p_value: f64,
    /// p of H0: difference ≤ low.
    pub p_low: f64,
    /// p of H0: difference ≥ high.
    pub p_high: f64,
    pub estimate: f64,
    pub se: f64,
    pub df: f64,
}

/// TOST for an estimate with standard error `se` and `df` degrees of freedom (infinite = normal),
/// assuming `(estimate − bound) / se` is t-distributed at either bound.
pub fn tost_from_estimate(estimate: f64, se: f64, df: f64, low: f64, high: f64) -> Tost {
    let stat = |bound: f64| {
        let d = estimate - bound;
        if se > 0.0 {
            d / se
        } else if d == 0.0 {
            0.0
        } else {
            d.signum() * f64::INFINITY
        }
    };
    let p_low = t_sf(stat(low), df);
    let p_high = t_cdf(stat(high), df);
    Tost {
        p_value: p_low.max(p_high),
        p_low,
        p_high,
        estimate,
        se,
        df,
    }
}

/// TOST for mean(x) − mean(y) with Welch's unequal-variance t (statsmodels
/// `ttost_ind(usevar="unequal")`): independent, approximately normal means.
pub fn tost_welch(x: &[f64], y: &[f64], low: f64, high: f64) -> Tost {
    let (a, b) = (Summary::of(x), Summary::of(y));
    let (va, vb) = (a.var / a.n, b.var / b.n);
    let df = satterthwaite_df(&[(va, a.n - 1.0), (vb, b.n - 1.0)]);
    tost_from_estimate(a.mean - b.mean, (va + vb).sqrt(), df, low, high)
}

/// TOST for the mean of paired differences x − y (statsmodels `ttost_paired`).
pub fn tost_paired(x: &[f64], y: &[f64], low: f64, high: f64) -> Tost {
    assert_eq!(x.len(), y.len(), "tost_paired: samples differ in length");
    let d: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let s = Summary::of(&d);
    tost_from_estimate(s.mean, (s.var / s.n).sqrt(), s.n - 1.0, low, high)
}

/// TOST for the difference of two independent proportions `k1/n1 − k2/n2`, Wald z with the
/// unpooled variance (statsmodels `tost_proportions_2indep(method="wald")`); assumes counts
/// large enough for the normal approximation.
pub fn tost_two_proportions(k1: u64, n1: u64, k2: u64, n2: u64, low: f64, high: f64) -> Tost {
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let se = (p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64).sqrt();
    let est = p1 - p2;
    let z = |bound: f64| {
        if se > 0.0 {
            (est - bound) / se
        } else {
            (est - bound).signum() * f64::INFINITY
        }
    };
    let p_low = z_p_value(z(low), Alternative::Greater);
    let p_high = z_p_value(z(high), Alternative::Less);
    Tost {
        p_value: p_low.max(p_high),
        p_low,
        p_high,
        estimate: est,
        se,
        df: f64::INFINITY,
    }
}
