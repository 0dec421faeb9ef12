//! From a weirdgen fine-tune to the keyword arguments of `ow.fine_tuning.create`
//! (OpenWeights 0.13.7), with values equal to OpenWeights' defaults dropped, so that the same
//! fine-tune always sends the same arguments and lands on the same content-hashed job.
//!
//! Mapping: `epochs` → `epochs`; `batch_size` b → `per_device_train_batch_size` 2 and
//! `gradient_accumulation_steps` b/2 (b even) or 1 and b (b odd), the effective batch on one
//! GPU; `learning_rate_multiplier` m → `learning_rate` m × 1e-4 (OpenWeights' default rate);
//! the replica's seed → `seed`. Always `loss = "sft"` and `merge_before_push = false`, so the
//! job pushes a LoRA adapter that one vLLM server can serve beside its siblings. A suite's
//! `finetune.openweights` table adds the hyperparameters only OpenWeights has (`EXTRA`),
//! checked and with defaults dropped the same way.

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

/// What an OpenWeights-only hyperparameter holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A whole number of at least this.
    Int(i64),
    /// A number in this closed range.
    Float(f64, f64),
    Bool,
    /// One of these words (any text if empty).
    Word(&'static [&'static str]),
    /// A list of texts.
    Words,
}

/// The hyperparameters a suite may set for OpenWeights only (`finetune.openweights`), with
/// what they hold and their `TrainingConfig` defaults (openweights 0.13.7,
/// `jobs/unsloth/validate.py`; `max_steps` has none).
const EXTRA: &[(&str, Kind)] = &[
    ("r", Kind::Int(1)),
    ("lora_alpha", Kind::Int(1)),
    ("lora_dropout", Kind::Float(0.0, 1.0)),
    ("use_rslora", Kind::Bool),
    ("lora_bias", Kind::Word(&["none", "all"])),
    ("target_modules", Kind::Words),
    ("max_seq_length", Kind::Int(1)),
    ("load_in_4bit", Kind::Bool),
    ("max_steps", Kind::Int(1)),
    ("warmup_steps", Kind::Int(0)),
    ("weight_decay", Kind::Float(0.0, f64::MAX)),
    ("lr_scheduler_type", Kind::Word(&[])),
    ("optim", Kind::Word(&[])),
    ("train_on_responses_only", Kind::Bool),
    ("packing", Kind::Bool),
];

/// The defaults of [`EXTRA`].
fn extra_defaults() -> [(&'static str, Value); 14] {
    [
        ("r", json!(16)),
        ("lora_alpha", json!(16)),
        ("lora_dropout", json!(0.0)),
        ("use_rslora", json!(true)),
        ("lora_bias", json!("none")),
        (
            "target_modules",
            json!([
                "q_proj",
                "k_proj",
                "v_proj",
                "o_proj",
                "gate_proj",
                "up_proj",
                "down_proj"
            ]),
        ),
        ("max_seq_length", json!(2048)),
        ("load_in_4bit", json!(false)),
        ("warmup_steps", json!(5)),
        ("weight_decay", json!(0.01)),
        ("lr_scheduler_type", json!("linear")),
        ("optim", json!("adamw_8bit")),
        ("train_on_responses_only", json!(true)),
        ("packing", json!(true)),
    ]
}

/// Why `value` does not fit `kind`, if it does not.
fn misfit(kind: Kind, value: &Value) -> Option<String> {
    let ok = match kind {
        Kind::Int(min) => value
            .as_f64()
            .is_some_and(|v| v.fract() == 0.0 && v >= min as f64),
        Kind::Float(lo, hi) => value.as_f64().is_some_and(|v| (lo..=hi).contains(&v)),
        Kind::Bool => value.is_boolean(),
        Kind::Word(words) => value
            .as_str()
            .is_some_and(|w| !w.is_empty() && (words.is_empty() || words.contains(&w))),
        Kind::Words => value
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)),
    };
    (!ok).then(|| match kind {
        Kind::Int(min) => format!("must be a whole number of at least {min}"),
        Kind::Float(lo, hi) if hi == f64::MAX => format!("must be a number of at least {lo}"),
        Kind::Float(lo, hi) => format!("must be a number from {lo} to {hi}"),
        Kind::Bool => "must be true or false".into(),
        Kind::Word([]) => "must be a word".into(),
        Kind::Word(words) => format!("must be one of {}", words.join(", ")),
        Kind::Words => "must be a list of module names".into(),
    })
}

/// A suite's OpenWeights-only hyperparameters, checked, with the defaults dropped.
pub fn extra(table: &std::collections::BTreeMap<String, Value>) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (name, value) in table {
        let Some(&(_, kind)) = EXTRA.iter().find(|(n, _)| n == name) else {
            let set = ["epochs", "batch_size", "learning_rate_multiplier"];
            let hint = match name.as_str() {
                "learning_rate"
                | "seed"
                | "per_device_train_batch_size"
                | "gradient_accumulation_steps" => format!(
                    " (weirdgen sets it from the fine-tune's {} and the replica's seed)",
                    set.join(", ")
                ),
                _ => format!(
                    " (known: {})",
                    EXTRA.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            };
            bail!("finetune.openweights: `{name}` is not set here{hint}");
        };
        if let Some(why) = misfit(kind, value) {
            bail!("finetune.openweights.{name} {why}, not {value}");
        }
        // A whole number written `32.0` is sent as `32`.
        let value = match (kind, value.as_f64()) {
            (Kind::Int(_), Some(v)) => json!(v as i64),
            _ => value.clone(),
        };
        out.insert(name.clone(), value);
    }
    Ok(normalise(out))
}

/// `params` without the entries equal to OpenWeights' defaults.
pub fn normalise(mut params: Map<String, Value>) -> Map<String, Value> {
    for (name, default) in defaults().into_iter().chain(extra_defaults()) {
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
    let extra = extra(&hp.extra.clone().into_iter().collect())?;
    p.extend(extra);
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
            extra: Map::new(),
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

    #[test]
    fn openweights_only_hyperparameters_are_checked_and_normalised() {
        let table = |pairs: Value| -> std::collections::BTreeMap<String, Value> {
            serde_json::from_value(pairs).unwrap()
        };
        let e = extra(&table(
            json!({"r": 32, "lora_alpha": 16, "use_rslora": true}),
        ))
        .unwrap();
        assert_eq!(
            Value::Object(e.clone()),
            json!({"r": 32}),
            "defaults dropped"
        );
        let mut h = hp(None, None, None);
        h.extra = e;
        let p = finetune_params("a/b", "f", &h, 1).unwrap();
        assert_eq!(p["r"], json!(32));
        h.extra = extra(&table(json!({"r": 16.0, "lora_dropout": 0}))).unwrap();
        assert_eq!(
            finetune_params("a/b", "f", &h, 1).unwrap(),
            finetune_params("a/b", "f", &hp(None, None, None), 1).unwrap(),
            "a default spelled out sends the same arguments"
        );
        let err = |v: Value| format!("{:#}", extra(&table(v)).unwrap_err());
        assert!(err(json!({"r": 0})).contains("r must be a whole number of at least 1"));
        assert!(err(json!({"lora_bias": "some"})).contains("one of none, all"));
        assert!(err(json!({"seed": 4})).contains("the replica's seed"));
        assert!(err(json!({"rank": 4})).contains("known: r, lora_alpha"));
    }
}
