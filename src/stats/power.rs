//! Power and sample size: two proportions (arcsine effect size, normal approximation, as
//! statsmodels `NormalIndPower`) and t tests across replicas (noncentral t, as statsmodels
//! `TTestIndPower` / `TTestPower`).

use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

use super::Alternative;
use super::dist::{norm_cdf, norm_ppf, norm_sf, t_ppf};

/// Cohen's h, `2 asin √p1 − 2 asin √p2`: the effect size of two proportions.
pub fn cohens_h(p1: f64, p2: f64) -> f64 {
    2.0 * p1.sqrt().asin() - 2.0 * p2.sqrt().asin()
}

/// Power of a normal test with standardised effect `d`, effective size `nobs` at level alpha.
fn normal_power(d: f64, nobs: f64, alpha: f64, alternative: Alternative) -> f64 {
    let shift = d * nobs.sqrt();
    match alternative {
        Alternative::Greater => norm_sf(norm_ppf(1.0 - alpha) - shift),
        Alternative::Less => norm_cdf(norm_ppf(alpha) - shift),
        Alternative::TwoSided => {
            norm_sf(norm_ppf(1.0 - alpha / 2.0) - shift) + norm_cdf(norm_ppf(alpha / 2.0) - shift)
        }
    }
}

/// Power to detect `p1` vs `p2` with `n1` and `n2` samples at level `alpha`, using Cohen's h
/// and the normal approximation (statsmodels `NormalIndPower().power(proportion_effectsize(p1,
/// p2), n1, alpha, ratio=n2/n1)`). `Greater` tests p1 > p2.
pub fn power_two_proportions(
    p1: f64,
    p2: f64,
    n1: f64,
    n2: f64,
    alpha: f64,
    alternative: Alternative,
) -> f64 {
    let nobs = 1.0 / (1.0 / n1 + 1.0 / n2);
    normal_power(cohens_h(p1, p2), nobs, alpha, alternative)
}

/// Samples per group (equal groups) for the given `power` to detect `p1` vs `p2` at level
/// `alpha` (statsmodels `NormalIndPower().solve_power`); continuous, round up to use it.
pub fn samples_two_proportions(
    p1: f64,
    p2: f64,
    alpha: f64,
    power: f64,
    alternative: Alternative,
) -> f64 {
    solve_increasing(
        |n| power_two_proportions(p1, p2, n, n, alpha, alternative),
        power,
        1.0,
    )
}

/// Noncentral t cdf P(T ≤ t) with `df` degrees of freedom and noncentrality `nc`
/// (Lenth 1989, algorithm AS 243: error below 1e-12 for |nc| ≤ 37.62). Beyond that range, or
/// for df > 10^5, the normal approximation of T − nc is used (as AS 243 advises).
pub fn noncentral_t_cdf(t: f64, df: f64, nc: f64) -> f64 {
    if nc.abs() > 37.62 || df > 1e5 {
        // T ≈ (Z + nc) / √(χ²/df): P(T ≤ t) ≈ Φ((t (1 − 1/(4df)) − nc) / √(1 + t²/(2df))).
        return norm_cdf((t * (1.0 - 1.0 / (4.0 * df)) - nc) / (1.0 + t * t / (2.0 * df)).sqrt());
    }
    if t < 0.0 {
        return (1.0 - noncentral_t_cdf(-t, df, -nc)).clamp(0.0, 1.0);
    }
    let x = t * t / (t * t + df);
    let mut tnc = 0.0;
    if x > 0.0 {
        let lambda = nc * nc;
        let mut p = 0.5 * (-0.5 * lambda).exp();
        let mut q = (2.0 / std::f64::consts::PI).sqrt() * p * nc;
        let mut s = 0.5 - p;
        let mut a = 0.5;
        let b = 0.5 * df;
        let rxb = (1.0 - x).powf(b);
        let albeta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
        let mut xodd = beta_reg(a, b, x);
        let mut godd = 2.0 * rxb * (a * x.ln() - albeta).exp();
        let mut xeven = 1.0 - rxb;
        let mut geven = b * x * rxb;
        tnc = p * xodd + q * xeven;
        let mut en = 1.0;
        loop {
            a += 1.0;
            xodd -= godd;
            xeven -= geven;
            godd *= x * (a + b - 1.0) / a;
            geven *= x * (a + b - 0.5) / (a + 0.5);
            p *= lambda / (2.0 * en);
            q *= lambda / (2.0 * en + 1.0);
            s -= p;
            en += 1.0;
            tnc += p * xodd + q * xeven;
            let errbd = 2.0 * s * (xodd - godd);
            if errbd.abs() <= 1e-12 || en > 1000.0 {
                break;
            }
        }
    }
    (tnc + norm_cdf(-nc)).clamp(0.0, 1.0)
}

