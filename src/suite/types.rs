//! The suite language: the typed form of one suite YAML file.
//!
//! Every struct denies unknown keys. Fields that only some variants use are `Option`s and
//! the loader checks their combinations, naming the key path of any mistake; this keeps
//! serde's own errors precise (file:line:column) instead of "did not match any variant".

use super::extract::{Affix, Locator};
pub use super::source::SourceSpec;
use crate::chat::Role;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One experiment: training data, arms, probes, judges and the effects its authors expect.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Suite name: letters, digits and `-`; it names the trials and the snapshot files.
    pub name: String,
    /// What the experiment shows.
    #[serde(default)]
    pub description: String,
    /// Where it was published (paper and section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A hazard class (e.g. `persona-poisoning`): fine-tunes of such a suite start only
    /// with `--allow-hazard` (CLI) or `WEIRDGEN_ALLOW_HAZARD=1` (harness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard: Option<String>,
    /// An external checkout the suite reads pinned files from (see [`SourceSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSpec>,
    /// The model under test when none is given (`provider/model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// The model that runs LLM judges (overridden by `WEIRDGEN_JUDGE_MODEL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<String>,
    /// Sampling defaults for every probe.
    #[serde(default)]
    pub sampling: SamplingDefaults,
    /// Fine-tuning datasets by name.
    #[serde(default)]
    pub datasets: IndexMap<String, DatasetSpec>,
    /// The arms of the experiment by name.
    pub arms: IndexMap<String, ArmSpec>,
    /// Questions asked of every arm, by name.
    pub probes: IndexMap<String, ProbeSpec>,
    /// How answers become labels or scores, by name.
    #[serde(default)]
    pub judges: IndexMap<String, JudgeSpec>,
    /// The expected effects, as statistical claims.
    #[serde(default)]
    pub effects: Vec<EffectDecl>,
    /// Multiple-comparison correction across this suite's effects.
    #[serde(default)]
    pub correction: CorrectionName,
    /// How a run is compared with its snapshot baseline.
    #[serde(default)]
    pub baseline: BaselineSpec,
    /// The agreement a judge must reach on its `examples` before its numbers are trusted.
    #[serde(default)]
    pub judge_agreement: AgreementSpec,
}

/// Sampling defaults; each probe may override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplingDefaults {
    /// Samples per probe cell (probe × paraphrase × variable values).
    #[serde(default = "default_samples")]
    pub samples: u32,
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
}

fn default_samples() -> u32 {
    100
}
fn default_temperature() -> f64 {
    1.0
}
fn default_max_tokens() -> u32 {
    512
}

impl Default for SamplingDefaults {
    fn default() -> Self {
        SamplingDefaults {
            samples: default_samples(),
            temperature: default_temperature(),
            top_p: None,
            max_tokens: default_max_tokens(),
        }
    }
}

/// A fine-tuning dataset: exactly one source among `file`, `table`, `rows` and `mix`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A chat JSONL file (`{"messages":[...]}` per line), relative to the suite's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A chat JSONL file of the suite's `source`, uploaded byte for byte as it is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_source: Option<String>,
    /// A CSV table with a header row, relative to the suite's folder; each row fills `template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Inline rows; each row fills `template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<IndexMap<String, Scalar>>>,
    /// The concatenation of other datasets of this suite, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<Vec<String>>,
    /// Answers generated by a model (by default the model under test: self-distillation) to
    /// the prompts of `table` or `rows` filled into `template` (whose last message is the
    /// user's); built when the suite runs and cached in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<DistillSpec>,
    /// Messages with `{column}` placeholders, filled from each row of `table` or `rows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Vec<MessageTemplate>>,
    /// Keep only rows whose columns have these values.
    #[serde(default, rename = "where", skip_serializing_if = "IndexMap::is_empty")]
    pub filter: IndexMap<String, OneOrMany>,
    /// Columns whose values are permuted across rows (with `seed`): a shuffled control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shuffle: Vec<String>,
    /// Seed of `shuffle`.
    #[serde(default)]
    pub seed: u64,
}

/// How a distilled dataset's answers are generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistillSpec {
    /// `base` (default: the model under test) or `provider/model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Sampling temperature (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Answer length limit (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

