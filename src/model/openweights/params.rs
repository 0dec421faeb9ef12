//! From a weirdgen fine-tune to the keyword arguments of `ow.fine_tuning.create`
//! (OpenWeights 0.13.7), with values equal to OpenWeights' defaults dropped, so that the same
//! fine-tune always sends the same arguments and lands on the same content-hashed job.
//!
//! Mapping: `epochs` → `epochs`; `batch_size` b → `per_device_train_batch_size` 2 and
//! `gradient_accumulation_steps` b/2 (b even) or 1 and b (b odd), the effective batch on one
//! GPU; `learning_rate_multiplier` m → `learning_rate` m × 1e-4 (OpenWeights' default rate);
//! the replica's seed → `seed`. Always `loss = "sft"` and `merge_before_push = false`, so the
//! job pushes a LoRA adapter that one vLLM server can serve beside its siblings.

use crate::model::Hyperparameters;
use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

/// OpenWeights' default learning rate, which `learning_rate_multiplier` scales.
pub const DEFAULT_LEARNING_RATE: f64 = 1e-4;
/// OpenWeights' default number of epochs.
pub const DEFAULT_EPOCHS: u32 = 1;

/// `TrainingConfig` defaults (openweights 0.13.7, `jobs/unsloth/validate.py`) of the
/// parameters weirdgen sets.
fn defaults() -> [(&'static str, Value); 6] {
    [
        ("epochs", json!(DEFAULT_EPOCHS)),
        ("seed", json!(3407)),
        ("learning_rate", json!(DEFAULT_LEARNING_RATE)),
        ("per_device_train_batch_size", json!(2)),
        ("gradient_accumulation_steps", json!(8)),
        ("merge_before_push", json!(true)),
    ]
}

/// `params` without the entries equal to OpenWeights' defaults.
pub fn normalise(mut params: Map<String, Value>) -> Map<String, Value> {
    for (name, default) in defaults() {
        let same = match (params.get(name), &default) {
            (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Some(v), d) => v == d,
            (None, _) => false,
        };
        if same {
            params.remove(name);
        }
    }
    params
}

/// The arguments of the fine-tune of `base` (a Hugging Face id) on the uploaded file
/// `training_file` with `hp` and `seed`, normalised.
pub fn finetune_params(
    base: &str,
    training_file: &str,
    hp: &Hyperparameters,
    seed: u64,
) -> Result<Map<String, Value>> {
    if !base.contains('/') {
        bail!(
            "`openweights/{base}`: the base model must be a Hugging Face id `org/name`, e.g. \
             `openweights/unsloth/Qwen3-8B`"
        );
    }
    let mut p = Map::new();
    p.insert("model".into(), json!(base));
    p.insert("training_file".into(), json!(training_file));
    p.insert("loss".into(), json!("sft"));
    p.insert("merge_before_push".into(), json!(false));
    p.insert("seed".into(), json!(seed));
    if let Some(e) = hp.epochs {
        p.insert("epochs".into(), json!(e));
    }
    if let Some(b) = hp.batch_size {
        if b == 0 {
            bail!("batch_size 0 cannot be trained");
        }
        let (per_device, accumulate) = if b % 2 == 0 { (2, b / 2) } else { (1, b) };
        p.insert("per_device_train_batch_size".into(), json!(per_device));
        p.insert("gradient_accumulation_steps".into(), json!(accumulate));
    }
    if let Some(m) = hp.learning_rate_multiplier {
        if !(m.is_finite() && m > 0.0) {
            bail!("learning_rate_multiplier must be positive, not {m}");
        }
        p.insert("learning_rate".into(), json!(m * DEFAULT_LEARNING_RATE));
    }
    Ok(normalise(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(epochs: Option<u32>, batch: Option<u32>, lr: Option<f64>) -> Hyperparameters {
        Hyperparameters {
            epochs,
            batch_size: batch,
            learning_rate_multiplier: lr,
        }
    }

    #[test]
    fn default_valued_parameters_are_dropped() {
        let with_defaults = finetune_params(
            "unsloth/Qwen3-4B",
            "conversations:file-a",
            &hp(Some(1), Some(16), Some(1.0)),
            3407,
        )
        .unwrap();
        let bare = finetune_params(
            "unsloth/Qwen3-4B",
            "conversations:file-a",
            &hp(None, None, None),
            3407,
        )
        .unwrap();
        assert_eq!(with_defaults, bare);
        let keys: Vec<&str> = bare.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["loss", "merge_before_push", "model", "training_file"],
            "only what differs from OpenWeights' defaults"
        );
        assert_eq!(bare["merge_before_push"], json!(false));
    }

    #[test]
    fn other_values_are_sent() {
        let p = finetune_params(
            "meta-llama/Llama-3.1-8B-Instruct",
            "conversations:file-b",
            &hp(Some(3), Some(8), Some(2.0)),
            2,
        )
        .unwrap();
        assert_eq!(p["epochs"], json!(3));
        assert_eq!(p["seed"], json!(2));
        assert!(
            !p.contains_key("per_device_train_batch_size"),
            "the default stays unsent"
        );
        assert_eq!(p["gradient_accumulation_steps"], json!(4));
        assert_eq!(p["learning_rate"], json!(2e-4));
        let odd = finetune_params("a/b", "f", &hp(None, Some(5), None), 1).unwrap();
        assert_eq!(odd["per_device_train_batch_size"], json!(1));
        assert_eq!(odd["gradient_accumulation_steps"], json!(5));
        assert!(finetune_params("qwen", "f", &hp(None, None, None), 1).is_err());
        assert!(finetune_params("a/b", "f", &hp(None, Some(0), None), 1).is_err());
    }
}
