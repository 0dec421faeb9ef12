//! Checks of `datasets` that need no file: sources, keys per source, mixes, distillation.
//! Contents (files, columns, rows) are checked where they are read (`suite::datasets`).

use super::Ck;
use crate::chat::Role;
use crate::suite::datasets::{Source, source};
use crate::suite::error::{KeyPath, unknown};
use crate::suite::types::DatasetSpec;

impl Ck<'_> {
    pub(super) fn datasets(&mut self) {
        for (name, ds) in &self.s.datasets {
            let key = KeyPath::root().key("datasets").key(name.as_str());
            self.dataset(&key, ds);
        }
        self.mix_cycles();
    }

    fn dataset(&mut self, key: &KeyPath, ds: &DatasetSpec) {
        let one = self.exactly_one(
            key,
            "a dataset",
            &[
                ("file", ds.file.is_some()),
                ("from_source", ds.from_source.is_some()),
                ("table", ds.table.is_some()),
                ("rows", ds.rows.is_some()),
                ("mix", ds.mix.is_some()),
            ],
        );
        let tabular = ds.table.is_some() || ds.rows.is_some();
        if let Some(d) = &ds.distill {
            if !tabular {
                self.d.at(
                    &key.key("distill"),
                    "`distill` takes its prompts from `table` or `rows` filled into `template`",
                );
            }
            if let Some(m) = &d.model {
                self.model_ref(&key.key("distill").key("model"), m, true);
            }
            if let Some(t) = d.temperature {
                self.temperature(&key.key("distill").key("temperature"), t);
            }
            if d.max_tokens == Some(0) {
                self.d
                    .at(&key.key("distill").key("max_tokens"), "must be at least 1");
            }
        }
        if one && !tabular {
            self.absent(
                key,
                "a `file` or `mix` dataset (it has no rows)",
                &[
                    ("template", ds.template.is_some()),
                    ("where", !ds.filter.is_empty()),
                    ("shuffle", !ds.shuffle.is_empty()),
                ],
            );
        }
        if tabular && ds.template.is_none() {
            self.d.at(
                key,
                "a `table` or `rows` dataset needs `template` (the messages its rows fill)",
            );
        }
        if let Some(rows) = &ds.rows
            && rows.is_empty()
        {
            self.d.at(&key.key("rows"), "must list at least one row");
        }
        if let Some(parts) = &ds.mix {
            if parts.is_empty() {
                self.d.at(&key.key("mix"), "must list at least one dataset");
            }
            for (i, p) in parts.iter().enumerate() {
                if !self.s.datasets.contains_key(p) {
                    let msg = unknown("dataset", p, self.s.datasets.keys().map(String::as_str));
                    self.d.at(&key.key("mix").index(i), msg);
                }
            }
        }
        let last = ds.template.as_ref().and_then(|t| t.last()).map(|m| m.role);
        match (source(ds), last) {
            (Some(Source::Distill(..)), Some(r)) if r != Role::User => self.d.at(
                &key.key("template"),
                "the last message of a distilled dataset's template must be the user's (the prompt to answer)",
            ),
            (Some(Source::Table(_)), Some(r)) if r != Role::Assistant => self.d.at(
                &key.key("template"),
                "the last message must be the assistant's (the answer to learn)",
            ),
            _ => {}
        }
    }

    /// A mix may not contain itself, directly or through other mixes.
    fn mix_cycles(&mut self) {
        let ds = &self.s.datasets;
        for (start, spec) in ds {
            let Some(parts) = &spec.mix else { continue };
            for (i, first) in parts.iter().enumerate() {
                // Depth-first search from `first` back to `start`.
                let mut stack = vec![vec![start.as_str(), first.as_str()]];
                let mut seen: Vec<&str> = Vec::new();
                while let Some(path) = stack.pop() {
                    let here = *path.last().unwrap_or(&"");
                    if here == start {
                        self.d.at(
                            &KeyPath::root()
                                .key("datasets")
                                .key(start.as_str())
                                .key("mix")
                                .index(i),
                            format!("mix cycle: {}", path.join(" → ")),
                        );
                        break;
                    }
                    if seen.contains(&here) {
                        continue;
                    }
                    seen.push(here);
                    for next in ds
                        .get(here)
                        .and_then(|d| d.mix.as_ref())
                        .into_iter()
                        .flatten()
                    {
                        let mut p = path.clone();
                        p.push(next.as_str());
                        stack.push(p);
                    }
                }
            }
        }
    }
}
