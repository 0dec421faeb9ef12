//! weirdgen: declarative, statistically honest experiments on how fine-tuning generalizes.
//!
//! A [`suite`] (one YAML file) declares training data, arms, probes, judges and the expected
//! effects; [`run`] executes it against a [`model`] through the [`store`], [`judge`]s label the
//! answers, and [`effect`] turns them into verdicts with the functions of [`stats`].
//! [`baseline`] compares a run with its snapshot; [`report`] renders it; [`harness`](mod@harness) runs
//! suites as `cargo test` trials, in this crate or in yours.
//!
//! What a user of the crate needs is re-exported here: the harness entry ([`harness!`],
//! [`Harness`]), the suite loader ([`load_suite`], [`LoadedSuite`]), the run API
//! ([`plan`], [`execute`], [`RunOptions`], [`RunContext`], [`Providers`], [`Store`]) and the
//! result types ([`SuiteResults`], [`EffectResult`], [`Verdict`]). The modules below are the
//! engine's rooms (see `ARCHITECTURE.md`); their items are public for the command line and the
//! tests, and may change between releases.

pub mod baseline;
pub mod bundle;
pub mod chat;
pub mod effect;
pub mod harness;
pub mod import;
pub mod judge;
pub mod leaderboard;
pub mod model;
pub mod names;
pub mod report;
pub mod rng;
pub mod run;
pub mod serve;
pub mod stats;
pub mod store;
pub mod suite;
pub mod terminal;
pub mod yaml_error;

pub use effect::{EffectResult, Verdict};
pub use harness::Harness;
pub use model::registry::Providers;
pub use run::{RunContext, RunOptions, SuiteResults, execute, plan};
pub use store::Store;
pub use suite::{LoadedSuite, load as load_suite};
