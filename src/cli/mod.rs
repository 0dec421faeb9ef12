//! Subcommands of `weirdgen`. Errors print as one line (with their causes) and exit non-zero.

mod account;
mod args;
mod board;
mod cancel;
mod commands;
mod exact;

use clap::Parser;
use std::process::ExitCode;
use weirdgen::terminal::printable;

/// Runs the command line and maps errors to exit codes.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote servers and models: no escape sequence reaches the terminal.
            eprintln!("error: {}", printable(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
