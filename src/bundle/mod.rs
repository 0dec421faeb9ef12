//! Run bundles: a folder holding everything needed to re-derive a run's numbers with no store
//! and no network, and its offline replay.
//!
//! A bundle holds `manifest.json` (versions, the suite's fingerprint, the resolved models,
//! fine-tune jobs with seeds and hyperparameters, the judge model, dates), `suite.json` (the
//! resolved suite: datasets' definitions, arms, probes with their sampling, judges, effects),
//! `suite.yaml` (the suite's file as written) and `datasets.jsonl` (each dataset's content as
//! hashed), from which a replay recomputes the suite's fingerprint, `answers.jsonl` (one line per sample), `judgments.jsonl` (one line per judgment) and
//! `results.json` (every effect's estimate, interval, p-values and verdict). API keys never
//! enter it: it is written from the run's records, never from a provider's configuration.

mod files;
mod replay;
mod write;

pub use files::{
    AnswerLine, ArmRecord, DatasetLine, FinetuneRecord, JudgmentLine, Manifest, MetricTotals,
    ReplicaRecord, ResultsFile,
};
pub use replay::{Bundle, Replay, fingerprint_of, read, replay};
pub use write::{BundleMeta, write};

/// The bundle layout's version; a reader refuses other versions.
pub const FORMAT: u32 = 2;

/// A JSON file's text as bundles and sites write it (pretty, one final newline): the one form
/// replay compares byte for byte.
pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(|t| t + "\n")
}
