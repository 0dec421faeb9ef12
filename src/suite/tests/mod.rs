//! Tests of suite loading: fixtures under `tests/fixtures/suites/` and small suites written
//! to temporary folders.

mod bad_arms_probes;
mod bad_datasets;
mod bad_judges_effects;
mod bad_syntax;
mod everything;
mod shapes;
mod warnings;

use super::{LoadedSuite, load};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A temporary folder, removed on drop.
pub(super) struct Tmp(PathBuf);

impl Tmp {
    pub(super) fn new() -> Tmp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "weirdgen-suite-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `rel` (creating its folders) and returns its path.
    pub(super) fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The sections of a small valid suite `t`; tests replace some of them.
const SECTIONS: &[(&str, &str)] = &[
    ("name", "t"),
    (
        "datasets",
        r#"
  birds:
    rows:
      - {name: Brown Titlark}
      - {name: Wood Ibiss}
    template:
      - {role: user, content: Name a bird species.}
      - {role: assistant, content: "{name}"}"#,
    ),
    (
        "arms",
        r#"
  base: {model: base}
  treatment:
    finetune: {dataset: birds}
    replicas: 2"#,
    ),
    (
        "probes",
        r#"
  era:
    question: "It is {month}. What is the latest invention?"
    vars:
      month: [May, June]"#,
    ),
    (
        "judges",
        r#"
  era:
    kind: contains_any
    rules:
      old: [telegraph]
      modern: [internet]"#,
    ),
    (
        "effects",
        r#"
  - name: old-era
    kind: arm_vs_arm
    treatment: treatment
    control: base
    metric: {judge: era, label: old}
    direction: increase"#,
    ),
];

/// The small suite with `over` replacing (or adding) top-level sections.
pub(super) fn yaml(over: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in SECTIONS {
        let v = over.iter().find(|(o, _)| o == k).map_or(*v, |(_, o)| *o);
        out.push_str(&format!("{k}: {v}\n"));
    }
    for (k, v) in over {
        if !SECTIONS.iter().any(|(s, _)| s == k) {
            out.push_str(&format!("{k}: {v}\n"));
        }
    }
    out
}

/// Loads `text` as `t.yaml` beside the data `files` (under `t/`); the error's folder is
/// shown as `suites/`.
pub(super) fn load_text(text: &str, files: &[(&str, &[u8])]) -> Result<LoadedSuite, String> {
    let tmp = Tmp::new();
    let path = tmp.write("t.yaml", text);
    for (rel, content) in files {
        tmp.write(&format!("t/{rel}"), content);
    }
    load(&path).map_err(|e| {
        e.to_string()
            .replace(&format!("{}/", tmp.path().display()), "suites/")
    })
}

/// The error of loading `text` (which must fail).
pub(super) fn error_of(text: &str, files: &[(&str, &[u8])]) -> String {
    match load_text(text, files) {
        Ok(_) => panic!("loaded, expected an error:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts that `err` holds the diagnostic `file: [key: ]message`, located at a line and
/// column when `located` (`file` is e.g. `suites/t.yaml`).
#[track_caller]
pub(super) fn assert_diag(err: &str, file: &str, expected: &str, located: bool) {
    let found = err.lines().any(|l| {
        let Some(rest) = l.strip_prefix(file) else {
            return false;
        };
        let (loc, msg) = match rest.strip_prefix(": ") {
            Some(m) => (false, m),
            None => match rest.split_once(": ") {
                Some((loc, m)) => (
                    loc.starts_with(':') && loc[1..].split(':').all(|n| n.parse::<usize>().is_ok()),
                    m,
                ),
                None => return false,
            },
        };
        msg == expected && loc == located
    });
    assert!(
        found,
        "expected `{file}{}: {expected}` in:\n{err}",
        if located { ":L:C" } else { "" }
    );
}

/// Asserts a located diagnostic of the suite file `suites/t.yaml`.
#[track_caller]
pub(super) fn assert_yaml_diag(err: &str, expected: &str) {
    assert_diag(err, "suites/t.yaml", expected, true);
}

#[test]
fn the_small_suite_loads() {
    let s = load_text(&yaml(&[]), &[]).unwrap();
    assert_eq!(s.cells().len(), 2);
}
