//! Sampling through OpenWeights deployments: one vLLM server per base model, serving the base
//! and every adapter of it that the store holds, behind an OpenAI-compatible URL.
//!
//! Cache keys name the endpoint [`DEPLOYMENT_ENDPOINT`], never the URL: a server that is
//! taken down and deployed again elsewhere answers the same cells.

use super::{OpenWeights, PROVIDER};
use crate::chat::Message;
use crate::model::config::ProviderConfig;
use crate::model::openai::{Capabilities, OpenAiProvider};
use crate::model::provider::ProviderStore;
use crate::model::{Completion, ModelRef, SampleRequest, Sampler};
use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use serde_json::json;

/// How sampled cells name OpenWeights deployments (the same for every deployment).
pub const DEPLOYMENT_ENDPOINT: &str = "openweights@deployment";

/// The base model of `model` and the adapters of that base that the store holds as
/// finished fine-tunes of `finetune_endpoint` (`model` itself included).
fn siblings(
    model: &ModelRef,
    store: &dyn ProviderStore,
    finetune_endpoint: &str,
) -> Result<(ModelRef, Vec<String>)> {
    let jobs = store.finetunes()?;
    let me = model.to_string();
    let base: ModelRef = match jobs
        .iter()
        .find(|j| j.model.as_deref() == Some(me.as_str()))
    {
        Some(j) => j.base_model.parse()?,
        None => model.clone(),
    };
    let base_name = base.to_string();
    let mut adapters: Vec<String> = jobs
        .iter()
        .filter(|j| {
            j.endpoint == finetune_endpoint && j.base_model == base_name && j.state == "succeeded"
        })
        .filter_map(|j| j.model.as_deref()?.parse::<ModelRef>().ok())
        .filter(|m| m.provider == PROVIDER)
        .map(|m| m.model)
        .collect();
    if *model != base && !adapters.contains(&model.model) {
        adapters.push(model.model.clone());
    }
    adapters.sort();
    adapters.dedup();
    Ok((base, adapters))
}

impl OpenWeights {
    /// Deploys the server for `model` (its base and all its stored siblings) unless one
    /// serves it already, and returns what the server honours (recorded in `store` under
    /// [`DEPLOYMENT_ENDPOINT`], probed once otherwise).
    pub async fn prepare(
        &self,
        model: &ModelRef,
        store: &dyn ProviderStore,
        question: Option<&[Message]>,
    ) -> Result<Capabilities> {
        let server = {
            let mut served = self.served.lock().await;
            match served.get(&model.to_string()) {
                Some(p) => p.clone(),
                None => {
                    let (base, adapters) =
                        siblings(model, store, &crate::model::Finetuner::endpoint(self))?;
                    let v = self
                        .bridge
                        .call(
                            "deploy",
                            json!({ "model": base.model, "lora_adapters": adapters }),
                        )
                        .await
                        .with_context(|| format!("deploying {base} on OpenWeights"))?;
                    let url = v["base_url"]
                        .as_str()
                        .context("OpenWeights answered a deployment without a URL")?;
                    let mut cfg = ProviderConfig::new(url);
                    cfg.max_concurrency = self.settings.max_concurrency;
                    // The vLLM server checks the key OpenWeights gave the deployment.
                    let key = v["api_key"].as_str().map(str::to_string);
                    let p = OpenAiProvider::with_key(
                        PROVIDER,
                        &cfg,
                        key,
                        Some(self.in_flight.clone()),
                    )?;
                    served.insert(base.to_string(), p.clone());
                    for a in &adapters {
                        served.insert(ModelRef::new(PROVIDER, a).to_string(), p.clone());
                    }
                    p
                }
            }
        };
        let key = format!("{DEPLOYMENT_ENDPOINT} {}", model.model);
        if let Some(caps) = store
            .capabilities(&key)?
            .and_then(|v| Capabilities::from_json(&v).ok())
        {
            server.set_capabilities(&model.model, caps.clone());
            return Ok(caps);
        }
        let caps = server
            .capabilities_asking(&model.model, question)
            .await
            .with_context(|| format!("probing what {model} supports"))?;
        store.put_capabilities(&key, &caps.to_json())?;
        Ok(caps)
    }
}

#[async_trait]
impl Sampler for OpenWeights {
    fn endpoint(&self) -> String {
        DEPLOYMENT_ENDPOINT.to_string()
    }

    async fn sample(&self, req: SampleRequest<'_>) -> Result<Vec<Completion>> {
        let server = self
            .served
            .lock()
            .await
            .get(&req.model.to_string())
            .cloned();
        match server {
            Some(p) => p.sample(req).await,
            None => bail!("{} is not deployed on OpenWeights yet", req.model),
        }
    }
}
