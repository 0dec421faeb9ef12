//! Planning and executing a suite against a model through the store: datasets, fine-tunes,
//! samples and judgments, with bounded concurrency and progress. Knows no statistics: it
//! hands a tidy table of judged samples to [`crate::effect`].

mod batch;
mod claim;
mod datasets;
mod execute;
mod finetune;
mod judge_check;
mod judging;
mod observe;
mod plan;
mod progress;
mod sampling;

pub use execute::{execute, header};
pub use judge_check::{ExampleCheck, check_judge_examples};
pub use observe::{MetricKey, SuiteResults, evaluate, evaluate_aggregates, metric_of, restrict};
pub use plan::{Plan, PlannedReplica, ReplicaSource, plan};
pub use progress::Progress;

use crate::judge::JudgeOutput;
use crate::model::ModelRef;
use crate::model::registry::Providers;
use crate::store::Store;
use crate::suite::ProbeCell;
use std::sync::Arc;

/// How a run behaves.
#[derive(Clone)]
pub struct RunOptions {
    /// The model under test.
    pub model: ModelRef,
    /// Allow fine-tunes of a hazard-tagged suite.
    pub allow_hazard: bool,
    /// Use only what the store already holds; anything missing is an error (for reports).
    pub cache_only: bool,
    /// Stop before spending more than this many dollars (estimated from the price table).
    pub max_cost: Option<f64>,
    /// Requests in flight at once, over all providers; a provider's `max_concurrency`, where
    /// set, caps it for that provider (see [`header`]).
    pub concurrency: usize,
    /// Draw the probes' samples through the providers' batch APIs (the OpenAI Batch API:
    /// half price, answered within 24 h) instead of live requests. Judgments and
    /// distillation answers are still asked live.
    pub batch: bool,
    pub progress: Progress,
}

impl RunOptions {
    /// Defaults for `model`: no hazard, live run, 64 requests in flight, no batches, no
    /// progress bars.
    pub fn new(model: ModelRef) -> Self {
        RunOptions {
            model,
            allow_hazard: false,
            cache_only: false,
            max_cost: None,
            concurrency: 64,
            batch: false,
            progress: Progress::hidden(),
        }
    }
}

/// What a run needs from its surroundings.
#[derive(Clone)]
pub struct RunContext {
    pub store: Arc<Store>,
    pub providers: Arc<Providers>,
}

/// One replica of an arm after the run: which model answered, and whether it was analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaOutcome {
    pub model: ModelRef,
    /// Set when the replica failed the arm's `screen`, with the value it reached.
    pub screened_out: Option<f64>,
}

/// One arm after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmOutcome {
    pub name: String,
    /// A single fixed model (the base or a model by reference): no fine-tune variance.
    pub fixed: bool,
    pub replicas: Vec<ReplicaOutcome>,
}

/// A judged sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub arm: u32,
    pub replica: u32,
    pub cell: u32,
    pub sample: u32,
    pub output: JudgeOutput,
}

/// Everything a run produced: the arms' models, the cells, the answers and their judgments.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub suite: String,
    pub suite_hash: String,
    pub model: ModelRef,
    pub arms: Vec<ArmOutcome>,
    pub cells: Vec<ProbeCell>,
    /// `answers[arm][replica][cell]` holds the cell's samples, in index order.
    pub answers: Vec<Vec<Vec<Vec<String>>>>,
    /// Judgments by judge name.
    pub judgments: indexmap::IndexMap<String, Vec<Judged>>,
    /// What the run did: fine-tunes started/reused, samples asked/cached, judgments...
    pub counts: Counts,
    /// What a reader of the results must know about how they were obtained (e.g. a rating
    /// judge whose provider gives no log-probabilities).
    pub notes: Vec<String>,
}

/// Work done by a run, for the run record and the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Counts {
    pub finetunes_started: u64,
    pub finetunes_reused: u64,
    pub samples_requested: u64,
    /// Of `samples_requested`, those drawn through a batch API (`--batch`).
    pub samples_batched: u64,
    pub samples_cached: u64,
    pub judgments_requested: u64,
    pub judgments_cached: u64,
    pub screened_out: u64,
}
