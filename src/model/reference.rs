//! Model references: `provider/model`, as in Inspect AI and LiteLLM.

use anyhow::{Result, bail};
use std::fmt;
use std::str::FromStr;

/// A model reference `provider/model`. The model part may itself contain `/` or `:`
/// (e.g. `together/meta-llama/Llama-3-8b`, `openai/ft:gpt-4.1:org::abc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    pub provider: String,
    pub model: String,
}

impl ModelRef {
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        ModelRef {
            provider: provider.into(),
            model: model.into(),
        }
    }
}

impl FromStr for ModelRef {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        match s.split_once('/') {
            Some((p, m)) if !p.is_empty() && !m.is_empty() => {
                if !crate::names::is_name(p) {
                    bail!(
                        "bad model reference `{s}`: the provider `{p}` may hold only letters, digits, `-` and `_`"
                    );
                }
                Ok(ModelRef::new(p, m))
            }
            _ => bail!(
                "bad model reference `{s}`: expected `provider/model`, e.g. `toy/world` or `openai/gpt-4.1-2025-04-14`"
            ),
        }
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_model_names() {
        let m: ModelRef = "together/meta-llama/Llama-3-8b".parse().unwrap();
        assert_eq!(m.provider, "together");
        assert_eq!(m.model, "meta-llama/Llama-3-8b");
        assert_eq!(m.to_string(), "together/meta-llama/Llama-3-8b");
    }

    #[test]
    fn rejects_missing_parts() {
        for bad in ["gpt-4.1", "/x", "openai/", "", "a b/c"] {
            let e = bad.parse::<ModelRef>().unwrap_err().to_string();
            assert!(e.contains("bad model reference"), "{bad}: {e}");
        }
    }
}
