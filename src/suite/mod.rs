//! The suite language: YAML types, loading and validation with precise errors, datasets and
//! their hashes, probe expansion. Knows nothing of models, HTTP or statistics.

mod types;

pub use types::*;
