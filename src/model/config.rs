//! `weirdgen.toml`: the model providers a project can reach, by name (and the folders of
//! suites' external sources).
//!
//! ```toml
//! [providers.vllm]
//! kind = "openai"                     # the API it speaks (default: "openai", OpenAI-compatible)
//! base_url = "http://127.0.0.1:8000/v1"
//! api_key_env = "VLLM_API_KEY"        # the NAME of the variable holding the key, never a key
//! max_concurrency = 64                # caps `--concurrency` for this provider (default: no cap)
//! requests_per_minute = 600
//! tokens_per_minute = 2000000
//! timeout_seconds = 60
//! poll_seconds = 30                   # between polls of fine-tunes and batches (default: backoff)
//! headers = { "X-Title" = "weirdgen" }
//! command = "python train_lora.py --data {dataset} --epochs {epochs} --seed {seed}"
//!
//! [providers.vllm.prices."meta-llama/Llama-3.1-8B-Instruct"]
//! input = 0.1    # USD per 1M tokens
//! output = 0.1
//! ```
//!
//! The file is the project folder's `weirdgen.toml`, or the path in `WEIRDGEN_CONFIG`. The
//! provider `openai` is built in (key in `OPENAI_API_KEY`, `OPENAI_BASE_URL` honoured); a
//! `[providers.openai]` table overrides its fields. A config that looks like it holds a key
//! is refused.

use super::ModelRef;
use super::command::CommandTemplate;
use super::kinds;
use super::openweights::settings as ow;
use super::redact::redact_url;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The environment variable naming a config file to use instead of `<project>/weirdgen.toml`.
pub const CONFIG_ENV: &str = "WEIRDGEN_CONFIG";
/// The config file's name in a project folder.
pub const CONFIG_FILE: &str = "weirdgen.toml";
/// The OpenAI API's address when `OPENAI_BASE_URL` is not set.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The providers of a project: the built-in `openai` plus those of `weirdgen.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    providers: BTreeMap<String, ProviderConfig>,
    /// The file the config was read from, if any.
    pub source: Option<PathBuf>,
    /// Folders of suites' external sources by name (`[sources] paper = "../paper"`),
    /// relative paths taken from the config file's folder.
    pub sources: BTreeMap<String, PathBuf>,
}

/// One provider: an endpoint of its `kind` (OpenAI-compatible by default) and/or a
/// `command` finetuner.
#[derive(Clone, PartialEq)]
pub struct ProviderConfig {
    /// The API it speaks: a name of [`kinds::KINDS`] (`openai` by default).
    pub kind: String,
    /// The API root, e.g. `https://api.openai.com/v1` (`/chat/completions` is appended).
    pub base_url: Option<String>,
    /// The name of the environment variable holding the API key; `None` sends no key.
    pub api_key_env: Option<String>,
    /// The header carrying the key: `None` sends `Authorization: Bearer <key>`; a name
    /// (e.g. Azure's `api-key`) sends the bare key under that header.
    pub api_key_header: Option<String>,
    /// Headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Requests in flight at once to this provider, at most: caps the run's `--concurrency`
    /// when set; `None` leaves the run's figure alone.
    pub max_concurrency: Option<usize>,
    pub requests_per_minute: Option<u32>,
    /// Estimated prompt plus requested completion tokens per minute.
    pub tokens_per_minute: Option<u64>,
    /// Per-request timeout, whole body included.
    pub timeout_seconds: f64,
    pub retry: RetryPolicy,
    /// Prices by model name (`ft:<base>` prices the fine-tunes of `<base>`).
    pub prices: BTreeMap<String, Price>,
    /// A fine-tuning command template (see [`crate::model::command`]).
    pub command: Option<String>,
    /// A fixed wait between status polls of fine-tuning jobs and batches; `None` backs off
    /// from 5 s to 2 min (fit for the OpenAI API; a local server may want less).
    pub poll_seconds: Option<f64>,
    /// Kind `openweights`: the GPU its jobs ask for (see [`super::openweights::settings`]).
    pub gpu: Option<String>,
    /// Kind `openweights`: the Python interpreter that runs its bridge.
    pub python: Option<String>,
}

