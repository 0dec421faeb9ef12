//! From one effect's data to an estimate, interval and p-values, before correction and verdict:
//! builds the arms' functionals and chooses the unit of analysis.

use std::collections::HashSet;

use super::design::{Design, Functional, pooled_score_variance};
use super::types::{Aggregate, ArmSummary, Comparison, Direction, EffectSpec, Expectation, Unit};
use super::{replica, sample};

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

/// Builds the effect's arms and design, or says why it cannot.
fn setup<'a>(spec: &'a EffectSpec, data: &'a Aggregate) -> Result<Setup<'a>, String> {
    let mut notes = Vec::new();
    let (kind, design, arms): (Kind, Design, Vec<(&str, f64)>) = match &spec.comparison {
        Comparison::ArmVsArm { treatment, control } => (
            Kind::ArmVsArm,
            Design::plain(&data.cells),
            vec![(treatment, 1.0), (control, -1.0)],
        ),
        Comparison::Level { arm, value } => (
            Kind::Level(*value),
            Design::plain(&data.cells),
            vec![(arm, 1.0)],
        ),
        Comparison::Contrast {
            arm,
            var,
            treatment_value,
            control_value,
        } => {
            let (d, unpaired) = Design::contrast(&data.cells, var, treatment_value, control_value);
            if unpaired > 0 {
                notes.push(format!("{unpaired} cell(s) with {var} = {treatment_value} have no {var} = {control_value} partner and are left out"));
            }
            (Kind::Contrast, d, vec![(arm, 1.0)])
        }
        Comparison::DiffInDiff {
            treatment,
            control,
            var,
            treatment_value,
            control_value,
        } => {
            let (d, unpaired) = Design::contrast(&data.cells, var, treatment_value, control_value);
            if unpaired > 0 {
                notes.push(format!("{unpaired} cell(s) with {var} = {treatment_value} have no {var} = {control_value} partner and are left out"));
            }
            (Kind::DiffInDiff, d, vec![(treatment, 1.0), (control, -1.0)])
        }
    };
    if design.probes.is_empty() {
        return Err(
            "no cells to compare (for a contrast: no pair of cells differing only in the variable)"
                .into(),
        );
    }
    let design_cells: HashSet<u32> = design
        .probes
        .iter()
        .flatten()
        .flatten()
        .map(|&(c, _)| c)
        .collect();
    let mut groups = Vec::new();
    for (name, weight) in arms {
        let a = data
            .arm_index(name)
            .ok_or_else(|| format!("arm `{name}` is not in the data"))?;
        let info = &data.arms[a as usize];
        let replicas: Vec<Functional> = (0..info.replicas.max(1))
            .map(|r| Functional::build(&design, data, a, r))
            .filter(|f| f.present_probes() > 0)
            .collect();
        let missing = data
            .totals
            .iter()
            .filter(|t| t.arm == a && design_cells.contains(&t.cell))
            .map(|t| t.missing)
            .sum();
        if replicas.is_empty() {
            return Err(format!(
                "arm `{name}` has no non-missing observation in the effect's cells ({missing} missing)"
            ));
        }
        if !info.fixed && (replicas.len() as u32) < info.replicas {
            notes.push(format!(
                "arm `{name}`: {} of {} replicas have data",
                replicas.len(),
                info.replicas
            ));
        }
        groups.push(Group {
            name: name.to_string(),
            weight,
            fixed: info.fixed,
            declared: info.replicas,
            pooled: Functional::pooled(&design, data, a),
            replicas,
            missing,
        });
    }
    Ok(Setup {
        spec,
        kind,
        design,
        groups,
        binary: data.is_binary(),
        fallback_var: pooled_score_variance(data),
        notes,
    })
}

/// Analyses one effect: replica-level when every fine-tuned arm has ≥ 2 replicas with data,
/// sample-level otherwise (and for fixed models alone). With a single replica in a fine-tuned
/// arm a claim about fine-tuning in general is blocked (inconclusive, with the reason) unless
/// the effect declares `unit: sample`. `seed` drives the bootstrap.
pub(crate) fn analyse(spec: &EffectSpec, data: &Aggregate, seed: u64) -> Analysis {
    let s = match setup(spec, data) {
        Ok(s) => s,
        Err(reason) => return Analysis::undefined(reason, Unit::Sample),
    };
    let tuned: Vec<&Group> = s.groups.iter().filter(|g| !g.fixed).collect();
    let replica_level = !tuned.is_empty() && tuned.iter().all(|g| g.replicas.len() >= 2);
    let single: Vec<&str> = tuned
        .iter()
        .filter(|g| g.replicas.len() < 2)
        .map(|g| g.name.as_str())
        .collect();
    let mut a = if replica_level {
        replica::analyse(&s, seed)
    } else {
        sample::analyse(&s)
    };
    let mut notes = s.notes.clone();
    notes.append(&mut a.notes);
    a.notes = notes;
    if !single.is_empty() {
        let arms = single
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match spec.expectation.unit {
            Unit::Replica => {
                a.blocked = Some(format!(
                    "a claim about fine-tuning in general needs ≥ 2 replicas per fine-tuned arm, and {arms} has 1: the verdict stays INCONCLUSIVE (declare `unit: sample` to make the claim about this one fine-tune)"
                ));
            }
            Unit::Sample => a.notes.push(format!(
                "the claim is about the single fine-tune run in {arms} (`unit: sample`), not about fine-tuning in general"
            )),
        }
    }
    a.missing = s.groups.iter().map(|g| g.missing).sum();
    if a.missing > 0 {
        a.notes.push(format!(
            "{} missing value(s) (judge could not decide) excluded",
            a.missing
        ));
    }
    a
}
