//! External sources: a checkout of another repository (e.g. a paper's official files) that a
//! suite reads by path, every file pinned by its hash. The suite never holds a copy.
//!
//! ```yaml
//! source:
//!   name: paper
//!   repository: https://github.com/owner/repo
//!   commit: c901790362a63d9f23e0048f07df0aaab69479b5
//!   files:
//!     data/train.jsonl: sha256:dbf28b4b...
//! ```
//!
//! The checkout's folder is the first of: a `--source paper=PATH` flag, the environment
//! variable `WEIRDGEN_PAPER_REPO` (or the one named by `env`), and `[sources] paper = "PATH"`
//! in `weirdgen.toml`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha1::Digest as _;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// A repository checkout the suite reads files from, each file pinned by hash.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// The source's name: letters, digits, `-` and `_` (flag `--source NAME=PATH`).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The repository to clone (a URL).
    pub repository: String,
    /// The commit every pinned file comes from (40 hex digits).
    pub commit: String,
    /// The environment variable holding the checkout's folder (default
    /// `WEIRDGEN_<NAME>_REPO`, the name upper-cased with `-` as `_`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Every file the suite reads, by path inside the checkout, with its hash:
    /// `sha256:<hex>`, `blake3:<hex>` or `git:<blob id>` (a git blob id is the SHA-1 of
    /// `"blob <size>\0" + content`, as `git hash-object` prints it).
    pub files: IndexMap<String, String>,
}

impl SourceSpec {
    /// The environment variable that names the checkout's folder.
    pub fn env_var(&self) -> String {
        self.env.clone().unwrap_or_else(|| {
            format!(
                "WEIRDGEN_{}_REPO",
                self.name.to_uppercase().replace('-', "_")
            )
        })
    }

    /// The commands that make a checkout at the right commit.
    pub fn clone_command(&self) -> String {
        let dir = self
            .repository
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .rsplit('/')
            .next()
            .unwrap_or("checkout")
            .to_string();
        format!(
            "git clone {} && git -C {dir} checkout {}",
            self.repository, self.commit
        )
    }

    /// How to make the source available, for error messages.
    pub fn how_to_get(&self) -> String {
        format!(
            "get it with `{}`, then point weirdgen at the folder with {}=PATH, `--source {}=PATH` or `[sources] {} = \"PATH\"` in weirdgen.toml",
            self.clone_command(),
            self.env_var(),
            self.name,
            self.name
        )
    }
}

/// Checkout folders given by the caller: from the command line (`--source NAME=PATH`), which
/// wins over the environment, and from `weirdgen.toml`, which the environment overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceRoots {
    pub flags: BTreeMap<String, PathBuf>,
    pub config: BTreeMap<String, PathBuf>,
}

impl SourceRoots {
    /// The checkout's folder for `spec` and where it was named, or why there is none.
    pub fn root(&self, spec: &SourceSpec) -> Result<(PathBuf, String), String> {
        let var = spec.env_var();
        let found = if let Some(p) = self.flags.get(&spec.name) {
            Some((p.clone(), format!("--source {}=", spec.name)))
        } else if let Some(p) = std::env::var_os(&var).filter(|v| !v.is_empty()) {
            Some((PathBuf::from(p), var.clone()))
        } else {
            self.config.get(&spec.name).map(|p| {
                (
                    p.clone(),
                    format!("[sources] {} in weirdgen.toml", spec.name),
                )
            })
        };
        match found {
            Some((p, from)) if p.is_dir() => Ok((p, from)),
            Some((p, from)) => Err(format!(
                "source `{}`: the folder {} (from {from}) does not exist; {}",
                spec.name,
                p.display(),
                spec.how_to_get()
            )),
            None => Err(format!(
                "source `{}` ({} at commit {}) is not available: {}",
                spec.name,
                spec.repository,
                spec.commit,
                spec.how_to_get()
            )),
        }
    }
}

/// A source whose folder was found: files are read only through [`Checkout::read`], which
/// checks each against its pinned hash.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub spec: SourceSpec,
    pub root: PathBuf,
}

/// A pinned hash, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algo {
    Sha256,
    Blake3,
    GitBlob,
}

fn parse_pin(pin: &str) -> Result<(Algo, String), String> {
    let (algo, hex) = pin.split_once(':').ok_or_else(|| {
        format!("`{pin}` must be `sha256:<hex>`, `blake3:<hex>` or `git:<blob id>`")
    })?;
    let (algo, len) = match algo {
        "sha256" => (Algo::Sha256, 64),
        "blake3" => (Algo::Blake3, 64),
        "git" => (Algo::GitBlob, 40),
        other => {
            return Err(format!(
                "unknown hash `{other}`: use `sha256`, `blake3` or `git`"
            ));
        }
    };
    let hex = hex.to_ascii_lowercase();
    if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("`{pin}`: a {algo:?} hash is {len} hex digits"));
    }
    Ok((algo, hex))
}

/// `bytes` hashed with `algo`, as lower-case hex.
fn digest(algo: Algo, bytes: &[u8]) -> String {
    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    match algo {
        Algo::Sha256 => hex(&sha2::Sha256::digest(bytes)),
        Algo::Blake3 => blake3::hash(bytes).to_hex().to_string(),
        Algo::GitBlob => {
            let mut h = sha1::Sha1::new();
            h.update(format!("blob {}\0", bytes.len()).as_bytes());
            h.update(bytes);
            hex(&h.finalize())
        }
    }
}

