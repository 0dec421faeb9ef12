//! The kinds of configured providers: the API a `[providers.<name>]` table of `weirdgen.toml`
//! speaks (`kind = "..."`). The embedded `toy` and `sim` providers are not configured, and
//! `openweights` only optionally, by a `[providers.openweights]` table of kind `openweights`
//! (see [`super::registry::Providers::provider`]).
//!
//! Adding a provider: implement [`Provider`] in its own file under `src/model/`, declare the
//! module in `src/model/mod.rs`, and list it in [`KINDS`] here.

use super::config::ProviderConfig;
use super::in_flight::InFlight;
use super::openai;
use super::openweights;
use super::provider::Provider;
use anyhow::Result;
use std::sync::Arc;

/// What a kind's constructor gets.
pub struct Setup<'a> {
    /// The provider's name (the `<name>/` of its model references).
    pub name: &'a str,
    pub config: &'a ProviderConfig,
    /// The run's figure of requests in flight, which every request must respect.
    pub in_flight: Arc<InFlight>,
    /// A folder beside the store where the provider may keep files.
    pub work_dir: &'a std::path::Path,
}

/// One kind of provider.
pub struct Kind {
    /// Its name in `kind = "..."`.
    pub name: &'static str,
    /// Why a `[providers.<name>]` table of this kind is incomplete, if it is (checked when the
    /// config is read).
    pub check: fn(name: &str, config: &ProviderConfig) -> Option<String>,
    /// The provider as configured.
    pub build: fn(&Setup<'_>) -> Result<Arc<dyn Provider>>,
}

/// The kind of a table without `kind`.
pub const DEFAULT: &str = "openai";

/// Every kind, by name.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "openai",
        check: openai::kind::check,
        build: openai::kind::build,
    },
    Kind {
        name: openweights::settings::KIND,
        check: openweights::settings::check,
        build: openweights::build,
    },
];

/// The kind called `name`.
pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The names of the kinds.
pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// Why provider `name`'s table cannot work for its kind, if it cannot.
pub fn check(name: &str, config: &ProviderConfig) -> Option<String> {
    match find(&config.kind) {
        Some(k) => (k.check)(name, config),
        None => Some(format!(
            "provider `{name}`: unknown kind `{}` (known: {})",
            config.kind,
            names().join(", ")
        )),
    }
}
