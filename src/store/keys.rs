//! Content-addressed keys: blake3 over a canonical JSON of what was asked.

use crate::chat::Message;
use crate::model::{Hyperparameters, SamplingParams};
use serde_json::json;

/// Bumped when the meaning of a stored entry changes, so old entries are not reused.
const FORMAT: u32 = 1;

fn hash(v: &serde_json::Value) -> String {
    blake3::hash(v.to_string().as_bytes()).to_hex().to_string()
}

/// The key of a fine-tune: endpoint, base model, dataset hash, hyperparameters and seed.
pub fn job_key(
    endpoint: &str,
    base_model: &str,
    dataset_hash: &str,
    hp: &Hyperparameters,
    seed: u64,
) -> String {
    hash(&json!({
        "format": FORMAT, "endpoint": endpoint, "base": base_model,
        "dataset": dataset_hash, "hyperparameters": hp, "seed": seed,
    }))
}

/// The key of a sample cell: endpoint, model, messages and sampling parameters. A sample is
/// stored under (cell key, sample index).
pub fn sample_cell_key(
    endpoint: &str,
    model: &str,
    messages: &[Message],
    params: &SamplingParams,
) -> String {
    hash(&json!({
        "format": FORMAT, "endpoint": endpoint, "model": model,
        "messages": messages, "params": params,
    }))
}

/// The key of a judgment: the judge's definition hash, the question, the probe variables
/// (a judge prompt may use them) and the answer.
pub fn judgment_key(
    judge_hash: &str,
    question: &str,
    vars: &std::collections::BTreeMap<String, String>,
    answer: &str,
) -> String {
    hash(
        &json!({ "format": FORMAT, "judge": judge_hash, "question": question, "vars": vars, "answer": answer }),
    )
}
