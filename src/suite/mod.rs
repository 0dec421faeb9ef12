//! The suite language: YAML types, loading and validation with precise errors, datasets and
//! their hashes, probe expansion. Knows nothing of models, HTTP or statistics.

mod cells;
mod datasets;
mod diags;
mod error;
mod load;
mod locate;
mod query;
mod replicas;
mod schema;
pub mod template;
mod types;
mod validate;

pub use cells::ProbeCell;
pub use datasets::ResolvedDataset;
pub use error::{Diagnostic, SuiteError};
pub use load::{LoadedSuite, discover, load};
pub use schema::schema;
pub use types::*;
pub use validate::design_warnings;

#[cfg(test)]
mod tests;
