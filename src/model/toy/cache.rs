//! The weight cache on disk: build-once files guarded against concurrent builders, in this
//! process (a mutex per key) and in others (an exclusive lock on a lock file), written
//! atomically (temporary file, then rename).

use anyhow::{Context, Result};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A folder of cached files, each built at most once.
#[derive(Debug, Default)]
pub struct BuildCache {
    locks: Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>,
}

impl BuildCache {
    /// Returns `path`, first building it with `build(temporary_path)` unless it exists. Two
    /// threads or processes asking for the same path build it once; the others wait and
    /// reuse it. `build` writes the temporary path, which is then renamed to `path`.
    pub fn get_or_build(
        &self,
        path: &Path,
        build: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<PathBuf> {
        if path.exists() {
            return Ok(path.to_path_buf());
        }
        let key_lock = {
            let mut locks = self.locks.lock().expect("cache lock map");
            locks.entry(path.to_path_buf()).or_default().clone()
        };
        let _in_process = key_lock.lock().expect("cache key lock");
        if path.exists() {
            return Ok(path.to_path_buf());
        }
        let dir = path.parent().context("cache path without a folder")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock_path = path.with_extension("lock");
        let lock = File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", lock_path.display()))?;
        if path.exists() {
            return Ok(path.to_path_buf());
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let built = build(&tmp).and_then(|()| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
        });
        if built.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        built?;
        Ok(path.to_path_buf())
    }
}

/// Writes `text` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn concurrent_builders_build_once() {
        let dir = std::env::temp_dir().join(format!("weirdgen-toy-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("x.bin");
        let builds = AtomicUsize::new(0);
        // Separate caches stand for separate processes: only the lock file serialises them.
        let caches: Vec<BuildCache> = (0..4).map(|_| BuildCache::default()).collect();
        std::thread::scope(|s| {
            for cache in &caches {
                s.spawn(|| {
                    for _ in 0..2 {
                        cache
                            .get_or_build(&path, |tmp| {
                                builds.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(50));
                                Ok(std::fs::write(tmp, b"weights")?)
                            })
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert_eq!(std::fs::read(&path).unwrap(), b"weights");
        let failed =
            BuildCache::default().get_or_build(&dir.join("y.bin"), |_| anyhow::bail!("boom"));
        assert!(failed.is_err() && !dir.join("y.bin").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
