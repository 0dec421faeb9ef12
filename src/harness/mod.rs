//! Suites as `cargo test` trials, for this crate and for yours.
//!
//! Every suite in `suites/` becomes libtest trials (through `libtest-mimic`):
//!
//! | trial | passes when |
//! |---|---|
//! | `[suite] <suite>` | the suite file loads and validates |
//! | `[judge] <suite>::<judge>@<judge model>` | the judge agrees with its `examples` |
//! | `[effect] <suite>::<effect>@<model>` | the effect is confirmed (a failure prints its table) |
//! | `[baseline] <suite>@<model>` | the run is consistent with `snapshots/<suite>@<model>.snap` |
//! | `[regression] <suite>::<effect>@<model> vs <old>` | `model` is not more susceptible than `old` by more than the suite's `baseline.margin` |
//!
//! Trials of one suite and model share one run, executed once through the store. Filters,
//! `--list`, `--ignored`, `--exact` and `--format json` work as in libtest.
//!
//! # Setup in your own crate
//!
//! ```toml
//! # Cargo.toml
//! [dev-dependencies]
//! weirdgen = { path = "../weirdgen" }
//!
//! [[test]]
//! name = "suites"
//! harness = false
//! ```
//!
//! ```rust,ignore
//! // tests/suites.rs
//! weirdgen::harness!();
//! ```
//!
//! Then put suites in `suites/` (beside `Cargo.toml`) and run `cargo test --test suites`.
//! Baselines are written to `snapshots/` as `.snap.new` files; accept them with
//! `cargo insta review`. The environment chooses the rest ([`Config::from_env`]):
//! `WEIRDGEN_MODELS`, `WEIRDGEN_BASELINE_MODEL`, `WEIRDGEN_SUITES`, `WEIRDGEN_SNAPSHOTS`,
//! `WEIRDGEN_STORE`, `WEIRDGEN_ALLOW_HAZARD`. For other settings, build a [`Config`] and
//! call [`Harness::new`] and [`Harness::trials`] from your own `main`.

mod checks;
mod config;
mod regression;
mod run;

pub use checks::Check;
pub use config::Config;
pub use libtest_mimic;
pub use run::RunData;

use crate::model::registry::Providers;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// `fn main` of a suites test target (`harness = false`): runs the suites of the crate that
/// calls it as trials, configured from the environment ([`Config::from_env`]).
#[macro_export]
macro_rules! harness {
    () => {
        fn main() -> ::std::process::ExitCode {
            // SAFETY: the first thing in `main`, before any other thread exists.
            unsafe { $crate::model::toy::configure_threads() };
            $crate::harness::main(::std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        }
    };
}

/// Runs the suites under `root` as trials with the command line's libtest arguments; what
/// [`harness!`](crate::harness!) expands to.
pub fn main(root: &Path) -> ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let harness = Harness::new(Config::from_env(root));
    let trials = harness.trials(args.list);
    libtest_mimic::run(&args, trials).exit_code()
}

/// The suites of one [`Config`] as checks and trials, sharing one store, one set of providers
/// and one run per suite and model.
pub struct Harness {
    shared: Arc<run::Shared>,
}

impl Harness {
    /// A harness for `config` (the store is opened on first use).
    pub fn new(config: Config) -> Harness {
        Harness {
            shared: Arc::new(run::Shared::new(config)),
        }
    }

    /// The providers its runs use (e.g. to serve `toy/...` with a smaller toy model).
    pub fn providers(&self) -> &Providers {
        &self.shared.providers
    }

    /// Every check of every suite. When `listing` (libtest's `--list`), checks that would be
    /// ignored at run time (no key, a chat suite on a toy model, a hazard) are flagged
    /// ignored, so that runners which list first and then run each trial in its own process
    /// (`cargo nextest`) report them as skipped, not passed.
    pub fn checks(&self, listing: bool) -> Vec<Check> {
        checks::all(&self.shared, listing)
    }

    /// [`Harness::checks`] as libtest trials.
    pub fn trials(&self, listing: bool) -> Vec<libtest_mimic::Trial> {
        self.checks(listing)
            .into_iter()
            .map(Check::into_trial)
            .collect()
    }

    /// The run of the suite named `suite` on `model` behind the checks of [`Harness::checks`],
    /// executed on first use (e.g. to write its baseline or report).
    pub fn results(&self, suite: &str, model: &str) -> Result<RunData, String> {
        let run = self.shared.find_run(suite, model).ok_or_else(|| {
            format!("no check runs suite `{suite}` on `{model}`: call `checks` first")
        })?;
        run.get(&self.shared)
    }
}
