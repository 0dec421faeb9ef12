//! Loading a suite file: parse (errors with file:line:column), validate (every problem, with
//! its key path and a hint), read the datasets, hash.

use super::cells::{ProbeCell, expand};
use super::datasets::{ResolvedDataset, resolve};
use super::diags::Diags;
use super::effect_def::Effect;
use super::error::{Diagnostic, KeyPath, SuiteError};
use super::external;
use super::judge_def::{JUDGE_MODEL_ENV, JudgeDef};
use super::limits;
use super::query;
use super::source::{Checkout, SourceRoots};
use super::types::Suite;
use super::validate;
use anyhow::Context;
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

/// A suite that parsed and validated, with its datasets read.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub suite: Suite,
    /// The YAML file, as given to [`load`].
    pub path: PathBuf,
    /// The suite's data folder: `<yaml dir>/<file stem>/`.
    pub dir: PathBuf,
    /// blake3 hex over the YAML text and every dataset's content hash (for a distilled
    /// dataset, its prompts').
    pub hash: String,
    /// Every dataset, in file order.
    pub datasets: IndexMap<String, ResolvedDataset>,
    /// The checkout of the suite's `source`, when it declares one.
    pub source: Option<Checkout>,
    /// Every judge with its kind's parameters and its judge model, in file order.
    pub judges: IndexMap<String, JudgeDef>,
    /// Every effect with its comparison and expectation, in file order.
    pub effects: Vec<Effect>,
}

impl LoadedSuite {
    /// Every probe expanded into cells: probes in file order; within a probe, `cases` × the
    /// `vars` grid in declaration order (the first variable slowest), then paraphrases.
    pub fn cells(&self) -> Vec<ProbeCell> {
        expand(&self.suite)
    }

    /// The labels a judge can give, in order (empty for a rating judge or an unknown name).
    pub fn judge_labels(&self, judge: &str) -> Vec<String> {
        self.judges
            .get(judge)
            .map(|j| j.method.labels())
            .unwrap_or_default()
    }

    /// The probes a judge scores, in file order.
    pub fn probes_scored_by(&self, judge: &str) -> Vec<String> {
        query::probes_scored_by(&self.suite, judge)
    }

    /// A probe's variables and their values in order (empty for an unknown probe).
    pub fn probe_variables(&self, probe: &str) -> IndexMap<String, Vec<String>> {
        self.suite
            .probes
            .get(probe)
            .map(query::probe_variables)
            .unwrap_or_default()
    }
}

/// Loads and validates the suite at `path`, reading its datasets from `<dir>/<stem>/`; a
/// `source` is found through its environment variable only (see [`load_with`]).
pub fn load(path: &Path) -> Result<LoadedSuite, SuiteError> {
    load_with(path, &SourceRoots::default())
}

/// [`load`], with `source` folders given by the command line or `weirdgen.toml`.
pub fn load_with(path: &Path, roots: &SourceRoots) -> Result<LoadedSuite, SuiteError> {
    let text = limits::read(path)?;
    let mut suite = parse(path, &text)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("")).join(&stem);
    limits::check(&suite, path, &text)?;
    let mut d = Diags::new(path);
    let source = external::apply(&mut suite, roots, &mut d);
    if let Some(e) = (d.count() > 0).then(|| d.into_error(&text)).flatten() {
        return Err(e);
    }
    let mut d = Diags::new(path);
    validate::check(&suite, &stem, &mut d);
    let datasets = resolve(&suite, &dir, source.as_ref(), &mut d);
    if let Some(e) = d.into_error(&text) {
        return Err(e);
    }
    let hash = suite_hash(&text, &datasets);
    let env = std::env::var(JUDGE_MODEL_ENV).ok();
    let judges = judge_defs(&suite, env.as_deref());
    let mut d = Diags::new(path);
    let mut effects = Vec::with_capacity(suite.effects.len());
    for (i, e) in suite.effects.iter().enumerate() {
        match Effect::new(e) {
            Ok(e) => effects.push(e),
            Err(message) => d.at(&KeyPath::root().key("effects").index(i), message),
        }
    }
    if let Some(e) = d.into_error(&text) {
        return Err(e);
    }
    Ok(LoadedSuite {
        suite,
        path: path.to_path_buf(),
        dir,
        hash,
        datasets,
        source,
        judges,
        effects,
    })
}

/// The typed judges of a validated suite, with `env` the value of `WEIRDGEN_JUDGE_MODEL`.
pub fn judge_defs(suite: &Suite, env: Option<&str>) -> IndexMap<String, JudgeDef> {
    suite
        .judges
        .iter()
        .map(|(name, spec)| {
            let def = JudgeDef::new(name, spec, suite.judge_model.as_deref(), env);
            (name.clone(), def)
        })
        .collect()
}

/// Parses the YAML straight into [`Suite`]. Syntax errors, duplicate keys and the limits on
/// nesting and alias expansion are checked by a first pass over the YAML alone, so that they
/// are reported as such.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Suite, SuiteError> {
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return Err(SuiteError::whole_file(
            path,
            "the file is empty: a suite needs at least `name`, `arms` and `probes`",
        ));
    }
    limits::flow_depth(path, text)?;
    limits::walk(text)
        .and_then(|()| serde_yaml::from_str::<Suite>(text))
        .map_err(|e| yaml_error(path, &e))
}

/// A serde_yaml error as `file:line:column: message` (the message without its position).
fn yaml_error(path: &Path, e: &serde_yaml::Error) -> SuiteError {
    let (at, message) = crate::yaml_error::split(e);
    SuiteError {
        file: path.to_path_buf(),
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: at.map(|(l, _)| l),
            column: at.map(|(_, c)| c),
            key: String::new(),
            message,
        }],
    }
}

/// blake3 over the YAML text and each dataset's name and content hash, length-prefixed.
fn suite_hash(text: &str, datasets: &IndexMap<String, ResolvedDataset>) -> String {
    fingerprint(
        text,
        datasets
            .iter()
            .filter_map(|(name, ds)| Some((name.clone(), ds.content_hash()?))),
    )
}

/// A suite's fingerprint from its YAML text and its datasets' `(name, content hash)` in file
/// order (datasets without content, a mix waiting for its parts, left out): blake3 over them,
/// each length-prefixed.
pub fn fingerprint(text: &str, datasets: impl IntoIterator<Item = (String, String)>) -> String {
    let mut h = blake3::Hasher::new();
    let mut put = |s: &str| {
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    put(text);
    for (name, hash) in datasets {
        put(&name);
        put(&hash);
    }
    h.finalize().to_hex().to_string()
}

/// The suite files of `dir`: `*.yaml` at its top level, sorted by name.
pub fn discover(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let p = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if p.extension().is_some_and(|e| e == "yaml") && p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}
