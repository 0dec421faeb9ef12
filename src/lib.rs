//! weirdgen: declarative, statistically honest experiments on how fine-tuning generalizes.
//!
//! A [`suite`] (one YAML file) declares training data, arms, probes, judges and the expected
//! effects; [`run`] executes it against a [`model`] through the [`store`], [`judge`]s label the
//! answers, and [`effect`] turns them into verdicts with the functions of [`stats`].
//! [`baseline`] compares a run with its snapshot; [`report`] renders it; [`harness`](mod@harness) runs
//! suites as `cargo test` trials, in this crate or in yours.

pub mod baseline;
pub mod bundle;
pub mod chat;
pub mod config;
pub mod effect;
pub mod harness;
pub mod import;
pub mod judge;
pub mod leaderboard;
pub mod model;
pub mod report;
pub mod rng;
pub mod run;
pub mod serve;
pub mod stats;
pub mod store;
pub mod suite;
pub mod terminal;
