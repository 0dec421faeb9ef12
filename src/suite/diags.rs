//! Collecting every problem found while loading a suite, then locating them in the YAML.

use super::error::{Diagnostic, KeyPath, SuiteError};
use super::limits::MAX_DIAGNOSTICS;
use super::locate::locate;
use std::path::{Path, PathBuf};

/// Problems found so far; YAML ones are located (line, column) only at the end. Beyond
/// [`MAX_DIAGNOSTICS`] they are only counted (each is located by reading the file again).
pub(crate) struct Diags {
    yaml: PathBuf,
    found: Vec<(Option<KeyPath>, Diagnostic)>,
    more: usize,
}

impl Diags {
    /// Collects problems of the suite file `yaml`.
    pub(crate) fn new(yaml: &Path) -> Self {
        Diags {
            yaml: yaml.to_path_buf(),
            found: Vec::new(),
            more: 0,
        }
    }

    /// A problem at a key path of the suite file.
    pub(crate) fn at(&mut self, key: &KeyPath, message: impl Into<String>) {
        if self.full() {
            return;
        }
        let d = Diagnostic {
            file: self.yaml.clone(),
            line: None,
            column: None,
            key: key.to_string(),
            message: message.into(),
        };
        self.found.push((Some(key.clone()), d));
    }

    /// A problem in a data file, at a line (and column) where known.
    pub(crate) fn in_file(
        &mut self,
        file: &Path,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
    ) {
        if self.full() {
            return;
        }
        let d = Diagnostic {
            file: file.to_path_buf(),
            line,
            column: column.filter(|_| line.is_some()),
            key: String::new(),
            message: message.into(),
        };
        self.found.push((None, d));
    }

    /// The number of problems so far.
    pub(crate) fn count(&self) -> usize {
        self.found.len() + self.more
    }

    /// Whether [`MAX_DIAGNOSTICS`] are kept already (then the new one is only counted).
    fn full(&mut self) -> bool {
        let full = self.found.len() >= MAX_DIAGNOSTICS;
        self.more += usize::from(full);
        full
    }

    /// `None` when nothing was found; else the error, YAML problems located in `yaml_text`
    /// and sorted by position.
    pub(crate) fn into_error(self, yaml_text: &str) -> Option<SuiteError> {
        if self.found.is_empty() {
            return None;
        }
        let mut diagnostics: Vec<Diagnostic> = self
            .found
            .into_iter()
            .map(|(key, mut d)| {
                if let Some((l, c)) = key.and_then(|k| locate(yaml_text, &k)) {
                    d.line = Some(l);
                    d.column = Some(c);
                }
                d
            })
            .collect();
        // The suite file's problems in the order of the text, then the data files' as found.
        diagnostics.sort_by_key(|d| match d.file == self.yaml {
            true => (0, d.line.unwrap_or(0), d.column.unwrap_or(0)),
            false => (1, 0, 0),
        });
        if self.more > 0 {
            diagnostics.push(Diagnostic {
                file: self.yaml.clone(),
                line: None,
                column: None,
                key: String::new(),
                message: format!(
                    "{} more problems not shown (limit `diagnostics`: {MAX_DIAGNOSTICS})",
                    self.more
                ),
            });
        }
        Some(SuiteError {
            file: self.yaml,
            diagnostics,
        })
    }
}
