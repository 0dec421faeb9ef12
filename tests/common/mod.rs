//! Test doubles for the HTTP provider: a fault-injecting loopback server and an imitation of
//! the OpenAI API to put behind it. Each test binary uses a part of them.
#![allow(dead_code)]

pub mod fault_server;
pub mod openai_sim;

use weirdgen::model::config::{ProviderConfig, RetryPolicy};

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
