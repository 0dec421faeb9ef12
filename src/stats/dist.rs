//! Thin wrappers over statrs distributions: standard normal, Student t and chi-square tails
//! and quantiles. Tails always use `sf` (never `1 - cdf`), so small p-values keep their digits.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

/// Degrees of freedom above which the t distribution is taken as the standard normal.
const T_AS_NORMAL_DF: f64 = 1e10;

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("valid normal")
}

/// Upper tail P(Z > z) of the standard normal.
pub fn norm_sf(z: f64) -> f64 {
    std_normal().sf(z)
}

/// P(Z ≤ z) of the standard normal.
pub fn norm_cdf(z: f64) -> f64 {
    std_normal().cdf(z)
}

/// Quantile of the standard normal (`p` in (0, 1)).
pub fn norm_ppf(p: f64) -> f64 {
    std_normal().inverse_cdf(p)
}

/// Upper tail P(T > t) of Student's t with `df` (possibly fractional or infinite) degrees of freedom.
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    if t == f64::INFINITY {
        return 0.0;
    }
    if t == f64::NEG_INFINITY {
        return 1.0;
    }
    if df >= T_AS_NORMAL_DF {
        return norm_sf(t);
    }
    StudentsT::new(0.0, 1.0, df).expect("df > 0").sf(t)
}

/// P(T ≤ t) of Student's t.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    t_sf(-t, df)
}

/// Degrees of freedom above which t quantiles come from the Cornish-Fisher expansion
/// (statrs's inverse incomplete beta is very slow for large shapes).
const T_PPF_SERIES_DF: f64 = 1e4;

/// Quantile of Student's t (`p` in (0, 1)), polished by Newton steps on the cdf; for
/// df > 10^4 the Cornish-Fisher expansion in 1/df (error O(df⁻³), below 1e-12).
pub fn t_ppf(p: f64, df: f64) -> f64 {
    if df >= T_AS_NORMAL_DF {
        return norm_ppf(p);
    }
    if df > T_PPF_SERIES_DF {
        let z = norm_ppf(p);
        let (z2, z3, z5) = (z * z, z * z * z, z * z * z * z * z);
        let g1 = (z3 + z) / 4.0;
        let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
        let g3 = (3.0 * z5 * z2 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
        return z + g1 / df + g2 / (df * df) + g3 / (df * df * df);
    }
    let dist = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    let mut x = dist.inverse_cdf(p);
    for _ in 0..4 {
        // Work in the smaller tail so the residual keeps its precision.
        let (f, target) = if x > 0.0 {
            (-dist.sf(x), p - 1.0)
        } else {
            (dist.cdf(x), p)
        };
        let d = dist.pdf(x);
        if d <= 0.0 || !d.is_finite() {
            break;
        }
        let step = (f - target) / d;
        if !step.is_finite() {
            break;
        }
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1e-300) {
            break;
        }
    }
    x
}

/// Upper tail of the chi-square distribution with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).expect("df > 0").sf(x)
}