/// The problems of a source declaration (name, commit, paths and hashes), as (key, message).
pub fn check_spec(spec: &SourceSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !crate::names::is_name(&spec.name) {
        out.push((
            "name".into(),
            format!(
                "`{}` must be letters, digits, `-` and `_` (not empty)",
                spec.name
            ),
        ));
    }
    if spec.commit.len() != 40 || !spec.commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        out.push((
            "commit".into(),
            format!("`{}` must be a full commit id (40 hex digits)", spec.commit),
        ));
    }
    if spec.files.is_empty() {
        out.push((
            "files".into(),
            "list every file the suite reads, with its hash".into(),
        ));
    }
    for (path, pin) in &spec.files {
        if let Err(e) = safe_relative(path) {
            out.push((format!("files.{path}"), e));
        }
        if let Err(e) = parse_pin(pin) {
            out.push((format!("files.{path}"), e));
        }
    }
    out
}

/// `path` is relative and stays inside the checkout.
fn safe_relative(path: &str) -> Result<(), String> {
    let p = Path::new(path);
    if path.trim().is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{path}` must be a path inside the checkout (relative, no `..`)"
        ));
    }
    Ok(())
}

impl Checkout {
    /// The content of `path`, checked against its pinned hash. Errors name the file, the
    /// expected and actual hash, and how to get the right commit.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let name = &self.spec.name;
        let pin = self.spec.files.get(path).ok_or_else(|| {
            format!("`{path}` is not pinned in `source.files`: add it with its hash")
        })?;
        let (algo, expected) = parse_pin(pin)?;
        safe_relative(path)?;
        let full = self.root.join(path);
        let bytes = std::fs::read(&full).map_err(|e| {
            format!(
                "source `{name}`: cannot read {} ({e}); expected {pin} from commit {}: {}",
                full.display(),
                self.spec.commit,
                self.spec.how_to_get()
            )
        })?;
        let actual = digest(algo, &bytes);
        if actual != expected {
            let prefix = pin.split(':').next().unwrap_or_default();
            return Err(format!(
                "source `{name}`: {} has hash {prefix}:{actual}, expected {pin} (the file of commit {}); check out that commit: {}",
                full.display(),
                self.spec.commit,
                self.spec.how_to_get()
            ));
        }
        Ok(bytes)
    }

    /// [`Checkout::read`] as UTF-8 text.
    pub fn read_text(&self, path: &str) -> Result<String, String> {
        String::from_utf8(self.read(path)?)
            .map_err(|e| format!("source `{}`: {path} is not UTF-8: {e}", self.spec.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(files: &[(&str, &str)]) -> SourceSpec {
        SourceSpec {
            name: "demo".into(),
            description: None,
            repository: "https://example.org/me/demo".into(),
            commit: "c901790362a63d9f23e0048f07df0aaab69479b5".into(),
            env: Some("WEIRDGEN_TEST_SOURCE_NEVER_SET".into()),
            files: files
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn digests_match_reference_tools() {
        // `printf abc | sha256sum`, `b3sum`, and `git hash-object` of a file holding "abc".
        assert_eq!(
            digest(Algo::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digest(Algo::Blake3, b"abc"),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        assert_eq!(
            digest(Algo::GitBlob, b"abc"),
            "f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f"
        );
    }

    #[test]
    fn a_file_with_another_hash_names_both_hashes_and_the_commit() {
        let dir = std::env::temp_dir().join(format!("weirdgen-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), b"abc").unwrap();
        let good = format!("sha256:{}", digest(Algo::Sha256, b"abc"));
        let bad = format!("sha256:{}", "0".repeat(64));
        let co = Checkout {
            spec: spec(&[("a.txt", &good), ("b.txt", &bad)]),
            root: dir.clone(),
        };
        assert_eq!(co.read("a.txt").unwrap(), b"abc");
        std::fs::write(dir.join("b.txt"), b"abd").unwrap();
        let e = co.read("b.txt").unwrap_err();
        assert!(e.contains(&bad), "{e}");
        assert!(e.contains(&digest(Algo::Sha256, b"abd")), "{e}");
        assert!(
            e.contains("checkout c901790362a63d9f23e0048f07df0aaab69479b5"),
            "{e}"
        );
        let e = co.read("c.txt").unwrap_err();
        assert!(e.contains("not pinned"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_root_says_how_to_get_it() {
        let e = SourceRoots::default()
            .root(&spec(&[(
                "a",
                "git:f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f",
            )]))
            .unwrap_err();
        assert!(e.contains("git clone https://example.org/me/demo && git -C demo checkout c901790362a63d9f23e0048f07df0aaab69479b5"), "{e}");
        assert!(e.contains("WEIRDGEN_TEST_SOURCE_NEVER_SET=PATH"), "{e}");
        let mut roots = SourceRoots::default();
        roots.config.insert(
            "demo".into(),
            std::env::temp_dir().join("no-such-weirdgen-dir"),
        );
        let e = roots.root(&spec(&[])).unwrap_err();
        assert!(
            e.contains("does not exist") && e.contains("weirdgen.toml"),
            "{e}"
        );
    }

    #[test]
    fn declarations_are_checked() {
        let mut s = spec(&[("../x", "md5:00"), ("ok", "git:abc")]);
        s.commit = "c901790".into();
        let keys: Vec<String> = check_spec(&s).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["commit", "files.../x", "files.../x", "files.ok"]);
    }
}