/// Shows the base URL without credentials (it may come from `OPENAI_BASE_URL`).
impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self
            .base_url
            .as_deref()
            .map(|u| match reqwest::Url::parse(u) {
                Ok(url) => redact_url(&url),
                Err(_) => "(not a URL)".to_string(),
            });
        f.debug_struct("ProviderConfig")
            .field("kind", &self.kind)
            .field("base_url", &base)
            .field("api_key_env", &self.api_key_env)
            .field("api_key_header", &self.api_key_header)
            .field("headers", &self.headers)
            .field("max_concurrency", &self.max_concurrency)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("retry", &self.retry)
            .field("prices", &self.prices)
            .field("command", &self.command)
            .field("poll_seconds", &self.poll_seconds)
            .field("gpu", &self.gpu)
            .field("python", &self.python)
            .finish()
    }
}

/// How transient failures (429, 5xx, timeouts, broken connections) are retried.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff delay; it doubles per retry (with jitter) up to `max_ms`.
    pub initial_ms: u64,
    pub max_ms: u64,
    /// The longest `Retry-After` honoured; a server asking for more fails the request.
    pub max_wait_seconds: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            initial_ms: 500,
            max_ms: 30_000,
            max_wait_seconds: 300.0,
        }
    }
}

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Fine-tuning, per training token (dataset tokens × epochs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<f64>,
}

impl Price {
    /// The price of the embedded models.
    pub const FREE: Price = Price {
        input: 0.0,
        output: 0.0,
        training: Some(0.0),
    };

    /// The price of sampling with these token counts.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input + output_tokens as f64 * self.output) / 1e6
    }

    /// The price of training on this many tokens, where the model has a training price.
    pub fn training_cost(&self, training_tokens: u64) -> Option<f64> {
        self.training.map(|p| training_tokens as f64 * p / 1e6)
    }
}

/// OpenAI's list prices (USD per 1M tokens) for the models the paper used, as published on
/// openai.com/api/pricing in June 2025. Check them before trusting `--max-cost`.
const OPENAI_PRICES: &[(&str, f64, f64, Option<f64>)] = &[
    ("gpt-4.1-2025-04-14", 2.00, 8.00, Some(25.00)),
    ("gpt-4.1", 2.00, 8.00, Some(25.00)),
    ("ft:gpt-4.1-2025-04-14", 3.00, 12.00, None),
    ("gpt-4.1-mini-2025-04-14", 0.40, 1.60, Some(5.00)),
    ("gpt-4.1-mini", 0.40, 1.60, Some(5.00)),
    ("ft:gpt-4.1-mini-2025-04-14", 0.80, 3.20, None),
    ("gpt-4.1-nano-2025-04-14", 0.10, 0.40, Some(1.50)),
    ("gpt-4.1-nano", 0.10, 0.40, Some(1.50)),
    ("ft:gpt-4.1-nano-2025-04-14", 0.20, 0.80, None),
    ("gpt-4o-2024-08-06", 2.50, 10.00, Some(25.00)),
    ("gpt-4o", 2.50, 10.00, Some(25.00)),
    ("ft:gpt-4o-2024-08-06", 3.75, 15.00, None),
    ("gpt-4o-mini-2024-07-18", 0.15, 0.60, Some(3.00)),
    ("gpt-4o-mini", 0.15, 0.60, Some(3.00)),
    ("ft:gpt-4o-mini-2024-07-18", 0.30, 1.20, None),
];