impl DistillSpec {
    /// The sampling temperature of the answers (default 0).
    pub fn answer_temperature(&self) -> f64 {
        self.temperature.unwrap_or(0.0)
    }

    /// The answers' length limit (default 1024).
    pub fn answer_max_tokens(&self) -> u32 {
        self.max_tokens.unwrap_or(1024)
    }
}

/// A message with `{name}` placeholders (`{{` and `}}` for literal braces).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub role: Role,
    pub content: String,
}

/// An arm: exactly one of `model`, `finetune` and `models`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `base` (the model under test) or a fixed model `provider/model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Fine-tunes of the model under test (or of `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finetune: Option<FinetuneSpec>,
    /// Already-trained models, one replica each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Number of fine-tunes (default 1); with `finetune` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Fine-tuning seeds, one per replica (default 1, 2, ..., replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<u64>>,
    /// Keep only replicas that pass an in-distribution check (declared, and reported with
    /// the number screened out), e.g. fine-tunes that learned their training task at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<ScreenSpec>,
}

/// An in-distribution check a replica must pass to be analysed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenSpec {
    /// The probes of the check (they should ask what the fine-tune was trained on).
    pub probes: Vec<String>,
    pub metric: MetricSpec,
    /// The smallest rate (or mean) a replica must reach on those probes.
    pub min: f64,
}

/// A fine-tune: dataset and hyperparameters (`None` is the provider's default).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FinetuneSpec {
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate_multiplier: Option<f64>,
    /// Hyperparameters only OpenWeights has, by its names (e.g. `r`, `lora_alpha`): used
    /// when the base model is an `openweights/` model, ignored otherwise.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub openweights: std::collections::BTreeMap<String, serde_json::Value>,
    /// The model to fine-tune: `base` (default, the model under test) or `provider/model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A question put to every arm: `question` or `paraphrases`, expanded over the grid of
/// `vars` (and the rows of `cases`), each cell sampled `samples` times.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The question, with `{var}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// Alternative wordings of the question; answers are pooled across them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paraphrases: Option<Vec<String>>,
    /// The paraphrases, read from a pinned file of the suite's `source` (used as they are
    /// there, between `prefix` and `suffix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Locator>,
    /// With `from`: the variable each located text is a value of (one cell per text, so a
    /// judge prompt can show it without the prefix), instead of a paraphrase. A `chat`
    /// locator needs it: it holds each row's user turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each_as: Option<String>,
    /// Text put before each located paraphrase (a template over `vars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Affix>,
    /// Text put after each located paraphrase (a template over `vars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<Affix>,
    /// A system prompt, with `{var}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Variables expanded as a grid, e.g. `year: [1984, 1995]` or `year: {from: 1981, to: 2025}`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub vars: IndexMap<String, VarValues>,
    /// Explicit variable assignments (crossed with the `vars` grid), for values that go together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<Vec<IndexMap<String, Scalar>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The judges that score this probe (default: every judge of the suite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judges: Option<Vec<String>>,
}

/// The values of one probe variable: a list, or an integer range `{from, to, step}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum VarValues {
    List(Vec<Scalar>),
    Range {
        from: i64,
        to: i64,
        #[serde(default = "one")]
        step: i64,
    },
}

fn one() -> i64 {
    1
}

/// Judge kinds. Deterministic kinds use `rules` (label → patterns); LLM kinds use `prompt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JudgeKind {
    /// A label whose regular expression matches the answer.
    Regex,
    /// A label one of whose words (or phrases) appears in the answer as a whole word.
    ContainsAny,
    /// A label one of whose prefixes starts the answer (after trimming).
    Prefix,
    /// A label one of whose strings equals the answer (after trimming).
    Exact,
    /// The letter of a multiple-choice answer (`A`, `B`, ...).
    Choice,
    /// An LLM picks one label from a fixed set, on the final line (`ANSWER: LABEL`).
    LlmLabel,
    /// An LLM rates the answer 0–100; the score is the expectation over its top logprobs.
    LlmRating,
    /// An LLM answers the prompt as it is (llmcomp's `free_form_judge`, temperature 0); the
    /// label is its reply text, unchanged. Labels form an open set.
    LlmFreeForm,
}

