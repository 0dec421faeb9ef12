//! `weirdgen import`: existing question files as a suite skeleton (probes and judges).
//!
//! Two formats are read, item by item, and may be mixed in one file:
//! - llmcomp YAML (and its older `llmcompare` form): a list of items with `name` (or `id`),
//!   `type` `free_form` / `rating` / `next_token` questions with `paraphrases` (or single-turn
//!   `messages`), `samples_per_paraphrase`, `system`, `temperature`, `max_tokens` and `judges`
//!   (column → judge item name, or an inline definition), and `free_form_judge` /
//!   `rating_judge` items whose first paraphrase is a `{question}`/`{answer}` template;
//! - Emergent Misalignment YAML: `type: free_form_judge_0_100` items with `id`, `paraphrases`,
//!   `judge` (the judge model) and `judge_prompts` (named 0–100 templates), anchors and `<<:`
//!   merges included.
//!
//! Questions become probes (each listing its judges explicitly); rating judges and judge
//! prompts become `llm_rating` judges; free-form judges become `llm_free_form` judges, their
//! prompt kept verbatim, with the labels of interest guessed from the prompt. A judge that a
//! question names but its file does not define is looked up, as llmcomp does, in the other
//! question files of its folder. Anything that cannot be carried over is reported as a
//! warning naming its line, never dropped silently.

mod convert;
mod lines;

use crate::suite::{ArmSpec, Suite};
use anyhow::{Context, Result, anyhow, bail};
use indexmap::IndexMap;
use serde_yaml::Value;
use std::path::Path;

/// A suite skeleton and what could not be carried over.
#[derive(Debug, Clone)]
pub struct ImportResult {
    /// The suite YAML (probes, judges, a `base` arm), with the warnings as a header comment.
    pub suite_yaml: String,
    /// `file:line: message` for every construct that was changed or not imported.
    pub warnings: Vec<String>,
}

/// Converts the question file at `path` into a suite skeleton named after the file.
pub fn import(path: &Path) -> Result<ImportResult> {
    import_as(path, path)
}

/// [`import`], the suite named after `name_from` (the file it will be written to, whose
/// name a suite must carry).
pub fn import_as(path: &Path, name_from: &Path) -> Result<ImportResult> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{file}: cannot read"))?;
    let mut value: Value =
        serde_yaml::from_str(&text).map_err(|e| anyhow!(crate::yaml_error::describe(&file, &e)))?;
    value.apply_merge().map_err(|e| anyhow!("{file}: {e}"))?;
    let Value::Sequence(items) = &value else {
        bail!(
            "{file}: expected a list of question items at the top level (llmcomp or Emergent Misalignment format)"
        );
    };
    let lines = lines::KeyLines::new(&text);
    let siblings = siblings(path);
    let mut converter = convert::Converter::new(&file, &lines, &siblings);
    converter.run(items);
    let warnings = converter.warnings();
    if converter.probes.is_empty() {
        bail!(
            "{file}: no question could be imported\n{}",
            warnings.join("\n")
        );
    }
    let suite = skeleton(name_from, converter.probes, converter.judges);
    let suite_yaml = render(&suite, &file, &warnings)?;
    Ok(ImportResult {
        suite_yaml,
        warnings,
    })
}

/// The other YAML files of `path`'s folder that hold a list of items, in name order: where
/// llmcomp looks up a judge that a question names but its file does not define.
fn siblings(path: &Path) -> Vec<convert::Sibling> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && p.file_name() != path.file_name()
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let mut value: Value = serde_yaml::from_str(&text).ok()?;
            value.apply_merge().ok()?;
            let Value::Sequence(items) = value else {
                return None;
            };
            Some(convert::Sibling {
                file: p.display().to_string(),
                lines: lines::KeyLines::new(&text),
                items,
            })
        })
        .collect()
}

/// The suite: named after the file, a `base` arm, the probes and judges; a judge model shared
/// by every judge moves to the suite's `judge_model`.
fn skeleton(
    path: &Path,
    mut probes: IndexMap<String, crate::suite::ProbeSpec>,
    mut judges: IndexMap<String, crate::suite::JudgeSpec>,
) -> Suite {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    let name = if name.is_empty() {
        "imported".to_string()
    } else {
        name
    };
    // Without any judge (every one it names is undefined), a probe's empty list would not
    // load: no `judges` key means the same, every judge of the suite, none.
    if judges.is_empty() {
        for p in probes.values_mut() {
            p.judges = None;
        }
    }
    let models: Vec<Option<String>> = judges.values().map(|j| j.model.clone()).collect();
    let judge_model = match models.first() {
        Some(Some(m)) if models.iter().all(|x| x.as_deref() == Some(m)) => {
            for j in judges.values_mut() {
                j.model = None;
            }
            Some(m.clone())
        }
        _ => None,
    };
    let description = format!(
        "Imported from {} by `weirdgen import`: {} probes and {} judges. Add datasets, \
         fine-tuned arms and the expected effects.",
        path.file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
        probes.len(),
        judges.len()
    );
    let base = ArmSpec {
        description: Some("The model under test.".to_string()),
        model: Some("base".to_string()),
        finetune: None,
        models: None,
        replicas: None,
        seeds: None,
        screen: None,
    };
    Suite {
        name,
        description,
        reference: None,
        tags: vec!["imported".to_string()],
        hazard: None,
        source: None,
        default_model: None,
        judge_model,
        sampling: Default::default(),
        datasets: IndexMap::new(),
        arms: IndexMap::from([("base".to_string(), base)]),
        probes,
        judges,
        effects: Vec::new(),
        correction: Default::default(),
        baseline: Default::default(),
        judge_agreement: Default::default(),
    }
}

/// The suite as YAML without the keys that only repeat defaults, after a header comment; it
/// is checked to read back as the same suite.
fn render(suite: &Suite, file: &str, warnings: &[String]) -> Result<String> {
    let mut value = serde_yaml::to_value(suite)?;
    let top = value
        .as_mapping_mut()
        .context("a suite serializes as a mapping")?;
    for key in [
        "sampling",
        "datasets",
        "effects",
        "correction",
        "baseline",
        "judge_agreement",
    ] {
        top.shift_remove(key);
    }
    if let Some(judges) = top.get_mut("judges").and_then(Value::as_mapping_mut) {
        for judge in judges.values_mut().filter_map(Value::as_mapping_mut) {
            if judge.get("case_sensitive") == Some(&Value::Bool(false)) {
                judge.shift_remove("case_sensitive");
            }
        }
    }
    let body = serde_yaml::to_string(&value)?;
    let back: Suite = serde_yaml::from_str(&body)
        .context("the imported skeleton does not read back as a suite")?;
    if serde_json::to_value(&back)? != serde_json::to_value(suite)? {
        bail!("the imported skeleton does not read back as the same suite");
    }
    let mut out = format!(
        "# Suite skeleton imported by `weirdgen import` from {file}.\n\
         # It declares probes and judges only: add datasets, fine-tuned arms and effects, and give\n\
         # every judge at least ten `examples` before trusting its numbers.\n"
    );
    if !warnings.is_empty() {
        out.push_str("# Import warnings:\n");
        for w in warnings {
            out.push_str(&format!("#   {}\n", w.replace('\n', " ")));
        }
    }
    out.push_str(&body);
    Ok(out)
}
