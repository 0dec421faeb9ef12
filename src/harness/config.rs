//! Where the harness finds suites, snapshots and the store, and which models it runs.

use std::path::{Path, PathBuf};

/// The harness's settings, from the environment ([`Config::from_env`]) or built by hand.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WEIRDGEN_SUITES`, else `<root>/suites`.
    pub suites_dir: PathBuf,
    /// `WEIRDGEN_SNAPSHOTS`, else `snapshots/` beside the suites folder.
    pub snapshots_dir: PathBuf,
    /// `WEIRDGEN_STORE`, else `<root>/.weirdgen/store.sqlite`.
    pub store: PathBuf,
    /// `WEIRDGEN_MODELS` (comma-separated); `None` means each suite's `default_model`.
    pub models: Option<Vec<String>>,
    /// `WEIRDGEN_BASELINE_MODEL`: the released model that `[regression]` trials compare each
    /// model with; `None` adds no `[regression]` trials.
    pub baseline_model: Option<String>,
    /// `WEIRDGEN_ALLOW_HAZARD=1`.
    pub allow_hazard: bool,
}

impl Config {
    /// The configuration from the environment, relative to the project root (the folder of
    /// the crate's `Cargo.toml`).
    pub fn from_env(root: &Path) -> Config {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let suites_dir = var("WEIRDGEN_SUITES")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("suites"));
        // Baselines live beside the suites folder: `suites/` → `snapshots/`.
        let snapshots_dir = var("WEIRDGEN_SNAPSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                suites_dir
                    .parent()
                    .map(|p| p.join("snapshots"))
                    .unwrap_or_else(|| root.join("snapshots"))
            });
        Config {
            suites_dir,
            snapshots_dir,
            store: var("WEIRDGEN_STORE")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join(".weirdgen/store.sqlite")),
            models: var("WEIRDGEN_MODELS").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            baseline_model: var("WEIRDGEN_BASELINE_MODEL").map(|v| v.trim().to_string()),
            allow_hazard: var("WEIRDGEN_ALLOW_HAZARD")
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
        }
    }
}
