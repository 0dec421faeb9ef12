//! The spending notes of `weirdgen plan` and `weirdgen jobs`: what the accounts of the
//! providers involved say of spending (OpenWeights: the spending limits of its keys).

use std::collections::BTreeSet;
use weirdgen::model::ModelRef;
use weirdgen::model::registry::Providers;
use weirdgen::run::{Plan, ReplicaSource};

/// The models a plan samples or fine-tunes from.
pub fn plan_models(plan: &Plan) -> Vec<ModelRef> {
    let mut models = vec![plan.model.clone()];
    for r in plan.arms.iter().flat_map(|a| &a.replicas) {
        match (&r.attached, &r.source) {
            (Some(m), _) | (None, ReplicaSource::Model(m)) => models.push(m.clone()),
            (None, ReplicaSource::Finetune { base, .. }) => models.push(base.clone()),
        }
    }
    models
}

/// One line per note, from each provider of `models` that can be used here and has an
/// account to ask; the providers are closed afterwards.
pub async fn notes(providers: &Providers, models: &[ModelRef]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in models {
        if !seen.insert(m.provider.clone()) || providers.unavailable(m).is_some() {
            continue;
        }
        match providers.account(m).await {
            Ok(Some(text)) => out.extend(text.lines().map(String::from)),
            Ok(None) => {}
            Err(e) => out.push(format!(
                "provider `{}`: spending limit unknown ({e:#})",
                m.provider
            )),
        }
    }
    providers.close().await;
    out
}
