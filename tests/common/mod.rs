//! Test doubles for the HTTP provider: a fault-injecting loopback server and an imitation of
//! the OpenAI API to put behind it. Each test binary uses a part of them.
#![allow(dead_code)]

pub mod fault_server;
pub mod openai_sim;

use std::path::{Path, PathBuf};
use weirdgen::model::config::{ProviderConfig, RetryPolicy};

/// A fresh folder under the system's temporary folder, removed with everything in it when
/// dropped (unless `WEIRDGEN_KEEP_TEST_DIRS` is set, to look at it after a failure).
pub struct TempDir(PathBuf);

impl TempDir {
    /// `weirdgen-<name>-<process id>`, emptied if it exists.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("weirdgen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("WEIRDGEN_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A provider config for a loopback server: short timeout, fast retries.
pub fn loopback_config(base_url: &str) -> ProviderConfig {
    let mut cfg = ProviderConfig::new(base_url);
    cfg.timeout_seconds = 0.5;
    cfg.max_concurrency = Some(8);
    cfg.retry = RetryPolicy {
        max_retries: 10,
        initial_ms: 10,
        max_ms: 40,
        max_wait_seconds: 5.0,
    };
    cfg
}
