//! The records of a bundle's files.

use crate::judge::JudgeOutput;
use crate::model::Hyperparameters;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `manifest.json`: where the numbers come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`super::FORMAT`].
    pub format: u32,
    /// The weirdgen version that wrote the bundle.
    pub weirdgen_version: String,
    pub suite: String,
    /// The suite's fingerprint: blake3 over its YAML and every dataset's content.
    pub fingerprint: String,
    /// The model under test, as resolved.
    pub model: String,
    /// The model that ran the LLM judges, when the suite has any.
    pub judge_model: Option<String>,
    pub arms: Vec<ArmRecord>,
    /// When the bundle was written (RFC 7231 date, UTC).
    pub created: String,
    /// What a reader of the results must know about how they were obtained.
    pub notes: Vec<String>,
}

/// One arm and the models that answered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmRecord {
    pub name: String,
    /// A single fixed model: no fine-tune variance.
    pub fixed: bool,
    pub replicas: Vec<ReplicaRecord>,
}

/// One replica of an arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaRecord {
    /// The model that answered (`provider/model`).
    pub model: String,
    /// Set when the replica failed the arm's `screen`, with the value it reached.
    pub screened_out: Option<f64>,
    /// The fine-tune that made the model, when the store holds its job.
    pub finetune: Option<FinetuneRecord>,
}

/// A fine-tune job as the store recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinetuneRecord {
    /// The provider's job id.
    pub job_id: Option<String>,
    pub base_model: String,
    pub dataset: String,
    /// Content hash of the uploaded dataset.
    pub dataset_hash: String,
    pub seed: u64,
    pub hyperparameters: Hyperparameters,
    /// Unix seconds.
    pub created_at: i64,
}

/// One line of `datasets.jsonl`: a dataset the suite's fingerprint covers, as hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetLine {
    pub name: String,
    /// The exact text whose blake3 is the dataset's content hash: the fine-tuning upload
    /// (JSONL), or a distilled dataset's prompts as JSONL.
    pub jsonl: String,
}

/// One line of `answers.jsonl`: one sampled answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerLine {
    pub arm: String,
    pub replica: u32,
    /// Index of the probe cell in the suite's expansion.
    pub cell: u32,
    pub probe: String,
    pub vars: BTreeMap<String, String>,
    pub paraphrase: u32,
    pub sample: u32,
    pub text: String,
}

/// One line of `judgments.jsonl`: a judge's output on one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgmentLine {
    pub judge: String,
    pub arm: String,
    pub replica: u32,
    pub cell: u32,
    pub sample: u32,
    pub output: JudgeOutput,
}

/// `results.json`: the numbers a replay must reproduce exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    /// Per metric, the per-(arm, replica, cell) totals the effects are computed from.
    pub metrics: Vec<MetricTotals>,
    /// Every declared effect's estimate, intervals, p-values and verdict.
    pub effects: Vec<crate::effect::EffectResult>,
}

/// One metric's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricTotals {
    pub metric: crate::run::MetricKey,
    pub aggregate: crate::effect::Aggregate,
}

impl ResultsFile {
    /// The results file of a suite's results.
    pub fn of(results: &crate::run::SuiteResults) -> ResultsFile {
        ResultsFile {
            metrics: results
                .metrics
                .iter()
                .map(|(k, a)| MetricTotals {
                    metric: k.clone(),
                    aggregate: a.clone(),
                })
                .collect(),
            effects: results.effects.iter().map(|(_, r)| r.clone()).collect(),
        }
    }
}