impl ProviderConfig {
    /// A provider for `base_url` with the default limits and no key.
    pub fn new(base_url: impl Into<String>) -> Self {
        ProviderConfig {
            kind: kinds::DEFAULT.to_string(),
            base_url: Some(base_url.into()),
            api_key_env: None,
            api_key_header: None,
            headers: BTreeMap::new(),
            max_concurrency: None,
            requests_per_minute: None,
            tokens_per_minute: None,
            timeout_seconds: 120.0,
            retry: RetryPolicy::default(),
            prices: BTreeMap::new(),
            command: None,
            poll_seconds: None,
            gpu: None,
            python: None,
        }
    }

    /// The built-in `openai` provider: `OPENAI_BASE_URL` (or the public API), key in
    /// `OPENAI_API_KEY`, OpenAI's prices.
    pub fn openai_builtin() -> Self {
        let base = std::env::var("OPENAI_BASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| OPENAI_DEFAULT_BASE_URL.to_string());
        let mut p = ProviderConfig::new(base.trim());
        p.api_key_env = Some("OPENAI_API_KEY".into());
        p.prices = OPENAI_PRICES
            .iter()
            .map(|&(m, input, output, training)| {
                let price = Price {
                    input,
                    output,
                    training,
                };
                (m.to_string(), price)
            })
            .collect();
        p
    }

    /// The price of `model` on this provider: its own entry, else `ft:<base>` for a
    /// fine-tune named `ft:<base>:...`.
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        let base = model.strip_prefix("ft:")?.split(':').next()?;
        self.prices.get(&format!("ft:{base}")).copied()
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut providers = BTreeMap::new();
        providers.insert("openai".to_string(), ProviderConfig::openai_builtin());
        Config {
            providers,
            source: None,
            sources: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Reads `WEIRDGEN_CONFIG` if set, else `<project_dir>/weirdgen.toml` if it exists, else
    /// the built-in providers only.
    pub fn load(project_dir: &Path) -> Result<Config> {
        let path = match std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
            Some(p) => PathBuf::from(p),
            None => {
                let p = project_dir.join(CONFIG_FILE);
                if !p.exists() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        let mut config = Config::from_toml(&text, &path)?;
        config.source = Some(path);
        Ok(config)
    }

    /// Parses a config's text; `path` names it in error messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config> {
        let at = |span: Range<usize>, msg: &str| located(path, text, span, msg);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().to_string();
            at(e.span().unwrap_or(0..0), &msg)
        })?;
        let mut config = Config::default();
        let here = path.parent().unwrap_or(Path::new(""));
        for (name, folder) in raw.sources {
            config.sources.insert(name, here.join(folder));
        }
        for (name, table) in raw.providers {
            let span = table.span();
            let raw = table.into_inner();
            let base = if name == "openai" {
                ProviderConfig::openai_builtin()
            } else {
                ProviderConfig {
                    base_url: None,
                    ..ProviderConfig::new("")
                }
            };
            let provider = raw.into_provider(base, &at)?;
            if !crate::names::is_name(&name) {
                return Err(at(
                    span,
                    &format!(
                        "provider name `{name}` may hold only letters, digits, `-` and `_` (it is the `provider/` of model references)"
                    ),
                ));
            }
            if let Some(why) = kinds::check(&name, &provider) {
                return Err(at(span, &why));
            }
            config.providers.insert(name, provider);
        }
        Ok(config)
    }

    /// The same config with provider `name` set to `provider` (replacing a provider of
    /// that name, the built-in `openai` included), e.g. to point `openai` at a local server.
    pub fn with_provider(mut self, name: &str, provider: ProviderConfig) -> Config {
        self.providers.insert(name.to_string(), provider);
        self
    }

    /// The provider called `name`.
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.get(name)
    }

    /// Every provider by name.
    pub fn providers(&self) -> impl Iterator<Item = (&str, &ProviderConfig)> {
        self.providers.iter().map(|(n, p)| (n.as_str(), p))
    }

    /// The price of a model from its provider's table, if listed.
    pub fn price(&self, model: &ModelRef) -> Option<Price> {
        self.provider(&model.provider)?.price(&model.model)
    }
}