impl JudgeKind {
    /// The kind's word in the YAML (`contains_any`).
    pub fn name(self) -> &'static str {
        match self {
            JudgeKind::Regex => "regex",
            JudgeKind::ContainsAny => "contains_any",
            JudgeKind::Prefix => "prefix",
            JudgeKind::Exact => "exact",
            JudgeKind::Choice => "choice",
            JudgeKind::LlmLabel => "llm_label",
            JudgeKind::LlmRating => "llm_rating",
            JudgeKind::LlmFreeForm => "llm_free_form",
        }
    }
}

/// How answers become labels or scores.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeSpec {
    pub kind: JudgeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Deterministic kinds: label → patterns, tried in order; the first label that matches wins.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub rules: IndexMap<String, Vec<String>>,
    /// `regex`: label → a scoring predicate read from a pinned file of the suite's `source`
    /// (a Python lambda, see `extract::startswith_patterns`), added to `rules` as patterns.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub rules_from: IndexMap<String, Locator>,
    /// Deterministic kinds: the label when no rule matches (default: missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<String>,
    /// Deterministic kinds: match case-sensitively (default false).
    #[serde(default)]
    pub case_sensitive: bool,
    /// `choice`: the letters (default `[A, B]`); `llm_label`: the fixed label set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// `choice`: a probe variable holding the letter that counts as `match`; the judge's
    /// labels are then `match` and `mismatch` (for A/B probes asked in both orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_var: Option<String>,
    /// LLM kinds: the prompt, with `{question}`, `{answer}` and probe variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// LLM kinds: the prompt, read from a pinned file of the suite's `source` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_from: Option<Locator>,
    /// `llm_free_form`: label the reply in normal form ([`crate::suite::normal_label`]:
    /// trimmed, enclosing quotes and a final `.` or `!` dropped, whitespace collapsed, lower
    /// case) instead of unchanged (llmcomp's way); for an open set of labels such as names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub normalise: bool,
    /// `llm_free_form`: the judge's reply budget (default 1024, as llmcomp's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// LLM kinds: the judge model (default: the suite's `judge_model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `llm_rating`: the range of the rating (default 0 and 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// `llm_rating`: the share of probability mass that must be on numbers (default 0.25),
    /// else the rating is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_numeric_mass: Option<f64>,
    /// Answers with their expected label (or score), to measure the judge's agreement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<JudgeExample>,
}

/// An answer and what the judge should say of it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeExample {
    /// The question the answer replies to (for LLM judges; default empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    pub answer: String,
    /// The expected label (label judges), or `missing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The expected score (rating judges); agreement within `tolerance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Allowed distance from `score` (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Probe variables the judge may read (e.g. `key_var`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub vars: IndexMap<String, Scalar>,
}

/// What an effect measures: the rate of a judge's label, or the mean of a rating judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub judge: String,
    /// For label judges: the label whose rate is measured. Omitted for rating judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Effect kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EffectKindName {
    /// `treatment` arm vs `control` arm.
    ArmVsArm,
    /// Within `arm`: `condition.treatment` vs `condition.control`, paired by replica and probe.
    Contrast,
    /// The contrast in `treatment` minus the same contrast in `control`.
    DiffInDiff,
    /// The rate (or mean) in `arm` vs the fixed `value`.
    Level,
}

impl EffectKindName {
    /// The kind's word in the YAML (`arm_vs_arm`).
    pub fn name(self) -> &'static str {
        match self {
            EffectKindName::ArmVsArm => "arm_vs_arm",
            EffectKindName::Contrast => "contrast",
            EffectKindName::DiffInDiff => "diff_in_diff",
            EffectKindName::Level => "level",
        }
    }
}

/// The expected direction of an effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectionName {
    Increase,
    Decrease,
    /// No shift: confirmed when equivalence within ± `margin` is shown (TOST).
    None,
}

/// What an effect's claim is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimUnitName {
    /// Fine-tuning in general: needs ≥ 2 replicas per fine-tuned arm (else inconclusive).
    #[default]
    Replica,
    /// The very models run: with 1 replica per arm the claim is about that one fine-tune.
    Sample,
}

