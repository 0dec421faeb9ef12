//! The leaderboard spec: which suites on which models.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A leaderboard: every suite on every model, each cell run through the store or read from
/// a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The page title.
    pub title: String,
    /// What the board ranks, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// Who publishes the board: the source organization of its Every Eval Ever export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Suite names (in the suites folder).
    pub suites: Vec<String>,
    /// Models (`provider/model`), in the order of the rows before sorting.
    pub models: Vec<String>,
    /// The judge model every cell must have used; a cell judged by another one is marked
    /// as drifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<String>,
    /// Bundle folders (relative to the spec) read instead of running their cells.
    #[serde(default)]
    pub bundles: Vec<PathBuf>,
}

impl Spec {
    /// Reads a spec; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut spec: Spec = serde_yaml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(crate::yaml_error::describe(&path.display().to_string(), &e))
        })?;
        if spec.suites.is_empty() || spec.models.is_empty() {
            bail!(
                "{}: a leaderboard needs at least one suite and one model",
                path.display()
            );
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for b in &mut spec.bundles {
            *b = base.join(&*b);
        }
        Ok(spec)
    }
}