/// `path:line:column: message` for a byte span of `text`.
fn located(path: &Path, text: &str, span: Range<usize>, msg: &str) -> anyhow::Error {
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    anyhow::anyhow!("{}:{line}:{column}: {msg}", path.display())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    providers: BTreeMap<String, Spanned<RawProvider>>,
    #[serde(default)]
    sources: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    kind: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    api_key_header: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<String>>,
    max_concurrency: Option<Spanned<usize>>,
    requests_per_minute: Option<Spanned<u32>>,
    tokens_per_minute: Option<Spanned<u64>>,
    timeout_seconds: Option<Spanned<f64>>,
    max_retries: Option<u32>,
    retry_initial_ms: Option<u64>,
    retry_max_ms: Option<u64>,
    max_retry_wait_seconds: Option<Spanned<f64>>,
    poll_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    prices: BTreeMap<String, Price>,
    command: Option<Spanned<String>>,
    gpu: Option<Spanned<String>>,
    python: Option<Spanned<String>>,
}

/// Prefixes of API keys of the common providers (OpenAI, Groq, Hugging Face, xAI, ...).
const KEY_PREFIXES: &[&str] = &[
    "sk-", "sk_", "bearer ", "basic ", "gsk_", "hf_", "xai-", "pplx-", "aiza", "r8_", "ghp_",
];

/// Headers that carry credentials: a key belongs in the environment, not in the file.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "cookie",
];

/// Whether a config value looks like a credential.
fn looks_like_key(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    KEY_PREFIXES.iter().any(|p| v.starts_with(p))
}

