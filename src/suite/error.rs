//! Load errors: each diagnostic names a file, where known a line and column, the key path
//! in the suite (`effects[2].treatment`) and the problem.

use std::fmt;
use std::path::{Path, PathBuf};

/// One step of a key path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path to a value in a suite file, displayed as `effects[2].treatment`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document root (displays as the empty string).
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path extended by a mapping key.
    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.into()));
        KeyPath(v)
    }

    /// This path extended by a sequence index.
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if n == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// One problem found while loading a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file at fault: the suite's YAML or one of its data files.
    pub file: PathBuf,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known (only with `line`).
    pub column: Option<usize>,
    /// The key path in the suite (`effects[2].treatment`), empty when none applies.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a suite did not load: every problem found, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteError {
    /// The suite's YAML file.
    pub file: PathBuf,
    /// At least one.
    pub diagnostics: Vec<Diagnostic>,
}

impl SuiteError {
    /// An error with a single diagnostic about the suite file itself.
    pub(crate) fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        SuiteError {
            file: file.to_path_buf(),
            diagnostics: vec![Diagnostic {
                file: file.to_path_buf(),
                line: None,
                column: None,
                key: String::new(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [one] = self.diagnostics.as_slice() {
            return write!(f, "{one}");
        }
        write!(
            f,
            "{}: {} errors:",
            self.file.display(),
            self.diagnostics.len()
        )?;
        for d in &self.diagnostics {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SuiteError {}

/// "unknown arm `treatmnt` (did you mean `treatment`?)", or the defined names when none is close.
pub(crate) fn unknown<'a>(
    what: &str,
    name: &str,
    defined: impl IntoIterator<Item = &'a str>,
) -> String {
    let defined: Vec<&str> = defined.into_iter().collect();
    let hint = hint(name, &defined).unwrap_or_else(|| format!("no {what} is defined"));
    format!("unknown {what} `{name}` ({hint})")
}

/// "judge `era` has no label `olde` (did you mean `old`?)", like [`unknown`] within an owner.
pub(crate) fn has_no<'a>(
    owner: &str,
    what: &str,
    name: &str,
    defined: impl IntoIterator<Item = &'a str>,
) -> String {
    let defined: Vec<&str> = defined.into_iter().collect();
    let hint = hint(name, &defined).unwrap_or_else(|| "it has none".into());
    format!("{owner} has no {what} `{name}` ({hint})")
}

/// "did you mean `x`?" or "defined: ..."; `None` when nothing is defined.
fn hint(name: &str, defined: &[&str]) -> Option<String> {
    match closest(name, defined) {
        Some(c) => Some(format!("did you mean `{c}`?")),
        None if defined.is_empty() => None,
        None => Some(format!("defined: {}", quoted_list(defined))),
    }
}

/// The defined name closest to `name`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(name: &str, defined: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    defined
        .iter()
        .map(|d| (strsim::damerau_levenshtein(&lower, &d.to_lowercase()), *d))
        .filter(|(dist, d)| *dist <= (name.chars().count().max(d.chars().count()) / 3).max(1))
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, d)| d)
}

/// "`a`, `b`, `c`" (at most ten names, then "...").
pub(crate) fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    let mut s: Vec<String> = names
        .iter()
        .take(10)
        .map(|n| format!("`{}`", n.as_ref()))
        .collect();
    if names.len() > 10 {
        s.push("...".into());
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_display_like_the_yaml() {
        let p = KeyPath::root().key("effects").index(2).key("treatment");
        assert_eq!(p.to_string(), "effects[2].treatment");
        assert_eq!(KeyPath::root().to_string(), "");
    }

    #[test]
    fn hints_name_the_closest_or_the_defined() {
        let d = ["treatment", "control", "base"];
        assert_eq!(
            unknown("arm", "treatmnt", d),
            "unknown arm `treatmnt` (did you mean `treatment`?)"
        );
        assert_eq!(
            unknown("arm", "zzz", d),
            "unknown arm `zzz` (defined: `treatment`, `control`, `base`)"
        );
        assert_eq!(
            unknown("judge", "x", []),
            "unknown judge `x` (no judge is defined)"
        );
        assert_eq!(closest("Base", &d), Some("base"));
        assert_eq!(
            has_no("judge `j`", "label", "olde", ["old", "modern"]),
            "judge `j` has no label `olde` (did you mean `old`?)"
        );
        assert_eq!(
            has_no("probe `p`", "variable", "year", []),
            "probe `p` has no variable `year` (it has none)"
        );
    }

    #[test]
    fn several_diagnostics_are_counted_one_per_line() {
        let d = |k: &str| Diagnostic {
            file: "suites/x.yaml".into(),
            line: Some(3),
            column: Some(5),
            key: k.into(),
            message: "bad".into(),
        };
        let e = SuiteError {
            file: "suites/x.yaml".into(),
            diagnostics: vec![d("a"), d("b")],
        };
        assert_eq!(
            e.to_string(),
            "suites/x.yaml: 2 errors:\nsuites/x.yaml:3:5: a: bad\nsuites/x.yaml:3:5: b: bad"
        );
        let one = SuiteError {
            file: "suites/x.yaml".into(),
            diagnostics: vec![d("a")],
        };
        assert_eq!(one.to_string(), "suites/x.yaml:3:5: a: bad");
    }
}
