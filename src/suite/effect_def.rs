//! Effects after validation: what is compared and what is expected, defaults filled in once.
//! The effect engine reads these types as they are.

use super::types::{
    ClaimUnitName, DirectionName, EffectDecl, EffectKindName, MetricSpec, OneOrMany,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The significance level of an effect that declares none.
const ALPHA: f64 = 0.05;

/// What is compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Comparison {
    /// `treatment` minus `control`, equal weight per probe (and per cell within a probe).
    ArmVsArm { treatment: String, control: String },
    /// Within `arm`: cells with `var = treatment_value` minus cells with `var = control_value`,
    /// paired by replica and by the rest of the cell.
    Contrast {
        arm: String,
        var: String,
        treatment_value: String,
        control_value: String,
    },
    /// The contrast in `treatment` minus the same contrast in `control`.
    DiffInDiff {
        treatment: String,
        control: String,
        var: String,
        treatment_value: String,
        control_value: String,
    },
    /// The arm's rate (or mean) minus the fixed `value`.
    Level { arm: String, value: f64 },
}

impl Comparison {
    /// The arms compared, treatment first.
    pub fn arms(&self) -> Vec<&str> {
        match self {
            Comparison::ArmVsArm { treatment, control }
            | Comparison::DiffInDiff {
                treatment, control, ..
            } => vec![treatment, control],
            Comparison::Contrast { arm, .. } | Comparison::Level { arm, .. } => vec![arm],
        }
    }
}

/// The declared claim.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub direction: DirectionName,
    /// Smallest effect that counts (absolute, on the metric's scale), for increase/decrease.
    pub min_effect: f64,
    /// Equivalence margin, for direction `none`.
    pub margin: f64,
    pub alpha: f64,
    /// What the claim is about: fine-tuning in general (`Replica`, the default: it needs ≥ 2
    /// replicas per fine-tuned arm) or the very models run (`Sample`: one fine-tune is enough,
    /// and the claim is about that model alone).
    #[serde(default)]
    pub unit: ClaimUnitName,
}

/// One declared effect, as the effect engine reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectSpec {
    pub name: String,
    pub comparison: Comparison,
    pub expectation: Expectation,
}

/// An effect of a loaded suite: the engine's spec, and what it is measured on.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub spec: EffectSpec,
    pub description: Option<String>,
    /// The judge (and label) whose rate or mean is compared.
    pub metric: MetricSpec,
    /// The probes measured (none given: every probe the metric's judge scores).
    pub probes: Option<Vec<String>>,
    /// Only probe cells whose variables have these values.
    pub filter: IndexMap<String, OneOrMany>,
}

impl EffectKindName {
    /// The kind-specific keys the kind needs (the rest of `treatment`, `control`, `arm`,
    /// `condition` and `value` must be absent).
    pub fn needs(self) -> &'static [&'static str] {
        match self {
            EffectKindName::ArmVsArm => &["treatment", "control"],
            EffectKindName::Contrast => &["arm", "condition"],
            EffectKindName::DiffInDiff => &["treatment", "control", "condition"],
            EffectKindName::Level => &["arm", "value"],
        }
    }
}

impl Effect {
    /// The effect `e` declares, defaults filled in. An error names a key its kind needs
    /// (validation reports it first, with its position).
    pub fn new(e: &EffectDecl) -> Result<Effect, String> {
        let need = |v: &Option<String>, what: &str| {
            v.clone()
                .ok_or_else(|| format!("effect `{}` needs `{what}`", e.name))
        };
        let cond = || {
            e.condition
                .clone()
                .ok_or_else(|| format!("effect `{}` needs `condition`", e.name))
        };
        let comparison = match e.kind {
            EffectKindName::ArmVsArm => Comparison::ArmVsArm {
                treatment: need(&e.treatment, "treatment")?,
                control: need(&e.control, "control")?,
            },
            EffectKindName::Contrast => {
                let c = cond()?;
                Comparison::Contrast {
                    arm: need(&e.arm, "arm")?,
                    var: c.var,
                    treatment_value: c.treatment.0,
                    control_value: c.control.0,
                }
            }
            EffectKindName::DiffInDiff => {
                let c = cond()?;
                Comparison::DiffInDiff {
                    treatment: need(&e.treatment, "treatment")?,
                    control: need(&e.control, "control")?,
                    var: c.var,
                    treatment_value: c.treatment.0,
                    control_value: c.control.0,
                }
            }
            EffectKindName::Level => Comparison::Level {
                arm: need(&e.arm, "arm")?,
                value: e
                    .value
                    .ok_or_else(|| format!("effect `{}` needs `value`", e.name))?,
            },
        };
        Ok(Effect {
            spec: EffectSpec {
                name: e.name.clone(),
                comparison,
                expectation: Expectation {
                    direction: e.direction,
                    min_effect: e.min_effect.unwrap_or(0.0),
                    margin: e.margin.unwrap_or(0.0),
                    alpha: e.alpha.unwrap_or(ALPHA),
                    unit: e.unit.unwrap_or_default(),
                },
            },
            description: e.description.clone(),
            metric: e.metric.clone(),
            probes: e.probes.clone(),
            filter: e.filter.clone(),
        })
    }

    /// The effect's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}