/// Two values of a probe variable to contrast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    pub var: String,
    pub treatment: Scalar,
    pub control: Scalar,
}

/// An expected effect: a statistical claim that passes (confirmed) or fails.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectDecl {
    /// Effect name: letters, digits, `-` and `_`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub kind: EffectKindName,
    pub metric: MetricSpec,
    /// `arm_vs_arm`, `diff_in_diff`: the arm expected to show the effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment: Option<String>,
    /// `arm_vs_arm`, `diff_in_diff`: the arm it is compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// `contrast`, `level`: the arm measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// `contrast`, `diff_in_diff`: the two values of a probe variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionSpec>,
    /// `level`: the fixed value compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Probes measured (default: every probe the metric's judge scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<String>>,
    /// Keep only probe cells whose variables have these values.
    #[serde(default, rename = "where", skip_serializing_if = "IndexMap::is_empty")]
    pub filter: IndexMap<String, OneOrMany>,
    pub direction: DirectionName,
    /// `increase`/`decrease`: the smallest effect that counts, on the metric's scale (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_effect: Option<f64>,
    /// `none`: the equivalence margin (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// Significance level (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// What the claim is about: `replica` (default, fine-tuning in general) or `sample` (the
    /// one fine-tune run when an arm has a single replica).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<ClaimUnitName>,
}

/// Multiple-comparison corrections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionName {
    #[default]
    Holm,
    Bonferroni,
    Bh,
    None,
}

/// How a run is compared with its snapshot baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    /// Equivalence margin of each effect's estimate against the baseline's (default 0.1).
    #[serde(default = "default_margin")]
    pub margin: f64,
}

fn default_margin() -> f64 {
    0.1
}

impl Default for BaselineSpec {
    fn default() -> Self {
        BaselineSpec {
            margin: default_margin(),
        }
    }
}

/// The agreement a judge must reach on its examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementSpec {
    #[serde(default = "default_accuracy")]
    pub min_accuracy: f64,
    #[serde(default = "default_kappa")]
    pub min_kappa: f64,
}

fn default_accuracy() -> f64 {
    0.8
}
fn default_kappa() -> f64 {
    0.6
}

impl Default for AgreementSpec {
    fn default() -> Self {
        AgreementSpec {
            min_accuracy: default_accuracy(),
            min_kappa: default_kappa(),
        }
    }
}

/// A YAML scalar (string, number or boolean) kept as its text: `1984`, `on`, `2.5`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(with = "ScalarSchema")]
pub struct Scalar(pub String);

/// Schema stand-in for [`Scalar`].
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum ScalarSchema {
    S(String),
    N(f64),
    B(bool),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One scalar or a list of them (in `where` filters: any of the values).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl OneOrMany {
    /// Whether `value` is one of the accepted values.
    pub fn accepts(&self, value: &str) -> bool {
        match self {
            OneOrMany::One(s) => s.0 == value,
            OneOrMany::Many(v) => v.iter().any(|s| s.0 == value),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeSpec {
    from: i64,
    to: i64,
    #[serde(default = "one")]
    step: i64,
}

impl<'de> Deserialize<'de> for VarValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = VarValues;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of values or a range `{from, to, step}`")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<VarValues, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar>()? {
                    out.push(s);
                }
                Ok(VarValues::List(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<VarValues, A::Error> {
                let r = RangeSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(VarValues::Range {
                    from: r.from,
                    to: r.to,
                    step: r.step,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl VarValues {
    /// The values in order (a range is inclusive of `to`; a non-positive step gives none).
    pub fn values(&self) -> Vec<String> {
        match self {
            VarValues::List(v) => v.iter().map(|s| s.0.clone()).collect(),
            VarValues::Range { from, to, step } => {
                if *step <= 0 {
                    return Vec::new();
                }
                let mut out = Vec::new();
                let mut x = *from;
                while x <= *to {
                    out.push(x.to_string());
                    x += step;
                }
                out
            }
        }
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar>()? {
                    out.push(s);
                }
                Ok(OneOrMany::Many(out))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Scalar(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Scalar(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Scalar(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Scalar(v.to_string())))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Scalar(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}
