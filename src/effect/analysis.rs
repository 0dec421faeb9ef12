//! The dispatcher: from one effect's data to an estimate, interval and p-values, before
//! correction and verdict. Builds the arms' functionals and chooses the unit of analysis.

use std::collections::HashSet;

use super::design::{Design, Functional, pooled_score_variance};
use super::setup::{Analysis, Group, Kind, Setup};
use super::types::{Aggregate, Comparison, EffectSpec, Unit};
use super::{replica, sample};

/// Builds the effect's arms and design, or says why it cannot.
pub(crate) fn setup<'a>(spec: &'a EffectSpec, data: &'a Aggregate) -> Result<Setup<'a>, String> {
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
