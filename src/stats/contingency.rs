//! Contingency tables: chi-square test of independence (r×c), exact McNemar, and the
//! Cochran-Mantel-Haenszel test across strata of 2×2 tables.

use super::discrete::binom_cdf;
use super::dist::chi2_sf;
use super::proportions::z_p_value;
use super::{Alternative, TestResult};

/// The result of a chi-square test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    pub statistic: f64,
    pub df: f64,
    pub p_value: f64,
}

/// Pearson's chi-square test of independence for an r×c table of counts (SciPy
/// `chi2_contingency`): independent observations, expected counts large enough (≳ 5).
/// With `yates` and df = 1, Yates' continuity correction is applied (SciPy's default
/// `correction=True`). Rows or columns that are all zero are an error.
pub fn chi2_independence(table: &[Vec<u64>], yates: bool) -> anyhow::Result<ChiSquare> {
    let r = table.len();
    let c = table.first().map_or(0, Vec::len);
    anyhow::ensure!(
        r >= 2 && c >= 2,
        "chi-square test needs at least a 2×2 table"
    );
    anyhow::ensure!(
        table.iter().all(|row| row.len() == c),
        "rows of the table differ in length"
    );
    let rows: Vec<f64> = table
        .iter()
        .map(|row| row.iter().sum::<u64>() as f64)
        .collect();
    let cols: Vec<f64> = (0..c)
        .map(|j| table.iter().map(|row| row[j]).sum::<u64>() as f64)
        .collect();
    anyhow::ensure!(
        rows.iter().chain(&cols).all(|&m| m > 0.0),
        "a row or column of the table is all zero"
    );
    let total: f64 = rows.iter().sum();
    let df = ((r - 1) * (c - 1)) as f64;
    let mut statistic = 0.0;
    for (i, row) in table.iter().enumerate() {
        for (j, &obs) in row.iter().enumerate() {
            let expected = rows[i] * cols[j] / total;
            let mut d = (obs as f64 - expected).abs();
            if yates && df == 1.0 {
                d = (d - 0.5).max(0.0);
            }
            statistic += d * d / expected;
        }
    }
    Ok(ChiSquare {
        statistic,
        df,
        p_value: chi2_sf(statistic, df),
    })
}

/// Exact McNemar test for paired binary outcomes, table `[[both, only first], [only
/// second, neither]]` (statsmodels `mcnemar(exact=True)`): under the null the discordant
/// pairs split ½/½; p = min(1, 2 P(X ≤ min(b, c))), X ~ Binomial(b + c, ½).
pub fn mcnemar_exact(table: [[u64; 2]; 2]) -> f64 {
    let (b, c) = (table[0][1], table[1][0]);
    if b + c == 0 {
        return 1.0;
    }
    (2.0 * binom_cdf(b.min(c) as i64, b + c, 0.5)).min(1.0)
}

/// Cochran-Mantel-Haenszel test that the odds ratio is 1 in every stratum of 2×2 tables
/// `[[a, b], [c, d]]` (statsmodels `StratifiedTable.test_null_odds`): the sum of the `a`
/// cells against its conditional expectation, normal approximation, with a continuity
/// correction of ½ when `continuity`. Returns the signed z statistic; `Greater` tests a
/// common odds ratio above 1. Strata with fewer than 2 observations are skipped.
pub fn cmh_test(
    tables: &[[[u64; 2]; 2]],
    alternative: Alternative,
    continuity: bool,
) -> TestResult {
    let (mut dev, mut var) = (0.0, 0.0);
    for t in tables {
        let [[a, b], [c, d]] = t.map(|r| r.map(|x| x as f64));
        let n = a + b + c + d;
        if n < 2.0 {
            continue;
        }
        let (r1, r2, c1, c2) = (a + b, c + d, a + c, b + d);
        dev += a - r1 * c1 / n;
        var += r1 * r2 * c1 * c2 / (n * n * (n - 1.0));
    }
    if var <= 0.0 {
        return TestResult {
            statistic: 0.0,
            p_value: 1.0,
        };
    }
    let cc = if continuity { 0.5 } else { 0.0 };
    let z = match alternative {
        Alternative::Greater => (dev - cc) / var.sqrt(),
        Alternative::Less => (dev + cc) / var.sqrt(),
        Alternative::TwoSided => dev.signum() * (dev.abs() - cc).max(0.0) / var.sqrt(),
    };
    TestResult {
        statistic: z,
        p_value: z_p_value(z, alternative),
    }
}
