//! Reading a bundle and recomputing its results from its answers' judgments alone.

use super::files::{AnswerLine, DatasetLine, JudgmentLine, Manifest, ResultsFile};
use crate::model::ModelRef;
use crate::run::{ArmOutcome, Counts, Judged, ReplicaOutcome, RunOutcome, SuiteResults};
use crate::suite::{LoadedSuite, Suite};
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// A bundle as read from its folder.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub suite: Suite,
    /// `suite.yaml`: the suite's file as written.
    pub suite_yaml: String,
    pub datasets: Vec<DatasetLine>,
    pub answers: Vec<AnswerLine>,
    pub judgments: Vec<JudgmentLine>,
    pub results: ResultsFile,
    /// `results.json` as written, byte for byte.
    pub results_text: String,
}

/// A bundle's results recomputed from its judgments.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The suite as the bundle resolved it (no datasets or source: the numbers need none).
    pub suite: LoadedSuite,
    pub outcome: RunOutcome,
    pub results: SuiteResults,
    /// The recomputed `results.json`, serialized exactly as a bundle writes it.
    pub results_text: String,
    /// Effects (and metrics) whose recomputed numbers differ from the bundle's, and the
    /// suite's fingerprint when the one recomputed from `suite.yaml` and `datasets.jsonl`
    /// (or the suite that `suite.yaml` declares) is not the bundle's; empty when the replay
    /// reproduces `results.json` byte for byte from the suite the manifest names.
    pub differences: Vec<String>,
}

/// A suite's fingerprint from its YAML text and its datasets as hashed (see
/// [`crate::suite::fingerprint`]).
pub fn fingerprint_of(yaml: &str, datasets: &[DatasetLine]) -> String {
    crate::suite::fingerprint(
        yaml,
        datasets.iter().map(|d| {
            (
                d.name.clone(),
                blake3::hash(d.jsonl.as_bytes()).to_hex().to_string(),
            )
        }),
    )
}

/// Where the bundle's suite is not the one its manifest's fingerprint names.
fn suite_differences(bundle: &Bundle) -> Vec<String> {
    let mut out = Vec::new();
    let recomputed = fingerprint_of(&bundle.suite_yaml, &bundle.datasets);
    if recomputed != bundle.manifest.fingerprint {
        out.push(format!(
            "the suite fingerprint: manifest.json states {}, suite.yaml with datasets.jsonl give {}",
            bundle.manifest.fingerprint, recomputed
        ));
    }
    // A suite with no external `source` resolves to its file: suite.json must be it.
    match crate::suite::parse_suite(&bundle.dir.join("suite.yaml"), &bundle.suite_yaml) {
        Ok(declared) if declared.source.is_none() => {
            if json(&declared) != json(&bundle.suite) {
                out.push("suite.json (it is not the suite suite.yaml declares)".to_string());
            }
        }
        Ok(_) => {}
        Err(e) => out.push(format!("suite.yaml does not parse: {e}")),
    }
    out
}

/// Reads the bundle in `dir`.
pub fn read(dir: &Path) -> Result<Bundle> {
    let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
    if manifest.format != super::FORMAT {
        bail!(
            "{}: bundle format {} (this weirdgen reads format {})",
            dir.join("manifest.json").display(),
            manifest.format,
            super::FORMAT
        );
    }
    let results_path = dir.join("results.json");
    let results_text = std::fs::read_to_string(&results_path)
        .with_context(|| format!("cannot read {}", results_path.display()))?;
    Ok(Bundle {
        dir: dir.to_path_buf(),
        manifest,
        suite: read_json(&dir.join("suite.json"))?,
        suite_yaml: std::fs::read_to_string(dir.join("suite.yaml"))
            .with_context(|| format!("cannot read {}", dir.join("suite.yaml").display()))?,
        datasets: read_jsonl(&dir.join("datasets.jsonl"))?,
        answers: read_jsonl(&dir.join("answers.jsonl"))?,
        judgments: read_jsonl(&dir.join("judgments.jsonl"))?,
        results: parse_json(&results_path, &results_text)?,
        results_text,
    })
}

