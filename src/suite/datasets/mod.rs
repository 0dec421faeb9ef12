//! Reading a suite's datasets: chat JSONL files, tables (CSV or inline rows) filled into a
//! message template, mixes, and the prompts of distilled datasets. Problems in data files
//! name the file and line.

mod jsonl;
mod paths;
mod table;

use super::diags::Diags;
use super::error::KeyPath;
use super::source::Checkout;
use super::types::{DatasetSpec, DistillSpec, Scalar, Suite};
use crate::chat::{Message, TrainingSet};
use indexmap::IndexMap;
use std::path::Path;

/// A dataset as loaded: ready to fine-tune on, or to be built by the runner.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedDataset {
    /// From `file`, `table` or `rows`, or a mix of ready datasets.
    Ready(TrainingSet),
    /// Needs answers from a model (distill, or a mix containing one): built by the runner.
    Distill {
        /// One conversation per row: the filled template, ending with the user's prompt.
        prompts: Vec<Vec<Message>>,
        spec: DistillSpec,
    },
    /// A mix with at least one non-ready part: the parts' names, in order.
    Mix(Vec<String>),
}

impl ResolvedDataset {
    /// The content hash of a ready dataset, or of a distilled dataset's prompts; none for a
    /// mix that waits for its parts.
    pub fn content_hash(&self) -> Option<String> {
        match self {
            ResolvedDataset::Ready(t) => Some(t.hash.clone()),
            ResolvedDataset::Distill { prompts, .. } => {
                Some(TrainingSet::new("", prompts.clone()).hash)
            }
            ResolvedDataset::Mix(_) => None,
        }
    }

    /// The text whose blake3 is [`ResolvedDataset::content_hash`]: a ready dataset's upload
    /// (JSONL), a distilled dataset's prompts as JSONL; none for a waiting mix.
    pub fn hashed_text(&self) -> Option<String> {
        match self {
            ResolvedDataset::Ready(t) => Some(t.to_jsonl()),
            ResolvedDataset::Distill { prompts, .. } => {
                Some(TrainingSet::new("", prompts.clone()).to_jsonl())
            }
            ResolvedDataset::Mix(_) => None,
        }
    }
}

