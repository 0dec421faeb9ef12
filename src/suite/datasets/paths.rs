//! Dataset paths: relative to the suite's data folder and never outside it.

use crate::suite::diags::Diags;
use crate::suite::error::KeyPath;
use std::path::{Component, Path, PathBuf};

/// The file `rel` inside `dir`, checked: relative, no `..`, exists, and (symlinks resolved)
/// inside `dir`. Returns the path to read and the path to show in messages (both `dir/rel`).
pub(super) fn data_file(
    dir: &Path,
    rel: &str,
    key: &KeyPath,
    d: &mut Diags,
) -> Option<(PathBuf, PathBuf)> {
    let folder = format!("{}/", dir.display());
    let p = Path::new(rel);
    if rel.trim().is_empty() {
        d.at(key, "must name a file in the suite's folder");
        return None;
    }
    if p.is_absolute()
        || p.has_root()
        || matches!(p.components().next(), Some(Component::Prefix(_)))
    {
        d.at(
            key,
            format!("`{rel}` must be a path relative to the suite's folder `{folder}`"),
        );
        return None;
    }
    if p.components().any(|c| c == Component::ParentDir) {
        d.at(
            key,
            format!("`{rel}` must not leave the suite's folder `{folder}` (no `..`)"),
        );
        return None;
    }
    let shown = dir.join(p);
    let (Ok(real), Ok(root)) = (shown.canonicalize(), dir.canonicalize()) else {
        let inner = dir
            .file_name()
            .and_then(|stem| p.strip_prefix(stem).ok())
            .filter(|inner| dir.join(inner).is_file());
        let why = match inner {
            Some(inner) => format!(
                " (paths are relative to the suite's folder `{folder}`: write `{}`)",
                inner.display()
            ),
            None if !dir.is_dir() => format!(" (the suite's folder `{folder}` does not exist)"),
            None => String::new(),
        };
        d.at(key, format!("file not found: {}{why}", shown.display()));
        return None;
    };
    if !real.starts_with(&root) {
        d.at(
            key,
            format!(
                "`{rel}` resolves to {}, outside the suite's folder `{folder}`",
                real.display()
            ),
        );
        return None;
    }
    if !real.is_file() {
        d.at(key, format!("{} is not a file", shown.display()));
        return None;
    }
    Some((real, shown))
}
