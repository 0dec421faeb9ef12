//! The `weirdgen` command line.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: first thing in `main`, before any other thread exists.
    unsafe { weirdgen::model::toy::configure_threads() };
    cli::main()
}