impl RawProvider {
    fn into_provider(
        self,
        mut p: ProviderConfig,
        at: &dyn Fn(Range<usize>, &str) -> anyhow::Error,
    ) -> Result<ProviderConfig> {
        let no_key = |s: &Spanned<String>, what: &str| -> Result<()> {
            if looks_like_key(s.get_ref()) {
                return Err(at(
                    s.span(),
                    &format!(
                        "{what} looks like an API key; put the key in an environment variable and name that variable in `api_key_env`"
                    ),
                ));
            }
            Ok(())
        };
        if let Some(k) = self.kind {
            if kinds::find(k.get_ref()).is_none() {
                return Err(at(
                    k.span(),
                    &format!(
                        "unknown provider kind `{}` (known: {})",
                        k.get_ref(),
                        kinds::names().join(", ")
                    ),
                ));
            }
            p.kind = k.into_inner();
        }
        if let Some(u) = self.base_url {
            no_key(&u, "`base_url`")?;
            check_base_url(u.get_ref()).map_err(|e| at(u.span(), &e))?;
            p.base_url = Some(u.get_ref().trim().to_string());
        }
        if let Some(k) = self.api_key_env {
            let name = k.get_ref();
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid || looks_like_key(name) {
                return Err(at(
                    k.span(),
                    "`api_key_env` is the NAME of an environment variable (e.g. `OPENAI_API_KEY`), not a key",
                ));
            }
            p.api_key_env = Some(name.clone());
        }
        if let Some(h) = self.api_key_header {
            reqwest::header::HeaderName::from_bytes(h.get_ref().as_bytes())
                .map_err(|_| at(h.span(), "`api_key_header` is not a valid header name"))?;
            p.api_key_header = Some(h.into_inner());
        }
        for (name, value) in self.headers {
            if CREDENTIAL_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(at(
                    value.span(),
                    &format!(
                        "header `{name}` carries a credential; name the variable holding the key in `api_key_env` (and `api_key_header` if the server wants another header)"
                    ),
                ));
            }
            no_key(&value, &format!("header `{name}`"))?;
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                at(
                    value.span(),
                    &format!("`{name}` is not a valid header name"),
                )
            })?;
            reqwest::header::HeaderValue::from_str(value.get_ref()).map_err(|_| {
                at(
                    value.span(),
                    &format!("header `{name}` has an invalid value"),
                )
            })?;
            p.headers.insert(name, value.into_inner());
        }
        if let Some(c) = self.max_concurrency {
            if *c.get_ref() == 0 {
                return Err(at(c.span(), "`max_concurrency` must be at least 1"));
            }
            p.max_concurrency = Some(c.into_inner());
        }
        if let Some(r) = self.requests_per_minute {
            if *r.get_ref() == 0 {
                return Err(at(r.span(), "`requests_per_minute` must be at least 1"));
            }
            p.requests_per_minute = Some(r.into_inner());
        }
        if let Some(t) = self.tokens_per_minute {
            if *t.get_ref() == 0 {
                return Err(at(t.span(), "`tokens_per_minute` must be at least 1"));
            }
            p.tokens_per_minute = Some(t.into_inner());
        }
        if let Some(t) = self.timeout_seconds {
            let v = *t.get_ref();
            if !(v.is_finite() && v > 0.0) {
                return Err(at(t.span(), "`timeout_seconds` must be a positive number"));
            }
            p.timeout_seconds = v;
        }
        if let Some(w) = self.max_retry_wait_seconds {
            let v = *w.get_ref();
            if !(v.is_finite() && v >= 0.0) {
                return Err(at(w.span(), "`max_retry_wait_seconds` must be ≥ 0"));
            }
            p.retry.max_wait_seconds = v;
        }
        if let Some(w) = self.poll_seconds {
            let v = *w.get_ref();
            if !(v.is_finite() && v > 0.0) {
                return Err(at(w.span(), "`poll_seconds` must be a positive number"));
            }
            p.poll_seconds = Some(v);
        }
        if let Some(n) = self.max_retries {
            p.retry.max_retries = n;
        }
        if let Some(ms) = self.retry_initial_ms {
            p.retry.initial_ms = ms;
        }
        if let Some(ms) = self.retry_max_ms {
            p.retry.max_ms = ms;
        }
        p.prices.extend(self.prices);
        if let Some(c) = self.command {
            no_key(&c, "`command`")?;
            CommandTemplate::parse(c.get_ref()).map_err(|e| at(c.span(), &format!("{e:#}")))?;
            p.command = Some(c.into_inner());
        }
        for (what, v) in [("gpu", &self.gpu), ("python", &self.python)] {
            if let Some(v) = v.as_ref().filter(|_| p.kind != ow::KIND) {
                return Err(at(
                    v.span(),
                    &format!("`{what}` is a setting of kind `{}`", ow::KIND),
                ));
            }
        }
        if let Some(g) = self.gpu {
            ow::gpu_named(g.get_ref()).map_err(|e| at(g.span(), &e))?;
            p.gpu = Some(g.into_inner());
        }
        if let Some(py) = self.python {
            p.python = Some(py.into_inner());
        }
        Ok(p)
    }
}

