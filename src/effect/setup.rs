//! What one effect's analysis reads ([`Setup`]) and returns ([`Analysis`]), shared by the
//! dispatcher (`analysis.rs`) and the replica- and sample-level analyses.

use super::design::{Design, Functional};
use super::types::{ArmSummary, Direction, EffectSpec, Expectation, Unit};

/// One arm in an effect: its weight in the estimate and its replicas' functionals.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub name: String,
    /// +1 or −1 in the estimate.
    pub weight: f64,
    pub fixed: bool,
    /// Declared replicas.
    pub declared: u32,
    /// Replicas with data, in replica order.
    pub replicas: Vec<Functional>,
    /// All replicas pooled cell by cell (what the sample-level analysis reads).
    pub pooled: Functional,
    /// Missing values in the effect's cells.
    pub missing: u64,
}

/// What a power calculation needs to say how much data would decide an inconclusive result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Plan {
    /// Replica level: with n replicas per fine-tuned arm the estimate's variance is
    /// `between / n + fixed`.
    Replicas {
        /// Sum over the fine-tuned arms of the variance of one replica's value.
        between: f64,
        /// The part of `between` that is within-replica sampling error at today's samples.
        sampling: f64,
        /// Fine-tuned arms in the estimate.
        arms: f64,
        /// Sampling variance of the fixed arms' values, and its df.
        fixed: f64,
        fixed_df: f64,
        /// Replicas per fine-tuned arm now (the smallest arm).
        now: f64,
    },
    /// Sample level: the standard error shrinks as 1/√(samples per cell).
    Samples { se: f64, per_cell: f64 },
}

/// An effect's numbers before the suite-wide correction.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    pub estimate: f64,
    pub ci: (f64, f64),
    /// Standard error and degrees of freedom of the estimate (t or normal approximation).
    pub se: f64,
    pub df: f64,
    pub bootstrap_ci: Option<(f64, f64)>,
    /// p of the test whose rejection confirms the claim (δ ≤ m for an increase by m; TOST
    /// for `none`).
    pub p_confirm: f64,
    /// p of the test whose rejection refutes it (δ ≥ m for an increase by m; a shift beyond
    /// the margin for `none`).
    pub p_refute: f64,
    pub unit: Unit,
    pub method: String,
    pub arms: Vec<ArmSummary>,
    pub missing: u64,
    pub notes: Vec<String>,
    pub plan: Option<Plan>,
    /// Why no verdict but INCONCLUSIVE is possible whatever the p-values (the design cannot
    /// support the claim as declared).
    pub blocked: Option<String>,
}

impl Analysis {
    /// An effect that cannot be estimated (no estimate, p = 1), with the reason as a note.
    pub fn undefined(reason: String, unit: Unit) -> Analysis {
        Analysis {
            estimate: f64::NAN,
            ci: (f64::NAN, f64::NAN),
            se: f64::NAN,
            df: f64::NAN,
            bootstrap_ci: None,
            p_confirm: 1.0,
            p_refute: 1.0,
            unit,
            method: "none (no estimate)".into(),
            arms: Vec::new(),
            missing: 0,
            notes: vec![reason],
            plan: None,
            blocked: None,
        }
    }
}

/// The comparison's shape, as the analyses need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    ArmVsArm,
    Contrast,
    DiffInDiff,
    /// Against a fixed value.
    Level(f64),
}

/// Everything an analysis reads.
pub(crate) struct Setup<'a> {
    pub spec: &'a EffectSpec,
    pub kind: Kind,
    pub design: Design,
    pub groups: Vec<Group>,
    pub binary: bool,
    /// Pooled within-cell score variance, for score cells with a single value.
    pub fallback_var: f64,
    pub notes: Vec<String>,
}

impl Setup<'_> {
    /// The value subtracted from the estimate (the fixed value of a level claim).
    pub fn offset(&self) -> f64 {
        match self.kind {
            Kind::Level(v) => v,
            _ => 0.0,
        }
    }

    /// Level of the effect's interval: 1 − 2·alpha, so each bound is the one-sided bound
    /// of the verdict's tests.
    pub fn level(&self) -> f64 {
        1.0 - 2.0 * self.spec.expectation.alpha
    }

    /// Level of the arms' own intervals (two-sided 1 − alpha).
    pub fn arm_level(&self) -> f64 {
        1.0 - self.spec.expectation.alpha
    }

    /// The expectation's direction.
    pub fn direction(&self) -> Direction {
        self.spec.expectation.direction
    }

    /// The claim's threshold on δ: +m for an increase by m, −m for a decrease.
    pub fn threshold(&self) -> f64 {
        threshold(&self.spec.expectation)
    }
}

/// The threshold on δ that a directional claim is tested against: +m for `increase` by m, −m
/// for `decrease` (0 for `none`, which uses its margin).
pub(crate) fn threshold(e: &Expectation) -> f64 {
    match e.direction {
        Direction::Increase => e.min_effect.abs(),
        Direction::Decrease => -e.min_effect.abs(),
        Direction::None => 0.0,
    }
}