/// Where a dataset's rows come from.
pub(crate) enum Rows<'a> {
    Csv(&'a str),
    Inline(&'a [IndexMap<String, Scalar>]),
}

/// A dataset's one source, when its keys name exactly one.
pub(crate) enum Source<'a> {
    File(&'a str),
    /// A file of the suite's `source`, used verbatim.
    External(&'a str),
    Table(Rows<'a>),
    Distill(Rows<'a>, &'a DistillSpec),
    Mix(&'a [String]),
}

/// The dataset's source; `None` when its keys do not name exactly one (validation says why).
pub(crate) fn source(ds: &DatasetSpec) -> Option<Source<'_>> {
    let rows = match (&ds.table, &ds.rows) {
        (Some(t), None) => Some(Rows::Csv(t)),
        (None, Some(r)) => Some(Rows::Inline(r)),
        (None, None) => None,
        _ => return None,
    };
    if let Some(f) = &ds.from_source {
        let alone = ds.file.is_none() && rows.is_none() && ds.mix.is_none() && ds.distill.is_none();
        return alone.then_some(Source::External(f));
    }
    match (&ds.file, rows, &ds.mix, &ds.distill) {
        (Some(f), None, None, None) => Some(Source::File(f)),
        (None, Some(r), None, None) => Some(Source::Table(r)),
        (None, Some(r), None, Some(d)) => Some(Source::Distill(r, d)),
        (None, None, Some(m), None) => Some(Source::Mix(m)),
        _ => None,
    }
}

/// Reads every dataset of `suite` from its data folder `dir`; problems go to `d`. Datasets
/// with problems are left out.
pub(crate) fn resolve(
    suite: &Suite,
    dir: &Path,
    checkout: Option<&Checkout>,
    d: &mut Diags,
) -> IndexMap<String, ResolvedDataset> {
    let mut out: IndexMap<String, Option<ResolvedDataset>> = IndexMap::new();
    for (name, ds) in &suite.datasets {
        let key = KeyPath::root().key("datasets").key(name.as_str());
        let r = match source(ds) {
            Some(Source::File(f)) => paths::data_file(dir, f, &key.key("file"), d)
                .and_then(|(p, shown)| jsonl::read(&p, &shown, d))
                .and_then(|convs| {
                    nonempty(name, convs, &key.key("file"), d, "has no conversations")
                })
                .map(ResolvedDataset::Ready),
            Some(Source::External(f)) => {
                checkout.and_then(|co| external_file(co, name, f, &key.key("from_source"), d))
            }
            Some(Source::Table(rows)) => table::conversations(ds, &rows, dir, &key, d)
                .and_then(|convs| nonempty(name, convs, &key, d, no_rows(ds)))
                .map(ResolvedDataset::Ready),
            Some(Source::Distill(rows, spec)) => table::conversations(ds, &rows, dir, &key, d)
                .filter(|convs| {
                    let ok = !convs.is_empty();
                    if !ok {
                        d.at(&key, format!("the dataset is empty: it {}", no_rows(ds)));
                    }
                    ok
                })
                .map(|prompts| ResolvedDataset::Distill {
                    prompts,
                    spec: spec.clone(),
                }),
            Some(Source::Mix(_)) | None => None,
        };
        out.insert(name.clone(), r);
    }
    for name in suite.datasets.keys() {
        let mut visiting = Vec::new();
        mix(suite, name, &mut out, &mut visiting);
    }
    out.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// A chat JSONL file of the source, checked line by line and kept byte for byte.
fn external_file(
    co: &Checkout,
    name: &str,
    path: &str,
    key: &KeyPath,
    d: &mut Diags,
) -> Option<ResolvedDataset> {
    let text = match co.read_text(path) {
        Ok(t) => t,
        Err(e) => {
            d.at(key, e);
            return None;
        }
    };
    let shown = co.root.join(path);
    let convs = jsonl::parse(&text, &shown, d)?;
    let convs = nonempty(name, convs, key, d, "has no conversations")?.conversations;
    Some(ResolvedDataset::Ready(TrainingSet::verbatim(
        name, text, convs,
    )))
}

/// Why a tabular dataset has no conversations.
fn no_rows(ds: &DatasetSpec) -> &'static str {
    if ds.filter.is_empty() {
        "has no rows"
    } else {
        "has no rows that pass `where`"
    }
}

/// An empty dataset is an error (`what` says why it is empty).
fn nonempty(
    name: &str,
    convs: Vec<Vec<Message>>,
    key: &KeyPath,
    d: &mut Diags,
    what: &str,
) -> Option<TrainingSet> {
    if convs.is_empty() {
        d.at(key, format!("the dataset is empty: it {what}"));
        return None;
    }
    Some(TrainingSet::new(name, convs))
}

/// Resolves the mix `name` (if it is one) from its parts; `None` if a part failed or a
/// cycle was met (validation reports both).
fn mix(
    suite: &Suite,
    name: &str,
    out: &mut IndexMap<String, Option<ResolvedDataset>>,
    visiting: &mut Vec<String>,
) -> Option<ResolvedDataset> {
    let spec = suite.datasets.get(name)?;
    let Some(Source::Mix(parts)) = source(spec) else {
        return out.get(name).cloned().flatten();
    };
    if let Some(done) = out.get(name).cloned().flatten() {
        return Some(done);
    }
    if visiting.iter().any(|v| v == name) || parts.is_empty() {
        return None;
    }
    visiting.push(name.to_string());
    let resolved: Option<Vec<ResolvedDataset>> =
        parts.iter().map(|p| mix(suite, p, out, visiting)).collect();
    visiting.pop();
    let result = resolved.map(|parts_ds| {
        let mut convs = Vec::new();
        for p in &parts_ds {
            match p {
                ResolvedDataset::Ready(t) => convs.extend(t.conversations.iter().cloned()),
                _ => return ResolvedDataset::Mix(parts.to_vec()),
            }
        }
        ResolvedDataset::Ready(TrainingSet::new(name, convs))
    });
    out.insert(name.to_string(), result.clone());
    result
}
