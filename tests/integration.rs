//! One test binary for every integration test that needs no process of its own (each file
//! of `tests/` is a module here; `tests/common/` holds the shared test doubles). The tests
//! that set process-wide state (environment variables) or bring their own `main` are
//! binaries of their own: `suites`, `openweights`, `http_canary` and `http_secrets`.

mod common;
mod downstream;
mod effect_calibration;
mod exact_suites;
mod harness_regression;
mod harness_selftest;
mod hostile_suites;
mod http_hostile_server;
mod http_provider;
mod http_run;
mod import;
mod leaderboard;
mod plan_judge_model;
mod published_a;
mod published_b;
mod race;
mod resume;
mod serve;
mod serve_e2e;
mod sim_example;
mod tie_calibration;
mod toy_digest;
mod toy_honesty;