/// Power of a t test with noncentrality `nc` and `df` at level alpha.
fn t_power(nc: f64, df: f64, alpha: f64, alternative: Alternative) -> f64 {
    match alternative {
        Alternative::Greater => 1.0 - noncentral_t_cdf(t_ppf(1.0 - alpha, df), df, nc),
        Alternative::Less => noncentral_t_cdf(t_ppf(alpha, df), df, nc),
        Alternative::TwoSided => {
            1.0 - noncentral_t_cdf(t_ppf(1.0 - alpha / 2.0, df), df, nc)
                + noncentral_t_cdf(t_ppf(alpha / 2.0, df), df, nc)
        }
    }
}

/// Power of a two-sample t test across replicas: `n1` and `n2` replicas per arm, true
/// difference `delta`, between-replica SD `sd` (of per-replica values, equal in both arms),
/// level `alpha` (statsmodels `TTestIndPower().power(delta / sd, n1, alpha, ratio=n2/n1)`).
pub fn power_t_two_sample(
    delta: f64,
    sd: f64,
    n1: f64,
    n2: f64,
    alpha: f64,
    alternative: Alternative,
) -> f64 {
    let nobs = 1.0 / (1.0 / n1 + 1.0 / n2);
    t_power(delta / sd * nobs.sqrt(), n1 + n2 - 2.0, alpha, alternative)
}

/// Replicas per arm (equal arms) for the given `power` in a two-sample t test
/// (statsmodels `TTestIndPower().solve_power`); continuous, round up to use it.
pub fn replicas_t_two_sample(
    delta: f64,
    sd: f64,
    alpha: f64,
    power: f64,
    alternative: Alternative,
) -> f64 {
    solve_increasing(
        |n| power_t_two_sample(delta, sd, n, n, alpha, alternative),
        power,
        2.0,
    )
}

/// Power of a one-sample (or paired) t test with `n` replicas, true mean `delta`, SD `sd`
/// (statsmodels `TTestPower().power(delta / sd, n, alpha)`).
pub fn power_t_one_sample(
    delta: f64,
    sd: f64,
    n: f64,
    alpha: f64,
    alternative: Alternative,
) -> f64 {
    t_power(delta / sd * n.sqrt(), n - 1.0, alpha, alternative)
}

/// Replicas for the given `power` in a one-sample (or paired) t test
/// (statsmodels `TTestPower().solve_power`); continuous, round up to use it.
pub fn replicas_t_one_sample(
    delta: f64,
    sd: f64,
    alpha: f64,
    power: f64,
    alternative: Alternative,
) -> f64 {
    solve_increasing(
        |n| power_t_one_sample(delta, sd, n, alpha, alternative),
        power,
        2.0,
    )
}

/// The n ≥ `min_n` where the increasing `power(n)` reaches `target`, by bisection (to a
/// relative 1e-10) on a bracket grown geometrically; infinity when even 10^9 is not enough.
fn solve_increasing(power: impl Fn(f64) -> f64, target: f64, min_n: f64) -> f64 {
    let (mut lo, mut hi) = (min_n, min_n.max(2.0) * 2.0);
    if power(lo) >= target {
        return lo;
    }
    while power(hi) < target {
        lo = hi;
        hi *= 2.0;
        if hi > 1e9 {
            return f64::INFINITY;
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if power(mid) < target {
            lo = mid
        } else {
            hi = mid
        }
        if hi - lo <= 1e-10 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}
