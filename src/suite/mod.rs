//! The suite language: YAML types, loading and validation with precise errors, datasets and
//! their hashes, probe expansion. Knows nothing of models, HTTP or statistics.

mod cells;
mod datasets;
mod diags;
mod effect_def;
mod error;
mod external;
pub mod extract;
mod judge_def;
mod limits;
mod load;
mod locate;
mod query;
mod replicas;
mod schema;
pub mod source;
pub mod template;
mod types;
mod validate;

pub use cells::ProbeCell;
pub use datasets::ResolvedDataset;
pub use effect_def::{Comparison, Effect, EffectSpec, Expectation};
pub use error::{Diagnostic, SuiteError};
pub use external::absent_source;
pub(crate) use judge_def::strip_enclosing;
pub use judge_def::{
    JUDGE_MODEL_ENV, JudgeDef, JudgeMethod, JudgeModel, LlmRead, MISSING, RuleKind, normal_label,
    pick_judge_model,
};
pub(crate) use load::parse as parse_suite;
pub use load::{LoadedSuite, discover, fingerprint, judge_defs, load, load_with};
pub use schema::schema;
pub use source::{Checkout, SourceRoots};
pub use types::*;
pub use validate::design_warnings;

#[cfg(test)]
mod tests;
