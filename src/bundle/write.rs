//! Writing a run's bundle.

use super::files::{
    AnswerLine, ArmRecord, DatasetLine, FinetuneRecord, JudgmentLine, Manifest, ReplicaRecord,
    ResultsFile,
};
use crate::run::{RunOutcome, SuiteResults};
use crate::store::JobRecord;
use crate::suite::LoadedSuite;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// What the bundle records beyond the run itself.
pub struct BundleMeta {
    /// The store's fine-tune jobs: a replica's model is matched to the job that made it.
    pub jobs: Vec<JobRecord>,
    /// The model that ran the LLM judges, when the suite has any.
    pub judge_model: Option<String>,
    /// When the bundle is written (RFC 7231 date, UTC).
    pub created: String,
}

impl BundleMeta {
    /// The store's jobs, the suite's judge model as a run resolves it, and the current time.
    pub fn collect(suite: &LoadedSuite, store: &crate::store::Store) -> Result<BundleMeta> {
        let judge_model = suite
            .judges
            .values()
            .find(|j| j.method.is_llm())
            .map(crate::judge::llm::judge_model)
            .transpose()?
            .map(|m| m.to_string());
        Ok(BundleMeta {
            jobs: store.jobs()?,
            judge_model,
            created: httpdate::fmt_http_date(std::time::SystemTime::now()),
        })
    }
}

/// Writes the bundle of `outcome` and its `results` into `dir` (created; files in it are
/// replaced).
pub fn write(
    dir: &Path,
    suite: &LoadedSuite,
    outcome: &RunOutcome,
    results: &SuiteResults,
    meta: &BundleMeta,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let finetune_of = |model: &str| {
        meta.jobs
            .iter()
            .find(|j| j.model.as_deref() == Some(model))
            .map(|j| FinetuneRecord {
                job_id: j.job_id.clone(),
                base_model: j.base_model.clone(),
                dataset: j.dataset_name.clone(),
                dataset_hash: j.dataset_hash.clone(),
                seed: j.seed,
                hyperparameters: j.hyperparameters.clone(),
                created_at: j.created_at,
            })
    };
    let arms = outcome
        .arms
        .iter()
        .map(|a| ArmRecord {
            name: a.name.clone(),
            fixed: a.fixed,
            replicas: a
                .replicas
                .iter()
                .map(|r| {
                    let model = r.model.to_string();
                    ReplicaRecord {
                        finetune: if a.fixed { None } else { finetune_of(&model) },
                        model,
                        screened_out: r.screened_out,
                    }
                })
                .collect(),
        })
        .collect();
    let manifest = Manifest {
        format: super::FORMAT,
        weirdgen_version: env!("CARGO_PKG_VERSION").to_string(),
        suite: outcome.suite.clone(),
        fingerprint: suite.hash.clone(),
        model: outcome.model.to_string(),
        judge_model: meta.judge_model.clone(),
        arms,
        created: meta.created.clone(),
        notes: outcome.notes.clone(),
    };
    let yaml = std::fs::read_to_string(&suite.path)
        .with_context(|| format!("cannot read {}", suite.path.display()))?;
    let datasets: Vec<DatasetLine> = suite
        .datasets
        .iter()
        .filter_map(|(name, ds)| {
            Some(DatasetLine {
                name: name.clone(),
                jsonl: ds.hashed_text()?,
            })
        })
        .collect();
    if super::fingerprint_of(&yaml, &datasets) != suite.hash {
        bail!(
            "{} changed since the run loaded it: run again",
            suite.path.display()
        );
    }
    write_json(&dir.join("manifest.json"), &manifest)?;
    write_json(&dir.join("suite.json"), &suite.suite)?;
    std::fs::write(dir.join("suite.yaml"), &yaml)
        .with_context(|| format!("cannot write {}", dir.join("suite.yaml").display()))?;
    write_jsonl(&dir.join("datasets.jsonl"), &datasets)?;
    let mut answers = Vec::new();
    for (a, arm) in outcome.answers.iter().enumerate() {
        for (r, replica) in arm.iter().enumerate() {
            for (c, texts) in replica.iter().enumerate() {
                let cell = &outcome.cells[c];
                for (s, text) in texts.iter().enumerate() {
                    answers.push(AnswerLine {
                        arm: outcome.arms[a].name.clone(),
                        replica: r as u32,
                        cell: c as u32,
                        probe: cell.probe.clone(),
                        vars: cell.vars.clone(),
                        paraphrase: cell.paraphrase,
                        sample: s as u32,
                        text: text.clone(),
                    });
                }
            }
        }
    }
    write_jsonl(&dir.join("answers.jsonl"), &answers)?;
    let judgments: Vec<JudgmentLine> = outcome
        .judgments
        .iter()
        .flat_map(|(judge, js)| {
            js.iter().map(move |j| JudgmentLine {
                judge: judge.clone(),
                arm: outcome.arms[j.arm as usize].name.clone(),
                replica: j.replica,
                cell: j.cell,
                sample: j.sample,
                output: j.output.clone(),
            })
        })
        .collect();
    write_jsonl(&dir.join("judgments.jsonl"), &judgments)?;
    write_json(&dir.join("results.json"), &ResultsFile::of(results))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    std::fs::write(path, super::json_text(value)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn write_jsonl<T: Serialize>(path: &Path, lines: &[T]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for line in lines {
        serde_json::to_writer(&mut out, line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}
