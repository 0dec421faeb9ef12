//! The Mann-Whitney U test (asymptotic, with tie and continuity corrections).

use super::Alternative;
use super::proportions::z_p_value;

/// The result of a Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: the number of (x, y) pairs with x > y, ties counting ½.
    pub u_x: f64,
    /// The standardised statistic used for the p-value.
    pub z: f64,
    pub p_value: f64,
}

/// Mann-Whitney U test of whether x tends to exceed y (SciPy `mannwhitneyu(method=
/// "asymptotic", use_continuity=True)`): independent observations; normal approximation
/// with the tie-corrected variance and a continuity correction of ½. `Greater` tests x > y.
pub fn mann_whitney_u(x: &[f64], y: &[f64], alternative: Alternative) -> MannWhitney {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let n = n1 + n2;
    let mut all: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum_x, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_x += avg_rank * all[i..=j].iter().filter(|e| e.1).count() as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let u_x = rank_sum_x - n1 * (n1 + 1.0) / 2.0;
    let u_y = n1 * n2 - u_x;
    let mu = n1 * n2 / 2.0;
    let s = (n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    // As SciPy: the upper tail of the relevant U, continuity correction subtracted.
    let (u, factor) = match alternative {
        Alternative::Greater => (u_x, 1.0),
        Alternative::Less => (u_y, 1.0),
        Alternative::TwoSided => (u_x.max(u_y), 2.0),
    };
    let z = (u - mu - 0.5) / s;
    let p_value = (factor * z_p_value(z, Alternative::Greater)).clamp(0.0, 1.0);
    MannWhitney { u_x, z, p_value }
}
