//! The JSON Schema of the suite format, for editors (`weirdgen schema`).

use super::types::Suite;

/// The JSON Schema (draft 2020-12) of a suite file, with the doc comments as descriptions.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Suite)).unwrap_or_default()
}