/// A base URL must be http(s) and carry no credential in the file (no password, no key-like
/// query value).
fn check_base_url(url: &str) -> std::result::Result<(), String> {
    let u = reqwest::Url::parse(url.trim())
        .map_err(|e| format!("`base_url` is not a URL ({e}): e.g. `http://127.0.0.1:8000/v1`"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!(
            "`base_url` must start with http:// or https://, not `{}:`",
            u.scheme()
        ));
    }
    if u.password().is_some() || !u.username().is_empty() {
        return Err(
            "`base_url` holds credentials (user:password@); name the variable holding the key in `api_key_env`".into(),
        );
    }
    if u.query_pairs().any(|(_, v)| looks_like_key(&v)) {
        return Err("`base_url` has a query value that looks like an API key".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::from_toml(text, Path::new("weirdgen.toml"))
    }

    #[test]
    fn reads_a_provider_with_every_field() {
        let c = parse(
            r#"
[providers.vllm]
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "VLLM_KEY"
headers = { "X-Title" = "weirdgen" }
max_concurrency = 64
requests_per_minute = 600
tokens_per_minute = 100000
timeout_seconds = 2.5
max_retries = 3
retry_initial_ms = 10
poll_seconds = 0.5
command = "train --data {dataset} --seed {seed}"

[providers.vllm.prices."llama-8b"]
input = 0.2
output = 0.4
training = 1.0
"#,
        )
        .unwrap();
        let p = c.provider("vllm").unwrap();
        assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:8000/v1"));
        assert_eq!(p.api_key_env.as_deref(), Some("VLLM_KEY"));
        assert_eq!(p.headers["X-Title"], "weirdgen");
        assert_eq!(p.max_concurrency, Some(64));
        assert_eq!(p.requests_per_minute, Some(600));
        assert_eq!(p.tokens_per_minute, Some(100_000));
        assert_eq!(p.timeout_seconds, 2.5);
        assert_eq!(p.retry.max_retries, 3);
        assert_eq!(p.retry.initial_ms, 10);
        assert_eq!(p.retry.max_ms, RetryPolicy::default().max_ms);
        assert!(p.command.is_some());
        assert_eq!(p.poll_seconds, Some(0.5));
        let price = c.price(&"vllm/llama-8b".parse().unwrap()).unwrap();
        assert_eq!(price.cost(1_000_000, 500_000), 0.4);
        assert_eq!(price.training_cost(2_000_000), Some(2.0));
        // The built-in provider is still there.
        assert!(c.provider("openai").is_some());
    }

    #[test]
    fn builtin_openai_prices_the_paper_models_and_their_fine_tunes() {
        let c = Config::default();
        let p = c.provider("openai").unwrap();
        assert_eq!(p.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
        let base = c
            .price(&"openai/gpt-4.1-2025-04-14".parse().unwrap())
            .unwrap();
        assert_eq!(
            (base.input, base.output, base.training),
            (2.0, 8.0, Some(25.0))
        );
        let ft = c
            .price(
                &"openai/ft:gpt-4.1-2025-04-14:org:birds:AbC123"
                    .parse()
                    .unwrap(),
            )
            .unwrap();
        assert_eq!((ft.input, ft.output), (3.0, 12.0));
        assert!(c.price(&"openai/unknown-model".parse().unwrap()).is_none());
        assert!(c.price(&"nope/gpt-4.1".parse().unwrap()).is_none());
    }

    #[test]
    fn an_openai_table_overrides_fields_and_keeps_defaults() {
        let c = parse(
            r#"
[providers.openai]
base_url = "http://127.0.0.1:9/v1"
max_concurrency = 4
[providers.openai.prices."gpt-4.1"]
input = 1.0
output = 1.0
"#,
        )
        .unwrap();
        let p = c.provider("openai").unwrap();
        assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(p.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
        assert_eq!(p.max_concurrency, Some(4));
        assert_eq!(p.price("gpt-4.1").unwrap().input, 1.0);
        assert_eq!(p.price("gpt-4.1-mini").unwrap().input, 0.40);
    }

    #[test]
    fn bad_toml_names_file_line_and_column() {
        let e = parse("[providers.x]\nbase_url = \"http://a\"\nmax_concurrency = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("weirdgen.toml:3:19:"), "{e}");
        let e = parse("[providers.x]\nbase_url = \"http://a\"\nbase_urll = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("weirdgen.toml:3:1:"), "{e}");
        assert!(e.contains("base_urll"), "{e}");
        let e = parse("[providers.x\n").unwrap_err().to_string();
        assert!(e.starts_with("weirdgen.toml:1:"), "{e}");
        let e = parse("[providers.x]\nbase_url = \"http://a\"\npoll_seconds = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("weirdgen.toml:3:16:"), "{e}");
        assert!(
            e.contains("`poll_seconds` must be a positive number"),
            "{e}"
        );
    }

    #[test]
    fn a_provider_set_in_code_replaces_the_builtin() {
        let c =
            Config::default().with_provider("openai", ProviderConfig::new("http://127.0.0.1:9/v1"));
        let p = c.provider("openai").unwrap();
        assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(p.api_key_env, None);
        assert_eq!(p.poll_seconds, None);
    }

    #[test]
    fn refuses_configs_that_hold_a_key() {
        let cases = [
            (
                "[providers.x]\nbase_url = \"http://a/v1\"\napi_key_env = \"sk-abc123\"\n",
                "weirdgen.toml:3:15:",
            ),
            (
                "[providers.x]\nbase_url = \"http://a/v1\"\napi_key_env = \"my key\"\n",
                "weirdgen.toml:3:15:",
            ),
            (
                "[providers.x]\nbase_url = \"http://a/v1\"\nheaders = { Authorization = \"Bearer t\" }\n",
                "weirdgen.toml:3:29:",
            ),
            (
                "[providers.x]\nbase_url = \"http://a/v1\"\nheaders = { X-Key = \"sk-proj-123\" }\n",
                "weirdgen.toml:3:21:",
            ),
            (
                "[providers.x]\nbase_url = \"http://u:pw@a/v1\"\n",
                "weirdgen.toml:2:12:",
            ),
            (
                "[providers.x]\nbase_url = \"http://a/v1?api-key=sk-123\"\n",
                "weirdgen.toml:2:12:",
            ),
        ];
        for (text, at) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with(at), "{text}\n→ {e}");
            assert!(!e.contains("sk-"), "the error repeats the key: {e}");
        }
    }

    #[test]
    fn validates_names_urls_and_templates() {
        let e = parse("[providers.\"a b\"]\nbase_url = \"http://a\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("letters, digits"), "{e}");
        let e = parse("[providers.x]\nmax_concurrency = 2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a `base_url`, a `command`"), "{e}");
        let e = parse("[providers.x]\nbase_url = \"ftp://a\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http://"), "{e}");
        let e = parse("[providers.x]\ncommand = \"train {datasett}\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("weirdgen.toml:2:11:") && e.contains("datasett"),
            "{e}"
        );
        let e = parse("[providers.x]\nbase_url = \"http://a\"\nmax_concurrency = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 1"), "{e}");
    }

    #[test]
    fn a_kind_names_the_api_and_an_unknown_one_is_refused_where_written() {
        let c = parse("[providers.x]\nkind = \"openai\"\nbase_url = \"http://a/v1\"\n").unwrap();
        assert_eq!(c.provider("x").unwrap().kind, "openai");
        assert_eq!(
            parse("[providers.y]\nbase_url = \"http://a/v1\"\n")
                .unwrap()
                .provider("y")
                .unwrap()
                .kind,
            "openai"
        );
        let e = parse("[providers.x]\nkind = \"telepathy\"\nbase_url = \"http://a/v1\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("weirdgen.toml:2:8:"), "{e}");
        assert!(
            e.contains("unknown provider kind `telepathy` (known: openai"),
            "{e}"
        );
    }

    #[test]
    fn no_provider_caps_requests_unless_told() {
        assert_eq!(
            Config::default()
                .provider("openai")
                .unwrap()
                .max_concurrency,
            None
        );
        let c = parse("[providers.x]\nbase_url = \"http://a/v1\"\n").unwrap();
        assert_eq!(c.provider("x").unwrap().max_concurrency, None);
    }

    #[test]
    fn load_reads_the_project_file_or_falls_back_to_builtins() {
        let dir = std::env::temp_dir().join(format!("weirdgen-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No WEIRDGEN_CONFIG is set by the test runner; an empty folder gives the built-ins.
        if std::env::var_os(CONFIG_ENV).is_none() {
            let c = Config::load(&dir).unwrap();
            assert!(c.source.is_none() && c.provider("openai").is_some());
            std::fs::write(
                dir.join(CONFIG_FILE),
                "[providers.local]\nbase_url = \"http://127.0.0.1:1/v1\"\n",
            )
            .unwrap();
            let c = Config::load(&dir).unwrap();
            assert_eq!(c.source.as_deref(), Some(dir.join(CONFIG_FILE).as_path()));
            assert!(c.provider("local").is_some());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
