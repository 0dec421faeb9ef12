//! The effect engine's inputs and outputs.

pub use crate::suite::{
    ClaimUnitName as Unit, Comparison, CorrectionName as Correction, DirectionName as Direction,
    EffectSpec, Expectation,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A probe cell: one probe with one assignment of its variables (paraphrases pooled).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    pub probe: String,
    pub vars: BTreeMap<String, String>,
}

/// An arm as the statistics see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmInfo {
    pub name: String,
    /// Number of replicas (fine-tunes or attached models); replica ids are `0..replicas`.
    pub replicas: u32,
    /// A single fixed model (e.g. the base model): it has sampling error but no fine-tune
    /// variance, so its replica count says nothing about between-replica spread.
    pub fixed: bool,
}

/// The metric's scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Values are 0 or 1 (the rate of a label).
    Binary,
    /// Values are scores in `[min, max]` (e.g. a 0–100 rating).
    Score { min: f64, max: f64 },
}

/// One judged sample: the tidy observation row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Index into [`ObservationTable::arms`].
    pub arm: u32,
    /// Replica within the arm, `0..replicas`.
    pub replica: u32,
    /// Index into [`ObservationTable::cells`].
    pub cell: u32,
    pub paraphrase: u32,
    pub sample: u32,
    /// 0/1 or a score; `None` when the judge could not decide (missing, never a 0).
    pub value: Option<f64>,
}

/// The tidy observation table of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationTable {
    pub scale: Scale,
    pub arms: Vec<ArmInfo>,
    pub cells: Vec<Cell>,
    pub rows: Vec<Observation>,
}

/// Sufficient statistics of one (arm, replica, cell): what a baseline snapshot stores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellTotals {
    pub arm: u32,
    pub replica: u32,
    pub cell: u32,
    /// Non-missing observations.
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
    pub missing: u64,
}

/// An observation table reduced to per-(arm, replica, cell) totals; effects are computed
/// from this, so a stored baseline can be re-tested exactly like a fresh run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub scale: Scale,
    pub arms: Vec<ArmInfo>,
    pub cells: Vec<Cell>,
    /// Sorted by (arm, replica, cell); one entry per combination that has observations.
    pub totals: Vec<CellTotals>,
}

/// An effect and the data it is computed from (already restricted to its probes and filters).
#[derive(Debug, Clone)]
pub struct EffectInput {
    pub spec: EffectSpec,
    pub data: Aggregate,
}

/// The verdict on a declared effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// For `increase` by m: the test of δ ≤ m rejected at alpha after correction (mirrored
    /// for `decrease`; for `none`, TOST equivalence within the margin after correction).
    Confirmed,
    /// For `increase` by m: the test of δ ≥ m rejected at alpha after correction (mirrored
    /// for `decrease`; for `none`, a shift beyond the margin after correction).
    Refuted,
    /// Neither (or a design that cannot support the claim): see [`EffectResult::needed`].
    Inconclusive,
}

/// The facts about one arm in an effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    pub name: String,
    pub replicas: u32,
    /// Non-missing samples used.
    pub samples: u64,
    pub missing: u64,
    /// The arm's rate or mean (equal weight per probe), with its confidence interval.
    pub estimate: f64,
    pub ci: (f64, f64),
    /// Per-replica values, in replica order.
    pub replica_values: Vec<f64>,
}

/// The result of one effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectResult {
    pub name: String,
    /// Treatment minus control (or rate minus value, or difference of contrasts).
    pub estimate: f64,
    /// Interval of the estimate at level 1 − 2·alpha: each bound is the one-sided 1 − alpha
    /// bound at the level of the verdict's tests (unadjusted for multiplicity).
    pub ci: (f64, f64),
    /// Hierarchical-bootstrap interval (replicas, then probes) at the same level, when
    /// replicas are the unit: a sensitivity check only, never used for the verdict (it
    /// under-covers with few replicas).
    pub bootstrap_ci: Option<(f64, f64)>,
    /// p-value of the test that decided (for an inconclusive verdict, the one closer to
    /// deciding); its null hypothesis is [`EffectResult::null`].
    pub p_value: f64,
    /// That p-value after the suite's multiple-comparison correction.
    pub p_adjusted: f64,
    /// The null hypothesis `p_value` tests, e.g. `δ ≤ 0.3`.
    #[serde(default)]
    pub null: String,
    /// Both tests of the claim: the one whose rejection confirms, then the one whose
    /// rejection refutes.
    #[serde(default)]
    pub tests: Vec<ClaimTest>,
    pub verdict: Verdict,
    pub unit: Unit,
    /// The test used, in words (e.g. "Welch t across replicas").
    pub method: String,
    pub arms: Vec<ArmSummary>,
    /// Missing values excluded, over all arms.
    pub missing: u64,
    /// What a reader must know (e.g. "fine-tune variance was not estimated").
    pub notes: Vec<String>,
    /// For an inconclusive verdict: roughly what would decide it.
    pub needed: Option<String>,
    /// For an inconclusive verdict: the plan behind `needed`, when one could be made.
    #[serde(default)]
    pub plan: Option<DecisionPlan>,
}

/// One one-sided test of a claim (or, for `none`, TOST and the test of a shift beyond the
/// margin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimTest {
    /// What the test rejects, e.g. `δ ≤ 0.3`.
    pub null: String,
    pub p_value: f64,
    /// After the suite's multiple-comparison correction.
    pub p_adjusted: f64,
}

/// How much data would reach a verdict with the planned power, assuming the true effect is
/// the current estimate and the current between-replica spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecisionPlan {
    /// The verdict the data point to (the one the plan gives the power for).
    pub likelier: Verdict,
    /// Replicas per fine-tuned arm (replica level) or samples per cell (sample level).
    pub count: u64,
    /// What `count` counts.
    pub unit: Unit,
    /// The power planned for.
    pub power: f64,
}
