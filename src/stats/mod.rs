//! Pure statistical functions, checked against SciPy and statsmodels. No I/O.
//!
//! Distributions come from statrs (tails through `sf`, never `1 − cdf`); binomial and
//! hypergeometric probabilities are computed here in log space so exact tests stay exact at
//! 10^5 observations (statrs 0.19's two-sided Fisher test is wrong for large tables).

pub mod binomial;
pub mod bootstrap;
pub mod contingency;
pub mod discrete;
pub mod dist;
pub mod fisher;
pub mod mann_whitney;
pub mod multiple;
pub mod power;
pub mod proportions;
pub mod tost;
pub mod ttest;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use binomial::binomial_test;
pub use bootstrap::{
    BootstrapInterval, CellSamples, ClusterGroup, Term, hierarchical_bootstrap,
    percentile_bootstrap,
};
pub use contingency::{ChiSquare, chi2_independence, cmh_test, mcnemar_exact};
pub use fisher::{FisherResult, fisher_exact, stratified_exact};
pub use mann_whitney::{MannWhitney, mann_whitney_u};
pub use multiple::{benjamini_hochberg, bonferroni, holm};
pub use power::{
    noncentral_t_cdf, power_t_one_sample, power_t_two_sample, power_two_proportions,
    replicas_t_one_sample, replicas_t_two_sample, samples_two_proportions,
};
pub use proportions::{
    ProportionTerm, clopper_pearson_interval, mover_interval, odds_ratio, risk_difference,
    two_proportion_z, wilson_interval,
};
pub use tost::{Tost, tost_from_estimate, tost_paired, tost_two_proportions, tost_welch};
pub use ttest::{
    Summary, TTest, one_sample_t, paired_t, satterthwaite_df, student_t, t_test_from_estimate,
    welch_t,
};

/// The alternative hypothesis of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    TwoSided,
    /// The first group (or the estimate) is larger.
    Greater,
    /// The first group (or the estimate) is smaller.
    Less,
}

/// A test statistic and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    pub statistic: f64,
    pub p_value: f64,
}

/// A point estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub estimate: f64,
    pub ci: (f64, f64),
}
