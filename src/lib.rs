//! weirdgen: declarative, statistically honest experiments on how fine-tuning generalizes.
//!
//! A suite (one YAML file) declares training data, arms, probes, judges and the expected
//! effects; [`run`] executes it against a model through the [`store`], and [`effect`] turns
//! the judged samples into verdicts with the functions of [`stats`].

pub mod chat;
pub mod config;
pub mod effect;
pub mod import;
pub mod judge;
pub mod model;
pub mod rng;
pub mod serve;
pub mod stats;
pub mod store;
pub mod suite;
