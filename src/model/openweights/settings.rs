//! The provider's settings: a `[providers.openweights]` table of `weirdgen.toml` with
//! `kind = "openweights"`, each value overridden by its environment variable when that is set.
//!
//! ```toml
//! [providers.openweights]
//! kind = "openweights"
//! gpu = "A100"          # WEIRDGEN_OW_GPU: one of cost::GPUS (default: the cheapest that fits)
//! poll_seconds = 30     # WEIRDGEN_OW_POLL_SECONDS (default: backoff from 5 s to 2 min)
//! python = "/opt/ow/bin/python"   # WEIRDGEN_OW_PYTHON (default: python3)
//! max_concurrency = 32  # requests in flight to its deployments, at most
//! ```

use super::cost::{GPU_ENV, GPUS, Gpu};
use super::{POLL_ENV, PROVIDER};
use crate::model::config::ProviderConfig;
use anyhow::{Result, bail};

/// The kind's name in `kind = "..."`.
pub const KIND: &str = "openweights";
/// The environment variable naming the Python interpreter (default `python3`).
pub const PYTHON_ENV: &str = "WEIRDGEN_OW_PYTHON";

/// What the OpenWeights provider is configured with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The GPU every job asks for; `None` lets OpenWeights pick by VRAM.
    pub gpu: Option<Gpu>,
    /// A fixed wait between polls of jobs; `None` backs off.
    pub poll_seconds: Option<f64>,
    /// The Python interpreter that runs the bridge; `None` is `python3`.
    pub python: Option<String>,
    /// Requests in flight at once to a deployment, at most.
    pub max_concurrency: Option<usize>,
}

/// The GPU called `name` (case ignored), or why there is none.
pub fn gpu_named(name: &str) -> std::result::Result<Gpu, String> {
    GPUS.iter()
        .find(|g| g.name.eq_ignore_ascii_case(name.trim()))
        .copied()
        .ok_or_else(|| {
            let known: Vec<&str> = GPUS.iter().map(|g| g.name).collect();
            format!(
                "unknown GPU `{name}` (OpenWeights' GPUs: {})",
                known.join(", ")
            )
        })
}

/// Why a `[providers.<name>]` table of kind `openweights` cannot work, if it cannot.
pub fn check(name: &str, config: &ProviderConfig) -> Option<String> {
    if name != PROVIDER {
        return Some(format!(
            "provider `{name}`: kind `{KIND}` configures the built-in provider: name the table `[providers.{PROVIDER}]`"
        ));
    }
    if config.base_url.is_some() || config.command.is_some() {
        return Some(format!(
            "provider `{name}`: kind `{KIND}` takes no `base_url` or `command` (OpenWeights deploys its own servers and runs its own fine-tunes)"
        ));
    }
    None
}

impl Settings {
    /// The settings of `table` (the `[providers.openweights]` table, if any), each value
    /// replaced by its environment variable when that is set; a bad variable is an error
    /// naming it.
    pub fn resolve(table: Option<&ProviderConfig>) -> Result<Settings> {
        let mut s = Settings::default();
        if let Some(t) = table.filter(|t| t.kind == KIND) {
            s.gpu = t
                .gpu
                .as_deref()
                .map(gpu_named)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            s.poll_seconds = t.poll_seconds;
            s.python = t.python.clone();
            s.max_concurrency = t.max_concurrency;
        }
        if let Some(g) = env(GPU_ENV) {
            s.gpu = Some(gpu_named(&g).map_err(|e| anyhow::anyhow!("{GPU_ENV}: {e}"))?);
        }
        if let Some(p) = env(POLL_ENV) {
            match p.parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => s.poll_seconds = Some(v),
                _ => bail!("{POLL_ENV}: `{p}` is not a positive number of seconds"),
            }
        }
        if let Some(p) = env(PYTHON_ENV) {
            s.python = Some(p);
        }
        Ok(s)
    }

    /// The `allowed_hardware` of a job: the chosen GPU, if any.
    pub fn allowed_hardware(&self) -> Option<Vec<String>> {
        self.gpu.map(|g| vec![format!("1x {}", g.name)])
    }
}

/// A set, non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpus_are_named_and_tables_checked() {
        assert_eq!(gpu_named("a100").unwrap().name, "A100");
        let e = gpu_named("TPU").unwrap_err();
        assert!(
            e.contains("unknown GPU `TPU`") && e.contains("H100S"),
            "{e}"
        );
        let mut t = ProviderConfig::new("http://x/v1");
        t.kind = KIND.into();
        assert!(check("openweights", &t).unwrap().contains("no `base_url`"));
        t.base_url = None;
        assert_eq!(check("openweights", &t), None);
        assert!(
            check("ow2", &t)
                .unwrap()
                .contains("[providers.openweights]")
        );
    }

    #[test]
    fn a_table_of_weirdgen_toml_sets_them_and_bad_values_are_located() {
        use crate::model::config::Config;
        let parse = |t: &str| Config::from_toml(t, std::path::Path::new("weirdgen.toml"));
        let c = parse(
            "[providers.openweights]\nkind = \"openweights\"\ngpu = \"h100s\"\npoll_seconds = 2\npython = \"/opt/ow/bin/python\"\nmax_concurrency = 8\n",
        )
        .unwrap();
        let t = c.provider("openweights").unwrap();
        assert_eq!(t.gpu.as_deref(), Some("h100s"));
        assert_eq!(t.python.as_deref(), Some("/opt/ow/bin/python"));
        assert_eq!(t.poll_seconds, Some(2.0));
        assert_eq!(t.max_concurrency, Some(8));
        let e = parse("[providers.openweights]\nkind = \"openweights\"\ngpu = \"TPU\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("weirdgen.toml:3:7: unknown GPU `TPU`"), "{e}");
        let e = parse("[providers.vllm]\nbase_url = \"http://a/v1\"\ngpu = \"A100\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("weirdgen.toml:3:7: `gpu` is a setting of kind `openweights`"),
            "{e}"
        );
        let e = parse("[providers.mine]\nkind = \"openweights\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("weirdgen.toml:1:1:"), "{e}");
        assert!(
            e.contains("name the table `[providers.openweights]`"),
            "{e}"
        );
    }
}
