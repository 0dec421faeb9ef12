//! Hostile suite files: the regression corpus of `tests/fixtures/hostile/` (each file is refused
//! with the diagnostics its `# expect:` lines name) and seeded mutations of every suite of the
//! project (loading never panics, and a suite that loads stays within the loader's limits).

use crate::common;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use weirdgen::rng::Rng;
use weirdgen::suite::{LoadedSuite, SuiteError, load};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `*.yaml` files of `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

fn tmp(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("hostile-{name}"))
}

/// Loads `path`, turning a panic into a test failure that names the file.
fn load_without_panic(path: &Path) -> Result<LoadedSuite, SuiteError> {
    catch_unwind(AssertUnwindSafe(|| load(path)))
        .unwrap_or_else(|_| panic!("loading {} panicked", path.display()))
}

/// The `# expect: LINE:COLUMN: TEXT` lines at the top of a corpus file (`# expect: file: TEXT`
/// for a problem of the whole file, without a position).
fn expectations(text: &str) -> Vec<(Option<(usize, usize)>, String)> {
    text.lines()
        .map_while(|l| l.strip_prefix("# expect: "))
        .map(|e| match e.strip_prefix("file: ") {
            Some(text) => (None, text.trim().to_string()),
            None => {
                let mut parts = e.splitn(3, ':');
                let mut num = || parts.next().unwrap().trim().parse::<usize>().unwrap();
                let at = (num(), num());
                (Some(at), parts.next().unwrap().trim().to_string())
            }
        })
        .collect()
}

#[test]
fn every_hostile_suite_is_refused_where_it_says() {
    let files = yaml_files(&root().join("tests/fixtures/hostile"));
    assert!(files.len() >= 8, "the corpus is missing: {files:?}");
    for path in files {
        let want = expectations(&std::fs::read_to_string(&path).unwrap());
        assert!(
            !want.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let e = match load_without_panic(&path) {
            Ok(_) => panic!("{} loaded", path.display()),
            Err(e) => e,
        };
        assert_eq!(e.diagnostics.len(), want.len(), "{}: {e}", path.display());
        for (at, text) in &want {
            assert!(
                e.diagnostics
                    .iter()
                    .any(|d| d.line.zip(d.column) == *at && d.message.contains(text.as_str())),
                "{}: expected `{at:?}: {text}`, got:\n{e}",
                path.display()
            );
        }
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_where_it_crosses_it() {
    let dir = tmp("size");
    let path = dir.join("big.yaml");
    let line = "# padding padding padding padding padding padding padding padding\n";
    let limit = 4 << 20;
    let text = format!("name: big\n{}", line.repeat(limit / line.len() + 1));
    std::fs::write(&path, &text).unwrap();
    let e = load_without_panic(&path).unwrap_err();
    let before = &text[..limit];
    let want_line = before.matches('\n').count() + 1;
    let want_column = before.len() - before.rfind('\n').unwrap();
    let d = &e.diagnostics[0];
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert_eq!(
        (d.line, d.column),
        (Some(want_line), Some(want_column)),
        "{e}"
    );
    assert!(d.message.contains("the limit `file size`"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Text inserted by the mutator: YAML's indicators, hostile numbers, control characters.
const SNIPPETS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "? ",
    ",",
    "&a ",
    "*a",
    "&b [*a, *a, *a, *a] ",
    "!!str ",
    "!tag ",
    "'",
    "\"",
    "# ",
    "\n",
    "  ",
    "\t",
    "|\n",
    ">-\n",
    "\u{0}",
    "\u{1b}[31m",
    "\u{feff}",
    "0",
    "-1",
    "4294967295",
    "18446744073709551616",
    "100000000",
    "1e308",
    ".nan",
    "{from: 1, to: 100000000}",
    "<<: *a",
    "~",
    "null",
    "---\n",
    "...\n",
];

/// One random edit of `text`, by lines so that it stays UTF-8.
fn mutate(rng: &mut Rng, text: &str, donor: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let pick = |rng: &mut Rng, n: usize| rng.below(n.max(1) as u64) as usize;
    let i = pick(rng, lines.len());
    match rng.below(8) {
        0 => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        1 => {
            lines.remove(i);
        }
        2 => {
            let j = pick(rng, lines.len());
            lines.swap(i, j);
        }
        3 | 4 => {
            let chars: Vec<char> = lines[i].chars().collect();
            let at = pick(rng, chars.len() + 1);
            let s = SNIPPETS[pick(rng, SNIPPETS.len())];
            lines[i] = chars[..at]
                .iter()
                .chain(s.chars().collect::<Vec<_>>().iter())
                .chain(&chars[at..])
                .collect();
        }
        5 => {
            let chars: Vec<char> = lines[i].chars().collect();
            let at = pick(rng, chars.len() + 1);
            lines[i] = chars[..at].iter().collect();
        }
        6 => {
            let l = &lines[i];
            lines[i] = match rng.below(2) {
                0 => format!("  {l}"),
                _ => l.strip_prefix("  ").unwrap_or(l).to_string(),
            };
        }
        _ => {
            let d: Vec<&str> = donor.lines().collect();
            let from = pick(rng, d.len());
            let to = (from + 1 + pick(rng, 8)).min(d.len());
            for (k, l) in d[from..to].iter().enumerate() {
                lines.insert(i + k, l.to_string());
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[test]
fn mutated_suites_never_panic_and_stay_within_the_limits() {
    let mut sources = yaml_files(&root().join("suites"));
    sources.extend(yaml_files(&root().join("tests/fixtures/suites")));
    let texts: Vec<String> = sources
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let dir = tmp("mutants");
    let mut rng = Rng::new(11);
    let (mut loaded, mut refused) = (0, 0);
    for n in 0..600 {
        let k = rng.below(sources.len() as u64) as usize;
        let stem = sources[k].file_stem().unwrap().to_str().unwrap();
        // Each mutant sits next to a link to its original's data folder, under its own name.
        let folder = dir.join(n.to_string());
        std::fs::create_dir_all(&folder).unwrap();
        let data = sources[k].with_extension("");
        if data.is_dir() {
            std::os::unix::fs::symlink(&data, folder.join(stem)).unwrap();
        }
        let mut text = texts[k].clone();
        for _ in 0..=rng.below(3) {
            let donor = &texts[rng.below(texts.len() as u64) as usize];
            text = mutate(&mut rng, &text, donor);
        }
        let path = folder.join(format!("{stem}.yaml"));
        std::fs::write(&path, &text).unwrap();
        match load_without_panic(&path) {
            Ok(s) => {
                loaded += 1;
                let cells = catch_unwind(AssertUnwindSafe(|| s.cells().len()))
                    .unwrap_or_else(|_| panic!("expanding {} panicked", path.display()));
                assert!(cells <= 200_000, "{}: {cells} cells", path.display());
                for (name, arm) in &s.suite.arms {
                    assert!(
                        arm.replica_count() <= 1000,
                        "{}: arm {name}",
                        path.display()
                    );
                    assert!(
                        arm.finetune_seeds().len() <= 1000,
                        "{}: arm {name}",
                        path.display()
                    );
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.diagnostics.is_empty(), "{}", path.display());
            }
        }
        std::fs::remove_dir_all(&folder).unwrap();
    }
    // The mutator must exercise both sides: suites that still load, and suites refused.
    assert!(
        loaded >= 30 && refused >= 30,
        "{loaded} loaded, {refused} refused"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