/// Recomputes every metric, estimate, interval, p-value and verdict of `bundle` from its
/// judgments, with the suite's effects and correction as the bundle records them.
pub fn replay(bundle: &Bundle) -> Result<Replay> {
    let effects = bundle
        .suite
        .effects
        .iter()
        .map(|e| {
            crate::suite::Effect::new(e).map_err(|m| anyhow::anyhow!("effect `{}`: {m}", e.name))
        })
        .collect::<Result<Vec<_>>>()?;
    let suite = LoadedSuite {
        judges: crate::suite::judge_defs(&bundle.suite, None),
        effects,
        suite: bundle.suite.clone(),
        path: bundle.dir.join("suite.json"),
        dir: bundle.dir.clone(),
        hash: bundle.manifest.fingerprint.clone(),
        datasets: IndexMap::new(),
        source: None,
    };
    let outcome = outcome_of(bundle, &suite)?;
    let results = crate::run::evaluate(&suite, &outcome)?;
    let file = ResultsFile::of(&results);
    let results_text = super::json_text(&file)?;
    let mut differences = suite_differences(bundle);
    let before = differences.len();
    if results_text != bundle.results_text {
        for (i, e) in file.effects.iter().enumerate() {
            match bundle.results.effects.get(i) {
                Some(b) if json(b) == json(e) => {}
                _ => differences.push(format!("effect `{}`", e.name)),
            }
        }
        for (i, m) in file.metrics.iter().enumerate() {
            match bundle.results.metrics.get(i) {
                Some(b) if json(b) == json(m) => {}
                _ => differences.push(format!("metric `{}`", m.metric)),
            }
        }
        if differences.len() == before {
            differences.push("results.json (layout)".to_string());
        }
    }
    Ok(Replay {
        suite,
        outcome,
        results,
        results_text,
        differences,
    })
}

/// A value's compact JSON, for comparing numbers exactly as written.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The run as the bundle records it: arms, the suite's cells, answers and judgments.
fn outcome_of(bundle: &Bundle, suite: &LoadedSuite) -> Result<RunOutcome> {
    let m = &bundle.manifest;
    let cells = suite.cells();
    let arm_index = |name: &str, what: &str| {
        m.arms
            .iter()
            .position(|a| a.name == name)
            .with_context(|| format!("{what}: arm `{name}` is not in manifest.json"))
    };
    let mut arms = Vec::new();
    for a in &m.arms {
        let replicas = a
            .replicas
            .iter()
            .map(|r| {
                Ok(ReplicaOutcome {
                    model: r.model.parse::<ModelRef>()?,
                    screened_out: r.screened_out,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        arms.push(ArmOutcome {
            name: a.name.clone(),
            fixed: a.fixed,
            replicas,
        });
    }
    let mut answers: Vec<Vec<Vec<Vec<String>>>> = arms
        .iter()
        .map(|a| vec![vec![Vec::new(); cells.len()]; a.replicas.len()])
        .collect();
    for (n, line) in bundle.answers.iter().enumerate() {
        let at = format!("answers.jsonl line {}", n + 1);
        let arm = arm_index(&line.arm, &at)?;
        let cell = cells
            .get(line.cell as usize)
            .with_context(|| format!("{at}: no probe cell {}", line.cell))?;
        if cell.probe != line.probe || cell.vars != line.vars || cell.paraphrase != line.paraphrase
        {
            bail!(
                "{at}: cell {} is `{}` {:?} in the bundle's suite, not `{}` {:?}",
                line.cell,
                cell.probe,
                cell.vars,
                line.probe,
                line.vars
            );
        }
        let texts = answers[arm]
            .get_mut(line.replica as usize)
            .with_context(|| format!("{at}: arm `{}` has no replica {}", line.arm, line.replica))?
            .get_mut(line.cell as usize)
            .expect("cell checked above");
        if texts.len() != line.sample as usize {
            bail!("{at}: sample {} is out of order", line.sample);
        }
        texts.push(line.text.clone());
    }
    let mut judgments: IndexMap<String, Vec<Judged>> = IndexMap::new();
    for (n, line) in bundle.judgments.iter().enumerate() {
        let at = format!("judgments.jsonl line {}", n + 1);
        let arm = arm_index(&line.arm, &at)?;
        if line.cell as usize >= cells.len() {
            bail!("{at}: no probe cell {}", line.cell);
        }
        if line.replica as usize >= arms[arm].replicas.len() {
            bail!("{at}: arm `{}` has no replica {}", line.arm, line.replica);
        }
        judgments
            .entry(line.judge.clone())
            .or_default()
            .push(Judged {
                arm: arm as u32,
                replica: line.replica,
                cell: line.cell,
                sample: line.sample,
                output: line.output.clone(),
            });
    }
    Ok(RunOutcome {
        suite: m.suite.clone(),
        suite_hash: m.fingerprint.clone(),
        model: m.model.parse()?,
        arms,
        cells,
        answers,
        judgments,
        counts: Counts::default(),
        notes: m.notes.clone(),
    })
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_json(path, &text)
}

fn parse_json<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
}

fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l)
                .map_err(|e| anyhow::anyhow!("{}:{}:{}: {e}", path.display(), n + 1, e.column()))
        })
        .collect()
}
