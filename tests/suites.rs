//! `cargo test --test suites`: every suite in `suites/` as libtest trials (see
//! `weirdgen::harness`).
//!
//! Models come from `WEIRDGEN_MODELS` (comma-separated), else each suite's `default_model`;
//! trials whose provider is unavailable (e.g. no API key) are ignored with the reason (and
//! listed as ignored, so that `cargo nextest run --test suites` skips them).

weirdgen::harness!();
