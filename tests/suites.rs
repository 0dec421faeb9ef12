//! `cargo test --test suites`: every suite in `suites/` as libtest trials (see `harness/`).
//!
//! Models come from `WEIRDGEN_MODELS` (comma-separated), else each suite's `default_model`;
//! trials whose provider is unavailable (e.g. no API key) are ignored with the reason (and
//! listed as ignored, so that `cargo nextest run --test suites` skips them).

mod harness;

use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: first thing in `main`, before any other thread exists.
    unsafe { weirdgen::model::toy::configure_threads() };
    let args = libtest_mimic::Arguments::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let config = harness::Config::from_env(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    let shared = harness::Shared::new(config, runtime.handle().clone());
    let trials = harness::trials(&shared, args.list);
    libtest_mimic::run(&args, trials).exit_code()
}
